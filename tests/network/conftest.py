"""Shared fixtures of the network tests: the fixture schools rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from network_helpers import run_playbook


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture schools' switches and routers, rendered by the roles."""
    out = tmp_path_factory.mktemp("network-build")
    run_playbook("render.yml", "-e", f"network_build_dir={out}")
    return out
