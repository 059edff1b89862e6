"""Onboard and offboard members, schools and equipment in the convention register.

    python -m schoolfleet.onboarding init DIR --name "Communauté de communes X"
    python -m schoolfleet.onboarding add-commune --insee 91999 --name Nouvelle --reference CONV-2026-050 \
        --joined 2026-09-01 [--wifi]
    python -m schoolfleet.onboarding add-sivos --code a-b --name "SIVOS A-B" --commune 91001=A \
        --commune 91002=B --reference CONV-2026-051 --joined 2026-09-01 [--wifi]
    python -m schoolfleet.onboarding add-school --member 91999 --uai 0911234A --name "École X" \
        --kind primaire --zone C --pupils 120 --teachers 5 [--commune INSEE] [--packs base,maternelle]
    python -m schoolfleet.onboarding add-equipment (--school UAI --tag SF-001 --kind workstation \
        --model M --serial S --installed 2026-09-01 [--unit N] | --csv FILE)
    python -m schoolfleet.onboarding move-equipment (--tag SF-001 | --csv FILE) --to UAI [--unit N]
    python -m schoolfleet.onboarding retire-equipment (--tag SF-001 | --csv FILE) --on 2026-07-01
    python -m schoolfleet.onboarding deliver --csv DELIVERY.csv [--on 2026-09-01]
    python -m schoolfleet.onboarding leave --member 91999 --on 2027-01-01
    python -m schoolfleet.onboarding set-option --member 91999 --option wifi --since 2027-01-01
    python -m schoolfleet.onboarding end-option --member 91999 --option wifi --until 2027-08-31
    python -m schoolfleet.onboarding add-licence --school UAI --product P --seats 10 --start 2027-01-01 \
        [--end 2027-12-31]
    python -m schoolfleet.onboarding retire-licence --school UAI --product P --end 2027-12-31
    python -m schoolfleet.onboarding renewal-list --year 2027 [--format csv|text] [--out FILE]
    python -m schoolfleet.onboarding renewal-apply CHANGES.yml
    python -m schoolfleet.onboarding catalogue-impact (--base REF | --old-register DIR) [--format json]

Every editing command takes --register DIR and --dry-run, prints the change as a unified diff and writes
only when the loader finds the edited register valid (all files or none). Exit status 2 on refusal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from schoolfleet.onboarding import impact, renewal
from schoolfleet.onboarding.batch import Step, changes_steps, csv_steps, parse_communes, run
from schoolfleet.onboarding.changeset import Changeset, OnboardingError, register_lock
from schoolfleet.onboarding.init import init
from schoolfleet.onboarding.operations import Context
from schoolfleet.register import RegisterError, load_register

# The demo register of this checkout, wherever the command is started from.
DEFAULT_REGISTER = Path(__file__).resolve().parents[3] / "inventories" / "demo" / "register"


def _steps(args: argparse.Namespace) -> list[Step]:
    command = args.command
    if command in ("add-equipment", "move-equipment", "retire-equipment"):
        action = command.replace("-", "_")
        common = {name: getattr(args, name, None) for name in ("to", "on", "unit")}
        if args.csv is not None:
            single = ("school", "tag", "kind", "model", "serial", "installed")
            given = [f"--{name}" for name in single if getattr(args, name, None) is not None]
            if given:
                raise OnboardingError(f"--csv gives the devices; {', '.join(given)} cannot go with it")
            return csv_steps(args.csv, action, {k: v for k, v in common.items() if v is not None})
        names = ("school", "tag", "kind", "model", "serial", "installed", "unit", "to", "on")
        return [
            Step(None, action, {name: getattr(args, name, None) for name in names if hasattr(args, name)})
        ]
    if command == "deliver":
        return csv_steps(args.csv, "deliver", {"on": args.on or dt.date.today().isoformat()})
    if command == "renewal-apply":
        return changes_steps(args.changes)
    fields = {
        "add-commune": ("insee", "name", "reference", "joined", "wifi"),
        "add-sivos": ("code", "name", "reference", "joined", "wifi"),
        "add-school": (
            "member",
            "uai",
            "name",
            "kind",
            "zone",
            "pupils",
            "teachers",
            "commune",
            "packs",
            "block",
        ),
        "leave": ("member", "on"),
        "set-option": ("member", "option", "since"),
        "end-option": ("member", "option", "until"),
        "add-licence": ("school", "product", "seats", "start", "end"),
        "retire-licence": ("school", "product", "end"),
    }[command]
    values: dict[str, object] = {name: getattr(args, name) for name in fields}
    if command == "add-sivos":
        values["communes"] = [f"{insee}={name}" for insee, name in parse_communes(args.commune)]
    return [Step(None, command.replace("-", "_"), values)]


def edit(args: argparse.Namespace) -> str:
    """Apply the command to the register; returns the diff and what was (or would be) written.

    The lock is held from reading the register to writing it: a concurrent command waits, then reads
    the register this one wrote (so two new schools never get the same block).
    """
    steps = _steps(args)
    with register_lock(Path(args.register)):
        register = load_register(args.register)
        changes = Changeset(Path(args.register))
        run(Context.of(changes, register), steps)
        diff = changes.diff()
        if not diff:
            return "no change"
        if args.dry_run:
            return diff + "dry run: nothing written"
        written = changes.write()
    return diff + "written: " + ", ".join(str(path) for path in written)


def renewal_list(args: argparse.Namespace) -> str:
    register = load_register(args.register)
    output = (renewal.csv_text if args.format == "csv" else renewal.text)(register, args.year)
    if args.out is None:
        return output.rstrip("\n")
    args.out.write_text(output, encoding="utf-8-sig" if args.format == "csv" else "utf-8")
    return f"written: {args.out}"


def catalogue_impact(args: argparse.Namespace) -> str:
    """The schools a change of the catalogue reaches: the register against an older version of it."""
    new = load_register(args.register)
    on = dt.date.fromisoformat(args.on) if args.on else dt.date.today()
    if args.base is not None:
        with impact.register_at(args.register, args.base) as old_root:
            old = load_register(old_root)
    else:
        old = load_register(args.old_register)
    impacts = impact.catalogue_impact(old, new, on=on)
    return impact.as_json(impacts) if args.format == "json" else impact.as_text(impacts)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m schoolfleet.onboarding", description=__doc__.split("\n")[0]
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--register", type=Path, default=DEFAULT_REGISTER, help="register directory")
    common.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    commands = main.add_subparsers(dest="command", required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=text, description=text)

    text = "start a register: the authority file, the current tariff grids and an empty members/"
    p = commands.add_parser("init", help=text, description=text)
    p.add_argument("directory", type=Path, help="the new register's directory (absent or empty)")
    p.add_argument("--name", required=True, help="the authority's name")

    def convention(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", required=True)
        p.add_argument("--reference", required=True, help="the convention's reference, e.g. CONV-2026-050")
        p.add_argument("--joined", required=True, help="first day of the convention (YYYY-MM-DD)")
        p.add_argument("--wifi", action=argparse.BooleanOptionalAction, default=False, help="Wi-Fi option")

    p = command("add-commune", "add a commune that signs the convention")
    p.add_argument("--insee", required=True)
    convention(p)
    p = command("add-sivos", "add a SIVOS and its communes")
    p.add_argument("--code", required=True, help="lowercase letters, digits and hyphens")
    p.add_argument("--commune", action="append", required=True, metavar="INSEE=NAME", help="one per commune")
    convention(p)
    p = command("add-school", "add a school to a member (next free address block unless --block)")
    for name in ("member", "uai", "name", "kind", "zone", "pupils", "teachers"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--commune", help="the school's commune (required for a SIVOS)")
    p.add_argument("--packs", help="software packs, comma separated")
    p.add_argument("--block", help="force the address block index")
    p = command("add-equipment", "add a device, or every device of a CSV file")
    for name in ("school", "tag", "kind", "model", "serial", "installed", "unit"):
        p.add_argument(f"--{name}")
    p.add_argument("--csv", type=Path, help="columns school,tag,kind,model,serial,installed[,unit]")
    p = command("move-equipment", "move a device, or every device of a CSV file, to another school")
    p.add_argument("--tag")
    p.add_argument("--to", help="the UAI of the school the devices go to (or a `to` column)")
    p.add_argument("--unit", help="the unit number at the new school (default: the next free one)")
    p.add_argument("--csv", type=Path, help="column tag, optional columns to and unit")
    p = command("retire-equipment", "retire a device, or every device of a CSV file, on a date")
    p.add_argument("--tag")
    p.add_argument("--on", help="the first day without the device (YYYY-MM-DD, or an `on` column)")
    p.add_argument("--csv", type=Path, help="column tag, optional column on")
    p = command(
        "deliver",
        "a supplier's delivery file: each workstation's MAC and next host number, all or nothing",
    )
    p.add_argument(
        "--csv",
        type=Path,
        required=True,
        help="columns serial, mac, model; optional uai (needed for a serial not in the register) and kind "
        "(workstation or specific_workstation)",
    )
    p.add_argument("--on", help="installation day of the machines new to the register (default: today)")
    p = command("leave", "record a member leaving the convention (its first day out)")
    p.add_argument("--member", required=True, help="INSEE code of the commune or code of the SIVOS")
    p.add_argument("--on", required=True)
    p = command("set-option", "switch a convention option on from a date (a new dated period)")
    p.add_argument("--member", required=True, help="INSEE code of the commune or code of the SIVOS")
    p.add_argument("--option", required=True, help="the option: wifi")
    p.add_argument("--since", required=True, help="its first day (YYYY-MM-DD)")
    p = command("end-option", "switch a convention option off: its period in force ends on a date")
    p.add_argument("--member", required=True, help="INSEE code of the commune or code of the SIVOS")
    p.add_argument("--option", required=True, help="the option: wifi")
    p.add_argument("--until", required=True, help="its last day (YYYY-MM-DD)")
    p = command("add-licence", "add a specific software licence to a school, from a date")
    for name in ("school", "product", "seats", "start"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--end", help="its last day, if already known (YYYY-MM-DD)")
    p = command("retire-licence", "end a school's licence in force: its last day")
    for name in ("school", "product", "end"):
        p.add_argument(f"--{name}", required=True)
    p = command("renewal-list", "the schools per member for the coming school year")
    p.add_argument(
        "--year", type=int, required=True, help="the school year's first year (2027 for 2027-2028)"
    )
    p.add_argument("--format", choices=("csv", "text"), default="csv")
    p.add_argument("--out", type=Path, help="write to this file (default: print)")
    p = command("renewal-apply", "apply a changes file (YAML list of actions), all or nothing")
    p.add_argument("changes", type=Path)
    text = "the schools (and their workstations) that a change of the software catalogue reaches"
    p = commands.add_parser("catalogue-impact", help=text, description=text)
    p.add_argument("--register", type=Path, default=DEFAULT_REGISTER, help="register directory (the new one)")
    old = p.add_mutually_exclusive_group(required=True)
    old.add_argument("--base", metavar="REF", help="compare with the register as in this git commit")
    old.add_argument("--old-register", type=Path, metavar="DIR", help="compare with this register directory")
    p.add_argument("--on", help="the day whose members and workstations count (default: today)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "init":
            written = init(args.directory, args.name)
            print("written: " + ", ".join(str(path) for path in written))
        elif args.command == "renewal-list":
            print(renewal_list(args))
        elif args.command == "catalogue-impact":
            print(catalogue_impact(args))
        else:
            print(edit(args))
    except RegisterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OnboardingError as exc:
        count = len(exc.problems)
        lines = "\n".join(f"  {problem}" for problem in exc.problems)
        print(f"error: refused, nothing written ({count} problem{'s' if count > 1 else ''}):\n{lines}",
              file=sys.stderr)  # fmt: skip
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
