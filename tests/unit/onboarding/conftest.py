"""A fixture register copied to a temporary directory for each test, with the demo's tariff grids."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schoolfleet.onboarding.__main__ import main

from .support import Run

FIXTURE = Path(__file__).parent / "fixtures" / "register"
DEMO_TARIFFS = Path(__file__).parents[3] / "inventories" / "demo" / "register" / "tariffs"


@pytest.fixture
def register_dir(tmp_path: Path) -> Path:
    root = tmp_path / "register"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(DEMO_TARIFFS, root / "tariffs")
    return root


@pytest.fixture
def run(register_dir: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """The command line on the fixture register: (exit status, stdout, stderr)."""

    def call(*argv: str) -> tuple[int, str, str]:
        status = main([*argv, "--register", str(register_dir)])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return call
