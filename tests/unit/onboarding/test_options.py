"""Dated convention options and licences: the commands that set and retire them, all or nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from schoolfleet.register import load_register

from .support import Run, snapshot

ALPHA = "members/91001-alpha.yml"
SIVOS = "members/sivos-beta-gamma.yml"


def periods(register_dir: Path, code: str) -> list[tuple[dt.date, dt.date | None]]:
    member = next(m for m in load_register(register_dir).members if m.code == code)
    return [(p.since, p.until) for p in member.options if p.name == "wifi"]


def test_set_option_on_a_member_without_it_adds_a_dated_period(run: Run, register_dir: Path) -> None:
    status, out, err = run(
        "set-option", "--member", "beta-gamma", "--option", "wifi", "--since", "2026-09-01"
    )
    assert status == 0, err
    assert "+  wifi:\n+    - since: 2026-09-01\n" in out
    assert periods(register_dir, "beta-gamma") == [(dt.date(2026, 9, 1), None)]


def test_a_dry_run_writes_nothing(run: Run, register_dir: Path) -> None:
    before = snapshot(register_dir)
    status, out, _ = run(
        "set-option", "--member", "beta-gamma", "--option", "wifi", "--since", "2026-09-01", "--dry-run"
    )
    assert status == 0 and "dry run: nothing written" in out
    assert snapshot(register_dir) == before


def test_end_option_turns_wifi_true_into_its_dated_period(run: Run, register_dir: Path) -> None:
    status, _, err = run("end-option", "--member", "91001", "--option", "wifi", "--until", "2026-08-31")
    assert status == 0, err
    # `wifi: true` held from the convention's start (2015-09-01): now closed on its last day.
    assert periods(register_dir, "91001") == [(dt.date(2015, 9, 1), dt.date(2026, 8, 31))]
    # And switched on again later: a second period.
    status, _, err = run("set-option", "--member", "91001", "--option", "wifi", "--since", "2027-01-01")
    assert status == 0, err
    assert periods(register_dir, "91001")[1] == (dt.date(2027, 1, 1), None)


def test_an_option_already_in_force_is_refused_with_file_line_and_field(run: Run, register_dir: Path) -> None:
    before = snapshot(register_dir)
    status, _, err = run("set-option", "--member", "91001", "--option", "wifi", "--since", "2026-09-01")
    assert status == 2
    assert f"{register_dir}/{ALPHA}:3: options.wifi: already in force since 2015-09-01" in err
    assert snapshot(register_dir) == before


def test_ending_wifi_with_an_access_point_still_in_service_is_refused_naming_it(
    run: Run, register_dir: Path
) -> None:
    status, _, err = run(
        "add-equipment", "--school", "0910001G", "--tag", "SF-000900", "--kind", "wifi_ap",
        "--model", "Aruba AP-303", "--serial", "AP900", "--installed", "2025-06-01",
    )  # fmt: skip
    assert status == 0, err
    before = snapshot(register_dir)
    status, _, err = run("end-option", "--member", "91001", "--option", "wifi", "--until", "2026-08-31")
    assert status == 2
    assert f"{register_dir}/{ALPHA}:" in err and ".installed: Wi-Fi access point SF-000900 in service" in err
    assert snapshot(register_dir) == before


def test_a_period_before_the_convention_is_refused_by_the_loader(run: Run, register_dir: Path) -> None:
    status, _, err = run("set-option", "--member", "beta-gamma", "--option", "wifi", "--since", "2017-01-01")
    assert status == 2
    assert (
        f"{register_dir}/{SIVOS}:" in err
        and "options.wifi[0].since: 2017-01-01 is before the convention" in err
    )


def test_an_unknown_option_is_refused(run: Run) -> None:
    status, _, err = run("set-option", "--member", "91001", "--option", "4g", "--since", "2026-09-01")
    assert status == 2 and "unknown option '4g'" in err


def test_add_and_retire_a_licence(run: Run, register_dir: Path) -> None:
    status, _, err = run(
        "add-licence", "--school", "0910001G", "--product", "lecture-plus", "--seats", "12",
        "--start", "2026-09-01",
    )  # fmt: skip
    assert status == 0, err
    status, _, err = run(
        "retire-licence", "--school", "0910001G", "--product", "lecture-plus", "--end", "2027-08-31"
    )
    assert status == 0, err
    school = next(s for _, s in load_register(register_dir).schools() if s.uai == "0910001G")
    [licence] = school.licences
    assert (licence.product, licence.seats, licence.start, licence.end) == (
        "lecture-plus",
        12,
        dt.date(2026, 9, 1),
        dt.date(2027, 8, 31),
    )


def test_retiring_a_licence_not_held_names_the_school_line(run: Run, register_dir: Path) -> None:
    status, _, err = run("retire-licence", "--school", "0910001G", "--product", "x", "--end", "2027-08-31")
    assert status == 2
    assert f"{register_dir}/{ALPHA}:13: schools[0].software.licences: no x licence in force" in err


def test_a_licence_ending_before_it_starts_is_refused_and_nothing_written(
    run: Run, register_dir: Path
) -> None:
    before = snapshot(register_dir)
    status, _, err = run(
        "add-licence", "--school", "0910001G", "--product", "p", "--seats", "3", "--start", "2026-09-01",
        "--end", "2026-01-01",
    )  # fmt: skip
    assert status == 2 and "schools[0].software.licences[0].end: ends 2026-01-01 before it starts" in err
    assert snapshot(register_dir) == before
