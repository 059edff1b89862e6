"""Plan account changes from school rosters, and print password slips.

    python -m schoolfleet.accounts plan  --pupils P.csv [--teachers T.csv] --classes JSON ... < export.json
    python -m schoolfleet.accounts reset --login LOGIN [--login ...] --classes JSON ...   < export.json
    python -m schoolfleet.accounts slips --out DIR --school NAME                          < plan.json

plan and reset read the directory's current accounts (`schoolfleet-directory export` on the school
server) on stdin and print one JSON object: "report" (what would change, for people), "problems"
(per file and line), "changes", and "payload"/"slips", which hold the new passwords and must only
be piped, never saved: the school_directory role pipes the payload to `schoolfleet-directory apply`
and, once it succeeded, the slips to `slips`, which writes the only copy (a PDF, mode 0600).
Exit status 2: the rosters have bad rows (nothing is planned unless --skip-bad-rows) or the plan
was refused as unsafe.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schoolfleet.accounts import slips
from schoolfleet.accounts.credentials import (
    DEFAULT_LOGIN_PATTERN,
    DEFAULT_PASSWORD_PATTERN,
    validate_password_pattern,
)
from schoolfleet.accounts.plan import Plan, PlanRefusedError, build_plan, pupils_group, reset_plan
from schoolfleet.accounts.roster import Roster, RosterError, read_pupils, read_teachers


def column_options(values: Sequence[str]) -> dict[str, str]:
    columns = {}
    for value in values:
        key, sep, title = value.partition("=")
        if not sep:
            raise SystemExit(f"--column wants KEY=TITLE, got {value!r}")
        columns[key] = title
    return columns


def class_label(user: dict[str, Any], classes: dict[str, str]) -> str:
    labels = [label for class_id, label in classes.items() if pupils_group(class_id) in user["groups"]]
    return ", ".join(labels) or "enseignants"


def emit(plan: Plan, problems: list[str], classes: dict[str, str], directory: dict[str, Any]) -> None:
    users = {user["login"]: user for user in directory["users"]}
    slip_rows = [
        {
            "class_label": a.class_label,
            "name": f"{a.given} {a.surname}",
            "login": a.login,
            "password": a.password,
        }
        for a in plan.create
    ] + [
        {
            "class_label": class_label(users[r["login"]], classes),
            "name": f"{users[r['login']]['given']} {users[r['login']]['surname']}",
            "login": r["login"],
            "password": r["password"],
        }
        for r in plan.reset
    ]
    json.dump(
        {
            "report": plan.summary(),
            "problems": problems,
            "changes": plan.changes,
            "payload": plan.payload(),
            "slips": slip_rows,
        },
        sys.stdout,
        ensure_ascii=False,
    )
    sys.stdout.write("\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m schoolfleet.accounts", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("plan", "reset"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--classes", required=True, help='JSON {"class id": "class name as in the roster"}')
        cmd.add_argument("--password-pattern", default=DEFAULT_PASSWORD_PATTERN)
        cmd.add_argument("--password-min-length", type=int, default=7)
    plan_cmd = sub.choices["plan"]
    plan_cmd.add_argument("--pupils", type=Path, required=True)
    plan_cmd.add_argument("--teachers", type=Path)
    plan_cmd.add_argument("--encoding", default="auto", help="auto, utf-8 or cp1252")
    plan_cmd.add_argument("--separator", help="default: detected from the header line")
    plan_cmd.add_argument("--column", action="append", default=[], help="pupil column KEY=TITLE")
    plan_cmd.add_argument("--teacher-column", action="append", default=[], help="teacher column KEY=TITLE")
    plan_cmd.add_argument("--login-pattern", default=DEFAULT_LOGIN_PATTERN)
    plan_cmd.add_argument("--skip-bad-rows", action="store_true", help="import the good rows anyway")
    plan_cmd.add_argument("--max-disable-ratio", type=float, default=0.5)
    plan_cmd.add_argument("--allow-mass-disable", action="store_true")
    plan_cmd.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    sub.choices["reset"].add_argument("--login", action="append", required=True)
    slips_cmd = sub.add_parser("slips")
    slips_cmd.add_argument("--out", type=Path, required=True, help="directory for the PDF")
    slips_cmd.add_argument("--school", required=True)
    slips_cmd.add_argument("--name", default="", help="file name; default: a time stamp")
    args = parser.parse_args(argv)

    if args.command == "slips":
        data = json.load(sys.stdin)
        path = args.out / (args.name or dt.datetime.now().strftime("slips-%Y%m%d-%H%M%S.pdf"))
        slips.write(path, [slips.Slip(school=args.school, **row) for row in data["slips"]])
        print(path)
        return 0

    classes: dict[str, str] = json.loads(args.classes)
    directory = json.load(sys.stdin)
    try:
        validate_password_pattern(args.password_pattern, args.password_min_length)
        if args.command == "reset":
            emit(reset_plan(directory, args.login, args.password_pattern), [], classes, directory)
            return 0
        roster = Roster()
        read_pupils(args.pupils, classes, roster, args.encoding, args.separator, column_options(args.column))
        if args.teachers:
            read_teachers(
                args.teachers,
                classes,
                roster,
                args.encoding,
                args.separator,
                column_options(args.teacher_column),
            )
        problems = [str(p) for p in sorted(roster.problems, key=lambda p: (p.file, p.line))]
        if problems and not args.skip_bad_rows:
            for problem in problems:
                print(problem, file=sys.stderr)
            print(
                f"{len(problems)} problem(s): nothing planned (fix the file or use --skip-bad-rows)",
                file=sys.stderr,
            )
            return 2
        roster.skipped_rows = len({(p.file, p.line) for p in roster.problems})
        plan = build_plan(
            roster,
            directory,
            classes,
            args.today,
            args.login_pattern,
            args.password_pattern,
            args.max_disable_ratio,
            args.allow_mass_disable,
        )
    except (RosterError, PlanRefusedError, ValueError) as err:
        print(err, file=sys.stderr)
        return 2
    emit(plan, problems, classes, directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
