"""A school's own stay under its member, the pack per school, explicit grid periods, and exports that
no spreadsheet runs as formulas. Amounts are computed by hand in the comments (2014 and 2020 grids)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from odf.namespaces import OFFICENS
from odf.opendocument import load as load_ods
from odf.table import TableCell

from schoolfleet.billing import exports
from schoolfleet.billing.__main__ import bill, snapshot_of
from schoolfleet.billing.rules import Billing, BillingError
from schoolfleet.onboarding.__main__ import main as onboarding_main
from schoolfleet.register import RegisterError, load_register

from .conftest import MakeRegister
from .test_command import ods_tables, read_csv, run

VIGNES = "0690021Y École Eta les Vignes (arrivée le 01/03/2015)"


def billed(root: Path, year: int) -> Billing:
    return bill(load_register(root), year, snapshot_of(year), None)


def lines(billing: Billing) -> dict[str, tuple[int, Decimal, str]]:
    [statement] = billing.statements
    return {line.spec.key: (line.count, line.amount, line.note) for line in statement.lines if line.count}


def lines_of(billing: Billing, code: str) -> dict[str, tuple[int, Decimal, str]]:
    [statement] = [s for s in billing.statements if s.holder.code == code]
    return {line.spec.key: (line.count, line.amount, line.note) for line in statement.lines if line.count}


def test_a_school_arriving_mid_convention_is_charged_its_pack_in_its_first_year(
    make_register: MakeRegister,
) -> None:
    got = lines(billed(make_register("arrivals"), 2015))
    # Les Vignes joined 2015-03-01, within the 12 months to 2015-11-01: one pack installed, 895 €.
    count, amount, note = got["software_pack/installation"]
    assert (count, amount) == (1, Decimal("895.00"))
    assert VIGNES in note
    # One pack per school for the three schools (not 1 + 3 + 1 pack names): 3 x 211 = 633.
    assert got["software_pack/maintenance"][:2] == (3, Decimal("633.00"))
    # Pupils of the three schools: 190 x 5.27 = 1001.30.
    assert got["portal_access/maintenance"][:2] == (190, Decimal("1001.30"))


def test_in_its_second_year_the_school_pays_maintenance_only_and_a_closed_school_nothing(
    make_register: MakeRegister,
) -> None:
    billing = billed(make_register("arrivals"), 2016)
    got = lines(billing)
    assert "software_pack/installation" not in got
    # Du Bourg left on 2016-07-01: 2 packs x 211 = 422, pupils 160 x 5.27 = 843.20.
    assert got["software_pack/maintenance"][:2] == (2, Decimal("422.00"))
    assert got["portal_access/maintenance"][:2] == (160, Decimal("843.20"))
    # Workstations H1, H2: 2 x 36.86 = 73.72 billed; 422 + 843.20 = 1265.20 borne by the authority.
    assert (billing.billed, billing.borne_by_authority) == (Decimal("73.72"), Decimal("1265.20"))


def test_before_it_arrives_a_school_counts_for_nothing(make_register: MakeRegister) -> None:
    got = lines(billed(make_register("arrivals"), 2014))
    # 2014: Eta centre and du Bourg, at the convention: 2 x 895 installation, 2 x 211, 130 pupils.
    assert got["software_pack/installation"][:2] == (2, Decimal("1790.00"))
    assert got["software_pack/maintenance"][:2] == (2, Decimal("422.00"))
    assert got["portal_access/maintenance"][:2] == (130, Decimal("685.10"))


def test_the_pack_arrival_is_shown_on_the_csv(make_register: MakeRegister, tmp_path: Path) -> None:
    assert run(make_register("arrivals"), tmp_path, "2015") == 0
    rows = read_csv(tmp_path / "facturation-2015.csv")
    [row] = [
        r for r in rows if r[0] == "69020" and r[2] == "Pack logiciel, par école" and r[3] == "installation"
    ]
    assert row[4] == "1" and row[6] == "895,00" and VIGNES in row[8]


def test_a_grid_may_price_packs_one_by_one_if_it_says_so(make_register: MakeRegister) -> None:
    root = make_register("arrivals")
    path = root / "tariffs" / "2014.yml"
    text = path.read_text(encoding="utf-8")
    marker = "    kinds: [software_pack]\n"
    path.write_text(text.replace(marker, marker + "    per_pack: true\n"), encoding="utf-8")
    got = lines(billed(root, 2015))
    # Les Vignes lists 3 packs: 3 x 895 = 2685; maintenance 1 + 3 + 1 = 5 packs x 211 = 1055.
    assert got["software_pack/installation"][:2] == (3, Decimal("2685.00"))
    assert got["software_pack/maintenance"][:2] == (5, Decimal("1055.00"))


def test_per_pack_is_only_for_the_software_pack(make_register: MakeRegister) -> None:
    root = make_register("arrivals")
    path = root / "tariffs" / "2014.yml"
    marker = "    kinds: [workstation]\n"
    path.write_text(path.read_text().replace(marker, marker + "    per_pack: true\n"), encoding="utf-8")
    with pytest.raises(RegisterError) as caught:
        load_register(root)
    [problem] = caught.value.problems
    assert problem.file.endswith("tariffs/2014.yml") and problem.field.endswith(".per_pack")


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("    joined: 2015-03-01\n", "    joined: 2013-03-01\n", "schools[1].joined", "before its member's"),
        ("    left: 2016-07-01\n", "    left: 2013-07-01\n", "schools[2].left", "not after joining"),
        ("installed: 2015-03-01}", "installed: 2015-02-01}", "schools[1].equipment[0].installed", "before"),
        (", retired: 2016-07-01}", "}", "schools[2].equipment[0].retired", "must be retired by 2016-07-01"),
    ],
)
def test_a_stay_that_does_not_hold_is_refused_with_its_line(
    make_register: MakeRegister, old: str, new: str, field: str, message: str
) -> None:
    root = make_register("arrivals")
    path = root / "members" / "69020.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(RegisterError) as caught:
        load_register(root)
    [problem] = caught.value.problems
    assert (problem.field, problem.line > 1) == (field, True) and message in problem.message


def test_a_year_left_without_grid_is_refused_naming_the_year(make_register: MakeRegister) -> None:
    root = make_register("arrivals")
    (root / "tariffs" / "2017.yml").unlink()
    register = load_register(root)
    assert bill(register, 2016, snapshot_of(2016), None).grid.name == "2014"
    with pytest.raises(BillingError) as caught:
        bill(register, 2018, snapshot_of(2018), None)
    [problem] = caught.value.problems
    assert problem.startswith("no tariff grid for the 2018 billing (snapshot 2018-11-01)")


def test_overlapping_grids_in_a_register_name_both_files(make_register: MakeRegister) -> None:
    root = make_register("arrivals")
    path = root / "tariffs" / "2014.yml"
    path.write_text(path.read_text().replace("applies_until: 2016-12-31", "applies_until: 2017-06-30"))
    with pytest.raises(RegisterError) as caught:
        load_register(root)
    [problem] = caught.value.problems
    assert problem.file.endswith("tariffs/2017.yml") and "tariffs/2014.yml" in problem.message


# --- spreadsheet injection ---------------------------------------------------------------------------


def test_text_cells_are_neutralised_numbers_are_not() -> None:
    assert exports.cells(["=1+1", "+1", "-x", "@A1", "\tA", "Orsay", Decimal("-12.5"), -3, None]) == [
        "'=1+1",
        "'+1",
        "'-x",
        "'@A1",
        "'\tA",
        "Orsay",
        "-12,50",
        "-3",
        "",
    ]


EVIL = "=HYPERLINK(A1&A2,Ambérieu)"


def test_formula_like_names_stay_text_in_all_three_formats(
    make_register: MakeRegister, tmp_path: Path
) -> None:
    root = make_register("injection")
    assert run(root, tmp_path, "2026") == 0
    rows = read_csv(tmp_path / "facturation-2026.csv")
    names = {r[0]: r[1] for r in rows if r[0] != "TOTAL"}
    assert names == {"Code membre": "Membre", "01004": "'" + EVIL, "01005": "'@SUM(1+1)"}

    book = openpyxl.load_workbook(tmp_path / "facturation-2026.xlsx")
    summary = book[exports.SUMMARY_SHEET]
    first, total, _ = exports.summary_rows(billed(root, 2026))
    for row in range(first, total):
        code, name = summary.cell(row, 1), summary.cell(row, 2)
        assert code.data_type == "s" and code.value in ("01004", "01005")
        assert name.data_type == "s" and str(name.value).startswith("'")
    member = book[book.sheetnames[2]]
    assert member["A1"].data_type == "s" and str(member["A1"].value).startswith("'=HYPERLINK")
    # Amounts stay numbers: 2 workstations x 52 under the 2020 grid.
    assert member["E5"].data_type == "n"

    tables = ods_tables(tmp_path / "facturation-2026.ods")
    sheet = tables[exports.SUMMARY_SHEET]
    texts = [row[1][2] for row in sheet[first - 1 : total - 1]]
    assert texts == ["'" + EVIL, "'@SUM(1+1)"]
    assert [row[0][2] for row in sheet[first - 1 : total - 1]] == ["01004", "01005"]


def test_codes_stay_text_and_amounts_numbers_in_the_ods(make_register: MakeRegister, tmp_path: Path) -> None:
    assert run(make_register("injection"), tmp_path, "2026") == 0
    doc = load_ods(str(tmp_path / "facturation-2026.ods"))
    types = {
        str(cell): cell.attributes.get((OFFICENS, "value-type"))
        for cell in doc.spreadsheet.getElementsByType(TableCell)
    }
    assert types["01004"] == "string"
    assert types["104,00"] == "float"


# --- dated options and licences ----------------------------------------------------------------------


def onboard(root: Path, *argv: str) -> None:
    assert onboarding_main([*argv, "--register", str(root)]) == 0


def test_an_option_switched_on_mid_series_bills_from_its_first_year(make_register: MakeRegister) -> None:
    root = make_register("year2026")
    path = root / "members" / "69001.yml"
    # Alpha's Wi-Fi option from 2025-12-01 only; its access point AP-A1 moves to that day.
    text = path.read_text().replace("  wifi: true\n", "  wifi:\n    - since: 2025-12-01\n")
    path.write_text(text.replace("installed: 2025-06-01, unit: 1", "installed: 2025-12-01, unit: 1"))
    assert lines_of(billed(root, 2026), "69001")["wifi_ap/maintenance"][:2] == (1, Decimal("100.00"))
    # 2025 (snapshot 2025-11-01): the option is not in force, and no access point is held yet.
    assert "wifi_ap/maintenance" not in lines_of(billed(root, 2025), "69001")


def test_an_access_point_before_its_option_is_refused(make_register: MakeRegister) -> None:
    root = make_register("year2026")
    path = root / "members" / "69001.yml"
    path.write_text(path.read_text().replace("  wifi: true\n", "  wifi:\n    - since: 2025-12-01\n"))
    with pytest.raises(RegisterError) as caught:
        load_register(root)
    [problem] = caught.value.problems
    assert (
        problem.field == "schools[0].equipment[3].installed"
        and "outside its member's Wi-Fi" in problem.message
    )


def test_licences_are_billed_from_their_dates(make_register: MakeRegister) -> None:
    root = make_register("arrivals")
    onboard(root, "add-licence", "--school", "0690020X", "--product", "lecture", "--seats", "4",
            "--start", "2015-01-10")  # fmt: skip
    # 2014 grid: installation 21.06 per seat in the 12 months of its start, 10.53 per seat held.
    got = lines(billed(root, 2015))
    assert got["specific_software/installation"][:2] == (4, Decimal("84.24"))
    assert got["specific_software/maintenance"][:2] == (4, Decimal("42.12"))
    assert "specific_software/installation" not in lines(billed(root, 2016))
    # Held up to 2016-10-31, the eve of the snapshot: not billed in 2016.
    onboard(root, "retire-licence", "--school", "0690020X", "--product", "lecture", "--end", "2016-10-31")
    assert "specific_software/maintenance" not in lines(billed(root, 2016))
    assert lines(billed(root, 2015))["specific_software/maintenance"][:2] == (4, Decimal("42.12"))


def test_a_licence_held_on_the_snapshot_day_is_billed(make_register: MakeRegister) -> None:
    root = make_register("arrivals")
    onboard(root, "add-licence", "--school", "0690020X", "--product", "lecture", "--seats", "4",
            "--start", "2015-01-10", "--end", "2016-11-01")  # fmt: skip
    assert lines(billed(root, 2016))["specific_software/maintenance"][:2] == (4, Decimal("42.12"))
