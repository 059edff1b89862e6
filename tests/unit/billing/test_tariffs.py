"""The tariff grids: the shipped council prices, and bad grids reported with file, line and field."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from schoolfleet.register import RegisterError, load_register
from schoolfleet.register.tariffs import load_tariffs

from .conftest import DEMO_TARIFFS, MakeRegister

GOOD = """\
name: test
applies_from: 2020-01-01
applies_until: ~
items:
  - id: workstation
    kinds: [workstation]
    maintenance: {price: 52, payer: member}
"""


def write_grid(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(RegisterError) as caught:
        load_tariffs(directory, "tariffs")
    return [str(p) for p in caught.value.problems]


def test_shipped_grids_hold_the_council_prices() -> None:
    tariffs = load_tariffs(DEMO_TARIFFS)
    assert [g.name for g in tariffs.grids] == ["2014", "2017-2019", "2020"]
    g2014, g2017, g2020 = tariffs.grids
    server = g2014.item_for_kind("school_server")
    assert server is not None and server.installation is not None and server.maintenance is not None
    assert (server.installation.price, server.installation.payer) == (Decimal("632.00"), "member")
    assert server.maintenance.price == Decimal("263.33")
    portal = g2014.item_for_kind("pupil")
    assert portal is not None and portal.maintenance is not None
    assert (portal.maintenance.price, portal.maintenance.payer) == (Decimal("5.27"), "authority")
    pack = g2014.item_for_kind("software_pack")
    assert pack is not None and pack.installation is not None
    assert (pack.installation.price, pack.installation.payer) == (Decimal("895.00"), "authority")
    printer = g2014.item_for_kind("inkjet_printer")
    assert printer is not None and printer.installation is None and printer.maintenance is not None
    assert printer.maintenance.price == Decimal("15.79")
    for grid, price in ((g2017, "54.00"), (g2020, "52.00")):
        item = grid.item_for_kind("specific_workstation")
        assert item is not None and item.maintenance is not None
        assert item.maintenance.price == Decimal(price)
    ap = g2020.item_for_kind("wifi_ap")
    assert ap is not None and ap.requires_option == "wifi" and ap.maintenance is not None
    assert ap.maintenance.price == Decimal("100.00")
    assert "school_server" in g2020.not_rebilled and "switch" in g2020.not_rebilled


def test_grids_follow_each_other_without_gap() -> None:
    tariffs = load_tariffs(DEMO_TARIFFS)
    assert tariffs.grids[0].applies_until == dt.date(2016, 12, 31)
    assert tariffs.grids[1].applies_until == dt.date(2019, 12, 31)
    assert tariffs.grids[2].applies_until is None
    assert tariffs.for_date(dt.date(2019, 11, 1)) is tariffs.grids[1]
    assert tariffs.for_date(dt.date(2020, 1, 1)) is tariffs.grids[2]
    assert tariffs.for_date(dt.date(2013, 11, 1)) is None


def test_the_register_loader_reads_the_grids(make_register: MakeRegister) -> None:
    register = load_register(make_register("year2026"))
    assert [g.name for g in register.tariffs.grids] == ["2014", "2017-2019", "2020"]


def test_a_bad_grid_makes_the_register_invalid(make_register: MakeRegister) -> None:
    root = make_register("year2026")
    path = root / "tariffs" / "2020.yml"
    path.write_text(path.read_text().replace("price: 52,", "price: 52.001,"), encoding="utf-8")
    with pytest.raises(RegisterError) as caught:
        load_register(root)
    [problem] = caught.value.problems
    assert problem.file == f"{root}/tariffs/2020.yml"
    assert problem.line == 14
    assert problem.field == "items[0].maintenance.price"
    assert "two decimals" in problem.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("price: 52", "price: douze"), "g.yml:7: items[0].maintenance.price: 'douze'"),
        (GOOD.replace("payer: member", "payer: school"), "g.yml:7: items[0].maintenance.payer: 'school'"),
        (GOOD + "currency: EUR\n", "g.yml:8: currency: unknown field"),
        (GOOD.replace("2020-01-01", "2020-13-01"), "g.yml:2: applies_from"),
        (GOOD.replace("name: test\n", ""), "g.yml:1: name: missing field"),
        (GOOD.replace("    maintenance: {price: 52, payer: member}\n", ""), "g.yml:5: items[0]: an item"),
        (
            GOOD + "  - id: again\n    kinds: [workstation]\n    maintenance: {price: 1, payer: member}\n",
            "g.yml:8: items[1].kinds: kind 'workstation' is already counted by item 'workstation'",
        ),
        (
            GOOD + "not_rebilled:\n  kinds: [workstation]\n  reason: x\n",
            "g.yml:9: not_rebilled.kinds: kind 'workstation' is priced",
        ),
        (
            GOOD.replace("    kinds: [workstation]\n", "    kinds: [workstation]\n    requires_option: 4g\n"),
            "g.yml:7: items[0].requires_option",
        ),
        ("name: [unclosed\n", "g.yml:2: YAML syntax error"),
    ],
)
def test_bad_grids_are_reported_with_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    write_grid(tmp_path / "tariffs", "g.yml", text)
    problems = problems_of(tmp_path / "tariffs")
    assert any(p.startswith(f"tariffs/{expected}") for p in problems), problems


def grid_text(name: str, start: str, until: str) -> str:
    return GOOD.replace("name: test", f"name: {name}").replace("2020-01-01", start).replace("~", until)


def test_overlapping_grids_are_refused_naming_both_files(tmp_path: Path) -> None:
    directory = tmp_path / "tariffs"
    write_grid(directory, "a.yml", grid_text("a", "2020-01-01", "2021-06-30"))
    write_grid(directory, "b.yml", grid_text("b", "2021-01-01", "~"))
    [problem] = problems_of(directory)
    assert problem.startswith("tariffs/b.yml:2: applies_from: grid 'b' (tariffs/b.yml, 2021-01-01 to open)")
    assert "overlaps grid 'a' (tariffs/a.yml, 2020-01-01 to 2021-06-30)" in problem


def test_an_open_grid_followed_by_another_overlaps_it(tmp_path: Path) -> None:
    """No grid is closed on the eve of the next one any more: an open grid must be closed explicitly."""
    directory = tmp_path / "tariffs"
    write_grid(directory, "a.yml", grid_text("a", "2020-01-01", "~"))
    write_grid(directory, "b.yml", grid_text("b", "2022-01-01", "~"))
    [problem] = problems_of(directory)
    assert "tariffs/a.yml" in problem and problem.startswith("tariffs/b.yml:2: applies_from")


def test_a_grid_must_state_its_end(tmp_path: Path) -> None:
    write_grid(tmp_path / "tariffs", "g.yml", GOOD.replace("applies_until: ~\n", ""))
    assert problems_of(tmp_path / "tariffs") == ["tariffs/g.yml:1: applies_until: missing field"]


def test_two_grids_with_one_name_are_refused(tmp_path: Path) -> None:
    directory = tmp_path / "tariffs"
    write_grid(directory, "a.yml", GOOD.replace("~", "2020-12-31"))
    write_grid(directory, "b.yml", GOOD.replace("2020-01-01", "2021-01-01"))
    assert any("grid 'test' is also defined in tariffs/a.yml" in p for p in problems_of(directory))


def test_a_grid_can_end_and_leave_a_gap(tmp_path: Path) -> None:
    directory = tmp_path / "tariffs"
    write_grid(directory, "a.yml", GOOD.replace("~", "2020-12-31"))
    tariffs = load_tariffs(directory)
    assert tariffs.for_date(dt.date(2020, 11, 1)) is not None
    assert tariffs.for_date(dt.date(2021, 11, 1)) is None
