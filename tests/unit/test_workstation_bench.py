"""The workstation bench's projection from two measured scales to a school and to the fleet."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "workstation_bench.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("workstation_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["workstation_bench"] = module
    spec.loader.exec_module(module)
    return module


def test_projection_is_the_line_through_the_two_scales() -> None:
    bench = load_bench()
    # 10 s at 1 workstation, 28 s at 10: 2 s each, 8 s whatever the size.
    found = bench.projection(1, 10.0, 10, 28.0)
    assert found.per_workstation == pytest.approx(2.0)
    assert found.fixed == pytest.approx(8.0)
    assert found.school == pytest.approx(8.0 + 2.0 * bench.SCHOOL_SIZE)
    assert found.fleet == pytest.approx(bench.SCHOOLS * found.school)


def test_projection_of_the_fleet_covers_its_workstations() -> None:
    bench = load_bench()
    assert bench.SCHOOLS * bench.SCHOOL_SIZE == bench.FLEET_WORKSTATIONS
