"""The fixture schools' access points rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from wifi_helpers import run_playbook


@pytest.fixture(scope="session")
def wifi_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wifi-build")
    run_playbook("render.yml", "-e", f"wifi_build_dir={out}")
    return out
