"""Benchmark (not a test): no-change runs of classroom workstations through their school server, and
the bytes an update night costs the school's uplink.

    .venv/bin/python tests/bench/workstation_bench.py [--workstations 30] [--scales 1,10]
                                                      [--no-mitogen] [--keep]

A lab of its own (containers `wsbench-*` on the podman network `wsbench-lab`, label
schoolfleet.lab=wsbench), removed at the end:

- the school server `wssrv` (the `school` family image): made what the installer leaves (sshd, the
  admin account, fleet_bench's PRESEED), then, not timed, its Samba AD DC (school_directory with the
  roster of its own Molecule scenario, as roles/workstation's prepare.yml does) and its apt cache
  (apt-cacher-ng on port 3142 with roles/workstation_install's own template, no upstream proxy);
- ONE workstation from the bare image (the installer's sshd and admin account), converged by
  playbooks/workstations.yml. Small packs (hello, tree) and no desktop (no X in a container; Xfce
  and task-french-desktop are ~1 GB), as in roles/workstation's scenario;
- the others are clones of it (`podman commit`, new hostnames): a first run over all of them does
  what is per host (smb.conf's netbios name, the domain join), and only later runs are timed.

The controller reaches the school server over SSH (admin account, sudo, pipelining and
ControlPersist from ansible.cfg) and every workstation THROUGH it (`ProxyJump`, as
playbooks/group_vars/classroom_workstations.yml does), with a static inventory written by the bench
that carries the workstation_* values that group_vars file computes from the register.

  one       the no-change run of 1 workstation, without and with Mitogen (PyPI `mitogen`'s linear
            strategy), after a second run that must already be clean;
  scale N   the no-change run of N workstations of the school in one play (forks >= N), without and
            with Mitogen; ok/changed must match and changed must be 0;
  night     the update night: every workstation starts schoolfleet-upkeep-update.service at once
            (what a Wake-on-LAN boot does), with apt going through the school's cache. Counted: the
            bytes the school server exchanges with the outside (nft counters on its side: any peer out
            of the lab's subnet, which is the school's uplink) and with the workstations (same
            counters, peers in the subnet but the gateway, which is the controller), and each
            workstation's own interface bytes (nothing bypasses the cache if they add up to the
            server's workstation side).

Each run gives wall time and the CPU of the controller (this process's children) and of the bench's
containers (their cgroups), with fleet_bench's helpers. Here the workstations share the 2 cores with
the controller; a real school's machines do not, so the projection to a school and to 3,000
workstations (120 schools of 25) from one 2-core controller uses the controller's CPU per workstation.
Other people's Molecule scenarios share the cores too: compare ratios of one run only.

Measured on 2026-12-04 (2 cores shared with other agents' Molecule runs: load average 10-20 all
along, so wall times are inflated; ratios are of the same run):

    .venv/bin/python tests/bench/workstation_bench.py --workstations 10 --scales 1,5 --keep --reuse-server

(the school server reused from an earlier --keep run of the same bench; 30 did not fit in the
session: the first run over 9 clones took 490 s, a plain no-change run of 10 took 437 s here)

    first converge, 1 workstation          160 s  ok=56  changed=44
    per-host run of 9 clones               490 s  ok=468 changed=36 (smb.conf, join, resolver, and
                                                  winbind's restart: 90 s in final-sigterm here)
    no-change   1: plain 127.5 s, cpu controller 11.5 s | mitogen  43.8 s, 9.1 s   ok=50  changed=0
    no-change   5: plain 195.0 s, cpu controller 34.3 s | mitogen  75.4 s, 27.3 s  ok=250 changed=0
    no-change  10: plain 437.2 s, cpu controller 72.7 s | mitogen 140.6 s, 52.7 s  ok=500 changed=0
    mitogen / plain: time 0.34 / 0.39 / 0.32, controller cpu 0.80 / 0.80 / 0.73 (1 / 5 / 10)
    10 vs 1: time 3.43 (plain), 3.21 (mitogen); controller cpu 6.34, 5.77
    projection (controller cpu slope 1 -> 10): plain 6.8 s per workstation, a school of 25 ~175 s,
      3,000 workstations ~350 min cpu = >= 175 min on 2 cores; mitogen 4.9 s, ~125 s, ~251 min cpu
      = >= 125 min on 2 cores
    update night, 10 at once: 120 s, 16 packages upgraded on each, all ok; uplink 14.16 MB
      (1.42 MB per workstation), workstation side 97.02 MB (9.70 MB each; their own interfaces
      97.09 MB: nothing bypassed the cache); uplink / workstation side 0.15, i.e. one copy
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ansible_runner  # noqa: E402
import fleet_bench  # noqa: E402
from fleet_bench import Run, cpu_now, cpu_since, ratio, uptime  # noqa: E402

from schoolfleet import fleet, lab  # noqa: E402

PREFIX = "wsbench-"
NETWORK = "wsbench-lab"
LABEL = "wsbench"
WORK = ROOT / ".cache" / "bench" / "workstation"
INVENTORY = WORK / "inventory.yml"
SSH_CONFIG = WORK / "ssh_config"
SERVER = "wssrv"
SERVER_IMAGE = lab.family_image("school")
SERVER_GROUP = "wsbench_school_server"
# The clones' image: the first workstation, converged.
CLONE_IMAGE = "localhost/wsbench-workstation:12"
ADMIN = fleet_bench.ADMIN
KEY = fleet_bench.KEY
ROSTERS = ROOT / "roles" / "school_directory" / "molecule" / "default" / "files"
# The school's domain, as roles/workstation's scenario sets it up (throwaway values, throwaway lab).
REALM = "WSSRV.ECOLE-TEST.LAN"
DOMAIN = "ECOLETEST"
ADMIN_PASSWORD = "Fixture-Only-Adm1n"
CLASSES = [{"id": "cm1a", "name": "CM1 A"}, {"id": "cm2b", "name": "CM2 B"}]
CACHE_PORT = 3142
# Production: 3,000 workstations, ~25 per school, 120 schools, one controller of 2 cores.
FLEET_WORKSTATIONS, SCHOOL_SIZE, SCHOOLS = 3000, 25, 120
STOP = threading.Event()


def workstation_names(count: int) -> list[str]:
    # The NetBIOS name is the hostname (15 characters at most, see the role's smb.conf).
    return [f"ws-bench-{index:02d}" for index in range(1, count + 1)]


def check_stop() -> None:
    if STOP.is_set():
        raise SystemExit("workstation bench: stopped by a signal")


def start(host: str, image: str) -> None:
    """A systemd container for `host`, answering to its name on the bench's network."""
    name = PREFIX + host
    lab.podman(
        "run",
        "--detach",
        "--name",
        name,
        "--hostname",
        host,
        "--network",
        NETWORK,
        "--network-alias",
        host,
        "--label",
        f"{lab.LAB_LABEL}={LABEL}",
        *lab.RUN_OPTIONS,
        image,
        "/sbin/init",
    )


def address(host: str) -> str:
    name = PREFIX + host
    template = f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}'
    found = lab.podman("inspect", "--format", template, name).stdout.strip()
    if not found:
        raise SystemExit(f"workstation bench: {name} has no address on {NETWORK}")
    return found


def network_facts() -> tuple[str, str]:
    """The bench network's subnet and gateway (the gateway is this machine: the controller)."""
    info = json.loads(lab.podman("network", "inspect", NETWORK).stdout)[0]
    subnet = info["subnets"][0]
    return subnet["subnet"], subnet["gateway"]


def write_inventory(server_ip: str, workstations: Sequence[str]) -> None:
    """A static inventory giving what the register's inventory plugin gives (JSON is YAML).

    playbooks/workstations.yml brings playbooks/group_vars/classroom_workstations.yml along: the
    workstation_* values and the ProxyJump (the admin account at the school server's fleet_address)
    are computed by it from what the plugin sets (fleet_school_server, fleet_software, the server's
    fleet_address and school_directory_*). The server's group is the bench's own, not school_servers,
    whose group_vars want the whole register.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    SSH_CONFIG.write_text(
        "# Written by tests/bench/workstation_bench.py. The jump host reads it too (ssh -F is passed on).\n"
        "# New containers, new host keys: nothing to pin.\n"
        "Host *\n"
        f"  User {ADMIN}\n"
        f"  IdentityFile {KEY}\n"
        "  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n"
        "  UserKnownHostsFile /dev/null\n"
        "  LogLevel ERROR\n"
    )
    _, gateway = network_facts()
    school = {
        "school_directory_realm": REALM,
        "school_directory_domain": DOMAIN,
        "school_directory_school_name": "École élémentaire de test",
        "school_directory_admin_password": ADMIN_PASSWORD,
        "school_directory_ntacl_xattr": "user.NTACL",
        "school_directory_classes": CLASSES,
        "school_directory_teachers_csv": str(ROSTERS / "teachers.csv"),
        "school_directory_pupils_csv": str(ROSTERS / "pupils-2026.csv"),
        "school_directory_import_apply": True,
        "school_directory_slips_dir": str(WORK / "slips"),
        "school_directory_dns_forwarders": [gateway],
        # Read by classroom_workstations.yml from the server's hostvars: without it, its default(omit)
        # ends up inside workstation_upkeep_config and to_nice_json fails (school_sync's default value).
        "school_sync_school_hours": {
            day: ["07:00", "12:30" if day == "wed" else "19:00"]
            for day in ("mon", "tue", "wed", "thu", "fri")
        },
    }
    workstation = {
        "fleet_school_server": SERVER,
        # A small pack set (the register's packs bring an office suite and school software).
        "fleet_software": {
            "packages": ["hello", "tree"],
            "removed_packages": ["sl"],
            "settings": {"firefox_homepage": "https://ecole.example/"},
        },
        # No mount, no X, and no power-off while the bench runs (as in the role's scenario).
        "workstation_home_tmpfs": False,
        "workstation_desktop_packages": [],
        "workstation_poweroff_on_calendar": ["*-12-25 03:00"],
        "workstation_idle_poweroff_minutes": 1000000,
    }
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "ssh",
                "ansible_user": ADMIN,
                "ansible_ssh_private_key_file": str(KEY),
                "ansible_ssh_extra_args": f"-F {SSH_CONFIG}",
                "ansible_become": True,
                "vault_school_directory_admin_passwords": {SERVER: ADMIN_PASSWORD},
            },
            "children": {
                SERVER_GROUP: {
                    "hosts": {SERVER: {"ansible_host": server_ip, "fleet_address": server_ip}},
                    "vars": school,
                },
                "classroom_workstations": {
                    "hosts": {host: {"ansible_host": address(host)} for host in workstations},
                    "vars": workstation,
                },
            },
        }
    }
    INVENTORY.write_text(json.dumps(inventory, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def wait_for_ssh(server_ip: str, workstations: Sequence[str], timeout: float = 240.0) -> None:
    """Wait until each workstation answers through the jump (not timed).

    Seen here: a workstation whose sshd had just started timed out in the banner exchange through
    the jump for a minute or so, then answered every time.
    """
    started = time.monotonic()

    def ready(host: str) -> float:
        target = address(host)
        command = [
            "ssh",
            "-F",
            str(SSH_CONFIG),
            "-o",
            "ConnectTimeout=10",
            "-o",
            f"ProxyJump={ADMIN}@{server_ip}",
        ]
        while time.monotonic() - started < timeout:
            check_stop()
            probe = subprocess.run([*command, target, "true"], capture_output=True, text=True, check=False)
            if probe.returncode == 0:
                return time.monotonic() - started
            time.sleep(2)
        raise SystemExit(
            f"workstation bench: {host} not reachable through {server_ip}: {probe.stderr.strip()}"
        )

    with ThreadPoolExecutor(max_workers=max(len(workstations), 1)) as pool:
        waited = list(pool.map(ready, workstations))
    label = f"ssh through the jump: {len(workstations)}"
    print(f"{label:34} {time.monotonic() - started:7.1f} s (slowest {max(waited):.1f} s)", flush=True)


def write_setup(subnet: str, gateway: str) -> Path:
    """The school server's set-up play (not timed): its domain, its apt cache, the uplink counters."""
    counters = (
        "table inet wsbench {\n"
        "  counter outside {}\n  counter workstations {}\n"
        "  chain in {\n    type filter hook input priority -10; policy accept;\n"
        f"    ip saddr != {subnet} counter name outside\n"
        f"    ip saddr {subnet} ip saddr != {gateway} counter name workstations\n  }}\n"
        "  chain out {\n    type filter hook output priority -10; policy accept;\n"
        f"    ip daddr != {subnet} counter name outside\n"
        f"    ip daddr {subnet} ip daddr != {gateway} counter name workstations\n  }}\n"
        "}\n"
    )
    play = [
        {
            "name": "The bench's school server: its domain, its apt cache, counters on its uplink",
            "hosts": SERVER_GROUP,
            "tasks": [
                {
                    # The family image has every school role's packages, and their services started:
                    # dnsdist on 127.0.0.1:53 keeps Samba's DNS from listening. Only the DC and the
                    # cache are this bench's business.
                    "name": "Stop the other roles' services the image started",
                    "ansible.builtin.systemd_service": {
                        "name": "{{ item }}",
                        "state": "stopped",
                        "enabled": False,
                    },
                    "loop": [
                        "dnsdist",
                        "unbound",
                        "freeradius",
                        "kea-dhcp4-server",
                        "nginx",
                        "tftpd-hpa",
                        "clamav-daemon",
                        "clamav-freshclam",
                    ],
                    "failed_when": False,
                },
                {"name": "The school's domain", "ansible.builtin.include_role": {"name": "school_directory"}},
                {
                    "name": "The school's apt cache, as workstation_install configures it",
                    "ansible.builtin.template": {
                        "src": str(
                            ROOT / "roles" / "workstation_install" / "templates" / "apt-cacher-ng.conf.j2"
                        ),
                        "dest": "/etc/apt-cacher-ng/zz_workstation_install.conf",
                        "owner": "root",
                        "group": "apt-cacher-ng",
                        "mode": "0640",
                    },
                    "vars": {
                        "workstation_install_apt_cache_port": CACHE_PORT,
                        "workstation_install_apt_cache_upstream_proxy": "",
                    },
                },
                {
                    "name": "Start the cache",
                    "ansible.builtin.systemd_service": {
                        "name": "apt-cacher-ng",
                        "state": "restarted",
                        "enabled": True,
                    },
                },
                {
                    "name": "Count the bytes to the outside and to the workstations",
                    "ansible.builtin.copy": {"dest": "/etc/wsbench.nft", "content": counters, "mode": "0644"},
                },
                {"name": "Load the counters", "ansible.builtin.command": "nft -f /etc/wsbench.nft"},
            ],
        }
    ]
    path = WORK / "setup.yml"
    path.write_text(json.dumps(play, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def playbook(
    name: str, play: Path, hosts: Sequence[str], mitogen: bool = False, must_pass: bool = True
) -> Run:
    """One ansible-runner run over `hosts`, as fleet_bench.playbook, on this bench's lab."""
    check_stop()
    # Two SSH handshakes (the jump, then the workstation) on loaded cores: 10 s is too short here.
    envvars = {**fleet_bench.env(), "ANSIBLE_TIMEOUT": "30", **(fleet.mitogen_envvars() if mitogen else {})}
    private = WORK / "runner" / name.replace(" ", "-").replace("/", "-").replace(",", "")
    shutil.rmtree(private, ignore_errors=True)
    private.mkdir(parents=True)
    cpu = cpu_now(LABEL)
    started = time.monotonic()
    runner = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(ROOT),
        playbook=str(play),
        inventory=str(INVENTORY),
        limit=",".join(hosts),
        cmdline=f"--forks {max(len(hosts), 1)}",
        envvars=envvars,
        quiet=True,
        cancel_callback=STOP.is_set,
    )
    seconds = time.monotonic() - started
    check_stop()
    run = fleet_bench.run_record(name, seconds, runner.stats or {}, cpu, LABEL)
    print(run.line(), flush=True)
    changed = []
    for event in runner.events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and (data.get("res") or {}).get("changed"):
            changed.append(f"{data.get('host')}: {data.get('task')}")
        if event.get("event") in {"runner_on_failed", "runner_on_unreachable"} and not data.get(
            "ignore_errors"
        ):
            message = str((data.get("res") or {}).get("msg", "")).strip()[:600]
            print(f"    {data.get('host')}: {data.get('task')}: {message}", flush=True)
    if changed and len(changed) <= 12:
        print(f"    changed: {changed}", flush=True)
    if runner.rc != 0:
        print(f"    (full output: {private}/artifacts)", flush=True)
        if must_pass:
            raise SystemExit(f"workstation bench: {name} failed (rc {runner.rc})")
    return run


def counters() -> dict[str, int]:
    """Bytes so far through the school server's nft counters (outside, workstations)."""
    out = lab.podman(
        "exec", PREFIX + SERVER, "nft", "-j", "list", "counters", "table", "inet", "wsbench"
    ).stdout
    found: dict[str, int] = {}
    for item in json.loads(out)["nftables"]:
        if "counter" in item:
            found[item["counter"]["name"]] = int(item["counter"]["bytes"])
    return found


def interface_bytes(host: str) -> int:
    out = lab.podman(
        "exec",
        PREFIX + host,
        "cat",
        "/sys/class/net/eth0/statistics/rx_bytes",
        "/sys/class/net/eth0/statistics/tx_bytes",
    ).stdout
    return sum(int(value) for value in out.split())


def night(workstations: Sequence[str]) -> dict[str, Any]:
    """Start every workstation's boot-time update at once and count the bytes on both sides."""
    check_stop()
    for host in workstations:
        set_last_update(host, 48)
    before_server = counters()
    with ThreadPoolExecutor(max_workers=len(workstations)) as pool:
        before = dict(zip(workstations, pool.map(interface_bytes, workstations), strict=True))
        started = time.monotonic()
        cpu = cpu_now(LABEL)

        def update(host: str) -> str:
            unit = "schoolfleet-upkeep-update.service"
            lab.podman("exec", PREFIX + host, "systemctl", "start", unit, check=False)
            status = lab.podman(
                "exec", PREFIX + host, "cat", "/var/lib/schoolfleet/upkeep/status.json", check=False
            )
            return status.stdout

        statuses = dict(zip(workstations, pool.map(update, workstations), strict=True))
        seconds = time.monotonic() - started
        _, containers_cpu = cpu_since(cpu, LABEL)
        after = dict(zip(workstations, pool.map(interface_bytes, workstations), strict=True))
    after_server = counters()
    results: dict[str, int] = {}
    upgraded = []
    for host, text in statuses.items():
        try:
            status = json.loads(text)
        except ValueError:
            status = {"result": "no status"}
        results[str(status.get("result"))] = results.get(str(status.get("result")), 0) + 1
        if status.get("result") != "ok":
            print(f"    {host}: {status.get('result')}: {status.get('reason', '')}", flush=True)
        upgraded.append(int(status.get("upgraded", 0)))
    outside = after_server["outside"] - before_server["outside"]
    lan = after_server["workstations"] - before_server["workstations"]
    own = sum(after[h] - before[h] for h in workstations)
    report = {
        "workstations": len(workstations),
        "seconds": seconds,
        "containers_cpu": containers_cpu,
        "results": results,
        "upgraded_per_workstation": sorted(set(upgraded)),
        "uplink_bytes": outside,
        "server_workstation_side_bytes": lan,
        "workstations_interface_bytes": own,
    }
    n = len(workstations)
    print(
        f"{'update night, ' + str(n) + ' workstations':34} {seconds:7.1f} s  results {results}, "
        f"packages upgraded per machine {sorted(set(upgraded))}; containers cpu {containers_cpu:.1f} s",
        flush=True,
    )
    print(
        f"    uplink (server <-> outside) {mb(outside)}, {mb(outside / n)} per workstation; "
        f"workstation side {mb(lan)} ({mb(lan / n)} each); workstations' own interfaces {mb(own)}",
        flush=True,
    )
    return report


def mb(value: float) -> str:
    return f"{value / 1e6:.2f} MB"


def set_last_update(host: str, hours_ago: float) -> None:
    """Make the workstation's last successful update `hours_ago` old (its boot-time update reads it).

    The clones boot with the update unit enabled: with no status they would all update at once, out
    of the bench's counters. Before the commit the update is made recent; at the night, old enough.
    """
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    status = json.dumps({"result": "ok", "last_success": moment.isoformat()})
    path = "/var/lib/schoolfleet/upkeep/status.json"
    lab.podman(
        "exec", PREFIX + host, "sh", "-c", f"mkdir -p {path.rsplit('/', 1)[0]} && echo '{status}' > {path}"
    )


def commit_clone_image(first: str) -> None:
    started = time.monotonic()
    set_last_update(first, 0)
    lab.podman("commit", "--quiet", PREFIX + first, CLONE_IMAGE)
    print(f"{'commit ' + first:34} {time.monotonic() - started:7.1f} s", flush=True)


def clone(hosts: Sequence[str]) -> None:
    started = time.monotonic()
    for host in hosts:
        start(host, CLONE_IMAGE)
    for host in hosts:
        lab.wait_for_systemd(PREFIX + host, timeout=180)
    print(f"{'clones up: ' + str(len(hosts)):34} {time.monotonic() - started:7.1f} s", flush=True)


def summary(
    runs: dict[str, Run], scales: Sequence[int], mitogen: bool, traffic: dict[str, Any] | None
) -> None:
    def show(label: str, text: str) -> None:
        print(f"{label:46} {text}")

    def same(a: Run, b: Run) -> str:
        return "same ok/changed" if (a.ok, a.changed) == (b.ok, b.changed) else "DIFFERENT ok/changed"

    print()
    print(f"workstation bench, end: {uptime()}")
    for count in scales:
        plain, mine = runs.get(f"plain{count}"), runs.get(f"mitogen{count}")
        if plain is None:
            show(f"no-change, {count} workstation(s):", "not measured")
            continue
        show(
            f"no-change, {count} workstation(s):",
            f"{plain.seconds:.1f} s, controller cpu {plain.controller_cpu:.1f} s, "
            f"changed {plain.changed} (target 0)",
        )
        if mine is not None:
            show(
                f"  mitogen / plain, {count}:",
                f"time {ratio(mine.seconds, plain.seconds)}, controller cpu "
                f"{ratio(mine.controller_cpu, plain.controller_cpu)} "
                f"({same(mine, plain)}, changed {mine.changed})",
            )
    measured = [count for count in scales if f"plain{count}" in runs]
    if len(measured) >= 2:
        small, large = measured[0], measured[-1]
        for kind in ("plain", "mitogen"):
            a, b = runs.get(f"{kind}{small}"), runs.get(f"{kind}{large}")
            if a is None or b is None:
                continue
            show(
                f"{kind} {large} vs {small}:",
                f"time {ratio(b.seconds, a.seconds)}, "
                f"controller cpu {ratio(b.controller_cpu, a.controller_cpu)}",
            )
            project(kind, small, a, large, b)
    if traffic:
        n = traffic["workstations"]
        show(
            f"update night, {n} workstations:",
            f"uplink {mb(traffic['uplink_bytes'] / n)} per workstation, workstation side "
            f"{mb(traffic['server_workstation_side_bytes'] / n)} each: uplink / workstation side "
            f"{ratio(traffic['uplink_bytes'], traffic['server_workstation_side_bytes'])}",
        )


@dataclass
class Projection:
    per_workstation: float  # seconds for each further workstation
    fixed: float  # seconds of a run whatever its size (the play, the controller's start)
    school: float  # a school of SCHOOL_SIZE workstations
    fleet: float  # SCHOOLS such schools


def projection(small: int, at_small: float, large: int, at_large: float) -> Projection:
    """A straight line through two measured scales (seconds at `small` and `large` workstations)."""
    per_workstation = (at_large - at_small) / (large - small)
    fixed = at_small - small * per_workstation
    school = fixed + SCHOOL_SIZE * per_workstation
    return Projection(per_workstation, fixed, school, SCHOOLS * school)


def project(kind: str, small: int, a: Run, large: int, b: Run) -> None:
    """Controller CPU (and wall time) per workstation, to a school and to the fleet.

    The workstations' own CPU is theirs in production: only the controller's stays on its 2 cores,
    so the fleet's floor is its CPU over them. The lab's wall time is an upper bound for a school:
    here the workstations run on the controller's cores (and other people's scenarios too).
    """
    cores = 2
    cpu = projection(small, a.controller_cpu, large, b.controller_cpu)
    wall = projection(small, a.seconds, large, b.seconds)
    print(
        f"{'  ' + kind + ' projection:':46} {cpu.per_workstation:.2f} s controller cpu per workstation "
        f"(+{cpu.fixed:.1f} s per run); a school of {SCHOOL_SIZE}: {cpu.school:.0f} s cpu, "
        f"<= {wall.school / 60:.1f} min wall (lab); {FLEET_WORKSTATIONS} workstations ({SCHOOLS} schools): "
        f"{cpu.fleet / 60:.0f} min controller cpu, >= {cpu.fleet / cores / 60:.0f} min on {cores} cores"
    )


def stopped(signum: int, _frame: object) -> None:
    STOP.set()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workstations", type=int, default=30, help="how many workstations in the school")
    parser.add_argument("--scales", default="1,10", help="the smaller counts timed besides --workstations")
    parser.add_argument("--no-mitogen", action="store_true", help="skip the Mitogen runs")
    parser.add_argument("--no-night", action="store_true", help="skip the update night")
    parser.add_argument("--keep", action="store_true", help="leave the bench's containers running")
    parser.add_argument(
        "--reuse-server",
        action="store_true",
        help="keep the school server of a run with --keep and skip its set-up (workstations are always new)",
    )
    args = parser.parse_args(argv)
    count = args.workstations
    scales = sorted({int(x) for x in args.scales.split(",") if x.strip() and int(x) < count} | {1, count})
    mitogen = not args.no_mitogen
    hosts = workstation_names(count)
    print(f"workstation bench, start: {uptime()}", flush=True)
    os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "scripts" / "containers.conf"))
    reuse = args.reuse_server and any(
        row["name"] == PREFIX + SERVER and row["state"] == "running" for row in lab.lab_containers(LABEL)
    )
    # Leftover workstations would make a first converge a second one.
    leftovers = [
        row["name"] for row in lab.lab_containers(LABEL) if not reuse or row["name"] != PREFIX + SERVER
    ]
    if leftovers:
        lab.podman("rm", "--force", "--time", "3", *leftovers)
    lab.ensure_network(NETWORK)
    shutil.rmtree(WORK / "runner", ignore_errors=True)
    signal.signal(signal.SIGTERM, stopped)
    signal.signal(signal.SIGINT, stopped)
    runs: dict[str, Run] = {}
    traffic: dict[str, Any] | None = None
    play = ROOT / "playbooks" / "workstations.yml"
    try:
        started = time.monotonic()
        fresh = [hosts[0]] if reuse else [SERVER, hosts[0]]
        if not reuse:
            start(SERVER, SERVER_IMAGE)
        start(hosts[0], lab.IMAGE)
        for name in fresh:
            lab.wait_for_systemd(PREFIX + name)
        print(f"{'lab up: ' + ', '.join(fresh):34} {time.monotonic() - started:7.1f} s", flush=True)
        fleet_bench.preseed(fresh, prefix=PREFIX)
        subnet, gateway = network_facts()
        server_ip = address(SERVER)
        write_inventory(server_ip, hosts[:1])
        if reuse:
            print("setup: the school server of an earlier --keep run, reused", flush=True)
        else:
            playbook("setup: school server", write_setup(subnet, gateway), [SERVER])
        wait_for_ssh(server_ip, hosts[:1])
        playbook(f"first converge ({hosts[0]})", play, hosts[:1])
        # The second run is the no-change run when it changes nothing (it must not).
        runs["plain1"] = playbook(f"second run = no-change, 1 ({hosts[0]})", play, hosts[:1])
        if runs["plain1"].changed:
            runs["plain1"] = playbook("no-change, 1 workstation", play, hosts[:1])
        if mitogen:
            runs["mitogen1"] = playbook("mitogen no-change, 1 workstation", play, hosts[:1], mitogen=True)
        if count > 1:
            commit_clone_image(hosts[0])
            clone(hosts[1:])
            write_inventory(server_ip, hosts)
            wait_for_ssh(server_ip, hosts[1:])
            playbook(f"per-host run of {count - 1} clones", play, hosts[1:])
            for size in scales[1:]:
                runs[f"plain{size}"] = playbook(f"no-change, {size} workstations", play, hosts[:size])
                if mitogen:
                    runs[f"mitogen{size}"] = playbook(
                        f"mitogen no-change, {size} workstations",
                        play,
                        hosts[:size],
                        mitogen=True,
                        must_pass=False,
                    )
        if not args.no_night:
            traffic = night(hosts)
            (WORK / "night.json").write_text(json.dumps(traffic, indent=2) + "\n")
    finally:
        if args.keep:
            print(f"kept: {PREFIX}* on {NETWORK}")
        else:
            lab.down([], label=LABEL)
            lab.podman("network", "rm", NETWORK, check=False)
            lab.podman("rmi", "--force", CLONE_IMAGE, check=False)
        if sys.exc_info()[0] is not None:
            print("\nworkstation bench stopped before the end; what it measured:")
            summary(runs, scales, mitogen, traffic)
    summary(runs, scales, mitogen, traffic)
    return 0


if __name__ == "__main__":
    sys.exit(main())
