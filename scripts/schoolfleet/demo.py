"""The main job on the embedded demo register, against the local lab (`make demo`).

It picks part of the demo fleet (the central server, a backup server and a couple of schools),
starts a lab container for each (from its role family's image), runs the real site playbook on
them through ansible-runner, and ends with what each host got and what works (schoolfleet.lab_checks:
the DNS filter refusing a listed domain, EICAR caught, a backup in the datacenter, a PC's install
menu...).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ansible_runner

from schoolfleet import lab, lab_checks, secrets

ROOT = lab.PROJECT_ROOT
LAB_INVENTORY = ROOT / "inventories" / "lab" / "hosts.yml"
# Throwaway secrets for the lab's hosts, made on first use; git ignores .cache/.
LAB_SECRETS = ROOT / ".cache" / "lab" / "secrets.yml"
# Part of the demo fleet that fits on a 2-core machine: the central side and two schools.
DEFAULT_PATTERN = "central_servers:backup_servers[0]:school_servers[0:1]"
# Which role family's image each kind of lab host starts from (lab.FAMILIES).
FAMILY_GROUPS = {"central_servers": "central", "backup_servers": "central", "school_servers": "school"}


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    env.setdefault("CONTAINERS_CONF", str(ROOT / "scripts" / "containers.conf"))
    # ansible-runner looks ansible-playbook up in PATH: the venv's must come first.
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def resolve_hosts(pattern: str, inventory: Path = LAB_INVENTORY) -> list[str]:
    """The inventory hosts a pattern selects, as Ansible itself resolves it."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible")),
            pattern,
            "-i",
            str(inventory),
            "--list-hosts",
        ],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise lab.LabError(f"cannot resolve {pattern!r} in {inventory}: {result.stderr.strip()}")
    hosts = [line.strip() for line in result.stdout.splitlines()[1:] if line.strip()]
    if not hosts:
        raise lab.LabError(f"{pattern!r} selects no host in {inventory}")
    return hosts


def run_playbook(playbook: str, hosts: Sequence[str]) -> ansible_runner.Runner:
    private = ROOT / ".cache" / "runner" / "demo"
    private.mkdir(parents=True, exist_ok=True)
    return ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(ROOT),
        playbook=str(ROOT / "playbooks" / playbook),
        inventory=str(LAB_INVENTORY),
        limit=",".join(hosts),
        cmdline=f"-e @{LAB_SECRETS}",
        envvars={
            key: value
            for key, value in ansible_env().items()
            if key.startswith(("ANSIBLE_", "CONTAINERS_", "PATH"))
        },
        quiet=False,
    )


def summarise(runner: ansible_runner.Runner, hosts: Sequence[str], seconds: float) -> str:
    stats: dict[str, Any] = runner.stats or {}
    roles: dict[str, set[str]] = {host: set() for host in hosts}
    for event in runner.events:
        data = event.get("event_data", {})
        host, role = data.get("host"), data.get("role")
        if event.get("event") == "runner_on_ok" and host in roles and role:
            roles[host].add(role)
    lines = [f"Demo: {runner.status} in {seconds:.0f} s on {len(hosts)} lab hosts"]
    for host in hosts:
        counts = {key: stats.get(key, {}).get(host, 0) for key in ("ok", "changed", "failures", "dark")}
        state = "FAILED" if counts["failures"] or counts["dark"] else "ok"
        lines.append(
            f"  {host:28} {state:6} ok={counts['ok']:<4} changed={counts['changed']:<4} "
            f"roles: {', '.join(sorted(roles[host])) or '-'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", default=DEFAULT_PATTERN, help="hosts of the demo register to bring up")
    parser.add_argument("--playbook", default="site.yml")
    parser.add_argument("--no-upstreams", action="store_true", help="skip the lab's upstream stand-ins")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        hosts = resolve_hosts(args.limit)
        print(f"Lab hosts: {', '.join(hosts)}", flush=True)
        groups = {group: [host for host in hosts if host in resolve_hosts(group)] for group in FAMILY_GROUPS}
        lab.up(
            hosts,
            images={host: lab.family_image(FAMILY_GROUPS[g]) for g, ms in groups.items() for host in ms},
        )
        schools = groups["school_servers"]
        secrets.ensure(LAB_SECRETS, schools, config_signer=True)
    except (lab.LabError, subprocess.CalledProcessError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    if not args.no_upstreams:
        upstreams = run_playbook("lab/upstreams.yml", hosts)
        if upstreams.rc != 0:
            print(summarise(upstreams, hosts, time.monotonic() - started))
            return 1
    runner = run_playbook(args.playbook, hosts)
    print()
    print(summarise(runner, hosts, time.monotonic() - started))
    outcomes = lab_checks.run_checks(groups) if runner.rc == 0 else []
    if outcomes:
        print(lab_checks.report(outcomes))
    print("Stop the lab with `make demo-down`.")
    return 0 if runner.rc == 0 and all(outcome.passed for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
