"""Year-over-year comparison, as the council decisions quote it ("124 632 € in 2020 against 127 364 €
in 2019, a decrease of 2 732 €"): per member and item, then per member and in total.

Only what members are billed is compared (lines paid by the authority are not part of the bill). Lines
are matched by item and charge, so an item one grid has and the other lacks shows as from or to zero;
a member billed in one year only shows with zeros on the other side.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from schoolfleet.billing.rules import ZERO, Billing

CHARGE_LABELS = {"installation": "installation", "maintenance": "maintenance annuelle"}


@dataclass(frozen=True)
class Change:
    code: str
    name: str
    item: str
    charge: str
    count_before: int
    count_after: int
    amount_before: Decimal
    amount_after: Decimal

    @property
    def count_change(self) -> int:
        return self.count_after - self.count_before

    @property
    def amount_change(self) -> Decimal:
        return self.amount_after - self.amount_before


@dataclass(frozen=True)
class Comparison:
    before: Billing
    after: Billing
    rows: tuple[Change, ...]
    member_totals: tuple[Change, ...]
    total: Change


def _billed(billing: Billing) -> dict[tuple[str, str, str], tuple[str, int, Decimal]]:
    result: dict[tuple[str, str, str], tuple[str, int, Decimal]] = {}
    for statement in billing.statements:
        for line in statement.lines:
            if line.spec.payer != "member":
                continue
            key = (statement.holder.code, line.spec.item, line.spec.charge)
            _, count, amount = result.get(key, (statement.holder.name, 0, ZERO))
            result[key] = (statement.holder.name, count + line.count, amount + line.amount)
    return result


def compare(before: Billing, after: Billing) -> Comparison:
    old, new = _billed(before), _billed(after)
    labels = {spec.item: spec.label for spec in (*before.specs, *after.specs)}
    rows: list[Change] = []
    for key in sorted(set(old) | set(new)):
        code, item, charge = key
        name_old, count_old, amount_old = old.get(key, ("", 0, ZERO))
        name_new, count_new, amount_new = new.get(key, ("", 0, ZERO))
        rows.append(
            Change(
                code,
                name_new or name_old,
                labels.get(item, item),
                CHARGE_LABELS.get(charge, charge),
                count_old,
                count_new,
                amount_old,
                amount_new,
            )
        )
    per_member: dict[str, list[Change]] = defaultdict(list)
    for row in rows:
        per_member[row.code].append(row)
    totals = tuple(_sum(code, changes[0].name, changes) for code, changes in sorted(per_member.items()))
    return Comparison(before, after, tuple(rows), totals, _sum("TOTAL", "Tous les membres", totals))


def _sum(code: str, name: str, changes: list[Change] | tuple[Change, ...]) -> Change:
    return Change(
        code,
        name,
        "Total facturé",
        "",
        sum(c.count_before for c in changes),
        sum(c.count_after for c in changes),
        sum((c.amount_before for c in changes), ZERO),
        sum((c.amount_after for c in changes), ZERO),
    )
