"""The command on fixture registers: hand-computed totals, the CSV/XLSX/ODS files as finance opens
them (formulas evaluated from the member sheets' cells), the comparison, and bad input."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from odf.namespaces import TABLENS
from odf.opendocument import load as load_ods
from odf.table import Table, TableCell, TableRow

from schoolfleet.billing import exports
from schoolfleet.billing.__main__ import main

from .conftest import MakeRegister

# Hand-computed, 2020 grid (52 € per workstation, 100 € per access point with the Wi-Fi option):
# Alpha: WS-A1, WS-A2 (installed on the snapshot date), WS-A4 (retired on it), SP-A1 = 4 x 52, AP 100;
#        WS-A3, retired the day before, is not billed.                               = 308
# SIVOS des Deux Rives: 3 workstations + 1 specific at the schools of Beta and Gamma = 4 x 52 = 208
# Delta, joined 2026-03-01: 2 x 52 + 100 = 204 (whole year)
# Epsilon, left 2026-07-01, counted on 2026-06-30: 2 x 52 = 104 (whole year)
TOTALS_2026 = {"69001": "308.00", "69004": "204.00", "69005": "104.00", "sivos-deux-rives": "208.00"}
# 2025: Alpha 4 workstations (WS-A3 still there, WS-A2 not yet) + AP = 308; SIVOS 208; Epsilon 104;
# Delta not a member yet.
TOTALS_2025 = {"69001": "308.00", "69005": "104.00", "sivos-deux-rives": "208.00"}


def run(register: Path, out: Path, *args: str) -> int:
    return main([*args, "--register", str(register), "--out", str(out)])


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for spreadsheets"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def euros(text: str) -> Decimal:
    assert re.fullmatch(r"-?[0-9]+,[0-9]{2}", text), f"decimal comma expected, got {text!r}"
    return Decimal(text.replace(",", "."))


# --- a small evaluator for the formulas the exports write (references, SUM, SUMIF) ---------------

Cells = Callable[[str, str], object]

_REF = re.compile(r"(?:'((?:[^']|'')+)'!)?\$?([A-Z]+)\$?([0-9]+)(?::\$?([A-Z]+)\$?([0-9]+))?")


def _cells_of(ref: str, sheet: str) -> list[tuple[str, str]]:
    match = _REF.fullmatch(ref.strip())
    assert match is not None, ref
    name = (match.group(1) or sheet).replace("''", "'")
    col, row = match.group(2), int(match.group(3))
    if match.group(4) is None:
        return [(name, f"{col}{row}")]
    assert match.group(4) == col, "ranges in one column only"
    return [(name, f"{col}{r}") for r in range(row, int(match.group(5)) + 1)]


def evaluate(formula: str, sheet: str, value: Cells) -> Decimal:
    body = formula.removeprefix("=")

    def number(sheet_name: str, cell: str) -> Decimal:
        result = value(sheet_name, cell)
        if isinstance(result, str) and result.startswith("="):
            return evaluate(result, sheet_name, value)
        return Decimal(str(result or 0))

    if body.startswith("SUMIF("):
        criteria_range, criterion, sum_range = body[6:-1].split(",")
        wanted = criterion.strip('"')
        keys = _cells_of(criteria_range, sheet)
        sums = _cells_of(sum_range, sheet)
        return sum((number(*s) for k, s in zip(keys, sums, strict=True) if value(*k) == wanted), Decimal(0))
    if body.startswith("SUM("):
        return sum((number(*c) for ref in body[4:-1].split(",") for c in _cells_of(ref, sheet)), Decimal(0))
    return sum((number(*c) for c in _cells_of(body, sheet)), Decimal(0))


def ods_to_xlsx_formula(formula: str) -> str:
    """of:=SUM(['a'.C5];['b'.C5]) -> =SUM('a'!C5,'b'!C5), so one evaluator checks both files."""
    body = formula.removeprefix("of:=").replace(";", ",")
    body = re.sub(r"\['((?:[^']|'')+)'\.([A-Z]+[0-9]+):\.([A-Z]+[0-9]+)\]", r"'\1'!\2:\3", body)
    body = re.sub(r"\['((?:[^']|'')+)'\.([A-Z]+[0-9]+)\]", r"'\1'!\2", body)
    body = re.sub(r"\[\.([A-Z]+[0-9]+):\.([A-Z]+[0-9]+)\]", r"\1:\2", body)
    return "=" + body


def ods_tables(path: Path) -> dict[str, list[list[tuple[str | None, str | None, str]]]]:
    """Every sheet as rows of (formula, value, text) per cell."""
    doc = load_ods(str(path))
    tables: dict[str, list[list[tuple[str | None, str | None, str]]]] = {}
    for table in doc.spreadsheet.getElementsByType(Table):
        rows = []
        for row in table.getElementsByType(TableRow):
            cells = []
            for cell in row.getElementsByType(TableCell):
                cells.append(
                    (cell.attributes.get((TABLENS, "formula")), cell.getAttribute("value"), str(cell))
                )
            rows.append(cells)
        tables[table.getAttribute("name")] = rows
    return tables


# --- the runs --------------------------------------------------------------------------------------


@pytest.fixture
def billed_2026(make_register: MakeRegister, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "out"
    assert run(make_register("year2026"), out, "2026", "--compare", "2025") == 0
    summary = capsys.readouterr().out
    assert "824,00 € in 2026 against 620,00 € in 2025, an increase of 204,00 €" in summary
    assert "Reconciliation:" in summary
    return out


def test_writes_every_export_and_nothing_else(billed_2026: Path) -> None:
    assert sorted(p.name for p in billed_2026.iterdir()) == [
        "comparaison-2025-2026.csv",
        "facturation-2026.csv",
        "facturation-2026.ods",
        "facturation-2026.xlsx",
    ]


def test_csv_for_a_french_spreadsheet(billed_2026: Path) -> None:
    rows = read_csv(billed_2026 / "facturation-2026.csv")
    assert rows[0][:2] == ["Code membre", "Membre"]
    assert all(len(row) == 9 for row in rows)
    billed = {row[0]: euros(row[6]) for row in rows if row[2] == "Total facturé au membre"}
    assert billed == {code: Decimal(v) for code, v in TOTALS_2026.items()}
    [total] = [row for row in rows if row[0] == "TOTAL" and row[2] == "Total facturé aux membres"]
    assert euros(total[6]) == Decimal("824.00")
    [alpha_ws] = [r for r in rows if r[0] == "69001" and r[2] == "Poste de travail (forfait annuel)"]
    assert alpha_ws[4:8] == ["4", "52,00", "208,00", "membre"]
    [sivos] = [r for r in rows if r[0] == "sivos-deux-rives" and r[2].startswith("Poste")]
    assert sivos[1] == "SIVOS des Deux Rives" and sivos[4] == "4"


def test_xlsx_sheets_values_and_working_formulas(billed_2026: Path) -> None:
    book = openpyxl.load_workbook(billed_2026 / "facturation-2026.xlsx")
    assert book.sheetnames == [
        "Synthèse",
        "Détail",
        "69001 Alpha",
        "69004 Delta",
        "69005 Epsilon",
        "sivos-deux-rives SIVOS des Deux",
    ]
    alpha = book["69001 Alpha"]
    assert [c.value for c in alpha[4]][:6] == list(exports.HEADERS[:6])
    assert [c.value for c in alpha[5]][:6] == [
        "Poste de travail (forfait annuel)",
        "maintenance annuelle",
        4,
        52,
        208,
        "membre",
    ]

    def value(sheet: str, cell: str) -> object:
        return book[sheet][cell].value

    summary = book["Synthèse"]
    members = {row[0].value: row for row in summary.iter_rows(min_row=4, max_row=7)}
    assert set(members) == set(TOTALS_2026)
    for code, row in members.items():
        formula = row[2].value
        assert isinstance(formula, str) and formula.startswith("='")  # a reference, not a pasted number
        assert evaluate(formula, "Synthèse", value) == Decimal(TOTALS_2026[code])
    total = summary["C8"].value
    assert total == "=SUM(C4:C7)"
    assert evaluate(total, "Synthèse", value) == Decimal("824.00")
    # Per line: one SUM over one column of the detail sheet, whose rows refer to the member sheets.
    [ws_row] = [r for r in summary.iter_rows(min_row=11) if r[0].value == "Poste de travail (forfait annuel)"]
    count_formula = ws_row[2].value
    assert count_formula == "=SUM('Détail'!C3:C6)"
    assert book["Détail"]["C3"].value == "='69001 Alpha'!C5"
    assert evaluate(count_formula, "Synthèse", value) == 12
    assert evaluate(str(ws_row[4].value), "Synthèse", value) == Decimal("624.00")


def test_ods_sheets_values_and_working_formulas(billed_2026: Path) -> None:
    tables = ods_tables(billed_2026 / "facturation-2026.ods")
    assert list(tables) == [
        "Synthèse",
        "Détail",
        "69001 Alpha",
        "69004 Delta",
        "69005 Epsilon",
        "sivos-deux-rives SIVOS des Deux",
    ]

    def value(sheet: str, cell: str) -> object:
        letters = re.match(r"[A-Z]+", cell)
        assert letters is not None
        col = sum((ord(c) - ord("A") + 1) * 26**i for i, c in enumerate(reversed(letters.group()))) - 1
        row = int(cell[len(letters.group()) :]) - 1
        rows = tables[sheet]
        if row >= len(rows) or col >= len(rows[row]):
            return None
        formula, number, text = rows[row][col]
        if formula is not None:
            return ods_to_xlsx_formula(formula)
        return Decimal(number) if number is not None else text

    summary = tables["Synthèse"]
    for row in summary[3:7]:
        code = row[0][2]
        formula, cached, _ = row[2]
        assert formula is not None and formula.startswith("of:=['")
        assert evaluate(ods_to_xlsx_formula(formula), "Synthèse", value) == Decimal(TOTALS_2026[code])
        assert Decimal(str(cached)) == Decimal(TOTALS_2026[code])  # shown before any recalculation
    formula, cached, _ = summary[7][2]
    assert formula == "of:=SUM([.C4:.C7])"
    assert Decimal(str(cached)) == Decimal("824.00")
    assert evaluate(ods_to_xlsx_formula(formula), "Synthèse", value) == Decimal("824.00")
    alpha = tables["69001 Alpha"]
    assert [cell[2] for cell in alpha[4][:3]] == [
        "Poste de travail (forfait annuel)",
        "maintenance annuelle",
        "4",
    ]


def test_comparison_per_member_and_in_total(billed_2026: Path) -> None:
    rows = read_csv(billed_2026 / "comparaison-2025-2026.csv")
    totals = {row[0]: row for row in rows if row[2].startswith("Total")}
    assert euros(totals["69004"][7]) == 0 and euros(totals["69004"][8]) == Decimal("204.00")
    assert totals["69004"][6] == "3"  # 2 workstations and 1 access point more
    for code, before in TOTALS_2025.items():
        assert euros(totals[code][7]) == Decimal(before)
        assert euros(totals[code][9]) == Decimal(TOTALS_2026[code]) - Decimal(before)
    assert [euros(v) for v in totals["TOTAL"][7:10]] == [
        Decimal("620.00"),
        Decimal("824.00"),
        Decimal("204.00"),
    ]


def test_2014_grid_items_payers_and_installations(
    make_register: MakeRegister, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert run(make_register("grid2014"), out, "2016") == 0
    rows = read_csv(out / "facturation-2016.csv")
    lines = {(r[2], r[3]): (r[4], euros(r[6]), r[7]) for r in rows if r[0] == "69010" and r[3]}
    # Server installed on the snapshot date: installation 632 and maintenance 263.33, paid by the commune.
    assert lines[("Serveur d'école standard", "installation")] == ("1", Decimal("632.00"), "membre")
    assert lines[("Serveur d'école standard", "maintenance annuelle")] == ("1", Decimal("263.33"), "membre")
    # WS-Z1/Z2 installed 2015-11-01 (billed in 2015), WS-Z3 2015-11-02, WS-Z4 retired 2016-10-31.
    assert lines[("Poste de travail standard", "installation")] == ("1", Decimal("31.60"), "membre")
    assert lines[("Poste de travail standard", "maintenance annuelle")] == ("3", Decimal("110.58"), "membre")
    assert lines[("Logiciel spécifique", "installation")] == ("3", Decimal("63.18"), "membre")
    assert lines[("Accès au portail éducatif, par élève", "maintenance annuelle")] == (
        "200",
        Decimal("1054.00"),
        "métropole",
    )
    totals = {r[2]: euros(r[6]) for r in rows if r[0] == "69010" and not r[3]}
    # 632 + 263.33 + 31.60 + 110.58 + 63.18 + 31.59 + 15.79 = 1148.07; 1054 + 211 = 1265.
    assert totals == {
        "Total facturé au membre": Decimal("1148.07"),
        "Total pris en charge par la métropole": Decimal("1265.00"),
    }


# --- bad input: a clear error, exit status 2, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2012"], "no tariff grid for the 2012 billing (snapshot 2012-11-01)"),
        (["2026", "--grid", "2031"], "unknown tariff grid '2031'"),
        (["2026", "--grid", "2014"], "grid '2014' ("),
        (["2026", "--snapshot", "2025-11-01"], "snapshot date 2025-11-01 is not in billing year 2026"),
        (["2026", "--compare", "2010"], "no tariff grid for the 2010 billing (snapshot 2010-11-01)"),
    ],
)
def test_bad_years_and_grids(
    make_register: MakeRegister,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert run(make_register("year2026"), out, *args) == 2
    assert message in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_invalid_register_names_file_line_and_field(
    make_register: MakeRegister, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_register("year2026")
    member = root / "members" / "sivos-deux-rives.yml"
    text = member.read_text().replace(
        "      - {tag: WS-B2,",
        "      - {tag: AP-B1, kind: wifi_ap, model: U6, serial: P-B1, installed: 2026-02-01, unit: 1}\n"
        "      - {tag: WS-B2,",
    )
    member.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert run(root, out, "2026") == 2
    err = capsys.readouterr().err
    assert f"{member}:23: schools[0].equipment[1].kind: Wi-Fi access point AP-B1" in err
    assert not out.exists()


def test_a_kind_missing_from_the_grid_stops_the_run(
    make_register: MakeRegister, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_register("year2026")
    grid = root / "tariffs" / "2020.yml"
    grid.write_text(grid.read_text().replace("    - inkjet_printer\n", ""), encoding="utf-8")
    out = tmp_path / "out"
    assert run(root, out, "2026") == 2
    assert "PR-A1 is a 'inkjet_printer', which grid '2020'" in capsys.readouterr().err
    assert not out.exists()


def test_a_failed_export_leaves_no_file_behind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "facturation-2026.csv").write_bytes(b"last year's file")

    def broken() -> bytes:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        exports.write_all(out, {"facturation-2026.csv": lambda: b"new", "facturation-2026.xlsx": broken})
    assert [p.name for p in out.iterdir()] == ["facturation-2026.csv"]
    assert (out / "facturation-2026.csv").read_bytes() == b"last year's file"


def test_sheet_names_fit_and_stay_unique(make_register: MakeRegister) -> None:
    from schoolfleet.billing.__main__ import bill, snapshot_of
    from schoolfleet.register import load_register

    billing = bill(load_register(make_register("year2026")), 2026, snapshot_of(2026), None)
    long = billing.statements[3]
    # Another member whose code and name share the first 31 characters.
    twin = dataclasses.replace(long, holder=dataclasses.replace(long.holder, name=long.holder.name + " Sud"))
    names = exports.sheet_names(dataclasses.replace(billing, statements=(*billing.statements, twin)))
    assert names[3] == "sivos-deux-rives SIVOS des Deux"
    assert names[4] == "sivos-deux-rives SIVOS des (2)"
    assert len(set(names)) == len(names) and all(len(n) <= 31 for n in names)


def test_the_demo_register_bills_and_reconciles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = Path(__file__).parents[3] / "inventories" / "demo" / "register"
    if not (demo / "members").is_dir():
        pytest.skip("the demo register has no members yet")
    assert main(["2026", "--register", str(demo), "--out", str(tmp_path), "--compare", "2025"]) == 0
    assert "Reconciliation:" in capsys.readouterr().out
