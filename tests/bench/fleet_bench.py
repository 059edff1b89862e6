"""Benchmark (not a test): the whole-site playbook on lab containers, first and second run, 1/4/8 schools.

    .venv/bin/python tests/bench/fleet_bench.py [--schools 8] [--forks 8] [--connection ssh|podman]
                                                [--no-mitogen] [--keep] [--reuse-servers]

It starts a lab of its own beside any other (containers `fleetbench-<host>` on the podman network
`fleetbench-lab`, label schoolfleet.lab=fleetbench; each answers to its host's name on that network),
so the shared lab and other people's Molecule containers are left alone, and removes it at the end.
Its inventory is the lab's (the demo register) with `ansible_host` pointing at those containers, and
throwaway secrets of its own.

  --connection ssh (the default) reaches them as production does: each container is first made what a
  freshly installed server is (sshd, the admin account with a key and sudo, as the installer's preseed
  leaves it; not timed), then Ansible logs in over SSH as that account, with pipelining and
  ControlPersist from ansible.cfg, and becomes root through sudo.
  --connection podman goes through `podman exec` as root, like the shared lab: a file copy and a
  process per module, no pipelining; slower, and not what the fleet uses.

  setup      the central and backup servers: lab stand-ins, then site.yml (not part of the ratios);
  first      site.yml on a fresh school server (a new container: it really is the first converge);
  second     site.yml again on it: nothing to change, it must report 0 changed;
  scale N    site.yml over 1, 4 and 8 converged school servers in one run each (the others are
             converged first, 7 at once, which is timed too);
  mitogen    the same runs with Mitogen's linear strategy (PyPI `mitogen`): a second run, a first
             converge of another fresh school, its second run, and 8 schools; the ok/changed counts
             must match the runs without Mitogen, and the runs without Mitogen after it must find
             nothing to change on the school Mitogen converged;
  fleet      the 8 schools through `schoolfleet.fleet` (a job per school, commune waves, 4 at once),
             its report written to .cache/bench/fleet/report/.
Targets: second / first <= 0.2; time(8) / time(1) <= 3. The load average is printed at the start and
after each run: other people's Molecule scenarios share the 2 cores, so compare ratios of one run only.

Each run also gives the CPU seconds of the controller (this process's children: ansible-playbook and
its workers) and of the servers (the bench's containers' cgroups). In the lab the school servers run
on this machine's cores too, so a run over N schools cannot take less than their CPU over the cores:
the summary prints that floor next to time(N) / time(1), and the controller's part of it, which is
all that stays on this machine in production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import ansible_runner  # noqa: E402

from schoolfleet import fleet, lab, secrets  # noqa: E402

PREFIX = "fleetbench-"
NETWORK = "fleetbench-lab"
LABEL = "fleetbench"
WORK = ROOT / ".cache" / "bench" / "fleet"
INVENTORY = WORK / "inventory" / "hosts.yml"
SECRETS = WORK / "secrets.yml"
KEY = WORK / "ssh" / "id_ed25519"
# The admin account the common role manages (common_admin_user's default).
ADMIN = "fleetadmin"
BIN = Path(sys.executable).parent
# Set by SIGTERM/SIGINT: the running playbooks are cancelled (ansible-runner's cancel_callback), the
# bench stops, removes its lab and prints what it measured. Passing our own callback also keeps
# ansible-runner from installing its signal handlers, which would only cancel the current run.
STOP = threading.Event()


@dataclass
class Run:
    name: str
    seconds: float
    ok: int
    changed: int
    failed: int
    unreachable: int
    load: float
    # CPU seconds spent meanwhile by Ansible on this machine (the controller) and inside the bench's
    # containers (the servers: sshd, sudo and the modules, and their own idle services).
    controller_cpu: float = 0.0
    servers_cpu: float = 0.0

    def line(self) -> str:
        return (
            f"{self.name:34} {self.seconds:7.1f} s  ok={self.ok:<4} changed={self.changed:<4} "
            f"failed={self.failed} unreachable={self.unreachable}  load {self.load:.1f}  "
            f"cpu: controller {self.controller_cpu:.1f} s, servers {self.servers_cpu:.1f} s"
        )


def controller_cpu() -> float:
    """CPU seconds of this process's finished children: ansible-playbook and everything it waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def servers_cpu(label: str = LABEL) -> float:
    """CPU seconds used so far by the containers of a bench's `label`, from their cgroups (v1 or v2)."""
    total = 0.0
    for row in lab.lab_containers(label):
        if row["state"] != "running":
            continue
        path = lab.podman("inspect", "--format", "{{.State.CgroupPath}}", row["name"]).stdout.strip()
        v1 = Path(f"/sys/fs/cgroup/cpuacct{path}/cpuacct.usage")
        v2 = Path(f"/sys/fs/cgroup{path}/cpu.stat")
        if v1.exists():
            total += int(v1.read_text()) / 1e9
        elif v2.exists():
            usage = dict(line.split() for line in v2.read_text().splitlines())
            total += int(usage["usage_usec"]) / 1e6
    return total


def cpu_now(label: str = LABEL) -> tuple[float, float]:
    # The servers first: reading them runs podman, a child of this process, and its CPU must fall
    # outside the controller's delta at both ends.
    servers = servers_cpu(label)
    return controller_cpu(), servers


def cpu_since(start: tuple[float, float], label: str = LABEL) -> tuple[float, float]:
    """Controller and servers CPU seconds since `start` (a cpu_now(label))."""
    now = cpu_now(label)
    return now[0] - start[0], now[1] - start[1]


def load1() -> float:
    return os.getloadavg()[0]


def run_record(
    name: str, seconds: float, stats: dict[str, Any], cpu: tuple[float, float], label: str = LABEL
) -> Run:
    """One run's line from ansible-runner's stats and the CPU since `cpu` (a cpu_now(label))."""

    def total(key: str) -> int:
        return sum((stats.get(key) or {}).values())

    return Run(
        name,
        seconds,
        total("ok"),
        total("changed"),
        total("failures"),
        total("dark"),
        load1(),
        *cpu_since(cpu, label),
    )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def write_inventory(hosts: Sequence[str] = (), connection: str = "podman") -> None:
    """The lab inventory, each of `hosts` aimed at this bench's container (host_vars beside it).

    `podman` rather than `containers.podman.podman`: the same plugin (ansible-core redirects the short
    name to it), but the name Mitogen's strategy recognises and replaces by its own podman transport.
    Over SSH the host's address is the container's on the bench network: the machine's resolver does
    not know the containers' names.

    The lab's group_vars come along (symlinked): the schools' resolvers forward to the bench network's
    aardvark-dns only, as in the shared lab (inventories/lab/group_vars/managed.yml).
    """
    INVENTORY.parent.mkdir(parents=True, exist_ok=True)
    INVENTORY.write_text(
        "---\n"
        "# Written by tests/bench/fleet_bench.py: the lab inventory, aimed at the bench's containers.\n"
        "plugin: convention_register\n"
        f"register: {ROOT / 'inventories' / 'demo' / 'register'}\n"
        "reach: podman\n"
    )
    group_vars = INVENTORY.parent / "group_vars"
    if not group_vars.is_symlink():
        group_vars.symlink_to(ROOT / "inventories" / "lab" / "group_vars")
    host_vars = INVENTORY.parent / "host_vars"
    host_vars.mkdir(exist_ok=True)
    for stale in host_vars.glob("*.yml"):
        stale.unlink()
    for host in hosts:
        name = lab.container_name(host, PREFIX)
        if connection == "podman":
            text = f"ansible_host: {name}\nansible_connection: podman\n"
        else:
            public = KEY.with_suffix(".pub").read_text(encoding="utf-8").strip()
            text = (
                f"ansible_host: {container_address(name)}\n"
                "ansible_connection: ssh\n"
                f"ansible_user: {ADMIN}\n"
                f"ansible_ssh_private_key_file: {KEY}\n"
                # New containers, new host keys at every bench: nothing to pin.
                "ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n"
                # The lab's group_vars turn become off (podman enters as root); a real server needs it.
                "ansible_become: true\n"
                f"common_admin_authorized_keys: ['{public}']\n"
            )
        (host_vars / f"{host}.yml").write_text("---\n" + text)


def container_address(name: str) -> str:
    template = f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}'
    result = lab.podman("inspect", "--format", template, name)
    address = result.stdout.strip()
    if not address:
        raise SystemExit(f"fleet bench: {name} has no address on {NETWORK}")
    return address


# What the Debian installer's preseed leaves on a new school server: sshd, the admin account with the
# fleet's key and password-less sudo. Everything else is the playbooks' job, and timed.
PRESEED = """\
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends openssh-server sudo >/dev/null
id {admin} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups sudo {admin}
install -d -m 0700 -o {admin} -g {admin} /home/{admin}/.ssh
printf '%s\\n' '{key}' > /home/{admin}/.ssh/authorized_keys
chown {admin}:{admin} /home/{admin}/.ssh/authorized_keys
printf '%s ALL=(ALL) NOPASSWD: ALL\\n' {admin} > /etc/sudoers.d/00-installer
chmod 0440 /etc/sudoers.d/00-installer
systemctl enable --now ssh
"""


def preseed(hosts: Sequence[str], prefix: str = PREFIX) -> None:
    """Give each container sshd and the admin account, as the installer would, all at once (not timed)."""
    if not KEY.exists():
        KEY.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleet-bench", "-f", str(KEY)], check=True
        )
    script = PRESEED.format(admin=ADMIN, key=KEY.with_suffix(".pub").read_text(encoding="utf-8").strip())
    started = time.monotonic()
    jobs = {
        host: subprocess.Popen(
            ["podman", "exec", "-i", lab.container_name(host, prefix), "sh"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for host in hosts
    }
    failed = []
    for host, job in jobs.items():
        output, _ = job.communicate(script)
        if job.returncode:
            failed.append(f"{host}: {output.strip()[-400:]}")
    if failed:
        raise SystemExit("fleet bench: preseeding failed\n" + "\n".join(failed))
    label = f"preseed: sshd + admin, {len(hosts)} hosts"
    print(f"{label:34} {time.monotonic() - started:7.1f} s", flush=True)


def env() -> dict[str, str]:
    return {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": os.environ.get("ANSIBLE_HOME", str(ROOT / ".cache" / "ansible")),
        "ANSIBLE_LOCAL_TEMP": os.environ.get("ANSIBLE_LOCAL_TEMP", str(ROOT / ".cache" / "ansible" / "tmp")),
        "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(ROOT / "scripts" / "containers.conf")),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }


def resolve(pattern: str) -> list[str]:
    result = subprocess.run(
        [str(BIN / "ansible"), pattern, "-i", str(INVENTORY), "--list-hosts"],
        cwd=ROOT,
        env={**os.environ, **env()},
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.strip() for line in result.stdout.splitlines()[1:] if line.strip()]


def playbook(
    name: str, play: str, hosts: Sequence[str], forks: int, mitogen: bool = False, must_pass: bool = True
) -> Run:
    check_stop()
    envvars = {**env(), **(fleet.mitogen_envvars() if mitogen else {})}
    private = WORK / "runner" / name.replace(" ", "-").replace("/", "-")
    private.mkdir(parents=True, exist_ok=True)
    cpu = cpu_now()
    started = time.monotonic()
    runner = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(ROOT),
        playbook=str(ROOT / "playbooks" / play),
        inventory=str(INVENTORY),
        limit=",".join(hosts),
        cmdline=f"-e @{SECRETS} --forks {forks}",
        envvars=envvars,
        quiet=True,
        cancel_callback=STOP.is_set,
    )
    seconds = time.monotonic() - started
    if STOP.is_set():
        print(f"{name:34} {seconds:7.1f} s  cancelled", flush=True)
        check_stop()
    run = run_record(name, seconds, runner.stats or {}, cpu)
    print(run.line(), flush=True)
    if runner.rc != 0:
        for event in runner.events:
            if event.get("event") in {"runner_on_failed", "runner_on_unreachable"}:
                data = event.get("event_data", {})
                if data.get("ignore_errors"):
                    continue
                message = str((data.get("res") or {}).get("msg", "")).strip()[:600]
                print(f"    {data.get('host')}: {data.get('task')}: {message}", flush=True)
        print(f"    (full output: {private}/artifacts)", flush=True)
        if must_pass:
            raise SystemExit(f"fleet bench: {name} failed (rc {runner.rc})")
    return run


def changed_tasks(name: str) -> list[str]:
    """The tasks a run reported changed, to say why a second run was not clean."""
    events = WORK / "runner" / name.replace(" ", "-").replace("/", "-") / "artifacts"
    found: list[str] = []
    for path in sorted(events.glob("*/job_events/*.json")):
        text = path.read_text(encoding="utf-8")
        event = json.loads(text)
        if event.get("event") == "runner_on_ok" and (event["event_data"].get("res") or {}).get("changed"):
            found.append(f"{event['event_data'].get('host')}: {event['event_data'].get('task')}")
    return found


def fleet_run(schools: Sequence[str], concurrency: int) -> Run:
    """The same schools through the fleet command's own machinery: a job per school, commune waves."""
    name = f"fleet.py, {len(schools)} schools, {concurrency} at once"
    cpu = cpu_now()
    started = time.monotonic()
    inventory, targeted = fleet.inventory_listing(INVENTORY, ",".join(schools))
    jobs = fleet.plan_jobs(inventory, targeted)
    site = ROOT / "playbooks" / "site.yml"

    def runner(hosts: Sequence[str]) -> fleet.RunOutcome:
        return fleet.run_with_runner(site, INVENTORY, hosts, ["-e", f"@{SECRETS}"], env(), cancel=STOP.is_set)

    # --force: the bench runs at any hour; the windows are the unit tests' business.
    results = fleet.run_fleet(
        jobs,
        runner,
        moment=dt.datetime.now(dt.UTC),
        force=True,
        concurrency=concurrency,
        retries=1,
        pause=5,
        progress=lambda line: print(f"    {line}", flush=True),
    )
    check_stop()
    _, report = fleet.write_report(results, WORK / "report", name)
    states = [r.result for r in results]
    run = Run(
        name,
        time.monotonic() - started,
        states.count("ok") + states.count("changed"),
        sum(r.changed for r in results),
        states.count("failed"),
        states.count("unreachable"),
        load1(),
        *cpu_since(cpu),
    )
    print(f"{run.line()}  (ok = schools fine; report {report})", flush=True)
    return run


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def stopped(signum: int, _frame: object) -> None:
    STOP.set()


def check_stop() -> None:
    if STOP.is_set():
        raise SystemExit("fleet bench: stopped by a signal")


def summary(runs: dict[str, Run], count: int, mitogen: bool) -> None:
    """The ratios of the runs that were measured (all of them unless the bench stopped early)."""

    def show(label: str, *keys: str, value: str = "") -> None:
        missing = [key for key in keys if key not in runs]
        print(f"{label:42} {'not measured (' + ', '.join(missing) + ')' if missing else value}")

    def seconds(a: str, b: str) -> str:
        return ratio(runs[a].seconds, runs[b].seconds) if a in runs and b in runs else ""

    def same(a: str, b: str) -> str:
        if a not in runs or b not in runs:
            return ""
        return str((runs[a].ok, runs[a].changed) == (runs[b].ok, runs[b].changed))

    print()
    print(f"fleet bench, end: {uptime()}")
    show("second / first converge:", "second", "first", value=f"{seconds('second', 'first')} (target <= 0.2)")
    if "second" in runs:
        show("second run changed:", "second", value=f"{runs['second'].changed} (target 0)")
    show(
        f"time({count}) / time(1) schools:",
        f"scale{count}",
        "scale1",
        value=f"{seconds(f'scale{count}', 'scale1')} (target <= 3)",
    )
    show("time(4) / time(1) schools:", "scale4", "scale1", value=seconds("scale4", "scale1"))
    cores = os.cpu_count() or 1
    for key in ("scale1", f"scale{count}"):
        if key in runs:
            run = runs[key]
            busy = (run.controller_cpu + run.servers_cpu) / run.seconds
            print(
                f"{run.name + ', cpu:':42} controller {run.controller_cpu:.1f} s "
                f"+ servers {run.servers_cpu:.1f} s = {busy:.2f} of {cores} cores busy"
            )
    if "scale1" in runs and f"scale{count}" in runs:
        # The lab's servers share this machine's cores with Ansible; a real school has its own.
        one, many = runs["scale1"], runs[f"scale{count}"]
        floor = (many.controller_cpu + many.servers_cpu) / cores
        print(
            f"{'cpu floor of ' + str(count) + ' schools / time(1):':42} {ratio(floor, one.seconds)} "
            f"(their cpu over {cores} cores); controller's part only: "
            f"{ratio(many.controller_cpu / cores, one.seconds)}"
        )
    if "rest" in runs:
        show(f"{runs['rest'].name} / of 1:", "rest", "first", value=seconds("rest", "first"))
    show(
        f"fleet.py ({count} schools, 4 at once) / one run:",
        "fleet",
        f"scale{count}",
        value=seconds("fleet", f"scale{count}"),
    )
    if not mitogen:
        return
    for label, mine, plain in (
        ("mitogen second / plain second:", "m-second", "second"),
        ("mitogen first / plain first:", "m-first", "first"),
        (f"mitogen {count} schools / plain:", "m-scale", f"scale{count}"),
    ):
        show(label, mine, plain, value=f"{seconds(mine, plain)} (same ok/changed: {same(mine, plain)})")
    if "m-again" in runs:
        show("mitogen second run changed:", "m-again", value=f"{runs['m-again'].changed} (target 0)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=8, help="the largest school count (>= 4)")
    parser.add_argument("--forks", type=int, default=8, help="ansible forks (at least the school count)")
    parser.add_argument(
        "--connection",
        choices=["ssh", "podman"],
        default="ssh",
        help="ssh as the admin account with sudo, as in production (default), or podman exec as root",
    )
    parser.add_argument("--no-mitogen", action="store_true", help="skip the Mitogen runs")
    parser.add_argument("--keep", action="store_true", help="leave the bench's containers running")
    parser.add_argument(
        "--reuse-servers",
        action="store_true",
        help="keep the central and backup containers of a bench run with --keep, skip their setup "
        "(not part of the ratios); the school containers are always new",
    )
    args = parser.parse_args(argv)
    forks = max(args.forks, args.schools, 8)
    print(f"fleet bench, start: {uptime()}", flush=True)
    write_inventory()
    central, backup = resolve("central_servers")[0], resolve("backup_servers")[0]
    schools = resolve(f"school_servers[0:{args.schools - 1}]")
    if len(schools) < max(args.schools, 4):
        raise SystemExit(f"fleet bench: the register has only {len(schools)} school servers")
    secrets.ensure(SECRETS, schools, config_signer=True)
    everything = [central, backup, *schools]
    # A container left over by an interrupted bench would make a "first" converge a second one.
    if args.reuse_servers:
        names = [lab.container_name(school, PREFIX) for school in schools]
        lab.podman("rm", "--force", "--ignore", "--time", "3", *names)
    else:
        lab.down([], label=LABEL)
    # Each run's events are read back from its artifacts: none may be left from an earlier bench.
    shutil.rmtree(WORK / "runner", ignore_errors=True)
    runs: dict[str, Run] = {}
    running: list[str] = []

    def bring_up(hosts: Sequence[str]) -> None:
        started = time.monotonic()
        lab.up(hosts, prefix=PREFIX, network=NETWORK, label=LABEL)
        print(f"{'lab up: ' + ', '.join(hosts):34.34} {time.monotonic() - started:7.1f} s", flush=True)
        if args.connection == "ssh":
            preseed(hosts)
        running.extend(hosts)
        write_inventory(running, args.connection)

    # A bench stopped at a deadline (kill -TERM) still removes its lab and prints what it measured.
    signal.signal(signal.SIGTERM, stopped)
    signal.signal(signal.SIGINT, stopped)
    try:
        print(f"connection: {args.connection}", flush=True)
        bring_up([central, backup])
        if args.reuse_servers:
            print("setup: central and backup of an earlier bench reused (not part of the ratios)", flush=True)
        else:
            playbook("setup: lab stand-ins", "lab/upstreams.yml", [central], forks)
            playbook("setup: site.yml central+backup", "site.yml", [central, backup], forks)

        canary, other, rest = schools[0], schools[1], schools[2:]
        bring_up([canary])
        runs["first"] = playbook(f"first converge ({canary})", "site.yml", [canary], forks)
        runs["second"] = playbook(f"second run ({canary})", "site.yml", [canary], forks)
        if runs["second"].changed:
            print(f"    not idempotent: {changed_tasks(runs['second'].name)}", flush=True)

        bring_up([other, *rest])
        if not args.no_mitogen:
            runs["m-second"] = playbook(
                f"mitogen second run ({canary})", "site.yml", [canary], forks, mitogen=True, must_pass=False
            )
            runs["m-first"] = playbook(
                f"mitogen first converge ({other})", "site.yml", [other], forks, mitogen=True, must_pass=False
            )
            runs["m-again"] = playbook(
                f"mitogen second run ({other})", "site.yml", [other], forks, mitogen=True, must_pass=False
            )
            for key in ("m-second", "m-again"):
                if runs[key].changed:
                    print(f"    not idempotent: {changed_tasks(runs[key].name)}", flush=True)
        if args.no_mitogen or runs["m-first"].failed or runs["m-first"].unreachable:
            rest = [other, *rest]
        runs["rest"] = playbook(f"first converge of {len(rest)} at once", "site.yml", rest, forks)

        for count in (1, 4, len(schools)):
            run = playbook(f"site.yml over {count} schools", "site.yml", schools[:count], forks)
            runs[f"scale{count}"] = run
            if run.changed:
                print(f"    not idempotent: {changed_tasks(run.name)}", flush=True)
        if not args.no_mitogen:
            runs["m-scale"] = playbook(
                f"mitogen site.yml over {len(schools)} schools",
                "site.yml",
                schools,
                forks,
                mitogen=True,
                must_pass=False,
            )
        runs["fleet"] = fleet_run(schools, concurrency=4)
    finally:
        if args.keep:
            print(f"kept: {', '.join(PREFIX + host for host in everything)} on {NETWORK}")
        else:
            # Only what carries this bench's label: whatever else runs on the machine stays.
            lab.down([], label=LABEL)
            lab.podman("network", "rm", NETWORK, check=False)
        if sys.exc_info()[0] is not None:
            print("\nfleet bench stopped before the end; what it measured:")
            summary(runs, len(schools), mitogen=not args.no_mitogen)

    summary(runs, len(schools), mitogen=not args.no_mitogen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
