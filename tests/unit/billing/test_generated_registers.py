"""Property: on generated registers, the member lines add up to the totals, and the fleet counts
reconcile with the inventory built from the same register."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from schoolfleet.billing.__main__ import bill, snapshot_of
from schoolfleet.register import load_register
from schoolfleet.register.generate import generate
from schoolfleet.register.inventory import build_inventory

ZERO = Decimal("0.00")


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_member_lines_add_up_and_reconcile_with_the_inventory(tmp_path: Path, seed: int) -> None:
    generate(tmp_path / "register", 60, seed)
    register = load_register(tmp_path / "register")
    for year in (2016, 2019, 2026):
        billing = bill(register, year, snapshot_of(year), None)
        assert sum((s.billed for s in billing.statements), ZERO) == billing.billed
        assert sum((s.borne_by_authority for s in billing.statements), ZERO) == billing.borne_by_authority
        for spec in billing.specs:
            lines = [line for s in billing.statements for line in s.lines if line.spec.key == spec.key]
            assert sum(line.count for line in lines) == billing.fleet.get(spec.key, 0), spec.key
            assert sum((line.amount for line in lines), ZERO) == billing.line_total(spec.key)[1]
        if year < 2017:
            continue
        # From 2017 one line counts both kinds of workstation: the inventory's ws- and sws- hosts on the
        # snapshot, plus those retired that very day (still billed, already gone from the inventory).
        day = snapshot_of(year)
        inventory = build_inventory(register, as_of=day)
        hosts = sum(1 for name in inventory["hosts"] if name.startswith(("ws-", "sws-")))
        retired_that_day = sum(
            1
            for member in register.members
            if member.member_on(day)
            for school in member.schools
            for item in school.equipment
            if item.kind.workstation and item.retired == day
        )
        assert billing.line_total("workstation/maintenance")[0] == hosts + retired_that_day
        assert hosts > 0 and day == dt.date(year, 11, 1)
