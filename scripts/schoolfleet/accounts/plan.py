"""From a roster and the directory's current accounts to the list of changes (the plan).

The directory is the only state: every managed account carries its identity key, so a pupil is
recognised from one year to the next whatever their class, and keeps login, password and files.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schoolfleet.accounts.credentials import (
    DEFAULT_LOGIN_PATTERN,
    DEFAULT_PASSWORD_PATTERN,
    base_login,
    make_password,
    unique_login,
)
from schoolfleet.accounts.roster import Pupil, Roster, Teacher

ALL_PUPILS = "eleves"
ALL_TEACHERS = "enseignants"


def pupils_group(class_id: str) -> str:
    return f"eleves-{class_id}"


def teachers_group(class_id: str) -> str:
    return f"ens-{class_id}"


def managed_groups(class_ids: Sequence[str]) -> set[str]:
    return (
        {ALL_PUPILS, ALL_TEACHERS}
        | {pupils_group(c) for c in class_ids}
        | {teachers_group(c) for c in class_ids}
    )


class PlanRefusedError(Exception):
    """The plan is unsafe to apply as it stands (the message says why and how to override)."""


@dataclass
class NewAccount:
    login: str
    identity: str
    kind: str
    given: str
    surname: str
    groups: list[str]
    class_label: str
    password: str = field(repr=False)


@dataclass
class Plan:
    create: list[NewAccount] = field(default_factory=list)
    set_groups: list[dict[str, Any]] = field(default_factory=list)
    disable: list[dict[str, str]] = field(default_factory=list)
    enable: list[dict[str, str]] = field(default_factory=list)
    reset: list[dict[str, str]] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return sum(len(x) for x in (self.create, self.set_groups, self.disable, self.enable, self.reset))

    def payload(self) -> dict[str, Any]:
        """What the server applies; holds passwords, so it only ever travels on a pipe."""
        return {
            "create": [
                {k: v for k, v in vars(account).items() if k != "class_label"} for account in self.create
            ],
            "set_groups": self.set_groups,
            "disable": self.disable,
            "enable": self.enable,
            "reset": self.reset,
        }

    def summary(self) -> list[str]:
        lines = [
            f"create {len(self.create)}, move {len(self.set_groups)}, disable {len(self.disable)}, "
            f"re-enable {len(self.enable)}, reset {len(self.reset)}, unchanged {self.unchanged}"
        ]
        lines += [f"  create  {a.login} ({a.kind}, {a.class_label})" for a in self.create]
        lines += [
            f"  move    {m['login']}: -{','.join(m['remove']) or '∅'} +{','.join(m['add']) or '∅'}"
            for m in self.set_groups
        ]
        lines += [f"  disable {d['login']} (left {d['date']})" for d in self.disable]
        lines += [f"  enable  {e['login']} (back in the roster)" for e in self.enable]
        lines += [f"  reset   {r['login']}" for r in self.reset]
        lines += [f"  note    {note}" for note in self.notes]
        return lines


def password_for(login: str, given: str, surname: str, pattern: str) -> str:
    """A fresh password that Samba's complexity rule accepts: no 3+ letter piece of the names in it."""
    tokens = [t.lower() for t in re.split(r"[^\w]+", f"{login} {given} {surname}") if len(t) >= 3]
    while True:
        password = make_password(pattern)
        if not any(token in password.lower() for token in tokens):
            return password


def build_plan(
    roster: Roster,
    directory: Mapping[str, Any],
    classes: Mapping[str, str],
    today: dt.date,
    login_pattern: str = DEFAULT_LOGIN_PATTERN,
    password_pattern: str = DEFAULT_PASSWORD_PATTERN,
    max_disable_ratio: float = 0.5,
    allow_mass_disable: bool = False,
) -> Plan:
    plan = Plan()
    managed = managed_groups(list(classes))
    existing = {user["identity"]: user for user in directory["users"] if user["identity"]}
    taken = {login.lower() for login in directory["taken_logins"]}
    present: set[str] = set()

    people: list[tuple[str, Pupil | Teacher, set[str], str]] = []
    for pupil in roster.pupils:
        wanted = {ALL_PUPILS, pupils_group(pupil.class_id)}
        people.append(("pupil", pupil, wanted, classes[pupil.class_id]))
    for teacher in roster.teachers:
        wanted = {ALL_TEACHERS} | {teachers_group(c) for c in teacher.class_ids}
        people.append(("teacher", teacher, wanted, ", ".join(classes[c] for c in teacher.class_ids)))

    # New logins are handed out in a fixed order so that a dry run and the real run agree.
    people.sort(key=lambda p: (p[0], p[1].surname.lower(), p[1].first_name.lower(), p[1].line))
    for kind, person, wanted, label in people:
        present.add(person.identity)
        user = existing.get(person.identity)
        if user is None:
            login = unique_login(base_login(person.first_name, person.surname, login_pattern), taken)
            taken.add(login)
            password = password_for(login, person.first_name, person.surname, password_pattern)
            plan.create.append(
                NewAccount(
                    login,
                    person.identity,
                    kind,
                    person.first_name,
                    person.surname,
                    sorted(wanted),
                    label,
                    password,
                )
            )
            continue
        changed = False
        current = set(user["groups"]) & managed
        if current != wanted:
            plan.set_groups.append(
                {"login": user["login"], "add": sorted(wanted - current), "remove": sorted(current - wanted)}
            )
            changed = True
        if not user["enabled"]:
            plan.enable.append({"login": user["login"]})
            changed = True
        plan.unchanged += not changed

    leavers = [u for u in directory["users"] if u["identity"] not in present and u["enabled"]]
    if roster.skipped_rows and leavers:
        # A skipped row may be a pupil who is still here: disabling them would lock a child out.
        plan.notes.append(
            f"{len(leavers)} account(s) absent from the roster are NOT disabled because bad rows were skipped"
        )
        leavers = []
    for kind in ("pupil", "teacher"):
        enabled = [u for u in directory["users"] if u["kind"] == kind and u["enabled"]]
        going = [u for u in leavers if u["kind"] == kind]
        if enabled and going and len(going) / len(enabled) > max_disable_ratio and not allow_mass_disable:
            raise PlanRefusedError(
                f"the roster would disable {len(going)} of {len(enabled)} {kind} accounts "
                f"(over {max_disable_ratio:.0%}): wrong file? If intended, re-run with --allow-mass-disable"
            )
    for user in sorted(leavers, key=lambda u: u["login"]):
        plan.disable.append({"login": user["login"], "date": today.isoformat()})
    return plan


def reset_plan(directory: Mapping[str, Any], logins: Sequence[str], password_pattern: str) -> Plan:
    plan = Plan()
    users = {user["login"].lower(): user for user in directory["users"]}
    for login in logins:
        user = users.get(login.lower())
        if user is None:
            raise PlanRefusedError(f"{login}: no such pupil or teacher account")
        password = password_for(user["login"], user["given"], user["surname"], password_pattern)
        plan.reset.append({"login": user["login"], "password": password})
    return plan
