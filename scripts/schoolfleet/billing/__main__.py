"""Bill each member for what it holds on the snapshot date, from the convention register.

    python -m schoolfleet.billing 2026 [--snapshot 2026-11-01] [--register inventories/demo/register]
                                       [--grid 2020] [--compare 2025] [--out DIR]
    python -m schoolfleet.billing allocate 2026 --costs COSTS.yml [--previous COSTS-2025.yml] [--out DIR]

The second form shares the year's real costs pro rata of the workstations (see
schoolfleet.billing.allocation) and writes repartition-<year>.csv, .xlsx and .ods.

Writes facturation-<year>.csv (French spreadsheet: semicolons, UTF-8 with BOM, decimal comma),
facturation-<year>.xlsx and facturation-<year>.ods (a sheet per member and a summary sheet whose cells
are formulas over the member sheets), and with --compare comparaison-<other>-<year>.csv; prints a
summary. Exit status 2 on bad input (unknown year or grid, no grid on the date, invalid register, a
reconciliation failure): the message names the file and line, and no export is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from schoolfleet.billing import allocation, exports
from schoolfleet.billing.compare import Comparison, compare
from schoolfleet.billing.rules import Billing, BillingError, Holder, compute
from schoolfleet.billing.source import countables, holders
from schoolfleet.register import Register, RegisterError, load_register
from schoolfleet.register.loader import gc_paused
from schoolfleet.register.tariffs import Grid

# The demo register of this checkout, wherever the command is started from.
DEFAULT_REGISTER = Path(__file__).resolve().parents[3] / "inventories" / "demo" / "register"
FIRST_YEAR, LAST_YEAR = 1990, 2100
# Column of member names in the terminal summary: SIVOS names are long.
WIDTH = 48


def snapshot_of(year: int) -> dt.date:
    """Members are billed for what they hold on 1 November."""
    return dt.date(year, 11, 1)


def euros(value: Decimal) -> str:
    """French style for people: 124 632,00 €."""
    return exports.euros_text(value)


def shorten(text: str) -> str:
    return f"{text[: WIDTH - 1]}…" if len(text) > WIDTH else f"{text:<{WIDTH}}"


def who(holder: Holder) -> str:
    return shorten(f"{holder.code} {holder.name}")


def select_grid(register: Register, day: dt.date, name: str | None) -> Grid:
    tariffs = register.tariffs
    if not tariffs.grids:
        raise BillingError([f"{register.root}/tariffs: the register has no tariff grid"])
    spans = "; ".join(f"{g.name} ({g.file}): {g.span}" for g in tariffs.grids)
    if name is not None:
        grid = tariffs.by_name(name)
        if grid is None:
            raise BillingError([f"unknown tariff grid {name!r}; the register has: {spans}"])
        if not grid.covers(day):
            raise BillingError([f"grid {name!r} ({grid.file}) does not apply on {day} ({grid.span})"])
        return grid
    grid = tariffs.for_date(day)
    if grid is None:
        # Never an older grid in its place: the years a missing grid covered are refused, not re-priced.
        raise BillingError(
            [f"no tariff grid for the {day.year} billing (snapshot {day}); the register has: {spans}"]
        )
    return grid


def bill(register: Register, year: int, snapshot: dt.date, grid_name: str | None) -> Billing:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BillingError([f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}"])
    if snapshot.year != year:
        raise BillingError([f"snapshot date {snapshot} is not in billing year {year}"])
    grid = select_grid(register, snapshot, grid_name)
    return compute(year, grid, snapshot, holders(register), countables(register))


def summary_text(billing: Billing, comparison: Comparison | None) -> str:
    out: list[str] = []
    period = billing.period
    out.append(
        f"Billing {billing.year}: grid {billing.grid.name} ({billing.grid.file}), snapshot {period.snapshot},"
        f" installations from {period.first}"
    )
    out.append(f"  {'member':<{WIDTH}} {'billed':>14} {'authority':>14}")
    for s in billing.statements:
        note = (
            f"  (counted on {s.counted_on}: left on {s.holder.left})"
            if s.counted_on != period.snapshot
            else ""
        )
        out.append(f"  {who(s.holder)} {euros(s.billed):>14} {euros(s.borne_by_authority):>14}{note}")
    out.append(
        f"  {'TOTAL':<{WIDTH}} {euros(billing.billed):>14} {euros(billing.borne_by_authority):>14}"
        f"  ({len(billing.statements)} members)"
    )
    out.append("Per line, all members:")
    for spec in billing.specs:
        count, amount = billing.line_total(spec.key)
        if count or spec.payer == "member":
            price = euros(spec.unit_price) if spec.unit_price is not None else "-"
            out.append(
                f"  {spec.label} [{exports.CHARGE_LABELS[spec.charge]}]: {count} x {price} = {euros(amount)}"
                f" ({exports.PAYER_LABELS[spec.payer]})"
            )
    counted = sum(billing.fleet.values())
    out.append(f"Reconciliation: {counted} units counted once each; member counts match the fleet totals.")
    if comparison is not None:
        t = comparison.total
        direction = (
            "an increase" if t.amount_change > 0 else "a decrease" if t.amount_change < 0 else "no change"
        )
        out.append(
            f"Comparison: {euros(t.amount_after)} in {comparison.after.year} against {euros(t.amount_before)}"
            f" in {comparison.before.year}, {direction} of {euros(abs(t.amount_change))}"
            f" (billed units {t.count_before} -> {t.count_after})"
        )
        for m in comparison.member_totals:
            if m.amount_change or m.count_change:
                out.append(
                    f"  {shorten(f'{m.code} {m.name}')} {euros(m.amount_before):>14}"
                    f" -> {euros(m.amount_after):>14}"
                    f"  ({'+' if m.amount_change >= 0 else '-'}{euros(abs(m.amount_change))},"
                    f" units {m.count_change:+d})"
                )
    return "\n".join(out)


def run(args: argparse.Namespace) -> str:
    """Bill, write every export (all or nothing) and return the summary; raises on bad input."""
    with gc_paused():
        return _run(args)


def _run(args: argparse.Namespace) -> str:
    register = load_register(args.register)
    snapshot = args.snapshot or snapshot_of(args.year)
    billing = bill(register, args.year, snapshot, args.grid)
    comparison = None
    if args.compare is not None:
        if args.compare == args.year:
            raise BillingError(["--compare needs another year than the one billed"])
        other = bill(register, args.compare, snapshot_of(args.compare), None)
        comparison = compare(*sorted((other, billing), key=lambda b: b.period.snapshot))
    stem = f"facturation-{args.year}"
    outputs: dict[str, Callable[[], bytes]] = {
        f"{stem}.csv": lambda: exports.csv_bytes(exports.csv_text(billing)),
        f"{stem}.xlsx": lambda: exports.xlsx_bytes(billing),
        f"{stem}.ods": lambda: exports.ods_bytes(billing),
    }
    if comparison is not None:
        cmp = comparison
        name = f"comparaison-{cmp.before.year}-{cmp.after.year}.csv"
        outputs[name] = lambda: exports.csv_bytes(exports.comparison_csv_text(cmp))
    written = exports.write_all(args.out, outputs)
    return summary_text(billing, comparison) + "\nWritten: " + ", ".join(str(p) for p in written)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m schoolfleet.billing", description=__doc__.split("\n")[0])
    p.add_argument("year", type=int, help="billing year (the snapshot is 1 November of that year)")
    p.add_argument("--snapshot", type=_date, help="snapshot date, default 1 November of the year")
    p.add_argument("--register", type=Path, default=DEFAULT_REGISTER, help="register directory")
    p.add_argument("--grid", help="force a tariff grid by name (it must apply on the snapshot date)")
    p.add_argument("--compare", type=int, metavar="YEAR", help="compare with another year's billing")
    p.add_argument("--out", type=Path, default=Path(), help="directory for the exports (default: .)")
    return p


def allocation_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m schoolfleet.billing allocate",
        description="share the year's real costs pro rata of the workstations held on 1 November",
    )
    p.add_argument("year", type=int)
    p.add_argument("--costs", type=Path, required=True, help="the year's real costs (YAML or CSV)")
    p.add_argument("--previous", type=Path, help="last year's real costs, for last year's rate")
    p.add_argument("--register", type=Path, default=DEFAULT_REGISTER, help="register directory")
    p.add_argument("--out", type=Path, default=Path(), help="directory for the exports (default: .)")
    return p


def run_allocation(args: argparse.Namespace) -> str:
    if not FIRST_YEAR <= args.year <= LAST_YEAR:
        raise BillingError([f"year {args.year} is outside {FIRST_YEAR}-{LAST_YEAR}"])
    register = load_register(args.register)
    costs = allocation.read_costs(args.costs)
    previous = allocation.read_costs(args.previous) if args.previous is not None else None
    result = allocation.allocate(register, args.year, costs, previous)
    stem = f"repartition-{args.year}"
    written = exports.write_all(
        args.out,
        {
            f"{stem}.csv": lambda: exports.csv_bytes(allocation.csv_text(result)),
            f"{stem}.xlsx": lambda: allocation.xlsx_bytes(result),
            f"{stem}.ods": lambda: allocation.ods_bytes(result),
        },
    )
    return allocation.summary_text(result) + "\nWritten: " + ", ".join(str(p) for p in written)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    allocating = bool(arguments) and arguments[0] == "allocate"
    args = allocation_parser().parse_args(arguments[1:]) if allocating else parser().parse_args(arguments)
    try:
        print(run_allocation(args) if allocating else run(args))
    except RegisterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BillingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write the exports: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
