"""Run a playbook over the fleet school by school, in waves, inside each school's maintenance window.

    python -m schoolfleet.fleet PLAYBOOK [-i INVENTORY] [--limit PATTERN] [--concurrency N]
                                [--retries N] [--stop-threshold SHARE] [--force] [--at ISO-8601]
                                [--report-dir DIR]

One job per school (its servers and devices the playbook targets), so one school's failure never
stops another. Waves follow the communes: a commune's schools run together, `--concurrency` at a
time, and the next commune starts when the wave is over, so a bad change shows up on a few schools
first. A school outside its maintenance window is skipped unless `--force`; unreachable schools
(switched off, network down) and schools whose failures are all of the moment (an apt lock held by
another run, a mirror or resolver briefly away) are retried; other task failures are not (running
them again changes nothing). The run stops after a wave (the canary commune's single school
included) where at least `--stop-threshold` of the schools failed or stayed unreachable (default 1:
all of them). The report lists per school: result, changed tasks, failures with their message,
duration, on the terminal and as JSON and Markdown in the report directory. `--mitogen` (or
SCHOOLFLEET_MITOGEN=1) runs with Mitogen's linear strategy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from schoolfleet.lab import PROJECT_ROOT
from schoolfleet.maintenance.school_calendar import build_calendar
from schoolfleet.maintenance.window import PARIS, SchoolCalendar, window_reason

DEFAULT_INVENTORY = PROJECT_ROOT / "inventories" / "demo" / "hosts.yml"
ANSIBLE_BIN = Path(sys.executable).parent
# Set to 1 to run with Mitogen's strategy, like --mitogen.
MITOGEN_ENV = "SCHOOLFLEET_MITOGEN"


@dataclass(frozen=True)
class SchoolJob:
    """The hosts of one school that the run targets."""

    key: str
    name: str
    commune: str
    zone: str | None
    hosts: tuple[str, ...]


@dataclass
class SchoolResult:
    key: str
    name: str
    commune: str
    result: str = "pending"  # ok, changed, failed, unreachable, skipped
    changed: int = 0
    failures: list[str] = field(default_factory=list)
    duration: float = 0.0
    attempts: int = 0
    note: str = ""


# Task failures that say nothing about the change itself, only about the moment: another apt or dpkg
# run holding the lock (unattended-upgrades at night), a mirror or a resolver briefly away. A school
# whose every failure reads like one of these is retried like an unreachable one.
TRANSIENT_FAILURES = re.compile(
    r"Could not get lock|Unable to acquire the dpkg frontend lock|dpkg was interrupted"
    r"|Temporary failure (in name resolution|resolving)|Failed to fetch|Hash Sum mismatch"
    r"|Connection (timed out|refused|reset)|Network is unreachable|No route to host"
    r"|HTTP Error 50[234]|Status code was 50[234]|timed out waiting for",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RunOutcome:
    """What one ansible-playbook run over one school gave."""

    ok: bool
    unreachable: bool
    changed: int
    failures: list[str]

    @property
    def transient(self) -> bool:
        """Worth running again: the school was out of reach, or every failure was of the moment."""
        if self.ok:
            return False
        return self.unreachable or (
            bool(self.failures) and all(TRANSIENT_FAILURES.search(f) for f in self.failures)
        )


def plan_jobs(inventory: Mapping[str, Any], targeted: Iterable[str]) -> list[SchoolJob]:
    """Group the targeted hosts by school, from the register's `fleet_school` host variable.

    Hosts outside any school (the central and datacenter servers) form one job each.
    """
    hostvars: Mapping[str, Mapping[str, Any]] = inventory.get("_meta", {}).get("hostvars", {})
    by_school: dict[str, dict[str, Any]] = {}
    for host in sorted(targeted):
        school = hostvars.get(host, {}).get("fleet_school") or {}
        uai = school.get("uai")
        key = f"school_{str(uai).lower()}" if uai else host
        entry = by_school.setdefault(
            key,
            {
                "name": school.get("name", host),
                "commune": str(school.get("commune_name") or school.get("commune") or "(authority)"),
                "zone": school.get("zone"),
                "hosts": [],
            },
        )
        entry["hosts"].append(host)
    return [
        SchoolJob(key, str(e["name"]), e["commune"], e["zone"], tuple(e["hosts"]))
        for key, e in by_school.items()
    ]


def waves(jobs: Sequence[SchoolJob], fill: int = 1) -> list[list[SchoolJob]]:
    """Waves of whole communes, the authority's own servers first (the schools depend on them).

    The first commune goes alone: it is the canary. After it, communes are packed in order until a
    wave holds at least `fill` schools, so that with two or three schools per commune a wave still
    keeps `--concurrency` workers busy; no commune is ever split over two waves.
    """
    grouped: dict[str, list[SchoolJob]] = {}
    for job in jobs:
        grouped.setdefault(job.commune, []).append(job)
    order = sorted(grouped, key=lambda commune: (commune != "(authority)", commune))
    planned: list[list[SchoolJob]] = []
    canary_sent = False
    packing: list[SchoolJob] | None = None
    for commune in order:
        schools = sorted(grouped[commune], key=lambda job: job.key)
        if commune == "(authority)" or not canary_sent:
            planned.append(schools)
            canary_sent = commune != "(authority)"
        elif packing is not None and len(packing) < fill:
            packing.extend(schools)
        else:
            packing = schools
            planned.append(packing)
    return planned


def outside_window(job: SchoolJob, moment: dt.datetime, calendars: dict[str, SchoolCalendar]) -> str | None:
    """Why the school may not be touched now, or None when it may."""
    if job.zone is None:
        return None  # Not a school: the authority's servers have no school hours.
    if job.zone not in calendars:
        calendars[job.zone] = build_calendar(job.zone, moment.year - 1)
    if window_reason(moment, calendars[job.zone]) is None:
        return f"outside the maintenance window at {moment.astimezone(PARIS):%a %d %b %H:%M}"
    return None


def mitogen_envvars() -> dict[str, str]:
    """The environment that runs a playbook with Mitogen's linear strategy (PyPI `mitogen`).

    Only the strategy is switched: Mitogen then replaces the connections it knows by their short
    names (`ssh`, `podman`...), so a host reached through a collection's fully qualified plugin
    (`containers.podman.podman`) keeps Ansible's own connection.
    """
    try:
        import ansible_mitogen
    except ImportError as exc:
        raise SystemExit("fleet: --mitogen needs the `mitogen` package (requirements.txt)") from exc
    strategies = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
    return {"ANSIBLE_STRATEGY_PLUGINS": str(strategies), "ANSIBLE_STRATEGY": "mitogen_linear"}


def wants_mitogen(flag: bool, environ: Mapping[str, str] = os.environ) -> bool:
    return flag or environ.get(MITOGEN_ENV, "").strip().lower() in {"1", "yes", "true", "on"}


def runner_envvars(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an ansible-runner run from this checkout: its ansible.cfg, the venv first.

    ansible-runner looks ansible-playbook (and ansible, for ad hoc runs) up in PATH: the venv's must
    come first.
    """
    return {
        "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
        "PATH": f"{ANSIBLE_BIN}:{os.environ.get('PATH', '')}",
        **(extra or {}),
    }


def run_with_runner(
    playbook: Path,
    inventory: Path,
    hosts: Sequence[str],
    extra: Sequence[str],
    envvars: Mapping[str, str] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RunOutcome:
    """One ansible-playbook run through ansible-runner, summarised.

    `cancel`, polled by ansible-runner, stops the run when it returns True. Without it ansible-runner
    watches SIGINT/SIGTERM itself, but only in the main thread: run_fleet's workers need it.
    """
    import ansible_runner  # Imported here: the planning half of this module runs without it.

    with tempfile.TemporaryDirectory(prefix="fleet-") as private:
        runner = ansible_runner.run(
            private_data_dir=private,
            project_dir=str(PROJECT_ROOT),
            playbook=str(playbook),
            inventory=str(inventory),
            limit=",".join(hosts),
            cmdline=" ".join(extra) or None,
            envvars=runner_envvars(envvars),
            quiet=True,
            cancel_callback=cancel,
        )
        failures: list[str] = []
        for event in runner.events:
            if event.get("event") in {"runner_on_failed", "runner_on_unreachable"}:
                data = event.get("event_data", {})
                if data.get("ignore_errors"):
                    continue
                message = str((data.get("res") or {}).get("msg", "")).strip().splitlines()
                failures.append(f"{data.get('host')}: {data.get('task')}: {message[0] if message else ''}")
        stats = runner.stats or {}
        return RunOutcome(
            ok=runner.rc == 0,
            unreachable=bool(stats.get("dark")),
            changed=sum((stats.get("changed") or {}).values()),
            failures=failures,
        )


Runner = Callable[[Sequence[str]], RunOutcome]


def run_job(
    job: SchoolJob, runner: Runner, retries: int, pause: float, progress: Callable[[str], None] = print
) -> SchoolResult:
    result = SchoolResult(job.key, job.name, job.commune)
    started = time.monotonic()
    for attempt in range(1, retries + 2):
        result.attempts = attempt
        again = f" (attempt {attempt}: {result.result}: {'; '.join(result.failures)[:200]})"
        progress(f"      {job.key:24} started {', '.join(job.hosts)}{again if attempt > 1 else ''}")
        outcome = runner(job.hosts)
        result.changed, result.failures = outcome.changed, outcome.failures
        if outcome.ok:
            result.result = "changed" if outcome.changed else "ok"
            break
        result.result = "unreachable" if outcome.unreachable else "failed"
        if not outcome.transient or attempt > retries:
            break
        time.sleep(pause * attempt)
    result.duration = round(time.monotonic() - started, 1)
    return result


def run_fleet(
    jobs: Sequence[SchoolJob],
    runner: Runner,
    *,
    moment: dt.datetime,
    force: bool = False,
    concurrency: int = 4,
    retries: int = 2,
    pause: float = 10.0,
    stop_threshold: float = 1.0,
    progress: Callable[[str], None] = print,
) -> list[SchoolResult]:
    """Run the waves in order; stop when at least `stop_threshold` of a wave's schools that ran
    failed or stayed unreachable (1.0: all of them)."""
    calendars: dict[str, SchoolCalendar] = {}
    results: list[SchoolResult] = []
    total = len(jobs)
    planned = waves(jobs, fill=concurrency)
    for number, wave in enumerate(planned, start=1):
        communes = sorted({job.commune for job in wave})
        progress(f"wave {number}/{len(planned)}: {', '.join(communes)}, {len(wave)} school(s)")
        todo: list[SchoolJob] = []
        for job in wave:
            reason = None if force else outside_window(job, moment, calendars)
            if reason:
                results.append(SchoolResult(job.key, job.name, job.commune, result="skipped", note=reason))
                progress(f"[{len(results)}/{total}] {job.key:24} skipped: {reason}")
            else:
                todo.append(job)
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = [pool.submit(run_job, job, runner, retries, pause, progress) for job in todo]
            for future in as_completed(futures):
                done = future.result()
                results.append(done)
                progress(
                    f"[{len(results)}/{total}] {done.key:24} {done.result:11} changed={done.changed:<3} "
                    f"{done.duration:6.1f} s ({done.commune})"
                )
        # A wave that failed widely is a bad change, not a bad school: stop before the next one.
        # Unreachable counts too: a change that cuts SSH leaves every school unreachable, not
        # failed. A wave of one (the canary commune's single school) is no exception.
        ran = [r for r in results if r.key in {job.key for job in todo}]
        bad = sum(r.result in {"failed", "unreachable"} for r in ran)
        if ran and bad >= stop_threshold * len(ran):
            for job in (j for later in planned for j in later if j.key not in {r.key for r in results}):
                results.append(
                    SchoolResult(
                        job.key, job.name, job.commune, result="skipped", note="stopped: wave failed"
                    )
                )
            progress(
                f"{bad} of {len(ran)} school(s) of the last wave failed or unreachable: the run stops here"
            )
            break
    return results


def render_markdown(results: Sequence[SchoolResult], title: str) -> str:
    counts = {state: sum(r.result == state for r in results) for state in sorted({r.result for r in results})}
    lines = [
        f"# {title}",
        "",
        ", ".join(f"{n} {state}" for state, n in counts.items()),
        "",
        "| school | commune | result | changed | duration (s) | failures |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(results, key=lambda r: (r.result not in {"failed", "unreachable"}, r.commune, r.key)):
        failures = "<br>".join(f.replace("|", "\\|") for f in r.failures) or r.note
        lines.append(
            f"| {r.key} ({r.name}) | {r.commune} | {r.result} | {r.changed} | {r.duration} | {failures} |"
        )
    return "\n".join(lines) + "\n"


def write_report(results: Sequence[SchoolResult], directory: Path, title: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "fleet-report.json", directory / "fleet-report.md"
    payload = {"title": title, "schools": [asdict(r) for r in results]}
    for path, text in ((json_path, json.dumps(payload, indent=2, ensure_ascii=False)),
                       (md_path, render_markdown(results, title))):  # fmt: skip
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return json_path, md_path


def untag_unsafe(obj: dict[str, Any]) -> Any:
    """A JSON object of `ansible-inventory --list`, with Ansible's unsafe marker taken off
    (`json.loads(..., object_hook=untag_unsafe)`).

    ansible-core 2.19 writes a string marked unsafe (the register plugin's values, `!unsafe` in YAML)
    as {"__ansible_unsafe": "..."}: school keys, communes and zones would otherwise be such dicts
    (a zone as a dict cannot even key the calendars).
    """
    if len(obj) == 1 and "__ansible_unsafe" in obj:
        return obj["__ansible_unsafe"]
    return obj


def inventory_listing(inventory: Path, limit: str | None) -> tuple[dict[str, Any], list[str]]:
    """The inventory as Ansible sees it, and the hosts `limit` selects."""
    cmd = [str(ANSIBLE_BIN / "ansible-inventory"), "-i", str(inventory), "--list"]
    listing = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise SystemExit(f"fleet: ansible-inventory failed: {listing.stderr.strip()}")
    pattern = limit or "all"
    hosts = subprocess.run(
        [str(ANSIBLE_BIN / "ansible"), pattern, "-i", str(inventory), "--list-hosts"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if hosts.returncode != 0:
        raise SystemExit(f"fleet: cannot resolve {pattern!r}: {hosts.stderr.strip()}")
    targeted = [h.strip() for h in hosts.stdout.splitlines()[1:] if h.strip()]
    return json.loads(listing.stdout, object_hook=untag_unsafe), targeted


def stop_threshold(text: str) -> float:
    """The --stop-threshold argument: a share of a wave, more than 0, at most 1."""
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0 < share <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share of a wave (more than 0, at most 1)")
    return share


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fleet", description=__doc__.splitlines()[0])
    parser.add_argument("playbook", type=Path)
    parser.add_argument("-i", "--inventory", type=Path, default=DEFAULT_INVENTORY)
    parser.add_argument("-l", "--limit", help="an Ansible host pattern: a commune, a school, a host")
    parser.add_argument("--concurrency", type=int, default=4, help="schools run at once within a wave")
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="retries of schools unreachable or failing for transient reasons",
    )
    parser.add_argument(
        "--stop-threshold",
        type=stop_threshold,
        default=1.0,
        help="stop the run after a wave where this share of the schools failed or stayed unreachable"
        " (default 1: all of them; 0.5: half)",
    )
    parser.add_argument("--force", action="store_true", help="ignore the maintenance windows")
    parser.add_argument("--at", help="decide the windows for this ISO 8601 moment instead of now")
    parser.add_argument(
        "--mitogen", action="store_true", help=f"Mitogen's linear strategy (or {MITOGEN_ENV}=1)"
    )
    parser.add_argument("--report-dir", type=Path, default=PROJECT_ROOT / "out" / "fleet")
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments, after --")
    args = parser.parse_args(argv)
    moment = dt.datetime.fromisoformat(args.at) if args.at else dt.datetime.now(PARIS)
    inventory, targeted = inventory_listing(args.inventory, args.limit)
    jobs = plan_jobs(inventory, targeted)
    playbook = args.playbook.resolve()

    envvars = mitogen_envvars() if wants_mitogen(args.mitogen) else {}

    def runner(hosts: Sequence[str]) -> RunOutcome:
        return run_with_runner(playbook, args.inventory.resolve(), hosts, args.extra, envvars)

    results = run_fleet(
        jobs,
        runner,
        moment=moment,
        force=args.force,
        concurrency=args.concurrency,
        retries=args.retries,
        stop_threshold=args.stop_threshold,
    )
    title = f"{playbook.name} on {len(jobs)} schools, {moment.astimezone(PARIS):%Y-%m-%d %H:%M}"
    json_path, md_path = write_report(results, args.report_dir, title)
    failed = [r for r in results if r.result in {"failed", "unreachable"}]
    print(
        f"\n{title}: {len(results) - len(failed)} fine, {len(failed)} failed. Report: {md_path}, {json_path}"
    )
    for r in failed:
        print(f"  {r.key} ({r.commune}): {r.result}: {'; '.join(r.failures) or r.note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
