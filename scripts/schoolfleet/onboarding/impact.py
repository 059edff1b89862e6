"""Which schools a change of the software catalogue reaches, and how many workstations each.

Both versions of the register are read by the loader; each school's software is what the inventory
gives it (`schoolfleet.register.inventory.school_software`), so a school "gets a change" exactly when
its classroom workstations would install, remove or reconfigure something: a pack's packages or
settings edited, a pack added to or removed from the school. A package only added to the list of
another pack's packages to remove changes nothing on the machines, and is not listed.

    scripts/onboard catalogue-impact --base origin/main            # the register as in that commit
    scripts/onboard catalogue-impact --old-register /tmp/register-before --format json
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from schoolfleet.onboarding.changeset import OnboardingError
from schoolfleet.register import Register, School
from schoolfleet.register.inventory import school_software


@dataclass(frozen=True)
class SchoolImpact:
    """One school whose workstations get a change."""

    uai: str
    name: str
    member: str
    # Delivered (with a MAC) workstations and specific workstations in service on the day.
    workstations: int
    install: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    # Setting name -> [old value, new value] (None when absent on that side).
    settings: dict[str, list[Any]] = field(default_factory=dict)
    packs_before: list[str] = field(default_factory=list)
    packs_after: list[str] = field(default_factory=list)
    new_school: bool = False


def _workstations(school: School, day: dt.date) -> int:
    return sum(1 for item in school.equipment_held_on(day) if item.kind.workstation and item.mac is not None)


def catalogue_impact(old: Register, new: Register, *, on: dt.date) -> list[SchoolImpact]:
    """The schools (of members in convention on `on`, in the new register's order) that get a change."""
    before = {
        school.uai: school_software(old.authority.software_packs, school.packs) for _, school in old.schools()
    }
    impacts: list[SchoolImpact] = []
    for member in new.members_on(on):
        for school in member.schools:
            after = school_software(new.authority.software_packs, school.packs)
            was = before.get(school.uai)
            old_software = was or {"packs": [], "packages": [], "settings": {}}
            old_packages = set(old_software["packages"])
            new_packages = set(after["packages"])
            old_settings, new_settings = old_software["settings"], after["settings"]
            settings = {
                key: [old_settings.get(key), new_settings.get(key)]
                for key in dict.fromkeys([*old_settings, *new_settings])
                if old_settings.get(key) != new_settings.get(key)
            }
            install = [package for package in after["packages"] if package not in old_packages]
            remove = [package for package in old_software["packages"] if package not in new_packages]
            if not install and not remove and not settings:
                continue
            impacts.append(
                SchoolImpact(
                    school.uai,
                    school.name,
                    member.code,
                    _workstations(school, on),
                    install,
                    remove,
                    settings,
                    list(old_software["packs"]),
                    list(after["packs"]),
                    new_school=was is None,
                )
            )
    return impacts


def as_json(impacts: list[SchoolImpact]) -> str:
    data = {
        "schools": len(impacts),
        "workstations": sum(impact.workstations for impact in impacts),
        "changes": [asdict(impact) for impact in impacts],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def as_text(impacts: list[SchoolImpact]) -> str:
    if not impacts:
        return "no school gets a change"
    lines: list[str] = []
    for impact in impacts:
        head = f"{impact.uai} {impact.name} (member {impact.member}): {impact.workstations} workstation(s)"
        lines.append(head + (" [new school]" if impact.new_school else ""))
        if impact.packs_before != impact.packs_after:
            lines.append(
                f"  packs: {', '.join(impact.packs_before) or '-'} -> {', '.join(impact.packs_after)}"
            )
        if impact.install:
            lines.append(f"  install: {' '.join(impact.install)}")
        if impact.remove:
            lines.append(f"  remove: {' '.join(impact.remove)}")
        for key, (old, new) in impact.settings.items():
            lines.append(f"  setting {key}: {old!r} -> {new!r}")
    total = sum(impact.workstations for impact in impacts)
    lines.append(f"{len(impacts)} school(s), {total} workstation(s) get a change")
    return "\n".join(lines)


def _git(cwd: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)
    except FileNotFoundError as error:
        raise OnboardingError(["--base needs git"]) from error
    except subprocess.CalledProcessError as error:
        message = error.stderr.decode(errors="replace").strip()
        raise OnboardingError([f"git {' '.join(args)}: {message}"]) from error
    return result.stdout.decode()


@contextmanager
def register_at(register: Path, ref: str) -> Iterator[Path]:
    """The register directory as it was in commit `ref` of its repository, in a temporary directory."""
    register = register.resolve()
    top = Path(_git(register, "rev-parse", "--show-toplevel").strip())
    prefix = register.relative_to(top).as_posix()
    names = _git(top, "ls-tree", "-r", "--name-only", ref, "--", prefix).splitlines()
    if not names:
        raise OnboardingError([f"{ref} has no register at {prefix}"])
    with tempfile.TemporaryDirectory(prefix="register-") as tmp:
        root = Path(tmp) / register.name
        for name in names:
            target = root / Path(name).relative_to(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(
                subprocess.run(
                    ["git", "show", f"{ref}:{name}"], cwd=top, capture_output=True, check=True
                ).stdout
            )
        yield root
