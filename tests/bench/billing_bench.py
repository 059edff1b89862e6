"""Benchmark: billing a register from 120 (the demo) to 5,000 schools, stage by stage.

    .venv/bin/python tests/bench/billing_bench.py [--sizes 120,1643,5000] [--year 2026] [--keep DIR]

For each size it generates a register (the demo's generator, density and grids), then times in the
same run, as wall and CPU time (CPU is the steadier on a shared machine): loading the register (the
one loader and validator), the bill (rules and reconciliation), and each export (CSV, XLSX, ODS). It
checks the bill's member lines add up to its total, and prints each stage's time per school as a ratio
to the demo's, so that a stage that does not scale linearly shows. Target: < 5 s in all for 5,000
schools.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from schoolfleet.billing import exports  # noqa: E402
from schoolfleet.billing.__main__ import bill, snapshot_of  # noqa: E402
from schoolfleet.billing.rules import Billing  # noqa: E402
from schoolfleet.register import Register, load_register  # noqa: E402
from schoolfleet.register.generate import generate  # noqa: E402
from schoolfleet.register.loader import gc_paused  # noqa: E402

T = TypeVar("T")
TARGET_SECONDS = 5.0
TARGET_SCHOOLS = 5000


class Stages:
    """Wall and CPU seconds of each stage, in the order they ran."""

    def __init__(self) -> None:
        self.times: dict[str, tuple[float, float]] = {}

    def run(self, name: str, action: Callable[[], T]) -> T:
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        self.times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result


def measure(root: Path, year: int) -> dict[str, tuple[float, float]]:
    stages = Stages()
    register: Register = stages.run("load", lambda: load_register(root))
    billing: Billing = stages.run("bill", lambda: bill(register, year, snapshot_of(year), None))
    total = sum((s.billed for s in billing.statements), Decimal("0.00"))
    assert total == billing.billed, "member lines must add up to the total"
    stages.run("csv", lambda: exports.csv_bytes(exports.csv_text(billing)))
    stages.run("xlsx", lambda: exports.xlsx_bytes(billing))
    stages.run("ods", lambda: exports.ods_bytes(billing))
    return stages.times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="120,1643,5000", help="school counts, the first is the baseline")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the generated registers here")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        results: dict[int, dict[str, tuple[float, float]]] = {}
        for size in sizes:
            root = base / f"register-{size}"
            if not root.exists():
                generate(root, size, args.seed)
            # As the command runs (schoolfleet.billing.__main__.run): no cyclic GC meanwhile.
            with gc_paused():
                results[size] = measure(root, args.year)
    baseline = sizes[0]
    stages = list(results[baseline])
    print(f"{'schools':>8} " + " ".join(f"{s:>13}" for s in [*stages, "total"]) + "   (wall s / cpu s)")
    for size, stage_times in results.items():
        total = (sum(w for w, _ in stage_times.values()), sum(c for _, c in stage_times.values()))
        cells = [f"{w:6.2f}/{c:6.2f}" for w, c in (*stage_times.values(), total)]
        print(f"{size:>8} " + " ".join(f"{cell:>13}" for cell in cells))
    print("CPU time per school, as a ratio to the baseline's (1.0: linear):")
    for size, stage_times in results.items():
        ratios = []
        for stage in stages:
            per_school = stage_times[stage][1] / size
            base_per_school = max(results[baseline][stage][1], 1e-6) / baseline
            ratios.append(f"{stage} {per_school / base_per_school:5.2f}")
        print(f"{size:>8}  " + ", ".join(ratios))
    if TARGET_SCHOOLS in results:
        cpu = sum(c for _, c in results[TARGET_SCHOOLS].values())
        verdict = "met" if cpu < TARGET_SECONDS else "NOT met"
        print(f"target < {TARGET_SECONDS:.0f} s for {TARGET_SCHOOLS} schools (CPU): {cpu:.2f} s, {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
