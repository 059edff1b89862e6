"""Exports for finance: CSV for a French spreadsheet, and XLSX and ODS workbooks with live formulas.

Every member sheet has the same lines in the same rows (the grid's lines, zeros included), so the
summary sheet can add the members' cells with plain SUM formulas that finance can audit. Each file is
written to a temporary name in its directory and renamed only once every file is complete, so a failed
run leaves no half-written export behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TableColumnProperties, TextProperties
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl.styles import Font

from schoolfleet.billing.compare import Comparison
from schoolfleet.billing.rules import Billing, Line

PAYER_LABELS = {"member": "membre", "authority": "métropole"}
CHARGE_LABELS = {
    "installation": "installation",
    "maintenance": "maintenance annuelle",
    "not_rebilled": "non refacturé",
}
HEADERS = ("Article", "Prestation", "Quantité", "Prix unitaire (€)", "Montant (€)", "Payeur", "Remarque")
SUMMARY_SHEET = "Synthèse"
# Rows of a member sheet (1-based): a title, the grid, a blank row, the headers, then the lines.
FIRST_LINE_ROW = 5
MONEY_FORMAT = "#,##0.00"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")


# OWASP's CSV injection advice: text starting with these is read as a formula (or DDE) by a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Text that no spreadsheet reads as a formula: a leading quote before a formula-like start."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cells(values: Sequence[object]) -> list[str]:
    """A CSV row: amounts in French style, counts as digits, text neutralised (numbers are never text)."""
    row: list[str] = []
    for value in values:
        if isinstance(value, Decimal) or value is None:
            row.append(french_decimal(value))
        elif isinstance(value, int):
            row.append(str(value))
        else:
            row.append(safe_text(str(value)))
    return row


def euros_text(value: Decimal) -> str:
    """French style for people: 124 632,00 €."""
    return f"{value:,.2f} €".replace(",", " ").replace(".", ",")


def french_decimal(value: Decimal | None) -> str:
    """1234.5 -> "1234,50": no thousands separator, so the spreadsheet reads a number."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def sheet_names(billing: Billing) -> list[str]:
    """One sheet name per member: code and name, within the 31 characters spreadsheets allow.

    Long SIVOS codes can share their first 31 characters, so a repeated name gets a number.
    """
    names: list[str] = []
    taken = {SUMMARY_SHEET.casefold()}
    for statement in billing.statements:
        base = _SHEET_FORBIDDEN.sub(" ", f"{statement.holder.code} {statement.holder.name}")[:31].rstrip()
        name, number = base, 1
        while name.casefold() in taken:
            number += 1
            suffix = f" ({number})"
            name = base[: 31 - len(suffix)].rstrip() + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


@dataclass(frozen=True)
class Layout:
    """Where each value sits on the member sheets, shared by the XLSX and ODS writers."""

    line_rows: int
    billed_row: int
    authority_row: int

    @classmethod
    def of(cls, billing: Billing) -> Layout:
        last = FIRST_LINE_ROW + len(billing.specs) - 1
        return cls(len(billing.specs), last + 2, last + 3)

    @property
    def last_line_row(self) -> int:
        return FIRST_LINE_ROW + self.line_rows - 1


def _line_cells(line: Line) -> tuple[str, str, int, Decimal | None, Decimal, str, str]:
    spec = line.spec
    return (
        spec.label,
        CHARGE_LABELS[spec.charge],
        line.count,
        spec.unit_price,
        line.amount,
        PAYER_LABELS[spec.payer],
        line.note,
    )


# --- CSV ------------------------------------------------------------------------------------------


def csv_text(billing: Billing) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(cells(("Code membre", "Membre", *HEADERS)))
    for statement in billing.statements:
        holder = statement.holder
        for line in statement.lines:
            label, charge, count, price, amount, payer, note = _line_cells(line)
            writer.writerow(
                cells(
                    (
                        holder.code,
                        holder.name,
                        label,
                        charge,
                        count,
                        price,
                        amount,
                        payer,
                        note,
                    )
                )
            )
        writer.writerow(
            cells(
                (
                    holder.code,
                    holder.name,
                    "Total facturé au membre",
                    "",
                    "",
                    "",
                    statement.billed,
                    PAYER_LABELS["member"],
                    "",
                )
            )
        )
        writer.writerow(
            cells(
                (
                    holder.code,
                    holder.name,
                    "Total pris en charge par la métropole",
                    "",
                    "",
                    "",
                    statement.borne_by_authority,
                    PAYER_LABELS["authority"],
                    "",
                )
            )
        )
    for spec in billing.specs:
        count, amount = billing.line_total(spec.key)
        writer.writerow(
            cells(
                (
                    "TOTAL",
                    "Tous les membres",
                    spec.label,
                    CHARGE_LABELS[spec.charge],
                    count,
                    spec.unit_price,
                    amount,
                    PAYER_LABELS[spec.payer],
                    spec.note,
                )
            )
        )
    writer.writerow(
        cells(
            (
                "TOTAL",
                "Tous les membres",
                "Total facturé aux membres",
                "",
                "",
                "",
                billing.billed,
                PAYER_LABELS["member"],
                "",
            )
        )
    )
    writer.writerow(
        cells(
            (
                "TOTAL",
                "Tous les membres",
                "Total pris en charge par la métropole",
                "",
                "",
                "",
                billing.borne_by_authority,
                PAYER_LABELS["authority"],
                "",
            )
        )
    )
    return out.getvalue()


def comparison_csv_text(comparison: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    a, b = comparison.before.year, comparison.after.year
    writer.writerow(
        cells(
            (
                "Code membre",
                "Membre",
                "Article",
                "Prestation",
                f"Quantité {a}",
                f"Quantité {b}",
                "Écart quantité",
                f"Montant {a} (€)",
                f"Montant {b} (€)",
                "Écart (€)",
            )
        )
    )
    for row in comparison.rows:
        writer.writerow(
            cells(
                (
                    row.code,
                    row.name,
                    row.item,
                    row.charge,
                    row.count_before,
                    row.count_after,
                    row.count_change,
                    row.amount_before,
                    row.amount_after,
                    row.amount_change,
                )
            )
        )
    for total in comparison.member_totals:
        writer.writerow(
            cells(
                (
                    total.code,
                    total.name,
                    "Total facturé au membre",
                    "",
                    total.count_before,
                    total.count_after,
                    total.count_change,
                    total.amount_before,
                    total.amount_after,
                    total.amount_change,
                )
            )
        )
    t = comparison.total
    writer.writerow(
        cells(
            (
                "TOTAL",
                "Tous les membres",
                "Total facturé aux membres",
                "",
                t.count_before,
                t.count_after,
                t.count_change,
                t.amount_before,
                t.amount_after,
                t.amount_change,
            )
        )
    )
    return out.getvalue()


# --- XLSX -----------------------------------------------------------------------------------------


def _xlsx_ref(sheet: str, cell: str) -> str:
    return f"'{sheet}'!{cell}"


def _xlsx_values(values: Sequence[object]) -> list[object]:
    # openpyxl stores any text starting with "=" as a formula: data text is neutralised first.
    return [safe_text(value) if isinstance(value, str) else value for value in values]


def xlsx_bytes(billing: Billing) -> bytes:
    layout = Layout.of(billing)
    names = sheet_names(billing)
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    bold = Font(bold=True)
    for statement, name in zip(billing.statements, names, strict=True):
        sheet = book.create_sheet(name)
        sheet["A1"] = safe_text(f"{statement.holder.name} ({statement.holder.code})")
        sheet["A1"].font = bold
        sheet["A2"] = (
            f"Grille {billing.grid.name}, facturation {billing.year}, "
            f"relevé au {statement.counted_on:%d/%m/%Y}"
        )
        sheet.append([])
        sheet.append(list(HEADERS))
        for cell in sheet[4]:
            cell.font = bold
        for line in statement.lines:
            sheet.append(_xlsx_values(_line_cells(line)))
        for row in range(FIRST_LINE_ROW, layout.last_line_row + 1):
            sheet[f"D{row}"].number_format = MONEY_FORMAT
            sheet[f"E{row}"].number_format = MONEY_FORMAT
        lines = f"{FIRST_LINE_ROW}:{layout.last_line_row}"
        first, last = lines.split(":")
        for row, payer, label in (
            (layout.billed_row, "member", "Total facturé au membre"),
            (layout.authority_row, "authority", "Total pris en charge par la métropole"),
        ):
            sheet[f"A{row}"] = label
            sheet[f"A{row}"].font = bold
            sheet[f"E{row}"] = f'=SUMIF(F{first}:F{last},"{PAYER_LABELS[payer]}",E{first}:E{last})'
            sheet[f"E{row}"].number_format = MONEY_FORMAT
        sheet.column_dimensions["A"].width = 48
        sheet.column_dimensions["G"].width = 60
    # Per member, the totals of its sheet; then per line, the sum of every member sheet's cell.
    summary["A1"] = (
        f"Facturation {billing.year} : grille {billing.grid.name}, "
        f"relevé au {billing.period.snapshot:%d/%m/%Y}"
    )
    summary["A1"].font = bold
    summary.append([])
    summary.append(["Code membre", "Membre", "Facturé au membre (€)", "Pris en charge par la métropole (€)"])
    for statement, name in zip(billing.statements, names, strict=True):
        summary.append(
            [
                safe_text(statement.holder.code),
                safe_text(statement.holder.name),
                "=" + _xlsx_ref(name, f"E{layout.billed_row}"),
                "=" + _xlsx_ref(name, f"E{layout.authority_row}"),
            ]
        )
    member_first, member_last = 4, 3 + len(names)
    total_row = member_last + 1
    summary.append(
        [
            "TOTAL",
            "Tous les membres",
            f"=SUM(C{member_first}:C{member_last})",
            f"=SUM(D{member_first}:D{member_last})",
        ]
    )
    summary.append([])
    summary.append(["Article", "Prestation", "Quantité", "Prix unitaire (€)", "Montant (€)", "Payeur"])
    for offset, spec in enumerate(billing.specs):
        row = FIRST_LINE_ROW + offset
        counts = ",".join(_xlsx_ref(n, f"C{row}") for n in names) or "0"
        amounts = ",".join(_xlsx_ref(n, f"E{row}") for n in names) or "0"
        summary.append(
            [
                spec.label,
                CHARGE_LABELS[spec.charge],
                f"=SUM({counts})",
                spec.unit_price,
                f"=SUM({amounts})",
                PAYER_LABELS[spec.payer],
            ]
        )
    for row in summary.iter_rows(min_row=member_first, max_row=total_row, min_col=3, max_col=4):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    summary.column_dimensions["A"].width = 48
    summary.column_dimensions["B"].width = 32
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def summary_rows(billing: Billing) -> tuple[int, int, int]:
    """Row numbers in the summary sheet: first member, total, first line (for tests and readers)."""
    first_member = 4
    total = first_member + len(billing.statements)
    return first_member, total, total + 3


# --- ODS ------------------------------------------------------------------------------------------


def _ods_ref(sheet: str, cell: str) -> str:
    quoted = sheet.replace("'", "''")
    return f"['{quoted}'.{cell}]"


def _ods_cell(value: object, *, formula: str | None = None, style: Style | None = None) -> TableCell:
    attributes: dict[str, object] = {}
    if formula is not None:
        attributes["formula"] = "of:=" + formula
    if style is not None:
        attributes["stylename"] = style
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        cell = TableCell(valuetype="float", value=str(value), **attributes)
        text = french_decimal(value) if isinstance(value, Decimal) else str(value)
    else:
        text = "" if value is None else safe_text(str(value))
        cell = TableCell(valuetype="string", **attributes) if text or formula else TableCell(**attributes)
    if text:
        cell.addElement(P(text=text))
    return cell


def ods_value_cell(value: object) -> TableCell:
    """A plain ODS cell: numbers as numbers, text neutralised (used by other exports)."""
    return _ods_cell(value)


def _ods_row(table: Table, values: Sequence[object], style: Style | None = None) -> None:
    row = TableRow()
    for value in values:
        if isinstance(value, tuple):
            formula, computed = value
            row.addElement(_ods_cell(computed, formula=formula, style=style))
        else:
            row.addElement(_ods_cell(value, style=style))
    table.addElement(row)


def ods_bytes(billing: Billing) -> bytes:
    """The same workbook as XLSX; formulas carry their computed value so any viewer shows it."""
    layout = Layout.of(billing)
    names = sheet_names(billing)
    doc = OpenDocumentSpreadsheet()
    bold = Style(name="bold", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    wide = Style(name="wide", family="table-column")
    wide.addElement(TableColumnProperties(columnwidth="8cm"))
    doc.automaticstyles.addElement(bold)
    doc.automaticstyles.addElement(wide)
    summary = Table(name=SUMMARY_SHEET)
    summary.addElement(TableColumn(stylename=wide))
    summary.addElement(TableColumn(numbercolumnsrepeated=5))
    _ods_row(
        summary,
        [
            f"Facturation {billing.year} : grille {billing.grid.name}, relevé au "
            f"{billing.period.snapshot:%d/%m/%Y}"
        ],
        bold,
    )
    _ods_row(summary, [])
    _ods_row(
        summary,
        ["Code membre", "Membre", "Facturé au membre (€)", "Pris en charge par la métropole (€)"],
        bold,
    )
    first_member, total_row, _ = summary_rows(billing)
    for statement, name in zip(billing.statements, names, strict=True):
        _ods_row(
            summary,
            [
                statement.holder.code,
                statement.holder.name,
                (_ods_ref(name, f"E{layout.billed_row}"), statement.billed),
                (_ods_ref(name, f"E{layout.authority_row}"), statement.borne_by_authority),
            ],
        )
    last_member = total_row - 1
    _ods_row(
        summary,
        [
            "TOTAL",
            "Tous les membres",
            (f"SUM([.C{first_member}:.C{last_member}])", billing.billed),
            (f"SUM([.D{first_member}:.D{last_member}])", billing.borne_by_authority),
        ],
        bold,
    )
    _ods_row(summary, [])
    _ods_row(
        summary, ["Article", "Prestation", "Quantité", "Prix unitaire (€)", "Montant (€)", "Payeur"], bold
    )
    for offset, spec in enumerate(billing.specs):
        row = FIRST_LINE_ROW + offset
        count, amount = billing.line_total(spec.key)
        counts = ";".join(_ods_ref(n, f"C{row}") for n in names) or "0"
        amounts = ";".join(_ods_ref(n, f"E{row}") for n in names) or "0"
        _ods_row(
            summary,
            [
                spec.label,
                CHARGE_LABELS[spec.charge],
                (f"SUM({counts})", count),
                spec.unit_price,
                (f"SUM({amounts})", amount),
                PAYER_LABELS[spec.payer],
            ],
        )
    doc.spreadsheet.addElement(summary)
    for statement, name in zip(billing.statements, names, strict=True):
        table = Table(name=name)
        table.addElement(TableColumn(stylename=wide))
        table.addElement(TableColumn(numbercolumnsrepeated=6))
        _ods_row(table, [f"{statement.holder.name} ({statement.holder.code})"], bold)
        _ods_row(
            table,
            [
                f"Grille {billing.grid.name}, facturation {billing.year}, relevé au "
                f"{statement.counted_on:%d/%m/%Y}"
            ],
        )
        _ods_row(table, [])
        _ods_row(table, list(HEADERS), bold)
        for line in statement.lines:
            _ods_row(table, list(_line_cells(line)))
        _ods_row(table, [])
        first, last = FIRST_LINE_ROW, layout.last_line_row
        for payer, label, value in (
            ("member", "Total facturé au membre", statement.billed),
            ("authority", "Total pris en charge par la métropole", statement.borne_by_authority),
        ):
            formula = f'SUMIF([.F{first}:.F{last}];"{PAYER_LABELS[payer]}";[.E{first}:.E{last}])'
            _ods_row(table, [label, "", "", "", (formula, value)], bold)
        doc.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    doc.write(buffer)
    return buffer.getvalue()


# --- writing --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _temporary(directory: Path, name: str) -> Iterator[Path]:
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    os.close(handle)
    path = Path(temp)
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def write_all(directory: Path, outputs: dict[str, Callable[[], bytes]]) -> list[Path]:
    """Render every output, write each to a temporary file, then rename them all into place.

    Nothing is renamed until every file rendered and was written, so a failure leaves the directory as
    it was (apart from the temporary files, which are removed).
    """
    directory.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[Path, Path]] = []
    try:
        for name, render in outputs.items():
            with _temporary(directory, name) as temp:
                temp.write_bytes(render())
                temp.chmod(0o644)
                temps.append((temp, directory / name))
        for temp, final in temps:
            temp.replace(final)
    finally:
        for temp, _ in temps:
            temp.unlink(missing_ok=True)
    return [final for _, final in temps]


def csv_bytes(text: str) -> bytes:
    # The BOM is what makes Excel and LibreOffice pick UTF-8 for a double-clicked CSV.
    return text.encode("utf-8-sig")
