#!/usr/bin/python3
"""Apply account plans to this school's Samba AD directory (runs on the school server, as root).

    schoolfleet-directory export          the accounts this tool manages, as JSON, for the planner
    schoolfleet-directory apply [--check] a plan (JSON on stdin, from `python -m schoolfleet.accounts`)
    schoolfleet-directory housekeeping    archive, then remove, leavers whose grace period is over
    schoolfleet-directory ensure          create the OUs and class groups of the config that are missing

Everything a plan changes in the directory is written in one sam.ldb transaction: creating 500
accounts costs one commit (password hashing dominates) instead of 500 samba-tool start-ups, and a
failure half-way leaves the directory as it was. Passwords arrive on stdin only and are never
written anywhere but the directory's hashes.

The accounts carry their own bookkeeping, so no state file can drift from the directory:
employeeID holds the pupil's identity key (a hash made by the planner, no personal data),
employeeType is "pupil" or "teacher", info holds "schoolfleet:left=DATE[;archived=DATE]".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pwd
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import ldb
from samba.auth import system_session
from samba.dsdb import UF_ACCOUNTDISABLE, UF_DONT_EXPIRE_PASSWD, UF_NORMAL_ACCOUNT
from samba.param import LoadParm
from samba.samdb import SamDB

CONFIG = Path("/etc/schoolfleet/directory.json")
MANAGED_KINDS = ("pupil", "teacher")
LEFT_TAG = "schoolfleet:"


def open_samdb() -> SamDB:
    lp = LoadParm()
    lp.load_default()
    return SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)


def text(msg: ldb.Message, attr: str) -> str:
    return str(msg[attr][0]) if attr in msg else ""


def parse_info(info: str) -> dict[str, str]:
    if not info.startswith(LEFT_TAG):
        return {}
    fields = (part.split("=", 1) for part in info[len(LEFT_TAG) :].split(";") if "=" in part)
    return dict(fields)


def format_info(fields: dict[str, str]) -> str:
    return LEFT_TAG + ";".join(f"{key}={value}" for key, value in sorted(fields.items()))


def managed_users(samdb: SamDB) -> list[ldb.Message]:
    kinds = "".join(f"(employeeType={kind})" for kind in MANAGED_KINDS)
    return list(
        samdb.search(
            base=samdb.domain_dn(),
            scope=ldb.SCOPE_SUBTREE,
            expression=f"(&(objectClass=user)(|{kinds}))",
            attrs=[
                "sAMAccountName",
                "employeeID",
                "employeeType",
                "userAccountControl",
                "info",
                "memberOf",
                "givenName",
                "sn",
            ],
        )
    )


def group_name(dn: ldb.Dn) -> str:
    return str(dn.get_rdn_value())


def export(samdb: SamDB) -> dict[str, Any]:
    users = []
    for msg in managed_users(samdb):
        uac = int(text(msg, "userAccountControl") or 0)
        users.append(
            {
                "login": text(msg, "sAMAccountName"),
                "identity": text(msg, "employeeID"),
                "kind": text(msg, "employeeType"),
                "enabled": not uac & UF_ACCOUNTDISABLE,
                "left": parse_info(text(msg, "info")).get("left"),
                "given": text(msg, "givenName"),
                "surname": text(msg, "sn"),
                "groups": sorted(group_name(ldb.Dn(samdb, str(value))) for value in msg.get("memberOf", [])),
            }
        )
    every_login = [
        text(msg, "sAMAccountName").lower()
        for msg in samdb.search(
            base=samdb.domain_dn(),
            scope=ldb.SCOPE_SUBTREE,
            expression="(sAMAccountName=*)",
            attrs=["sAMAccountName"],
        )
    ]
    return {"users": sorted(users, key=lambda u: u["login"]), "taken_logins": sorted(every_login)}


def find_one(samdb: SamDB, expression: str, what: str) -> ldb.Message:
    found = samdb.search(base=samdb.domain_dn(), scope=ldb.SCOPE_SUBTREE, expression=expression)
    if len(found) != 1:
        raise SystemExit(f"{what}: expected one directory entry, found {len(found)}")
    return found[0]


def user_dn(samdb: SamDB, login: str) -> ldb.Dn:
    # A Dn of our own rather than one tied to the lifetime of the search result.
    found = find_one(samdb, f"(&(objectClass=user)(sAMAccountName={ldb.binary_encode(login)}))", login)
    return ldb.Dn(samdb, str(found.dn))


def group_dns(samdb: SamDB, names: set[str]) -> dict[str, ldb.Dn]:
    dns = {}
    for name in sorted(names):
        found = find_one(
            samdb, f"(&(objectClass=group)(sAMAccountName={ldb.binary_encode(name)}))", f"group {name}"
        )
        dns[name] = ldb.Dn(samdb, str(found.dn))
    return dns


def unicode_pwd(password: str) -> bytes:
    return f'"{password}"'.encode("utf-16-le")


def apply_plan(samdb: SamDB, config: dict[str, Any], plan: dict[str, Any]) -> dict[str, float]:
    """Write the whole plan in one transaction, then make the new home folders; return the seconds
    each took (the import's log shows where time goes on a slow server)."""
    started = time.monotonic()
    wanted_groups: set[str] = set()
    for entry in plan["create"]:
        wanted_groups.update(entry["groups"])
    for entry in plan["set_groups"]:
        wanted_groups.update(entry["add"], entry["remove"])

    samdb.transaction_start()
    try:
        groups = group_dns(samdb, wanted_groups)
        changes: dict[tuple[str, int], list[str]] = {}

        def member_change(group: str, dn: str, flag: int) -> None:
            changes.setdefault((group, flag), []).append(dn)

        base = ldb.Dn(samdb, f"{config['pupils_ou']},{samdb.domain_dn()}")
        teachers = ldb.Dn(samdb, f"{config['teachers_ou']},{samdb.domain_dn()}")
        for entry in plan["create"]:
            parent = base if entry["kind"] == "pupil" else teachers
            dn = f"CN={ldb.binary_encode(entry['login'])},{parent}"
            samdb.add(
                {
                    "dn": dn,
                    "objectClass": "user",
                    "sAMAccountName": entry["login"],
                    "userPrincipalName": f"{entry['login']}@{config['realm'].lower()}",
                    "givenName": entry["given"],
                    "sn": entry["surname"],
                    "displayName": f"{entry['given']} {entry['surname']}",
                    "employeeID": entry["identity"],
                    "employeeType": entry["kind"],
                    "homeDirectory": f"\\\\{config['server']}\\{entry['login']}",
                    "homeDrive": config["home_drive"],
                    "userAccountControl": str(UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD),
                    "unicodePwd": unicode_pwd(entry["password"]),
                }
            )
            for group in entry["groups"]:
                member_change(group, dn, ldb.FLAG_MOD_ADD)
        for entry in plan["set_groups"]:
            dn = str(user_dn(samdb, entry["login"]))
            for group in entry["add"]:
                member_change(group, dn, ldb.FLAG_MOD_ADD)
            for group in entry["remove"]:
                member_change(group, dn, ldb.FLAG_MOD_DELETE)
        for (group, flag), dns in sorted(changes.items()):
            msg = ldb.Message(groups[group])
            msg["member"] = ldb.MessageElement(dns, flag, "member")
            samdb.modify(msg)
        for entry in plan["disable"]:
            set_disabled(samdb, entry["login"], True, format_info({"left": entry["date"]}))
        for entry in plan["enable"]:
            set_disabled(samdb, entry["login"], False, None)
        for entry in plan["reset"]:
            msg = ldb.Message(user_dn(samdb, entry["login"]))
            msg["unicodePwd"] = ldb.MessageElement(
                unicode_pwd(entry["password"]), ldb.FLAG_MOD_REPLACE, "unicodePwd"
            )
            samdb.modify(msg)
    except BaseException:
        samdb.transaction_cancel()
        raise
    samdb.transaction_commit()
    committed = time.monotonic()
    for entry in plan["create"]:
        make_home(config, entry["login"])
    return {"transaction": round(committed - started, 2), "homes": round(time.monotonic() - committed, 2)}


def set_disabled(samdb: SamDB, login: str, disabled: bool, info: str | None) -> None:
    current = find_one(samdb, f"(sAMAccountName={ldb.binary_encode(login)})", login)
    uac = int(text(current, "userAccountControl"))
    uac = uac | UF_ACCOUNTDISABLE if disabled else uac & ~UF_ACCOUNTDISABLE
    msg = ldb.Message(ldb.Dn(samdb, str(current.dn)))
    msg["userAccountControl"] = ldb.MessageElement(str(uac), ldb.FLAG_MOD_REPLACE, "userAccountControl")
    if info is None:
        if "info" in current:
            msg["info"] = ldb.MessageElement([], ldb.FLAG_MOD_DELETE, "info")
    else:
        msg["info"] = ldb.MessageElement(info, ldb.FLAG_MOD_REPLACE, "info")
    samdb.modify(msg)


def make_home(config: dict[str, Any], login: str) -> None:
    """A private folder owned by the account's mapped uid (winbind allocates it on first lookup)."""
    home = Path(config["homes"]) / login
    home.mkdir(mode=0o700, exist_ok=True)
    account = pwd.getpwnam(login)
    shutil.chown(home, account.pw_uid, account.pw_gid)
    home.chmod(0o700)
    if config.get("quota_kib"):
        # Only where the file system is mounted with usrquota; see the role's README notes.
        subprocess.run(
            ["setquota", "-u", str(account.pw_uid), "0", str(config["quota_kib"]), "0", "0", config["homes"]],
            check=True,
        )


def housekeeping(samdb: SamDB, config: dict[str, Any], today: dt.date) -> dict[str, list[str]]:
    """Leavers stay disabled with their files for the grace period, then archived, then removed."""
    done: dict[str, list[str]] = {"archived": [], "removed": []}
    grace = dt.timedelta(days=config["grace_days"])
    keep = dt.timedelta(days=config["archive_days"])
    archive_dir = Path(config["archive"])
    for msg in managed_users(samdb):
        fields = parse_info(text(msg, "info"))
        if "left" not in fields:
            continue
        login = text(msg, "sAMAccountName")
        left = dt.date.fromisoformat(fields["left"])
        home = Path(config["homes"]) / login
        tarball = archive_dir / f"{login}-{fields['left']}.tar.gz"
        if "archived" not in fields and today - left >= grace:
            archive_dir.mkdir(mode=0o700, exist_ok=True)
            with tarfile.open(tarball, "w:gz") as tar:
                if home.exists():
                    tar.add(home, arcname=login)
            tarball.chmod(0o600)
            if home.exists():
                shutil.rmtree(home)
            change = ldb.Message(ldb.Dn(samdb, str(msg.dn)))
            fields["archived"] = today.isoformat()
            change["info"] = ldb.MessageElement(format_info(fields), ldb.FLAG_MOD_REPLACE, "info")
            samdb.modify(change)
            done["archived"].append(login)
        elif "archived" in fields and today - left >= grace + keep:
            tarball.unlink(missing_ok=True)
            samdb.delete(msg.dn)
            done["removed"].append(login)
    return done


def exists(samdb: SamDB, dn: ldb.Dn) -> bool:
    try:
        return bool(samdb.search(base=dn, scope=ldb.SCOPE_BASE, attrs=[]))
    except ldb.LdbError as err:
        if err.args[0] == ldb.ERR_NO_SUCH_OBJECT:
            return False
        raise


def ensure(samdb: SamDB, config: dict[str, Any]) -> list[str]:
    """OUs and groups in one transaction: one process for the whole school instead of one per group."""
    created = []
    base = samdb.domain_dn()
    samdb.transaction_start()
    try:
        for ou in (config["pupils_ou"], config["teachers_ou"], config["groups_ou"]):
            dn = ldb.Dn(samdb, f"{ou},{base}")
            if not exists(samdb, dn):
                samdb.add({"dn": str(dn), "objectClass": "organizationalUnit"})
                created.append(ou)
        for name in config["groups"]:
            safe = ldb.binary_encode(name)
            if not samdb.search(
                base=base, scope=ldb.SCOPE_SUBTREE, expression=f"(sAMAccountName={safe})", attrs=[]
            ):
                samdb.add(
                    {
                        "dn": f"CN={safe},{config['groups_ou']},{base}",
                        "objectClass": "group",
                        "sAMAccountName": name,
                    }
                )
                created.append(name)
    except BaseException:
        samdb.transaction_cancel()
        raise
    samdb.transaction_commit()
    return created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="schoolfleet-directory", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("export")
    sub.add_parser("ensure")
    apply = sub.add_parser("apply")
    apply.add_argument("--check", action="store_true", help="validate the plan, change nothing")
    keeping = sub.add_parser("housekeeping")
    keeping.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args(argv)

    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    samdb = open_samdb()
    if args.command == "export":
        result: dict[str, Any] = export(samdb)
    elif args.command == "ensure":
        created = ensure(samdb, config)
        result = {"changed": bool(created), "created": created}
    elif args.command == "apply":
        plan = json.load(sys.stdin)
        counts = {key: len(plan[key]) for key in ("create", "set_groups", "disable", "enable", "reset")}
        result = {"changed": any(counts.values()), "counts": counts}
        if not args.check:
            result["seconds"] = apply_plan(samdb, config, plan)
    else:
        done = housekeeping(samdb, config, args.today)
        result = {"changed": any(done.values()), **done}
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
