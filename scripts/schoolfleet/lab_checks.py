"""What the demo shows working: each service probed the way a person would notice it, in the lab.

After the playbooks, `make demo` asks each lab host a few plain questions: does the school's DNS
filter refuse a listed domain, does the antivirus catch EICAR, does a backup reach the datacenter,
does a registered PC get its install menu and an unknown one only a message. Each check is a shell
script run inside the host's container; it passes when it exits 0, and its last output line is
shown as the evidence.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from schoolfleet import lab

# The EICAR test string, in two halves so that no scanner flags this source file.
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-" + "STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A name the lab's UT1 stand-in lists in `adult` (roles/web_filter/molecule/default/files/make_mirror.py).
BLOCKED_NAME = "blocked-adult.example.net"
# Read one URL on the host (python3 is on every lab image): it must answer 200 with `contains` and
# without `lacks`; the first line holding `show` is the evidence.
HTTP_CHECK = """python3 - "$url" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode(errors="replace")
assert {contains!r} in body, "no {contains!r} in the page"
assert not {lacks!r} or {lacks!r} not in body, "{lacks!r} in the page"
print(next((line for line in body.splitlines() if {show!r} in line), ""))
PY"""


def http_check(url: str, *, contains: str, lacks: str = "", show: str = "") -> str:
    return f"url={url}\n" + HTTP_CHECK.format(contains=contains, lacks=lacks, show=show or contains)


@dataclass(frozen=True, slots=True)
class Check:
    group: str
    title: str
    script: str


@dataclass(frozen=True, slots=True)
class Outcome:
    host: str
    check: Check
    passed: bool
    evidence: str


CHECKS: tuple[Check, ...] = (
    Check(
        "central_servers",
        "the in-house package repository is signed",
        http_check("http://127.0.0.1/debian/InRelease", contains="BEGIN PGP SIGNATURE", show="Date:"),
    ),
    Check(
        "central_servers",
        "the package cache answers the schools",
        http_check("http://127.0.0.1:3142/acng-report.html", contains="Apt-Cacher NG", show="<title>"),
    ),
    Check(
        "school_servers",
        f"the DNS filter refuses {BLOCKED_NAME} (answers the block page)",
        f"answer=$(dig +short @127.0.0.1 {BLOCKED_NAME}); me=$(hostname -I | cut -d' ' -f1)\n"
        'echo "$answer (block page $me)"; [ "$answer" = "$me" ]',
    ),
    Check(
        "school_servers",
        "the school's Active Directory domain answers",
        "samba-tool domain info 127.0.0.1 | grep -E '^Domain *:'",
    ),
    Check(
        "school_servers",
        "the antivirus catches EICAR",
        f"printf '%s' '{EICAR}' > /tmp/demo-eicar.txt\n"
        "clamdscan --no-summary /tmp/demo-eicar.txt; rc=$?; rm -f /tmp/demo-eicar.txt; [ $rc -eq 1 ]",
    ),
    Check(
        "school_servers",
        "a backup reaches the datacenter",
        "systemctl start schoolfleet-backup.service\nschoolfleet-restic snapshots --compact | tail -n 1",
    ),
    Check(
        "school_servers",
        "DHCP (Kea) holds the register's reservations, config valid",
        "kea-dhcp4 -t /etc/kea/kea-dhcp4.conf >/dev/null && "
        "echo $(grep -c '\"hw-address\"' /etc/kea/kea-dhcp4.conf) reservations",
    ),
    Check(
        "school_servers",
        "a registered PC gets the unattended install menu",
        "first=$(ls /srv/workstation-install/ipxe/hosts | head -n 1)\n"
        + http_check("http://127.0.0.1/ipxe/hosts/$first", contains="item install", show="menu "),
    ),
    Check(
        "school_servers",
        "an unknown PC gets only a message, no install",
        http_check(
            "http://127.0.0.1/ipxe/hosts/00-00-5e-00-53-ff.ipxe",
            contains="echo",
            lacks="kernel",
            show="echo $",
        ),
    ),
)


def run_check(container: str, check: Check) -> tuple[bool, str]:
    result = lab.podman("exec", container, "/bin/bash", "-c", check.script, check=False)
    lines = (result.stdout.strip() or result.stderr.strip()).splitlines()
    return result.returncode == 0, lines[-1] if lines else ""


def run_checks(
    hosts_by_group: Mapping[str, Sequence[str]], checks: Iterable[Check] = CHECKS
) -> list[Outcome]:
    outcomes = []
    for check in checks:
        for host in hosts_by_group.get(check.group, ()):
            try:
                passed, evidence = run_check(host, check)
            except (lab.LabError, subprocess.SubprocessError) as exc:
                passed, evidence = False, str(exc)
            outcomes.append(Outcome(host, check, passed, evidence))
    return outcomes


def report(outcomes: Sequence[Outcome]) -> str:
    passed = sum(outcome.passed for outcome in outcomes)
    lines = [f"What works ({passed} of {len(outcomes)} checks passed):"]
    for outcome in outcomes:
        mark = "ok  " if outcome.passed else "FAIL"
        lines.append(f"  {mark} {outcome.host:16} {outcome.check.title}")
        if outcome.evidence:
            lines.append(f"         {'':16} -> {outcome.evidence[:110]}")
    return "\n".join(lines)
