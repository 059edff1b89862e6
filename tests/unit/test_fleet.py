"""The fleet runner: planning per school, waves, windows, retries, reports, and one real run."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from schoolfleet import fleet
from schoolfleet.maintenance.window import PARIS

INVENTORY = {
    "_meta": {
        "hostvars": {
            "central": {},
            "pasteur-srv": {
                "fleet_school": {"uai": "0690001A", "name": "Pasteur", "commune": "Aulnay", "zone": "A"}
            },
            "pasteur-sw1": {
                "fleet_school": {"uai": "0690001A", "name": "Pasteur", "commune": "Aulnay", "zone": "A"}
            },
            "ferry-srv": {
                "fleet_school": {"uai": "0690002B", "name": "Ferry", "commune": "Brindas", "zone": "A"}
            },
            "curie-srv": {
                "fleet_school": {"uai": "0690003C", "name": "Curie", "commune": "Aulnay", "zone": "A"}
            },
        }
    }
}
# Tuesday 24 November 2026: a school day of zone A.
SCHOOL_DAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
SCHOOL_DAY_EVENING = dt.datetime(2026, 11, 24, 20, 30, tzinfo=PARIS)


def jobs() -> list[fleet.SchoolJob]:
    return fleet.plan_jobs(INVENTORY, INVENTORY["_meta"]["hostvars"])


def test_hosts_are_grouped_by_school_and_waves_follow_communes() -> None:
    planned = {job.key: job.hosts for job in jobs()}
    assert planned == {
        "central": ("central",),
        "school_0690001a": ("pasteur-srv", "pasteur-sw1"),
        "school_0690002b": ("ferry-srv",),
        "school_0690003c": ("curie-srv",),
    }
    order = [[job.key for job in wave] for wave in fleet.waves(jobs())]
    assert order == [["central"], ["school_0690001a", "school_0690003c"], ["school_0690002b"]]


class FakeRunner:
    """Answers per host from a script of outcomes and records what was run."""

    def __init__(self, script: dict[str, list[fleet.RunOutcome]]) -> None:
        self.script = script
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, hosts: Sequence[str]) -> fleet.RunOutcome:
        self.calls.append(tuple(hosts))
        outcomes = self.script.get(hosts[0], [])
        return (
            outcomes.pop(0)
            if outcomes
            else fleet.RunOutcome(ok=True, unreachable=False, changed=0, failures=[])
        )


def run(
    runner: FakeRunner, moment: dt.datetime, force: bool = False, **options: float
) -> dict[str, fleet.SchoolResult]:
    results = fleet.run_fleet(
        jobs(), runner, moment=moment, force=force, pause=0, progress=lambda line: None, **options
    )
    return {r.key: r for r in results}


def test_schools_are_left_alone_during_school_hours_unless_forced() -> None:
    runner = FakeRunner({})
    results = run(runner, SCHOOL_DAY_MORNING)
    assert runner.calls == [("central",)]
    assert results["school_0690002b"].result == "skipped"
    assert "outside the maintenance window" in results["school_0690002b"].note
    forced = FakeRunner({})
    assert run(forced, SCHOOL_DAY_MORNING, force=True)["school_0690002b"].result == "ok"
    assert len(forced.calls) == 4


def test_unreachable_schools_are_retried_and_task_failures_are_not() -> None:
    down = fleet.RunOutcome(
        ok=False, unreachable=True, changed=0, failures=["ferry-srv: Gathering Facts: timeout"]
    )
    broken = fleet.RunOutcome(ok=False, unreachable=False, changed=1, failures=["curie-srv: apt: no package"])
    fine = fleet.RunOutcome(ok=True, unreachable=False, changed=3, failures=[])
    runner = FakeRunner({"ferry-srv": [down, fine], "curie-srv": [broken]})
    results = run(runner, SCHOOL_DAY_EVENING)
    assert (results["school_0690002b"].result, results["school_0690002b"].attempts) == ("changed", 2)
    assert results["school_0690002b"].changed == 3
    assert (results["school_0690003c"].result, results["school_0690003c"].attempts) == ("failed", 1)
    assert results["school_0690003c"].failures == ["curie-srv: apt: no package"]


def test_a_wave_failing_everywhere_stops_the_run() -> None:
    broken = fleet.RunOutcome(ok=False, unreachable=False, changed=0, failures=["bad template"])
    runner = FakeRunner({"pasteur-srv": [broken], "curie-srv": [broken]})
    results = run(runner, SCHOOL_DAY_EVENING)
    assert results["school_0690002b"].result == "skipped"
    assert results["school_0690002b"].note == "stopped: wave failed"
    assert ("ferry-srv",) not in runner.calls


def test_a_change_that_cuts_ssh_stops_the_run_after_the_canary() -> None:
    # Every school turns unreachable, even after its retries: the canary commune (Aulnay) is the
    # last one touched, and its wave of two counts unreachable as failed.
    down = fleet.RunOutcome(ok=False, unreachable=True, changed=0, failures=["x: Gathering Facts: timeout"])
    runner = FakeRunner({host: [down] * 3 for host in ("pasteur-srv", "curie-srv", "ferry-srv")})
    results = run(runner, SCHOOL_DAY_EVENING)
    assert results["school_0690001a"].result == "unreachable"
    assert results["school_0690002b"].result == "skipped"
    assert results["school_0690002b"].note == "stopped: wave failed"
    assert ("ferry-srv",) not in runner.calls


def test_a_canary_of_one_school_failing_stops_the_run() -> None:
    def school(n: int, commune: str) -> fleet.SchoolJob:
        return fleet.SchoolJob(f"school_{n}", f"S{n}", commune, None, (f"s{n}-srv",))

    planned = [school(1, "Ambly"), school(2, "Brou"), school(3, "Brou")]
    for outcome in (
        fleet.RunOutcome(ok=False, unreachable=True, changed=0, failures=["s1-srv: ssh: timeout"]),
        fleet.RunOutcome(ok=False, unreachable=False, changed=0, failures=["s1-srv: template: bad"]),
    ):
        runner = FakeRunner({"s1-srv": [outcome] * 3})
        results = fleet.run_fleet(
            planned, runner, moment=SCHOOL_DAY_EVENING, pause=0, progress=lambda _: None
        )
        assert [r.result for r in results] == [
            "unreachable" if outcome.unreachable else "failed",
            "skipped",
            "skipped",
        ]
        assert runner.calls == [("s1-srv",)] * (3 if outcome.unreachable else 1)


def test_the_stop_threshold_is_a_share_of_the_wave() -> None:
    # Pasteur fails, Curie is fine: half of the canary wave.
    broken = fleet.RunOutcome(ok=False, unreachable=False, changed=0, failures=["bad template"])
    assert run(FakeRunner({"pasteur-srv": [broken]}), SCHOOL_DAY_EVENING)["school_0690002b"].result == "ok"
    halted = run(FakeRunner({"pasteur-srv": [broken]}), SCHOOL_DAY_EVENING, stop_threshold=0.5)
    assert halted["school_0690002b"].note == "stopped: wave failed"
    assert (
        run(FakeRunner({"pasteur-srv": [broken]}), SCHOOL_DAY_EVENING, stop_threshold=0.6)[
            "school_0690002b"
        ].result
        == "ok"
    )


def test_the_stop_threshold_option_takes_a_share_between_0_and_1() -> None:
    assert fleet.stop_threshold("0.25") == 0.25
    assert fleet.stop_threshold("1") == 1.0
    for bad in ("0", "1.5", "-1", "half"):
        with pytest.raises(argparse.ArgumentTypeError):
            fleet.stop_threshold(bad)


def test_a_simulated_ssh_cut_stops_a_real_run_after_the_canary(tmp_path: Path) -> None:
    # Real ansible-playbook runs through ansible-runner against hosts whose SSH port is closed, as
    # after a change that cut SSH: unreachable (rc 4, "dark"), never "failed".
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    pasteur-srv: {}\n    curie-srv: {}\n    ferry-srv: {}\n"
        "  vars: {ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: nobody,"
        " ansible_ssh_common_args: '-o ConnectTimeout=3 -o BatchMode=yes'}\n"
    )
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    ran: list[tuple[str, ...]] = []

    def runner(hosts: Sequence[str]) -> fleet.RunOutcome:
        ran.append(tuple(hosts))
        return fleet.run_with_runner(playbook, inventory, hosts, [])

    schools = [job for job in jobs() if job.key != "central"]
    results = fleet.run_fleet(
        schools, runner, moment=SCHOOL_DAY_EVENING, retries=0, pause=0, progress=lambda _: None
    )
    by_key = {r.key: r for r in results}
    assert by_key["school_0690001a"].result == by_key["school_0690003c"].result == "unreachable"
    assert by_key["school_0690002b"].note == "stopped: wave failed"
    assert ("ferry-srv",) not in ran


def test_report_lists_failures_first(tmp_path: Path) -> None:
    results = [
        fleet.SchoolResult("school_a", "A", "Aulnay", result="ok", duration=1.0),
        fleet.SchoolResult("school_b", "B", "Brindas", result="failed", failures=["b-srv: x | y"]),
    ]
    json_path, md_path = fleet.write_report(results, tmp_path, "site.yml")
    rows = [line for line in md_path.read_text().splitlines() if line.startswith("| school_")]
    assert rows[0].startswith("| school_b (B) | Brindas | failed |")
    assert "x \\| y" in rows[0]
    assert json.loads(json_path.read_text())["schools"][1]["failures"] == ["b-srv: x | y"]


def test_a_real_run_counts_changes_and_reads_failure_messages(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    good: {ansible_connection: local}\n    bad: {ansible_connection: local}\n"
        "  vars: {ansible_python_interpreter: '{{ ansible_playbook_python }}'}\n"
    )
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.command: 'true'\n"
        "    - ansible.builtin.fail: {msg: 'the bad host fails here'}\n"
        "      when: inventory_hostname == 'bad'\n"
    )
    good = fleet.run_with_runner(playbook, inventory, ["good"], [])
    assert (good.ok, good.changed, good.failures) == (True, 1, [])
    bad = fleet.run_with_runner(playbook, inventory, ["bad"], [])
    assert not bad.ok and not bad.unreachable
    assert bad.failures == ["bad: ansible.builtin.fail: the bad host fails here"]


def test_failures_of_the_moment_are_retried_and_real_ones_are_not() -> None:
    locked = fleet.RunOutcome(
        ok=False,
        unreachable=False,
        changed=0,
        failures=["ferry-srv: Install Samba: Could not get lock /var/lib/dpkg/lock-frontend"],
    )
    mixed = fleet.RunOutcome(
        ok=False,
        unreachable=False,
        changed=0,
        failures=["curie-srv: apt: Failed to fetch http://central:3142/x", "curie-srv: template: undefined"],
    )
    fine = fleet.RunOutcome(ok=True, unreachable=False, changed=2, failures=[])
    assert locked.transient and not mixed.transient and not fine.transient
    runner = FakeRunner({"ferry-srv": [locked, locked, fine], "curie-srv": [mixed, fine]})
    results = run(runner, SCHOOL_DAY_EVENING)
    assert (results["school_0690002b"].result, results["school_0690002b"].attempts) == ("changed", 3)
    assert (results["school_0690003c"].result, results["school_0690003c"].attempts) == ("failed", 1)


def test_progress_shows_waves_starts_and_ends() -> None:
    lines: list[str] = []
    fleet.run_fleet(jobs(), FakeRunner({}), moment=SCHOOL_DAY_EVENING, pause=0, progress=lines.append)
    assert lines[0] == "wave 1/3: (authority), 1 school(s)"
    assert any("school_0690002b" in line and "started ferry-srv" in line for line in lines)
    assert lines[-1].startswith("[4/4] school_0690002b")


def test_mitogen_is_asked_for_by_flag_or_environment() -> None:
    assert fleet.wants_mitogen(True, {})
    assert fleet.wants_mitogen(False, {fleet.MITOGEN_ENV: "yes"})
    assert not fleet.wants_mitogen(False, {fleet.MITOGEN_ENV: "0"})
    envvars = fleet.mitogen_envvars()
    assert envvars["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert (Path(envvars["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()


def test_a_real_run_under_mitogen_gives_the_same_outcome(tmp_path: Path) -> None:
    # The pinned ansible-core with Mitogen's strategy, the local connection replaced by Mitogen's own.
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    good: {ansible_connection: local}\n    bad: {ansible_connection: local}\n"
        "  vars: {ansible_python_interpreter: '{{ ansible_playbook_python }}'}\n"
    )
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.copy: {content: 'x', dest: '" + str(tmp_path) + "/{{ inventory_hostname }}'}\n"
        "    - ansible.builtin.command: 'true'\n"
        "      changed_when: false\n"
        "    - ansible.builtin.fail: {msg: 'the bad host fails here'}\n"
        "      when: inventory_hostname == 'bad'\n"
    )
    envvars = fleet.mitogen_envvars()
    first = fleet.run_with_runner(playbook, inventory, ["good"], [], envvars)
    again = fleet.run_with_runner(playbook, inventory, ["good"], [], envvars)
    assert (first.ok, first.changed, again.changed) == (True, 1, 0)
    assert (tmp_path / "good").read_text() == "x"
    bad = fleet.run_with_runner(playbook, inventory, ["bad"], [], envvars)
    assert not bad.ok and not bad.unreachable
    assert bad.failures == ["bad: ansible.builtin.fail: the bad host fails here"]


def test_after_the_canary_whole_communes_are_packed_into_waves() -> None:
    def school(n: int, commune: str) -> fleet.SchoolJob:
        return fleet.SchoolJob(f"school_{n}", f"S{n}", commune, "C", (f"s{n}-srv",))

    planned = [school(1, "Ambly"), school(2, "Brou"), school(3, "Brou"), school(4, "Crécy")]
    planned += [school(5, "Dax"), school(6, "Eu"), school(7, "Eu"), school(8, "Eu"), school(9, "Foix")]
    planned.append(fleet.SchoolJob("central", "central", "(authority)", None, ("central",)))
    order = [[job.key for job in wave] for wave in fleet.waves(planned, fill=3)]
    assert order == [
        ["central"],
        ["school_1"],
        ["school_2", "school_3", "school_4"],
        ["school_5", "school_6", "school_7", "school_8"],
        ["school_9"],
    ]
    assert len(fleet.waves(planned)) == 1 + 6


def test_values_marked_unsafe_in_the_inventory_are_plain_strings(tmp_path: Path) -> None:
    # ansible-core 2.19's ansible-inventory --list writes them as {"__ansible_unsafe": "..."}.
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    pasteur-srv:\n      fleet_school: {uai: !unsafe '0690001A',"
        " name: !unsafe Pasteur, commune: !unsafe Aulnay, zone: !unsafe A}\n"
    )
    listing, targeted = fleet.inventory_listing(inventory, None)
    assert targeted == ["pasteur-srv"]
    assert fleet.plan_jobs(listing, targeted) == [
        fleet.SchoolJob("school_0690001a", "Pasteur", "Aulnay", "A", ("pasteur-srv",))
    ]
