"""Tariff grids: the prices the members' councils voted, one YAML file per grid in ``tariffs/``.

A grid applies to the billing snapshots dated from its ``applies_from`` up to its ``applies_until``,
both written explicitly: ``applies_until:`` left empty (or ``~``) says the grid is still in force.
Nothing is inferred from the other grids, so a grid file missing from the series leaves its years
without a grid (billing them is refused) instead of silently stretching an older grid, and two grids
that overlap are an error naming both files. Each priced item names the
register kinds it counts, so that a kind the grid does not mention is an error at billing time rather
than a silent zero: kinds a grid deliberately does not bill are listed under ``not_rebilled`` with the
council's reason.

    name: "2020"
    title: Grille 2020
    applies_from: 2020-01-01
    applies_until:
    items:
      - id: workstation
        label: Workstation
        kinds: [standard_workstation, specific_workstation]
        maintenance: {price: 52, payer: member}
      - id: wifi_access_point
        label: Wi-Fi access point (supply included)
        kinds: [wifi_access_point]
        requires_option: wifi
        maintenance: {price: 100, payer: member}
    not_rebilled:
      kinds: [school_server, switch, router]
      reason: infrastructure is borne by the authority

The software pack is priced per school, whatever the number of packs the school lists (the pack names
are the software catalogue); an item that prices packs one by one says so with ``per_pack: true``.

``payer: member`` is the billed member (the commune, or the SIVOS that holds its schools); ``payer:
authority`` is a cost the authority bears itself, shown but not billed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml

from schoolfleet.register.errors import Problems
from schoolfleet.register.nodes import Fields, compose_file

Payer = Literal["member", "authority"]
PAYERS: tuple[Payer, ...] = ("member", "authority")
# Options a member's convention can carry and a grid item can require.
OPTIONS = frozenset({"wifi"})
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
DIRECTORY = "tariffs"
SOFTWARE_PACK = "software_pack"


@dataclass(frozen=True)
class Charge:
    price: Decimal
    payer: Payer


@dataclass(frozen=True)
class GridItem:
    id: str
    label: str
    kinds: tuple[str, ...]
    requires_option: str | None
    installation: Charge | None
    maintenance: Charge | None
    line: int
    # Count each pack a school lists rather than one per school (only for the software pack).
    per_pack: bool = False


@dataclass(frozen=True)
class Grid:
    name: str
    title: str
    applies_from: dt.date
    # The last day the grid applies; None when the grid says it is still in force.
    applies_until: dt.date | None
    items: tuple[GridItem, ...]
    not_rebilled: tuple[str, ...]
    not_rebilled_reason: str
    file: str
    # The lines of `name` and `applies_from`, for the problems found across grids.
    name_line: int = 1
    from_line: int = 1

    def covers(self, day: dt.date) -> bool:
        return self.applies_from <= day and (self.applies_until is None or day <= self.applies_until)

    def item_for_kind(self, kind: str) -> GridItem | None:
        for item in self.items:
            if kind in item.kinds:
                return item
        return None

    @property
    def span(self) -> str:
        end = self.applies_until.isoformat() if self.applies_until else "open"
        return f"{self.applies_from.isoformat()} to {end}"


@dataclass(frozen=True)
class Tariffs:
    """Every grid, ordered by the date from which it applies; they never overlap."""

    grids: tuple[Grid, ...]

    def by_name(self, name: str) -> Grid | None:
        return next((grid for grid in self.grids if grid.name == name), None)

    def for_date(self, day: dt.date) -> Grid | None:
        return next((grid for grid in self.grids if grid.covers(day)), None)


NO_TARIFFS = Tariffs(())


def _charge(fields: Fields, name: str) -> Charge | None:
    charge = fields.mapping(name, "a price and its payer", required=False)
    if charge is None:
        return None
    charge.check(("price", "payer"))
    # The price is read from the text the sysadmin wrote, never through a float.
    price = charge.text("price", pattern=AMOUNT, what="an amount in euros with at most two decimals")
    payer = charge.text("payer", pattern=re.compile("|".join(PAYERS)), what=" or ".join(PAYERS))
    if price is None or payer is None:
        return None
    return Charge(Decimal(price).quantize(Decimal("0.01")), "member" if payer == "member" else "authority")


def _kinds(fields: Fields, name: str, required: bool) -> tuple[str, ...]:
    kinds: list[str] = []
    node = fields.node(name)
    for kind, line in fields.texts(name, required=required):
        if not IDENTIFIER.fullmatch(kind):
            fields.problems.add(fields.file, line, fields.field_path(name), f"{kind!r} is not a kind name")
        elif kind in kinds:
            fields.problems.add(fields.file, line, fields.field_path(name), f"kind {kind!r} listed twice")
        else:
            kinds.append(kind)
    if required and node is not None and not kinds and not fields.problems:
        fields.problem(node, name, "an item counts at least one kind")
    return tuple(kinds)


def _item(node: yaml.Node, file: str, path: str, problems: Problems) -> GridItem | None:
    fields = Fields.of(node, file, path, problems, "a priced item")
    if fields is None:
        return None
    fields.check(("id", "kinds"), ("label", "requires_option", "installation", "maintenance", "per_pack"))
    item_id = fields.text("id", pattern=IDENTIFIER, what="an identifier (lowercase letters, digits, _)")
    label = fields.text("label", required=False)
    kinds = _kinds(fields, "kinds", required=True)
    option = fields.text("requires_option", required=False)
    if option is not None and option not in OPTIONS:
        fields.problem(
            fields.node("requires_option"),
            "requires_option",
            f"unknown option {option!r} (known: {', '.join(sorted(OPTIONS))})",
        )
    installation = _charge(fields, "installation")
    maintenance = _charge(fields, "maintenance")
    per_pack = fields.boolean("per_pack", default=False)
    if per_pack and kinds != (SOFTWARE_PACK,):
        fields.problem(
            fields.node("per_pack"),
            "per_pack",
            f"only an item counting just [{SOFTWARE_PACK}] prices packs one by one",
        )
    if not fields.has("installation") and not fields.has("maintenance"):
        fields.problem(None, "", "an item needs an installation or a maintenance price")
    if item_id is None or not kinds:
        return None
    return GridItem(
        item_id, label or item_id, kinds, option, installation, maintenance, fields.line, per_pack
    )


def read_grid(path: Path, display: str, problems: Problems) -> Grid | None:
    """One grid file; its problems are added to ``problems`` (None when it is unusable)."""
    before = len(problems.items)
    root = compose_file(path, display, problems)
    if root is None:
        return None
    fields = Fields.of(root, display, "", problems, "a tariff grid")
    if fields is None:
        return None
    fields.check(("name", "applies_from", "applies_until", "items"), ("title", "not_rebilled"))
    name = fields.text("name")
    title = fields.text("title", required=False)
    start = fields.date("applies_from")
    # Required but may be empty: an empty `applies_until:` is the explicit "still in force".
    end = fields.date("applies_until", required=False)
    if start is not None and end is not None and end < start:
        fields.problem(fields.node("applies_until"), "applies_until", f"{end} is before applies_from {start}")
    items: list[GridItem] = []
    entries = fields.items("items", "priced items")
    if fields.has("items") and not entries:
        fields.problem(fields.node("items"), "items", "a grid prices at least one item")
    owner: dict[str, str] = {}
    for item_path, item_node in entries:
        item = _item(item_node, display, item_path, problems)
        if item is None:
            continue
        if any(other.id == item.id for other in items):
            problems.add(display, item.line, f"{item_path}.id", f"item {item.id!r} defined twice")
        # A kind counted by two items would be billed twice or once depending on their order.
        for kind in item.kinds:
            if kind in owner:
                problems.add(
                    display,
                    item.line,
                    f"{item_path}.kinds",
                    f"kind {kind!r} is already counted by item {owner[kind]!r}",
                )
            owner[kind] = item.id
        items.append(item)
    not_rebilled: tuple[str, ...] = ()
    reason = ""
    excluded = fields.mapping("not_rebilled", "the kinds the grid does not bill", required=False)
    if excluded is not None:
        excluded.check(("kinds", "reason"))
        not_rebilled = _kinds(excluded, "kinds", required=True)
        reason = excluded.text("reason") or ""
        for kind in not_rebilled:
            if kind in owner:
                excluded.problem(
                    excluded.node("kinds"),
                    "kinds",
                    f"kind {kind!r} is priced by item {owner[kind]!r} and also not re-billed",
                )
    if len(problems.items) > before or name is None or start is None:
        return None
    return Grid(
        name,
        title or name,
        start,
        end,
        tuple(items),
        not_rebilled,
        reason,
        display,
        fields.value_line("name"),
        fields.value_line("applies_from"),
    )


def read_tariffs(directory: Path, display: str, problems: Problems) -> Tariffs:
    """Every ``*.yml`` grid in ``directory`` (shown as ``display`` in messages).

    Called by the register loader so that the grids are checked with the rest of the register. Each grid
    applies over its own explicit period; two grids whose periods overlap are a problem naming both files.
    Gaps are allowed here (the register also feeds the inventory) and refused by billing for the years
    they leave without a grid.
    """
    grids: list[Grid] = []
    if not directory.exists():
        # A register used only to build the inventory may have no grids; billing refuses it then.
        return NO_TARIFFS
    if not directory.is_dir():
        problems.add(display, 0, "", "expected a directory of tariff grids")
        return NO_TARIFFS
    files = [
        path for path in sorted(directory.iterdir()) if path.suffix in (".yml", ".yaml") and path.is_file()
    ]
    for path in files:
        grid = read_grid(path, f"{display}/{path.name}", problems)
        if grid is not None:
            grids.append(grid)
    if not files:
        problems.add(display, 0, "", "no tariff grid (expected one YAML file per grid)")
    grids.sort(key=lambda g: g.applies_from)
    names: dict[str, Grid] = {}
    for index, grid in enumerate(grids):
        if grid.name in names:
            problems.add(
                grid.file,
                grid.name_line,
                "name",
                f"grid {grid.name!r} is also defined in {names[grid.name].file}",
            )
        names[grid.name] = grid
        for later in grids[index + 1 :]:
            if grid.applies_until is None or grid.applies_until >= later.applies_from:
                problems.add(
                    later.file,
                    later.from_line,
                    "applies_from",
                    f"grid {later.name!r} ({later.file}, {later.span}) overlaps grid {grid.name!r}"
                    f" ({grid.file}, {grid.span})",
                )
    return Tariffs(tuple(grids))


def load_tariffs(directory: Path, display: str = DIRECTORY) -> Tariffs:
    """The grids alone, for tools that need no other part of the register; raises RegisterError."""
    problems = Problems()
    tariffs = read_tariffs(directory, display, problems)
    problems.raise_if_any()
    return tariffs
