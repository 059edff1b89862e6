"""Benchmark: import a 500-pupil school into a Samba AD DC running in a lab container.

    python tests/bench/accounts_bench.py [--pupils 500] [--keep]

Starts a throwaway DC container (lab image, Samba from Debian, provisioned like the
school_directory role does, with the role's schoolfleet-directory tool), generates an ONDE-style
roster, then times each step of a real import: the controller's plan, the server's one-transaction
apply, and a second import of the same roster (which must change nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/schoolfleet-debian:12"
CONTAINER = "accounts-bench-dc"
TOOL = ROOT / "roles/school_directory/files/schoolfleet_directory.py"
CLASSES = {f"c{i:02d}": f"Classe {i:02d}" for i in range(1, 21)}
FIRST = ["Léa", "Noé", "Inès", "Chloé", "Moussa", "Jules", "Zoé", "Adam", "Lina", "Gabriel", "Aïcha", "Théo"]
LAST = ["MARTIN", "BERNARD", "DUBOIS", "N'DIAYE", "LEFÈVRE", "GARCIA", "NGUYEN", "PETIT", "ROUX", "BŒUF"]
ADMIN_FIXTURE = "Bench-Only-Adm1n"  # a throwaway domain in a throwaway container


def run(*cmd: str, stdin: str | None = None) -> str:
    env = {**os.environ, "CONTAINERS_CONF": str(ROOT / "scripts/containers.conf")}
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])}... failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def in_dc(script: str, stdin: str | None = None) -> str:
    return run("podman", "exec", "-i", CONTAINER, "bash", "-euc", script, stdin=stdin)


def start_dc() -> None:
    run("podman", "rm", "-f", "-t", "0", CONTAINER)
    run(
        "podman",
        "run",
        "-d",
        "--name",
        CONTAINER,
        "--hostname",
        "benchdc",
        "--systemd=always",
        IMAGE,
        "/sbin/init",
    )
    in_dc(
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
        "samba winbind libnss-winbind krb5-user ldb-tools >/dev/null"
    )
    in_dc(
        "systemctl disable --now smbd nmbd winbind >/dev/null 2>&1;"
        "mv /etc/samba/smb.conf /etc/samba/smb.conf.debian;"
        "samba-tool domain provision --realm=BENCH.LAN --domain=BENCH --server-role=dc"
        f" --dns-backend=SAMBA_INTERNAL --use-rfc2307 --adminpass={ADMIN_FIXTURE}"
        " --option=acl_xattr:security_acl_name=user.NTACL >/dev/null"
    )
    config = {
        "realm": "BENCH.LAN",
        "server": "BENCHDC",
        "home_drive": "H:",
        "pupils_ou": "OU=Eleves",
        "teachers_ou": "OU=Enseignants",
        "groups_ou": "OU=Classes",
        "groups": [
            "eleves",
            "enseignants",
            *(f"eleves-{c}" for c in CLASSES),
            *(f"ens-{c}" for c in CLASSES),
        ],
        "homes": "/srv/school/homes",
        "archive": "/srv/school/archive",
        "grace_days": 90,
        "archive_days": 365,
        "quota_kib": 0,
    }
    in_dc(
        "mkdir -p /etc/schoolfleet /srv/school/homes && cat > /etc/schoolfleet/directory.json",
        json.dumps(config),
    )
    in_dc(
        "cat > /usr/local/sbin/schoolfleet-directory && chmod 755 /usr/local/sbin/schoolfleet-directory",
        TOOL.read_text(),
    )
    # samba-ad-dc must run: home folders are chowned to the uids winbind maps.
    in_dc(
        "mkdir -p /etc/systemd/system/samba-ad-dc.service.d && printf '[Service]\\nTimeoutStopSec=5s\\n' "
        "> /etc/systemd/system/samba-ad-dc.service.d/stop.conf && systemctl daemon-reload && "
        "systemctl unmask samba-ad-dc >/dev/null 2>&1; systemctl start samba-ad-dc && "
        "samba-tool domain passwordsettings set --max-pwd-age=0 --min-pwd-age=0 >/dev/null && "
        "schoolfleet-directory ensure >/dev/null"
    )


def roster(path: Path, count: int) -> None:
    rng = random.Random(1)
    lines = ["Nom élève;Nom d'usage élève;Prénom élève;Date naissance;Sexe;Niveau;Classe"]
    for i in range(count):
        if i % 10 == 0:
            # One in ten is a namesake of the same Léa Martin: exercises the login suffixes.
            last, first, day = "MARTIN", "Léa", f"{1 + i // 10 % 28:02d}/{1 + i // 280:02d}/2017"
        else:
            last = f"{rng.choice(LAST)}-{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}"
            first, day = rng.choice(FIRST), f"{1 + i % 28:02d}/{1 + i % 12:02d}/{2015 + i % 5}"
        lines.append(f"{last};{last};{first};{day};F;CM1;{CLASSES[f'c{1 + i % 20:02d}']}")
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))


def import_once(path: Path) -> tuple[dict[str, object], float, float]:
    current = in_dc("schoolfleet-directory export")
    start = time.perf_counter()
    argv = ["-m", "schoolfleet.accounts", "plan", f"--pupils={path}", f"--classes={json.dumps(CLASSES)}"]
    planned = run(sys.executable, *argv, stdin=current)
    plan_s = time.perf_counter() - start
    plan = json.loads(planned)
    start = time.perf_counter()
    applied = json.loads(in_dc("schoolfleet-directory apply", json.dumps(plan["payload"])))
    apply_s = time.perf_counter() - start
    return (
        {"report": plan["report"][0], "applied": applied["counts"], "split": applied.get("seconds")},
        plan_s,
        apply_s,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pupils", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="leave the DC container running")
    args = parser.parse_args()
    start = time.perf_counter()
    start_dc()
    print(f"DC container ready in {time.perf_counter() - start:.1f} s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pupils.csv"
            roster(path, args.pupils)
            first, plan_s, apply_s = import_once(path)
            made = int(
                in_dc("ldbsearch -H /var/lib/samba/private/sam.ldb '(employeeType=pupil)' dn | grep -c ^dn:")
            )
            print(f"first import: {first['report']}")
            print(
                f"  plan (controller): {plan_s:.2f} s; apply (one transaction, home folders): {apply_s:.2f} s"
            )
            print(f"  apply split (server): {first['split']}; host load average {os.getloadavg()[0]:.1f}")
            print(
                f"  {made} accounts in the directory, {made / (plan_s + apply_s):.1f} accounts/s end to end"
            )
            again, plan_s, apply_s = import_once(path)
            print(f"same roster again: {again['report']} in {plan_s + apply_s:.2f} s")
            if made != args.pupils or again["applied"] != dict.fromkeys(again["applied"], 0):
                print("FAILED: wrong account count or the second import changed something")
                return 1
    finally:
        if not args.keep:
            run("podman", "rm", "-f", "-t", "0", CONTAINER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
