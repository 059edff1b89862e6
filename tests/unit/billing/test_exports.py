"""The workbooks finance prints: totals that scale past 255 members, € formats, one page per member."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
from odf.namespaces import NUMBERNS, STYLENS, TABLENS
from odf.opendocument import load as load_ods
from odf.style import MasterPage, PageLayoutProperties, Style
from odf.table import Table, TableCell, TableHeaderRows

from schoolfleet.billing import exports
from schoolfleet.billing.rules import Billing, Countable, Holder, compute
from schoolfleet.register.tariffs import load_tariffs

from .conftest import DEMO_TARIFFS
from .test_command import evaluate, ods_to_xlsx_formula

SNAPSHOT = dt.date(2026, 11, 1)


def many_members(count: int) -> Billing:
    """`count` communes under the 2020 grid, member i holding 1 + i % 7 workstations (52 € each)."""
    grid = load_tariffs(DEMO_TARIFFS).grids[2]
    holders = [
        Holder(f"{i:05d}", f"Commune {i}", "commune", dt.date(2015, 1, 1), None, ()) for i in range(count)
    ]
    things = [
        Countable(
            f"WS-{i}-{k}", "workstation", f"{i:05d}", 1, dt.date(2020, 1, 1), None, f"members/{i}.yml:1"
        )
        for i in range(count)
        for k in range(1 + i % 7)
    ]
    return compute(2026, grid, SNAPSHOT, holders, things)


def arguments(formula: str) -> int:
    """The number of arguments of the outermost function of a formula (`,` or `;` separated)."""
    body = formula.split("(", 1)[1].rsplit(")", 1)[0]
    return len(re.split(r"[,;]", body))


def test_summary_totals_scale_to_1000_members_in_both_workbooks() -> None:
    billing = many_members(1000)
    # By hand: member i holds 1 + i % 7; 1000 = 142 x 7 + 6, so 142 x 28 + (1+2+...+6) = 3997 x 52.
    assert billing.line_total("workstation/maintenance") == (3997, Decimal("207844.00"))
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(billing)))
    summary = book[exports.SUMMARY_SHEET]
    _, total_row, lines_first = exports.summary_rows(billing)

    def value(sheet: str, cell: str) -> object:
        return book[sheet][cell].value

    formulas = [
        str(summary.cell(row, column).value)
        for row in range(lines_first, summary.max_row + 1)
        for column in (3, 5)
    ]
    assert all(arguments(f) == 1 for f in formulas), "one range per total, never one argument per member"
    ws_count, ws_amount = (str(summary.cell(lines_first, column).value) for column in (3, 5))
    assert evaluate(ws_count, exports.SUMMARY_SHEET, value) == 3997
    assert evaluate(ws_amount, exports.SUMMARY_SHEET, value) == Decimal("207844.00")
    assert evaluate(str(summary.cell(total_row, 3).value), exports.SUMMARY_SHEET, value) == Decimal(
        "207844.00"
    )

    doc = load_ods(io.BytesIO(exports.ods_bytes(billing)))
    tables = {t.getAttribute("name"): t for t in doc.spreadsheet.getElementsByType(Table)}
    ods_formulas = [
        str(cell.attributes.get((TABLENS, "formula")))
        for cell in tables[exports.SUMMARY_SHEET].getElementsByType(TableCell)
        if cell.attributes.get((TABLENS, "formula"))
        and "Détail" in str(cell.attributes.get((TABLENS, "formula")))
    ]
    assert len(ods_formulas) == 2 * len(billing.specs)
    assert all(arguments(ods_to_xlsx_formula(f)) == 1 for f in ods_formulas)
    assert ods_formulas[0] == "of:=SUM(['Détail'.C3:.C1002])"


def test_xlsx_formats_and_print_setup() -> None:
    billing = many_members(3)
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(billing)))
    sheet = book[exports.sheet_names(billing)[0]]
    assert sheet["E5"].number_format == '#,##0.00 "€"' and sheet["D5"].number_format == '#,##0.00 "€"'
    assert sheet["C5"].number_format == "#,##0"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr is not None and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 1)
    assert sheet.print_title_rows == "$4:$4"
    assert sheet.oddHeader.center.text == "Commune 0 (00000) - facturation 2026 - grille 2020"
    # Wide enough for the headers ("Prix unitaire (€)") and the amounts.
    assert all(
        sheet.column_dimensions[c].width >= len(h) * 0.9
        for c, h in zip("ABCDEFG", exports.HEADERS, strict=True)
    )
    summary = book[exports.SUMMARY_SHEET]
    _, total_row, _ = exports.summary_rows(billing)
    assert summary.cell(total_row, 3).number_format == '#,##0.00 "€"'


def test_ods_formats_and_print_setup() -> None:
    billing = many_members(3)
    doc = load_ods(io.BytesIO(exports.ods_bytes(billing)))
    currency = [s for s in doc.styles.childNodes if s.qname == (NUMBERNS, "currency-style")]
    assert [s.getAttribute("name") for s in currency] == ["euro"]
    money = [
        s
        for s in doc.automaticstyles.getElementsByType(Style)
        if s.getAttribute("family") == "table-cell" and s.getAttribute("datastylename") == "euro"
    ]
    assert money
    [member_page] = [
        m for m in doc.masterstyles.getElementsByType(MasterPage) if m.getAttribute("name") == "member"
    ]
    [layout] = [p for p in doc.automaticstyles.childNodes if p.qname == (STYLENS, "page-layout")]
    [properties] = layout.getElementsByType(PageLayoutProperties)
    assert properties.getAttribute("printorientation") == "landscape"
    assert properties.getAttribute("scaletopages") == "1"
    assert "Facturation 2026 - grille 2020" in str(member_page)
    tables = {t.getAttribute("name"): t for t in doc.spreadsheet.getElementsByType(Table)}
    member = tables[exports.sheet_names(billing)[0]]
    assert member.getAttribute("stylename") == "ta_member"
    [heads] = member.getElementsByType(TableHeaderRows)
    assert str(heads).startswith("Article")
    # An amount cell: a float with the euro style; a code: text.
    cells = member.getElementsByType(TableCell)
    amounts = [c for c in cells if c.getAttribute("stylename") == "money" and c.getAttribute("valuetype")]
    assert amounts and all(c.getAttribute("valuetype") == "float" for c in amounts)
