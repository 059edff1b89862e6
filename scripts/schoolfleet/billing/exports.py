"""Exports for finance: CSV for a French spreadsheet, and XLSX and ODS workbooks with live formulas.

Every member sheet has the same lines in the same rows (the grid's lines, zeros included). A detail
sheet holds one member per row, each line's count and amount a reference to the member's sheet, so the
summary sheet's per-line totals are each one SUM over one range of it: they scale past the 255
arguments a spreadsheet function takes. Amounts carry a € format, counts an integer one; every member
sheet prints as one landscape page, its header rows repeated and a header naming the member. Each file is
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
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from odf.style import Style
from odf.table import TableCell
from odf.text import P
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from schoolfleet.billing.compare import Comparison
from schoolfleet.billing.rules import Billing, Line, Statement

PAYER_LABELS = {"member": "membre", "authority": "métropole"}
CHARGE_LABELS = {
    "installation": "installation",
    "maintenance": "maintenance annuelle",
    "not_rebilled": "non refacturé",
}
HEADERS = ("Article", "Prestation", "Quantité", "Prix unitaire (€)", "Montant (€)", "Payeur", "Remarque")
SUMMARY_SHEET = "Synthèse"
DETAIL_SHEET = "Détail"
# Rows of the detail sheet: a title, the headers, then one member per row.
DETAIL_FIRST_ROW = 3
# Rows of a member sheet (1-based): a title, the grid, a blank row, the headers, then the lines.
FIRST_LINE_ROW = 5
MONEY_FORMAT = '#,##0.00 "€"'
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

# French display comes from the reader's locale: "1 234,56 €" in LibreOffice and Excel set to French.
XLSX_MONEY = MONEY_FORMAT
XLSX_COUNT = "#,##0"
# Member sheets: widths in characters, so that no header is cut and no amount shows as ###.
WIDTHS = (46, 22, 10, 18, 16, 11, 60)


def _xlsx_ref(sheet: str, cell: str) -> str:
    quoted = sheet.replace("'", "''")
    return f"'{quoted}'!{cell}"


def column(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def detail_columns(billing: Billing) -> list[tuple[str, str]]:
    """The columns of the detail sheet for each line: (count column, amount column), from C on."""
    return [(column(3 + 2 * i), column(4 + 2 * i)) for i in range(len(billing.specs))]


def _title(billing: Billing) -> str:
    snapshot = billing.period.snapshot
    return f"Facturation {billing.year} : grille {billing.grid.name}, relevé au {snapshot:%d/%m/%Y}"


def _grid_line(billing: Billing, statement: Statement) -> str:
    day = statement.counted_on
    return f"Grille {billing.grid.name}, facturation {billing.year}, relevé au {day:%d/%m/%Y}"


def _xlsx_values(values: Sequence[object]) -> list[object]:
    # openpyxl stores any text starting with "=" as a formula: data text is neutralised first.
    return [safe_text(value) if isinstance(value, str) else value for value in values]


def _print_setup(sheet: Worksheet, header: str, title_rows: str | None) -> None:
    """One landscape A4 page: the columns fit the width, the header rows repeat, a header names it."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0 if title_rows is None else 1
    if title_rows is not None:
        sheet.print_title_rows = title_rows
    # "&" starts a code in a header: a member named "A & B" must print as such.
    sheet.oddHeader.center.text = header.replace("&", "&&")
    sheet.oddFooter.right.text = "Page &P / &N"


def xlsx_bytes(billing: Billing) -> bytes:
    layout = Layout.of(billing)
    names = sheet_names(billing)
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    detail = book.create_sheet(DETAIL_SHEET)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for statement, name in zip(billing.statements, names, strict=True):
        sheet = book.create_sheet(name)
        holder = statement.holder
        sheet["A1"] = safe_text(f"{holder.name} ({holder.code})")
        sheet["A1"].font = bold
        sheet["A2"] = _grid_line(billing, statement)
        sheet.append([])
        sheet.append(list(HEADERS))
        for cell in sheet[4]:
            cell.font = bold
            cell.alignment = wrap
        for line in statement.lines:
            sheet.append(_xlsx_values(_line_cells(line)))
        first, last = FIRST_LINE_ROW, layout.last_line_row
        for row in range(first, last + 1):
            sheet[f"C{row}"].number_format = XLSX_COUNT
            sheet[f"D{row}"].number_format = XLSX_MONEY
            sheet[f"E{row}"].number_format = XLSX_MONEY
            sheet[f"G{row}"].alignment = wrap
        for row, payer, label in (
            (layout.billed_row, "member", "Total facturé au membre"),
            (layout.authority_row, "authority", "Total pris en charge par la métropole"),
        ):
            sheet[f"A{row}"] = label
            sheet[f"A{row}"].font = bold
            sheet[f"E{row}"] = f'=SUMIF(F{first}:F{last},"{PAYER_LABELS[payer]}",E{first}:E{last})'
            sheet[f"E{row}"].number_format = XLSX_MONEY
            sheet[f"E{row}"].font = bold
        for index, width in enumerate(WIDTHS, start=1):
            sheet.column_dimensions[column(index)].width = width
        _print_setup(
            sheet,
            f"{holder.name} ({holder.code}) - facturation {billing.year} - grille {billing.grid.name}",
            "4:4",
        )
    # The detail sheet: a member per row, each line's count and amount as one reference to its sheet,
    # so each total of the summary is one SUM over a single range, whatever the number of members
    # (a SUM over every member sheet stops at 255 arguments).
    columns = detail_columns(billing)
    detail["A1"] = f"Détail par membre et par article, facturation {billing.year}, grille {billing.grid.name}"
    detail["A1"].font = bold
    heading: list[object] = ["Code membre", "Membre"]
    for spec in billing.specs:
        heading += [f"{spec.label} ({CHARGE_LABELS[spec.charge]}) : quantité", "montant (€)"]
    detail.append(heading)
    for cell in detail[2]:
        cell.font = bold
        cell.alignment = wrap
    for statement, name in zip(billing.statements, names, strict=True):
        cells: list[object] = [safe_text(statement.holder.code), safe_text(statement.holder.name)]
        for offset in range(len(billing.specs)):
            line_row = FIRST_LINE_ROW + offset
            cells += ["=" + _xlsx_ref(name, f"C{line_row}"), "=" + _xlsx_ref(name, f"E{line_row}")]
        detail.append(cells)
    detail_first, detail_last = DETAIL_FIRST_ROW, DETAIL_FIRST_ROW + len(names) - 1
    for count_column, amount_column in columns:
        detail.column_dimensions[count_column].width = 14
        detail.column_dimensions[amount_column].width = 14
        for index in range(detail_first, detail_last + 1):
            detail[f"{count_column}{index}"].number_format = XLSX_COUNT
            detail[f"{amount_column}{index}"].number_format = XLSX_MONEY
    detail.column_dimensions["A"].width = 18
    detail.column_dimensions["B"].width = 40
    detail.freeze_panes = "C3"
    _print_setup(detail, f"Détail par membre - facturation {billing.year}", None)
    detail.print_title_rows = "2:2"

    summary["A1"] = _title(billing)
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
    member_first, total_row, lines_first = summary_rows(billing)
    member_last = total_row - 1
    summary.append(
        [
            "TOTAL",
            "Tous les membres",
            f"=SUM(C{member_first}:C{member_last})" if names else 0,
            f"=SUM(D{member_first}:D{member_last})" if names else 0,
        ]
    )
    summary.append([])
    summary.append(["Article", "Prestation", "Quantité", "Prix unitaire (€)", "Montant (€)", "Payeur"])
    for spec, (count_column, amount_column) in zip(billing.specs, columns, strict=True):
        counts = (
            f"=SUM({_xlsx_ref(DETAIL_SHEET, f'{count_column}{detail_first}:{count_column}{detail_last}')})"
        )
        amounts = (
            f"=SUM({_xlsx_ref(DETAIL_SHEET, f'{amount_column}{detail_first}:{amount_column}{detail_last}')})"
        )
        summary.append(
            [
                spec.label,
                CHARGE_LABELS[spec.charge],
                counts if names else 0,
                spec.unit_price,
                amounts if names else 0,
                PAYER_LABELS[spec.payer],
            ]
        )
    for index in range(member_first, total_row + 1):
        summary[f"C{index}"].number_format = XLSX_MONEY
        summary[f"D{index}"].number_format = XLSX_MONEY
    for index in range(lines_first, lines_first + len(billing.specs)):
        summary[f"C{index}"].number_format = XLSX_COUNT
        summary[f"D{index}"].number_format = XLSX_MONEY
        summary[f"E{index}"].number_format = XLSX_MONEY
    for cell in (*summary[3], *summary[lines_first - 1], *summary[total_row]):
        cell.font = bold
        cell.alignment = wrap
    for letter, width in zip("ABCDEF", (46, 40, 18, 18, 18, 12), strict=True):
        summary.column_dimensions[letter].width = width
    _print_setup(summary, f"Facturation {billing.year} - grille {billing.grid.name} - synthèse", None)
    summary.print_title_rows = "3:3"
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


def _ods_range(sheet: str, letter: str, first: int, last: int) -> str:
    quoted = sheet.replace("'", "''")
    return f"['{quoted}'.{letter}{first}:.{letter}{last}]"


def _ods_cell(value: object, *, formula: str | None = None, style: Style | None = None) -> TableCell:
    """One cell as an odfpy element (the small allocation workbook)."""
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


# The billing workbook is written as ODF XML directly: odfpy builds and serialises a tree of Python
# objects, over 20 s for 2,000 members, where the text itself takes a fraction of a second.
_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2"'
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _xml_cell(value: object, formula: str | None = None, style: str | None = None) -> str:
    attributes = f' table:formula="{_attr("of:=" + formula)}"' if formula is not None else ""
    attributes += f' table:style-name="{style}"' if style else ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        text = french_decimal(value) if isinstance(value, Decimal) else str(value)
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}"{attributes}>'
            f"<text:p>{text}</text:p></table:table-cell>"
        )
    text = "" if value is None else safe_text(str(value))
    if not text and formula is None:
        return f"<table:table-cell{attributes}/>"
    return (
        f'<table:table-cell office:value-type="string"{attributes}><text:p>{escape(text)}</text:p>'
        "</table:table-cell>"
    )


def _xml_row(values: Sequence[object], styles: Sequence[str | None] = ()) -> str:
    """A row; `styles` gives each cell's style, or one style for every cell."""
    cells = []
    for index, value in enumerate(values):
        style = styles[0] if len(styles) == 1 else (styles[index] if index < len(styles) else None)
        if isinstance(value, tuple):
            formula, computed = value
            cells.append(_xml_cell(computed, formula, style))
        else:
            cells.append(_xml_cell(value, None, style))
    return f"<table:table-row>{''.join(cells)}</table:table-row>"


def _xml_columns(widths: Sequence[int]) -> str:
    return "".join(f'<table:table-column table:style-name="co{width}"/>' for width in widths)


def _ods_styles_xml(billing: Billing) -> str:
    """styles.xml: the € and integer formats, the landscape page fitted to one page, the headers."""
    text = escape(f"Facturation {billing.year} - grille {billing.grid.name}")
    pages = "".join(
        f'<style:master-page style:name="{name}" style:page-layout-name="landscape"><style:header>'
        f"<text:p>{sheet}{text}</text:p></style:header></style:master-page>"
        for name, sheet in (("member", "<text:sheet-name>?</text:sheet-name> - "), ("plain", ""))
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {_NAMESPACES}><office:styles>'
        '<number:currency-style style:name="euro" number:language="fr" number:country="FR">'
        '<number:number number:decimal-places="2" number:min-integer-digits="1" number:grouping="true"/>'
        "<number:text>\u00a0</number:text>"
        '<number:currency-symbol number:language="fr" number:country="FR">€</number:currency-symbol>'
        "</number:currency-style>"
        '<number:number-style style:name="integer" number:language="fr" number:country="FR">'
        '<number:number number:decimal-places="0" number:min-integer-digits="1" number:grouping="true"/>'
        "</number:number-style></office:styles><office:automatic-styles>"
        '<style:page-layout style:name="landscape"><style:page-layout-properties '
        'style:print-orientation="landscape" fo:page-width="29.7cm" fo:page-height="21cm" '
        'fo:margin="1.5cm" style:scale-to-pages="1"/><style:header-style/></style:page-layout>'
        f"</office:automatic-styles><office:master-styles>{pages}</office:master-styles>"
        "</office:document-styles>"
    )


def _ods_automatic_styles(widths: Sequence[int]) -> str:
    columns = "".join(
        f'<style:style style:name="co{width}" style:family="table-column">'
        # A character is about 0.21 cm in the default font.
        f'<style:table-column-properties style:column-width="{width * 0.21:.2f}cm"/></style:style>'
        for width in sorted(set(widths))
    )
    tables = "".join(
        f'<style:style style:name="ta_{name}" style:family="table" style:master-page-name="{name}">'
        '<style:table-properties table:display="true"/></style:style>'
        for name in ("member", "plain")
    )
    bold = '<style:text-properties fo:font-weight="bold"/>'
    wrap = '<style:table-cell-properties fo:wrap-option="wrap" style:vertical-align="top"/>'
    cells = "".join(
        f'<style:style style:name="{name}" style:family="table-cell"{data}>{inner}</style:style>'
        for name, data, inner in (
            ("bold", "", bold),
            ("money", ' style:data-style-name="euro"', ""),
            ("money_bold", ' style:data-style-name="euro"', bold),
            ("count", ' style:data-style-name="integer"', ""),
            ("wrap", "", wrap),
        )
    )
    return f"<office:automatic-styles>{columns}{tables}{cells}</office:automatic-styles>"


def ods_bytes(billing: Billing) -> bytes:
    """The same workbook as XLSX; formulas carry their computed value so any viewer shows it."""
    layout = Layout.of(billing)
    names = sheet_names(billing)
    columns = detail_columns(billing)
    detail_first, detail_last = DETAIL_FIRST_ROW, DETAIL_FIRST_ROW + len(names) - 1
    detail_widths = (WIDTHS[1], WIDTHS[0], *[WIDTHS[3]] * (2 * len(billing.specs)))
    out: list[str] = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_NAMESPACES}>',
        _ods_automatic_styles((*WIDTHS, *detail_widths)),
        "<office:body><office:spreadsheet>",
    ]

    out.append(f'<table:table table:name="{_attr(SUMMARY_SHEET)}" table:style-name="ta_plain">')
    out.append(_xml_columns(WIDTHS[:6]))
    out.append(_xml_row([_title(billing)], ["bold"]))
    out.append(_xml_row([]))
    heads = ["Code membre", "Membre", "Facturé au membre (€)", "Pris en charge par la métropole (€)"]
    out.append(f"<table:table-header-rows>{_xml_row(heads, ['bold'])}</table:table-header-rows>")
    first_member, total_row, _ = summary_rows(billing)
    money = [None, None, "money", "money"]
    for statement, name in zip(billing.statements, names, strict=True):
        billed = (_ods_ref(name, f"E{layout.billed_row}"), statement.billed)
        borne = (_ods_ref(name, f"E{layout.authority_row}"), statement.borne_by_authority)
        out.append(_xml_row([statement.holder.code, statement.holder.name, billed, borne], money))
    last_member = total_row - 1
    totals: list[object] = ["TOTAL", "Tous les membres", billing.billed, billing.borne_by_authority]
    if names:
        totals[2] = (f"SUM([.C{first_member}:.C{last_member}])", billing.billed)
        totals[3] = (f"SUM([.D{first_member}:.D{last_member}])", billing.borne_by_authority)
    out.append(_xml_row(totals, ["bold", "bold", "money_bold", "money_bold"]))
    out.append(_xml_row([]))
    heads = ["Article", "Prestation", "Quantité", "Prix unitaire (€)", "Montant (€)", "Payeur"]
    out.append(_xml_row(heads, ["bold"]))
    for spec, (count_column, amount_column) in zip(billing.specs, columns, strict=True):
        count, amount = billing.line_total(spec.key)
        counted: object = count
        summed: object = amount
        if names:
            counted = (f"SUM({_ods_range(DETAIL_SHEET, count_column, detail_first, detail_last)})", count)
            summed = (f"SUM({_ods_range(DETAIL_SHEET, amount_column, detail_first, detail_last)})", amount)
        row = [
            spec.label,
            CHARGE_LABELS[spec.charge],
            counted,
            spec.unit_price,
            summed,
            PAYER_LABELS[spec.payer],
        ]
        out.append(_xml_row(row, [None, None, "count", "money", "money", None]))
    out.append("</table:table>")

    out.append(f'<table:table table:name="{_attr(DETAIL_SHEET)}" table:style-name="ta_plain">')
    out.append(_xml_columns(detail_widths))
    out.append(
        _xml_row(
            [f"Détail par membre et par article, facturation {billing.year}, grille {billing.grid.name}"],
            ["bold"],
        )
    )
    heading: list[object] = ["Code membre", "Membre"]
    for spec in billing.specs:
        heading += [f"{spec.label} ({CHARGE_LABELS[spec.charge]}) : quantité", "montant (€)"]
    out.append(f"<table:table-header-rows>{_xml_row(heading, ['bold'])}</table:table-header-rows>")
    detail_styles = [None, None, *["count", "money"] * len(billing.specs)]
    for statement, name in zip(billing.statements, names, strict=True):
        cells: list[object] = [statement.holder.code, statement.holder.name]
        for offset, line in enumerate(statement.lines):
            line_row = FIRST_LINE_ROW + offset
            cells += [
                (_ods_ref(name, f"C{line_row}"), line.count),
                (_ods_ref(name, f"E{line_row}"), line.amount),
            ]
        out.append(_xml_row(cells, detail_styles))
    out.append("</table:table>")

    line_styles = [None, None, "count", "money", "money", None, "wrap"]
    first, last = FIRST_LINE_ROW, layout.last_line_row
    for statement, name in zip(billing.statements, names, strict=True):
        out.append(f'<table:table table:name="{_attr(name)}" table:style-name="ta_member">')
        out.append(_xml_columns(WIDTHS))
        out.append(_xml_row([f"{statement.holder.name} ({statement.holder.code})"], ["bold"]))
        out.append(_xml_row([_grid_line(billing, statement)]))
        out.append(_xml_row([]))
        out.append(f"<table:table-header-rows>{_xml_row(list(HEADERS), ['bold'])}</table:table-header-rows>")
        out.extend(_xml_row(list(_line_cells(line)), line_styles) for line in statement.lines)
        out.append(_xml_row([]))
        for payer, label, value in (
            ("member", "Total facturé au membre", statement.billed),
            ("authority", "Total pris en charge par la métropole", statement.borne_by_authority),
        ):
            formula = f'SUMIF([.F{first}:.F{last}];"{PAYER_LABELS[payer]}";[.E{first}:.E{last}])'
            out.append(
                _xml_row([label, "", "", "", (formula, value)], ["bold", None, None, None, "money_bold"])
            )
        out.append("</table:table>")
    out.append("</office:spreadsheet></office:body></office:document-content>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # ODF: the mimetype first and stored, so that tools recognise the file by its first bytes.
        archive.writestr(zipfile.ZipInfo("mimetype"), ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
        archive.writestr("styles.xml", _ods_styles_xml(billing))
        archive.writestr("content.xml", "".join(out))
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
