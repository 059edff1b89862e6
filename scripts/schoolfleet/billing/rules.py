"""The billing rules, as pure functions over simple records: what each member owes on a snapshot date.

- Maintenance counts what is in service on the member's counting day: installed on or before it and
  not retired before it (a device retired on the snapshot date itself is still billed that year).
- Installation counts what was installed in the 12 months ending on that day, so every installation
  is billed exactly once over the years.
- A member that joined or left during those 12 months pays the whole year, without proration: one
  that left is counted on its last day of membership (the eve of `left`), one that joined on the
  snapshot date like any other.
- A school's software pack is one countable per school, whatever the number of pack names it lists, and
  is installed when the school joined its member (its own `joined`, else the convention's start): a
  school arriving later is charged its pack installation that year, and its name and date show on the
  line. A grid item with `per_pack` counts each pack instead.
- Items a grid reserves to an option (the 2020 Wi-Fi access points) are billed only to members with
  the option in force on their counting day (options are dated: `since`, `until`). An access point
  held by a member without it is an error, not a zero and not a cost quietly moved to the authority:
  the register's validator already refuses it, and the rules refuse it again for any other caller,
  naming the device, so the register (or the convention) gets fixed.
- Every run reconciles: each counted thing is counted once, per-member counts add up to the fleet
  totals computed independently, and a kind the grid neither prices nor lists as not re-billed stops
  the run (an error, never a zero).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from schoolfleet.register.tariffs import Grid, GridItem, Payer

ChargeKind = Literal["installation", "maintenance", "not_rebilled"]
# Finance reads French: the names of what a grid may leave out, as the statements show them.
KIND_LABELS = {
    "school_server": "Serveur d'école",
    "specific_server": "Serveur spécifique",
    "router": "Routeur",
    "switch": "Commutateur",
    "wifi_ap": "Borne Wi-Fi",
    "workstation": "Poste de travail standard",
    "specific_workstation": "Poste de travail spécifique",
    "inkjet_printer": "Imprimante jet d'encre",
    "interactive_projector": "Vidéoprojecteur interactif",
    "pupil": "Élèves",
    "software_pack": "Pack logiciel",
    "specific_software": "Logiciel spécifique (postes)",
    "spare_parts_intervention": "Interventions avec pièces détachées",
}
ZERO = Decimal("0.00")


class BillingError(Exception):
    """The billing cannot be produced; the message lists every reason, each naming its source."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"billing refused, {count} problem{'s' if count != 1 else ''}:\n{lines}")


@dataclass(frozen=True)
class OptionSpan:
    """An option of the convention from `since` to `until` (its last day, None while in force)."""

    name: str
    since: dt.date
    until: dt.date | None = None


@dataclass(frozen=True)
class Holder:
    """A billed member: the commune, or the SIVOS that holds the schools of several communes."""

    code: str
    name: str
    kind: str
    joined: dt.date
    # The first day the member no longer belongs (the convention's end), as in the register.
    left: dt.date | None
    # The convention's options with their dates: an item that requires one is billed only when the
    # option is in force on the member's counting day.
    options: tuple[OptionSpan, ...]

    def has_option(self, name: str, day: dt.date) -> bool:
        return any(
            o.name == name and o.since <= day and (o.until is None or day <= o.until) for o in self.options
        )


@dataclass(frozen=True)
class Countable:
    """Something a grid may price: a device, a pack, licence seats, the pupils of a school.

    `ref` is unique across the register (an asset tag, "UAI/packs", ...); `installed` is None for what is
    never installed (pupils), which then counts from `present_from` if given; `retired` is the last day it
    is held. `parts` is what a grid pricing parts one by one counts instead of `quantity` (the packs a
    school lists); `note` is shown on the line that charges its installation (a school's arrival).
    """

    ref: str
    kind: str
    holder: str
    quantity: int
    installed: dt.date | None
    retired: dt.date | None
    source: str
    parts: int = 1
    note: str = ""
    present_from: dt.date | None = None


@dataclass(frozen=True)
class Period:
    """The 12 months ending on the snapshot date, both ends included."""

    first: dt.date
    snapshot: dt.date

    @classmethod
    def ending(cls, snapshot: dt.date) -> Period:
        try:
            year_before = snapshot.replace(year=snapshot.year - 1)
        except ValueError:  # 29 February: the year before has no such day
            year_before = snapshot.replace(year=snapshot.year - 1, day=28)
        return cls(year_before + dt.timedelta(days=1), snapshot)


@dataclass(frozen=True)
class LineSpec:
    """One line of every statement under a grid, in the same order on every member's statement."""

    key: str
    item: str
    label: str
    charge: ChargeKind
    unit_price: Decimal | None
    payer: Payer
    note: str


@dataclass(frozen=True)
class Line:
    spec: LineSpec
    count: int
    refs: tuple[str, ...]
    # What the counted things say about themselves on this line (a school's arrival date).
    details: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        return "; ".join(part for part in (self.spec.note, *self.details) if part)

    @property
    def amount(self) -> Decimal:
        if self.spec.unit_price is None:
            return ZERO
        return (self.spec.unit_price * self.count).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Statement:
    holder: Holder
    counted_on: dt.date
    lines: tuple[Line, ...]

    def total(self, payer: Payer) -> Decimal:
        return sum((line.amount for line in self.lines if line.spec.payer == payer), ZERO)

    @property
    def billed(self) -> Decimal:
        return self.total("member")

    @property
    def borne_by_authority(self) -> Decimal:
        return self.total("authority")


@dataclass(frozen=True)
class Billing:
    year: int
    period: Period
    grid: Grid
    specs: tuple[LineSpec, ...]
    statements: tuple[Statement, ...]
    # Fleet totals per line key, computed from the countables without going through the members.
    fleet: dict[str, int] = field(default_factory=dict)

    def line_total(self, key: str) -> tuple[int, Decimal]:
        lines = [line for s in self.statements for line in s.lines if line.spec.key == key]
        return sum(line.count for line in lines), sum((line.amount for line in lines), ZERO)

    @property
    def billed(self) -> Decimal:
        return sum((s.billed for s in self.statements), ZERO)

    @property
    def borne_by_authority(self) -> Decimal:
        return sum((s.borne_by_authority for s in self.statements), ZERO)


def in_service(installed: dt.date | None, retired: dt.date | None, day: dt.date) -> bool:
    """The billing rule: installed on or before `day` and not retired before it."""
    return (installed is None or installed <= day) and (retired is None or retired >= day)


def installed_within(installed: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return installed is not None and first <= installed <= last


def counting_day(holder: Holder, period: Period) -> dt.date | None:
    """The day a member's holdings are counted, or None when it was no member during the period."""
    if holder.joined > period.snapshot:
        return None
    if holder.left is None or holder.left > period.snapshot:
        return period.snapshot
    last_day = holder.left - dt.timedelta(days=1)
    if last_day < period.first or last_day < holder.joined:
        return None
    return last_day


def line_specs(grid: Grid) -> tuple[LineSpec, ...]:
    specs: list[LineSpec] = []
    for item in grid.items:
        for charge_kind, charge in (("installation", item.installation), ("maintenance", item.maintenance)):
            if charge is None:
                continue
            kind: ChargeKind = "installation" if charge_kind == "installation" else "maintenance"
            specs.append(
                LineSpec(f"{item.id}/{kind}", item.id, item.label, kind, charge.price, charge.payer, "")
            )
    for kind_name in grid.not_rebilled:
        label = KIND_LABELS.get(kind_name, kind_name)
        specs.append(
            LineSpec(
                f"{kind_name}/not_rebilled",
                kind_name,
                label,
                "not_rebilled",
                None,
                "authority",
                grid.not_rebilled_reason,
            )
        )
    return tuple(specs)


def _line_key(item: GridItem | None, kind: str, charge: ChargeKind) -> str:
    return f"{kind}/not_rebilled" if item is None else f"{item.id}/{charge}"


def _charges(item: GridItem | None) -> tuple[ChargeKind, ...]:
    if item is None:
        return ("not_rebilled",)
    result: list[ChargeKind] = []
    if item.installation is not None:
        result.append("installation")
    if item.maintenance is not None:
        result.append("maintenance")
    return tuple(result)


def _counted(countable: Countable, charge: ChargeKind, first: dt.date, day: dt.date) -> bool:
    if charge == "installation":
        return installed_within(countable.installed, first, day)
    return in_service(countable.installed or countable.present_from, countable.retired, day)


def compute(
    year: int,
    grid: Grid,
    snapshot: dt.date,
    holders: Iterable[Holder],
    countables: Iterable[Countable],
) -> Billing:
    """Every member's statement under `grid` on `snapshot`, reconciled; raises BillingError."""
    period = Period.ending(snapshot)
    members = {h.code: h for h in holders}
    things = list(countables)
    problems: list[str] = []
    specs = line_specs(grid)

    for ref, times in Counter(c.ref for c in things).items():
        if times > 1:
            sources = ", ".join(c.source for c in things if c.ref == ref)
            problems.append(f"{ref}: listed {times} times ({sources}); each thing must be counted once")

    days: dict[str, dt.date | None] = {code: counting_day(h, period) for code, h in members.items()}
    known = {k for item in grid.items for k in item.kinds} | set(grid.not_rebilled)
    refs: dict[tuple[str, str], list[str]] = defaultdict(list)
    counts: Counter[tuple[str, str]] = Counter()
    details: dict[tuple[str, str], list[str]] = defaultdict(list)
    fleet: Counter[str] = Counter()
    for thing in things:
        holder = members.get(thing.holder)
        if holder is None:
            problems.append(f"{thing.source}: {thing.ref} is held by unknown member {thing.holder!r}")
            continue
        day = days[holder.code]
        if day is None:
            # Outside a convention nothing is billed, so a device still in service there would be
            # missed: the register must retire it or record the convention. (Pupils have no date.)
            if thing.installed is not None and in_service(thing.installed, thing.retired, snapshot):
                problems.append(
                    f"{thing.source}: {thing.ref} ({thing.kind}) is in service on {snapshot} but "
                    f"{holder.name} ({holder.code}) has no convention in force during the 12 months"
                    f" from {period.first}"
                )
            continue
        if thing.kind not in known:
            if in_service(thing.installed, thing.retired, day) or installed_within(
                thing.installed, period.first, day
            ):
                problems.append(
                    f"{thing.source}: {thing.ref} is a {thing.kind!r}, which grid {grid.name!r} ({grid.file})"
                    " neither prices nor lists as not re-billed"
                )
            continue
        item = grid.item_for_kind(thing.kind)
        charges = [c for c in _charges(item) if _counted(thing, c, period.first, day)]
        option = item.requires_option if item is not None else None
        if charges and option is not None and not holder.has_option(option, day):
            problems.append(
                f"{thing.source}: {thing.ref} ({thing.kind}) is billed only with the {option} option"
                f" (grid {grid.name!r}), which the convention of {holder.name} ({holder.code}) lacks on {day}"
            )
            continue
        quantity = thing.parts if item is not None and item.per_pack else thing.quantity
        for charge in charges:
            key = _line_key(item, thing.kind, charge)
            refs[(holder.code, key)].append(thing.ref)
            counts[(holder.code, key)] += quantity
            if charge == "installation" and thing.note:
                details[(holder.code, key)].append(thing.note)
            fleet[key] += quantity
    if problems:
        raise BillingError(problems)

    statements: list[Statement] = []
    for holder in sorted(members.values(), key=lambda h: h.code):
        day = days[holder.code]
        if day is None:
            continue
        lines = []
        for spec in specs:
            where = (holder.code, spec.key)
            line_refs = tuple(sorted(refs.get(where, [])))
            lines.append(Line(spec, counts[where], line_refs, tuple(sorted(details.get(where, [])))))
        statements.append(Statement(holder, day, tuple(lines)))
    billing = Billing(year, period, grid, specs, tuple(statements), dict(fleet))
    reconcile(billing)
    return billing


def reconcile(billing: Billing) -> None:
    """Per-member counts add up to the fleet totals, and no reference is counted twice per charge."""
    problems: list[str] = []
    for spec in billing.specs:
        count, _ = billing.line_total(spec.key)
        expected = billing.fleet.get(spec.key, 0)
        if count != expected:
            problems.append(f"line {spec.key}: members add up to {count}, the fleet holds {expected}")
    for charge in ("installation", "maintenance", "not_rebilled"):
        seen: Counter[str] = Counter(
            ref
            for statement in billing.statements
            for line in statement.lines
            if line.spec.charge == charge
            for ref in line.refs
        )
        problems.extend(f"{ref}: counted {n} times for {charge}" for ref, n in seen.items() if n > 1)
    unknown = set(billing.fleet) - {spec.key for spec in billing.specs}
    problems.extend(f"line {key}: counted but on no statement" for key in sorted(unknown))
    if problems:
        raise BillingError(problems)
