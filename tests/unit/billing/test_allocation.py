"""The real-cost allocation: pro rata of the workstations held on 1 November, to the cent.

The rounding rule is the largest remainder: each share is rounded down to the cent, then the cents
still missing go one each to the largest dropped fractions (ties: more workstations, then lower code).
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from schoolfleet.billing.__main__ import main
from schoolfleet.billing.allocation import allocate, largest_remainder, read_costs
from schoolfleet.billing.rules import BillingError
from schoolfleet.register import load_register

from .conftest import MakeRegister
from .test_command import euros, read_csv

COSTS = """\
staff:
  - {label: Technicien, fte: 1, cost: 1000}
licences:
  - {label: Antivirus, amount: 0.01}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_three_equal_shares_of_a_hundred_euros() -> None:
    # 10000 cents / 3 = 3333.33 each: 9999 given, the last cent to the first in order.
    shares = largest_remainder(Decimal("100.00"), [("a", 1), ("b", 1), ("c", 1)])
    assert shares == {"a": Decimal("33.34"), "b": Decimal("33.33"), "c": Decimal("33.33")}


def test_the_missing_cents_go_to_the_largest_remainders() -> None:
    # 1000 cents over 2/3/6 of 11: 181.82, 272.73, 545.45 -> floors 181 + 272 + 545 = 998; the 2 cents
    # left go to .82 and .73, not to .45.
    shares = largest_remainder(Decimal("10.00"), [("a", 2), ("b", 3), ("c", 6)])
    assert shares == {"a": Decimal("1.82"), "b": Decimal("2.73"), "c": Decimal("5.45")}
    assert sum(shares.values()) == Decimal("10.00")


@pytest.mark.parametrize("total", ["0.01", "0.02", "1000.01", "999999.99", "7.00"])
def test_shares_always_add_up_to_the_cent(total: str) -> None:
    weights = [(f"m{i:02d}", w) for i, w in enumerate((7, 1, 13, 2, 2, 29, 3))]
    assert sum(largest_remainder(Decimal(total), weights).values()) == Decimal(total)


def test_no_workstation_is_an_error() -> None:
    with pytest.raises(BillingError):
        largest_remainder(Decimal("1.00"), [("a", 0)])


def test_allocation_on_the_fixture_register(make_register: MakeRegister, tmp_path: Path) -> None:
    register = load_register(make_register("year2026"))
    result = allocate(register, 2026, read_costs(write(tmp_path / "c.yml", COSTS)))
    # Held on the counting day: Alpha 4 (WS-A1, WS-A2 installed that day, WS-A4 retired that day,
    # SP-A1), Delta 2, Epsilon 2 (its last day, 2026-06-30), the SIVOS 4: 12 in all. 1000.01 € = 100001
    # cents: 33333.67 / 16666.83 / 16666.83 / 33333.67 -> floors add to 99998; the 3 cents go to Delta
    # and Epsilon (.83), then Alpha (.67, same weight as the SIVOS, lower code).
    assert [(s.code, s.workstations, s.amount) for s in result.shares] == [
        ("69001", 4, Decimal("333.34")),
        ("69004", 2, Decimal("166.67")),
        ("69005", 2, Decimal("166.67")),
        ("sivos-deux-rives", 4, Decimal("333.33")),
    ]
    assert result.total == Decimal("1000.01")
    # 1000.01 / 12 = 83.33 per workstation, next to the 2020 grid's 52 € this year and last year.
    assert (result.rate, result.grid_rate, result.last_grid_rate) == (
        Decimal("83.33"),
        Decimal("52.00"),
        Decimal("52.00"),
    )


def test_the_command_writes_three_exports_that_add_up(
    make_register: MakeRegister, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    costs = write(tmp_path / "c.yml", COSTS)
    previous = write(tmp_path / "p.yml", "other:\n  - {label: Divers, amount: 600}\n")
    out = tmp_path / "out"
    args = ["allocate", "2026", "--costs", str(costs), "--previous", str(previous)]
    assert main([*args, "--register", str(make_register("year2026")), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "repartition-2026.csv",
        "repartition-2026.ods",
        "repartition-2026.xlsx",
    ]
    rows = read_csv(out / "repartition-2026.csv")
    members = [r for r in rows if r and r[0] in ("69001", "69004", "69005", "sivos-deux-rives")]
    [total] = [r for r in rows if r and r[0] == "TOTAL"]
    assert sum(euros(r[4]) for r in members) == euros(total[4]) == Decimal("1000.01")
    sheet = openpyxl.load_workbook(out / "repartition-2026.xlsx").active
    assert sheet is not None
    amounts = [row[4] for row in sheet.iter_rows(values_only=True) if row[0] in ("69001", "sivos-deux-rives")]
    assert [Decimal(str(a)) for a in amounts] == [Decimal("333.34"), Decimal("333.33")]
    # 2025: Alpha 4, the SIVOS 4, Epsilon 2 (Delta not yet a member): 600 / 10 = 60 per workstation.
    assert "real rate 2025: 60,00 €" in capsys.readouterr().out


def test_costs_as_csv_are_the_same(tmp_path: Path) -> None:
    text = "category;label;fte;cost;amount\nstaff;Technicien;1;1000;\nlicences;Antivirus;;;0,01\n"
    from_csv = read_costs(write(tmp_path / "c.csv", text))
    assert [(c.category, c.amount) for c in from_csv] == [
        (c.category, c.amount) for c in read_costs(write(tmp_path / "c.yml", COSTS))
    ]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("c.yml", "staff:\n  - {label: T, fte: deux, cost: 1000}\n", "c.yml:2: staff[0].fte: 'deux'"),
        ("c.yml", "other:\n  - {label: T, amount: 1.001}\n", "c.yml:2: other[0].amount: '1.001'"),
        (
            "c.yml",
            "staff:\n  - {label: T, fte: 1, cost: 1, amount: 3}\n",
            "c.yml:2: staff[0].amount: not used",
        ),
        ("c.yml", "travel: []\n", "c.yml:1: travel: unknown field"),
        ("c.csv", "category;label;amount\nfood;T;3\n", "c.csv:2: category: 'food'"),
    ],
)
def test_bad_costs_name_file_line_and_field(tmp_path: Path, name: str, text: str, expected: str) -> None:
    with pytest.raises(BillingError) as caught:
        read_costs(write(tmp_path / name, text))
    assert any(problem.startswith(f"{tmp_path}/{expected}") for problem in caught.value.problems), (
        caught.value.problems
    )
