"""The 2020 convention's own rule: staff and licence costs re-billed at real cost, pro rata of workstations.

    python -m schoolfleet.billing allocate 2026 --costs couts-2026.yml [--previous couts-2025.yml]
                                                [--register DIR] [--out DIR]

The year's real costs come as a small YAML file (or a CSV with the same columns):

    staff:                                   # cost = FTE x cost per FTE, rounded to the cent
      - {label: Techniciens, fte: 2.5, cost: 48000}
    licences:
      - {label: Antivirus, amount: 3200.50}
    other:
      - {label: Déplacements, amount: 1500}

    CSV: category;label;fte;cost;amount   (category staff, licences or other; decimal comma allowed)

Each member's share is the total times its workstations held on 1 November (standard and specific,
counted as the bill counts them, on the member's counting day) over all members' workstations. Shares
are rounded to the cent by the largest-remainder rule, so they add up to the total exactly: every share
is first rounded down to the cent, then the cents still missing go one each to the members with the
largest dropped fractions (ties: the member with more workstations, then the lower code). The rate per
workstation is shown next to the grid's workstation price of the year and last year's figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableRow
from openpyxl import Workbook

from schoolfleet.billing import exports
from schoolfleet.billing.rules import BillingError, Period, counting_day, in_service
from schoolfleet.billing.source import holders
from schoolfleet.register import Register
from schoolfleet.register.errors import Problems
from schoolfleet.register.model import EquipmentKind
from schoolfleet.register.nodes import Fields, compose_file
from schoolfleet.register.tariffs import Tariffs

CATEGORIES = {"staff": "Personnel", "licences": "Licences", "other": "Autres charges"}
CENT = Decimal("0.01")
_DECIMAL = re.compile(r"[0-9]+([.,][0-9]+)?")
_AMOUNT = re.compile(r"[0-9]+([.,][0-9]{1,2})?")
WORKSTATION_KINDS = (EquipmentKind.WORKSTATION, EquipmentKind.SPECIFIC_WORKSTATION)


@dataclass(frozen=True)
class CostLine:
    category: str
    label: str
    amount: Decimal
    # "2,5 ETP x 48 000,00" for staff, so the line explains itself.
    detail: str
    source: str


@dataclass(frozen=True)
class Share:
    code: str
    name: str
    workstations: int
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    year: int
    snapshot: Period
    costs: tuple[CostLine, ...]
    shares: tuple[Share, ...]
    # The grid's price per workstation that year (None when the grid prices none) and last year's.
    grid_rate: Decimal | None
    last_grid_rate: Decimal | None
    last_rate: Decimal | None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.costs), Decimal("0.00"))

    @property
    def workstations(self) -> int:
        return sum(share.workstations for share in self.shares)

    @property
    def rate(self) -> Decimal:
        return (self.total / self.workstations).quantize(CENT) if self.workstations else Decimal("0.00")


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def _line(
    category: str, label: str, fte: str | None, cost: str | None, amount: str | None, where: str
) -> tuple[CostLine | None, list[str]]:
    """One cost line from its texts; the problems name `where` (file:line) and the field."""
    problems: list[str] = []
    if category not in CATEGORIES:
        problems.append(f"{where}: category: {category!r} is not one of {', '.join(CATEGORIES)}")
        return None, problems
    if not label:
        problems.append(f"{where}: label: missing")
    staff = category == "staff"
    checks: list[tuple[str, str | None, re.Pattern[str]]] = (
        [("fte", fte, _DECIMAL), ("cost", cost, _AMOUNT)] if staff else [("amount", amount, _AMOUNT)]
    )
    for name, text, pattern in checks:
        if text is None or not pattern.fullmatch(text):
            what = "a number" if name == "fte" else "an amount in euros with at most two decimals"
            problems.append(f"{where}: {name}: {'missing' if text is None else repr(text)}, expected {what}")
    unused = ("amount", amount) if staff else ("fte", fte) if fte is not None else ("cost", cost)
    if unused[1] is not None:
        problems.append(f"{where}: {unused[0]}: not used for {category} (staff: fte and cost; else amount)")
    if problems:
        return None, problems
    if staff and fte is not None and cost is not None:
        total = (_decimal(fte) * _decimal(cost)).quantize(CENT)
        detail = f"{fte.replace('.', ',')} ETP x {exports.french_decimal(_decimal(cost))}"
        return CostLine(category, label, total, detail, where), problems
    assert amount is not None
    return CostLine(category, label, _decimal(amount).quantize(CENT), "", where), problems


def read_costs(path: Path) -> tuple[CostLine, ...]:
    """The costs file (YAML, or CSV by its suffix); raises BillingError naming file, line and field."""
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    problems = Problems()
    own: list[str] = []
    lines: list[CostLine] = []
    root = compose_file(path, str(path), problems)
    top = Fields.of(root, str(path), "", problems, "the year's costs") if root is not None else None
    if top is not None:
        top.check((), tuple(CATEGORIES))
        for category in CATEGORIES:
            for item_path, node in top.items(category, "cost lines", required=False):
                fields = Fields.of(node, str(path), item_path, problems, "a cost line")
                if fields is None:
                    continue
                fields.check(("label",), ("fte", "cost", "amount"))
                label, fte, cost, amount = (
                    fields.text(n, required=False) for n in ("label", "fte", "cost", "amount")
                )
                line, found = _line(category, label or "", fte, cost, amount, f"{path}:{fields.line}")
                own.extend(message.replace(": ", f": {item_path}.", 1) for message in found)
                if line is not None:
                    lines.append(line)
    errors = [str(p) for p in problems.items] + own
    if not lines and not errors:
        errors.append(f"{path}: no cost line")
    if errors:
        raise BillingError(errors)
    return tuple(lines)


def _read_csv(path: Path) -> tuple[CostLine, ...]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BillingError([f"{path}: cannot read: {exc}"]) from None
    header = text.split("\n", 1)[0]
    reader = csv.DictReader(text.splitlines(), delimiter=";" if ";" in header else ",")
    missing = {"category", "label"} - set(reader.fieldnames or ())
    if missing:
        raise BillingError([f"{path}:1: header: missing column(s) {', '.join(sorted(missing))}"])
    lines: list[CostLine] = []
    errors: list[str] = []
    for row in reader:
        cells = {name.strip(): (value or "").strip() or None for name, value in row.items() if name}
        where = f"{path}:{reader.line_num}"
        line, found = _line(
            cells.get("category") or "",
            cells.get("label") or "",
            cells.get("fte"),
            cells.get("cost"),
            cells.get("amount"),
            where,
        )
        errors.extend(found)
        if line is not None:
            lines.append(line)
    if not lines and not errors:
        errors.append(f"{path}: no cost line")
    if errors:
        raise BillingError(errors)
    return tuple(lines)


def largest_remainder(total: Decimal, weights: Sequence[tuple[str, int]]) -> dict[str, Decimal]:
    """`total` shared pro rata of the weights, in cents, adding up to `total` exactly.

    Each share is rounded down to the cent; the cents left go one by one to the largest remainders
    (ties: the larger weight, then the first key in order).
    """
    weight = sum(w for _, w in weights)
    if weight == 0:
        raise BillingError(["no workstation held on the counting day: nothing to share the costs by"])
    cents = int((total / CENT).to_integral_value())
    exact = {key: Decimal(cents) * w / weight for key, w in weights}
    floors = {key: int(value.to_integral_value(rounding=ROUND_DOWN)) for key, value in exact.items()}
    left = cents - sum(floors.values())
    order = sorted(weights, key=lambda kw: (-(exact[kw[0]] - floors[kw[0]]), -kw[1], kw[0]))
    for key, _ in order[:left]:
        floors[key] += 1
    return {key: Decimal(floors[key]) * CENT for key, _ in weights}


def workstations_held(register: Register, period: Period) -> list[tuple[str, str, int]]:
    """Per member in force during the period: (code, name, workstations held on its counting day)."""
    result: list[tuple[str, str, int]] = []
    by_code = {h.code: h for h in holders(register)}
    for member in sorted(register.members, key=lambda m: m.code):
        day = counting_day(by_code[member.code], period)
        if day is None:
            continue
        held = sum(
            1
            for school in member.schools
            for item in school.equipment
            if item.kind in WORKSTATION_KINDS and in_service(item.installed, item.retired, day)
        )
        result.append((member.code, member.name, held))
    return result


def grid_rate(tariffs: Tariffs, year: int) -> Decimal | None:
    """The grid's annual price per standard workstation for the year's billing, if it has one."""
    grid = tariffs.for_date(dt.date(year, 11, 1))
    item = grid.item_for_kind(EquipmentKind.WORKSTATION.value) if grid is not None else None
    return item.maintenance.price if item is not None and item.maintenance is not None else None


def allocate(
    register: Register, year: int, costs: Sequence[CostLine], previous: Sequence[CostLine] | None = None
) -> Allocation:
    period = Period.ending(dt.date(year, 11, 1))
    held = workstations_held(register, period)
    total = sum((line.amount for line in costs), Decimal("0.00"))
    amounts = largest_remainder(total, [(code, count) for code, _, count in held])
    shares = tuple(Share(code, name, count, amounts[code]) for code, name, count in held)
    last_rate = None
    if previous is not None:
        last = allocate(register, year - 1, previous)
        last_rate = last.rate
    return Allocation(
        year,
        period,
        tuple(costs),
        shares,
        grid_rate(register.tariffs, year),
        grid_rate(register.tariffs, year - 1),
        last_rate,
    )


# --- exports: the same three formats as the bill -----------------------------------------------------

HEADERS = ("Code membre", "Membre", "Postes au 1er novembre", "Part (%)", "Montant (€)")


def _percent(share: Share, allocation: Allocation) -> Decimal:
    return (Decimal(100) * share.workstations / allocation.workstations).quantize(CENT)


def rows(allocation: Allocation) -> list[list[object]]:
    """Every row of the export, typed: text, counts and amounts (None: an empty cell)."""
    out: list[list[object]] = [
        [
            f"Répartition des coûts réels {allocation.year}, au prorata des postes au"
            f" {allocation.snapshot.snapshot:%d/%m/%Y}"
        ],
        ["Catégorie", "Poste de coût", "Détail", None, "Montant (€)"],
    ]
    out.extend([CATEGORIES[c.category], c.label, c.detail, None, c.amount] for c in allocation.costs)
    out.append(["Total des coûts", None, None, None, allocation.total])
    out.append([])
    out.append(list(HEADERS))
    out.extend([s.code, s.name, s.workstations, _percent(s, allocation), s.amount] for s in allocation.shares)
    out.append(
        [
            "TOTAL",
            "Tous les membres",
            allocation.workstations,
            None,
            sum((s.amount for s in allocation.shares), Decimal("0.00")),
        ]
    )
    out.append([])
    out.append(["Coût réel par poste (€)", None, None, None, allocation.rate])
    out.append(["Tarif de la grille par poste (€)", None, None, None, allocation.grid_rate])
    out.append(
        [
            f"Tarif de la grille {allocation.year - 1} par poste (€)",
            None,
            None,
            None,
            allocation.last_grid_rate,
        ]
    )
    out.append([f"Coût réel par poste {allocation.year - 1} (€)", None, None, None, allocation.last_rate])
    out.append(
        [
            "Arrondi : plus forts restes (chaque part arrondie au centime inférieur, les centimes"
            " restants aux plus fortes décimales)"
        ]
    )
    return out


def csv_text(allocation: Allocation) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows(allocation):
        writer.writerow(exports.cells(row))
    return out.getvalue()


def xlsx_bytes(allocation: Allocation) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Répartition"
    for row in rows(allocation):
        sheet.append([exports.safe_text(v) if isinstance(v, str) else v for v in row])
    for cells in sheet.iter_rows(min_col=5, max_col=5):
        for cell in cells:
            if isinstance(cell.value, Decimal):
                cell.number_format = exports.MONEY_FORMAT
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 40
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ods_bytes(allocation: Allocation) -> bytes:
    doc = OpenDocumentSpreadsheet()
    table = Table(name="Répartition")
    for values in rows(allocation):
        row = TableRow()
        for value in values:
            row.addElement(exports.ods_value_cell(value))
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    doc.write(buffer)
    return buffer.getvalue()


def summary_text(allocation: Allocation) -> str:
    euros = exports.euros_text
    out = [
        f"Real costs {allocation.year}: {euros(allocation.total)} over {allocation.workstations} workstations"
        f" held on {allocation.snapshot.snapshot} ({len(allocation.shares)} members)"
    ]
    out += [
        f"  {c.label} [{CATEGORIES[c.category]}]: {euros(c.amount)} {c.detail}".rstrip()
        for c in allocation.costs
    ]
    out.append(f"Rate per workstation: {euros(allocation.rate)}")
    for label, value in (
        ("grid rate", allocation.grid_rate),
        (f"grid rate {allocation.year - 1}", allocation.last_grid_rate),
        (f"real rate {allocation.year - 1}", allocation.last_rate),
    ):
        out.append(f"  {label}: {euros(value) if value is not None else '-'}")
    out.append("Shares (largest remainder to the cent):")
    out += [f"  {s.code} {s.name}: {s.workstations} -> {euros(s.amount)}" for s in allocation.shares]
    return "\n".join(out)
