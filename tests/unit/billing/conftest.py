"""Fixture registers for the billing tests, in the register's real file format.

Each fixture under fixtures/ holds members/; the authority settings are shared, and the tariff grids
are the ones shipped in the demo register, so the hand-computed amounts check the council's prices.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_TARIFFS = Path(__file__).parents[3] / "inventories" / "demo" / "register" / "tariffs"

MakeRegister = Callable[[str], Path]


@pytest.fixture
def make_register(tmp_path: Path) -> MakeRegister:
    def make(name: str) -> Path:
        root = tmp_path / "registers" / name
        shutil.copytree(FIXTURES / name, root)
        shutil.copy(FIXTURES / "authority.yml", root / "authority.yml")
        shutil.copytree(DEMO_TARIFFS, root / "tariffs")
        return root

    return make
