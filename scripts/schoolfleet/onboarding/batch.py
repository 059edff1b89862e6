"""Commands as steps: one step per command-line call, per CSV line or per entry of a changes file.

Every step of a batch runs on the same documents, then the loader validates the result once; nothing is
written unless every step applied and the register is valid. A problem the loader finds is traced back
to the step that caused it through its field path (the device's tag, the school's UAI, the member's
code found there), so a bad batch names its bad line.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from schoolfleet.onboarding import operations as op
from schoolfleet.onboarding.changeset import OnboardingError, yaml_engine
from schoolfleet.register import Problem, Register, RegisterError

Key = tuple[str, str]


class Args:
    """The named values of one step, from a CSV line, a changes file entry or the command line."""

    def __init__(self, values: dict[str, object]) -> None:
        # An empty CSV cell is an absent value.
        self.values = {name: value for name, value in values.items() if value is not None and value != ""}
        self.used: set[str] = set()

    def optional(self, name: str) -> object | None:
        self.used.add(name)
        return self.values.get(name)

    def required(self, name: str) -> object:
        value = self.optional(name)
        if value is None:
            raise OnboardingError(f"missing {name}")
        return value

    def text(self, name: str) -> str:
        return str(self.required(name)).strip()

    def date(self, name: str) -> dt.date:
        return op.to_date(self.required(name), name)

    def integer(self, name: str) -> int:
        return op.to_int(self.required(name), name)

    def optional_integer(self, name: str) -> int | None:
        value = self.optional(name)
        return None if value is None else op.to_int(value, name)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.optional(name)
        if value is None or isinstance(value, bool):
            return default if value is None else value
        if str(value).strip().lower() in ("true", "yes", "oui", "1"):
            return True
        if str(value).strip().lower() in ("false", "no", "non", "0"):
            return False
        raise OnboardingError(f"{name}: {value!r} is not yes or no")

    def check_all_used(self) -> None:
        unknown = sorted(set(self.values) - self.used)
        if unknown:
            raise OnboardingError(f"unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")


def _add_commune(context: op.Context, args: Args) -> Key:
    insee = args.text("insee")
    op.add_commune(
        context,
        insee,
        args.text("name"),
        args.text("reference"),
        args.date("joined"),
        args.boolean("wifi", False),
    )
    return ("member", insee)


def _add_sivos(context: op.Context, args: Args) -> Key:
    code = args.text("code")
    communes = parse_communes(str(item) for item in _listed(args.required("communes")))
    op.add_sivos(
        context,
        code,
        args.text("name"),
        communes,
        args.text("reference"),
        args.date("joined"),
        args.boolean("wifi", False),
    )
    return ("member", code)


def _listed(value: object) -> list[object]:
    if isinstance(value, list):
        return list(value)
    return [part for part in re.split(r"\s*[,|]\s*", str(value).strip()) if part]


def parse_communes(items: Iterable[str]) -> list[tuple[str, str]]:
    """`INSEE=Name` pairs (the SIVOS's communes)."""
    communes: list[tuple[str, str]] = []
    for item in items:
        insee, equals, name = item.partition("=")
        if not equals or not insee.strip() or not name.strip():
            raise OnboardingError(f"commune {item!r}: expected INSEE=Name")
        communes.append((insee.strip(), name.strip()))
    return communes


def _add_school(context: op.Context, args: Args) -> Key:
    uai = args.text("uai")
    commune = args.optional("commune")
    packs = args.optional("packs")
    op.add_school(
        context,
        args.text("member"),
        uai,
        args.text("name"),
        args.text("kind"),
        args.text("zone"),
        args.integer("pupils"),
        args.integer("teachers"),
        commune=None if commune is None else str(commune).strip(),
        packs=None if packs is None else [str(pack) for pack in _listed(packs)],
        block=args.optional_integer("block"),
    )
    return ("uai", uai)


def _update_school(context: op.Context, args: Args) -> Key:
    uai = args.text("uai")
    values = {name: args.values[name] for name in op.SCHOOL_UPDATES if args.optional(name) is not None}
    if not values:
        raise OnboardingError(f"nothing to change (give one of: {', '.join(op.SCHOOL_UPDATES)})")
    op.update_school(context, uai, values)
    return ("uai", uai)


def _add_equipment(context: op.Context, args: Args) -> Key:
    tag = args.text("tag")
    op.add_equipment(
        context,
        args.text("school"),
        tag,
        args.text("kind"),
        args.text("model"),
        args.text("serial"),
        args.date("installed"),
        unit=args.optional_integer("unit"),
    )
    return ("tag", tag)


def _move_equipment(context: op.Context, args: Args) -> Key:
    tag = args.text("tag")
    op.move_equipment(context, tag, args.text("to"), unit=args.optional_integer("unit"))
    return ("tag", tag)


def _retire_equipment(context: op.Context, args: Args) -> Key:
    tag = args.text("tag")
    op.retire_equipment(context, tag, args.date("on"))
    return ("tag", tag)


def _deliver(context: op.Context, args: Args) -> Key:
    uai, kind = args.optional("uai"), args.optional("kind")
    tag = op.deliver(
        context,
        args.text("serial"),
        args.text("mac"),
        args.text("model"),
        args.date("on"),
        uai=None if uai is None else str(uai).strip(),
        kind=None if kind is None else str(kind).strip(),
    )
    return ("tag", tag)


def _leave(context: op.Context, args: Args) -> Key:
    member = args.text("member")
    op.leave(context, member, args.date("on"))
    return ("member", member)


def _set_option(context: op.Context, args: Args) -> Key:
    member = args.text("member")
    op.set_option(context, member, args.text("option"), args.date("since"))
    return ("member", member)


def _end_option(context: op.Context, args: Args) -> Key:
    member = args.text("member")
    op.end_option(context, member, args.text("option"), args.date("until"))
    return ("member", member)


def _add_licence(context: op.Context, args: Args) -> Key:
    uai = args.text("school")
    end = args.optional("end")
    op.add_licence(
        context,
        uai,
        args.text("product"),
        args.integer("seats"),
        args.date("start"),
        None if end is None else op.to_date(end, "end"),
    )
    return ("uai", uai)


def _retire_licence(context: op.Context, args: Args) -> Key:
    uai = args.text("school")
    op.retire_licence(context, uai, args.text("product"), args.date("end"))
    return ("uai", uai)


Action = Callable[[op.Context, Args], Key]
ACTIONS: dict[str, Action] = {
    "add_commune": _add_commune,
    "add_sivos": _add_sivos,
    "add_school": _add_school,
    "update_school": _update_school,
    "add_equipment": _add_equipment,
    "move_equipment": _move_equipment,
    "retire_equipment": _retire_equipment,
    "deliver": _deliver,
    "leave": _leave,
    "set_option": _set_option,
    "end_option": _end_option,
    "add_licence": _add_licence,
    "retire_licence": _retire_licence,
}


@dataclass(frozen=True)
class Step:
    """One action with its values; `where` names it for the sysadmin (a CSV line, a changes entry)."""

    where: str | None
    action: str
    args: dict[str, object]


def run(context: op.Context, steps: list[Step]) -> Register:
    """Apply every step, then validate once; raises OnboardingError naming each bad step."""
    errors: list[str] = []
    owners: dict[Key, Step] = {}
    for step in steps:
        args = Args(step.args)
        context.where = step.where
        try:
            owners[ACTIONS[step.action](context, args)] = step
            args.check_all_used()
        except OnboardingError as exc:
            errors.extend(f"{_label(step)}{problem}" for problem in exc.problems)
    # The register is checked even when some steps failed, so that one run reports every kind of error
    # (the steps' own and the loader's on the steps that applied), not some of them on the next run.
    try:
        register = context.changes.validate()
    except RegisterError as exc:
        errors.extend(_traced(context, owners, problem) for problem in exc.problems)
    if errors:
        raise OnboardingError(errors)
    return register


def _label(step: Step) -> str:
    return f"{step.where}: " if step.where else ""


_PATH = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")


def _keys_along(document: Any, path: str) -> Iterator[Key]:
    """The member, school and device keys of the nodes on a field path, outermost first."""
    node = document
    for name, index in _PATH.findall(path):
        if isinstance(node, CommentedMap):
            for kind, field in (("member", "commune"), ("member", "sivos")):
                identity = node.get(field)
                if isinstance(identity, CommentedMap):
                    yield kind, str(identity.get("insee") or identity.get("code"))
            if "uai" in node:
                yield "uai", str(node["uai"])
            if "tag" in node:
                yield "tag", str(node["tag"])
        if name and isinstance(node, CommentedMap) and name in node:
            node = node[name]
        elif index and isinstance(node, CommentedSeq) and int(index) < len(node):
            node = node[int(index)]
        else:
            return


def _traced(context: op.Context, owners: dict[Key, Step], problem: Problem) -> str:
    root = str(context.changes.root)
    if owners and problem.file.startswith(root + "/") and problem.line:
        relative = problem.file[len(root) + 1 :]
        try:
            document = context.changes.document(relative)
        except OSError:
            document = None
        if document is not None:
            for key in reversed(list(_keys_along(document, problem.field))):
                if key in owners:
                    return f"{_label(owners[key])}{problem}"
    return str(problem)


def csv_steps(path: Path, action: str, defaults: dict[str, object]) -> list[Step]:
    """One step per line of a CSV file with a header (comma or semicolon separated)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OnboardingError(f"{path}: cannot read: {exc.strerror}") from None
    header = text.split("\n", 1)[0]
    reader = csv.DictReader(text.splitlines(), delimiter=";" if ";" in header else ",")
    steps: list[Step] = []
    errors: list[str] = []
    for row in reader:
        # An empty cell takes the command line's value (`--on`, `--to`) for that line.
        cells = {name.strip(): (value or "").strip() for name, value in row.items() if name}
        values = {**defaults, **{name: value for name, value in cells.items() if value}}
        if None in row:
            errors.append(f"{path} line {reader.line_num}: more cells than columns in the header")
            continue
        steps.append(Step(f"{path} line {reader.line_num}", action, values))
    if errors:
        raise OnboardingError(errors)
    if not steps:
        raise OnboardingError(f"{path}: no lines below the header")
    return steps


def changes_steps(path: Path) -> list[Step]:
    """The entries of a changes file: a YAML list of `- <action>: {field: value, ...}`."""
    try:
        document = yaml_engine().load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OnboardingError(f"{path}: cannot read: {exc.strerror}") from None
    except Exception as exc:  # ruamel's errors have no common base worth naming; the message says where
        raise OnboardingError(f"{path}: not YAML: {exc}") from None
    if not isinstance(document, CommentedSeq) or not document:
        raise OnboardingError(f"{path}: expected a list of changes (- add_school: {{...}})")
    steps: list[Step] = []
    errors: list[str] = []
    for index, entry in enumerate(document):
        where = f"{path} line {document.lc.item(index)[0] + 1} (change {index + 1})"
        if not isinstance(entry, CommentedMap) or len(entry) != 1:
            errors.append(f"{where}: expected one action: {', '.join(ACTIONS)}")
            continue
        ((action, values),) = entry.items()
        if action not in ACTIONS:
            errors.append(f"{where}: unknown action {action!r} (expected one of: {', '.join(ACTIONS)})")
        elif not isinstance(values, CommentedMap):
            errors.append(f"{where}: {action}: expected its fields as a mapping")
        else:
            steps.append(Step(f"{where} {action}", str(action), {str(k): v for k, v in values.items()}))
    if errors:
        raise OnboardingError(errors)
    return steps
