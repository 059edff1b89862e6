"""Reading the rosters schools really have: ONDE pupil exports and a teachers' list, as CSV.

The files come from Windows desktops and from the national register's web export, so the encoding
(UTF-8 or Windows-1252, with or without BOM), the separator (";", "," or tab) and the column titles
vary. Each is detected unless configured, and every problem is reported with the file's line number
so that a head teacher can fix the file in a spreadsheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Column titles seen in ONDE exports and in home-made lists, folded (see fold_title); the first
# title found in the file wins, so the more specific ones come first.
PUPIL_COLUMNS: dict[str, tuple[str, ...]] = {
    "surname": ("nom d usage eleve", "nom d usage", "nom eleve", "nom de famille", "nom", "surname"),
    "first_name": ("prenom eleve", "premier prenom", "prenom", "first name", "given name"),
    "birth_date": ("date naissance", "date de naissance", "ne e le", "naissance", "birth date"),
    "level": ("niveau", "level"),
    "class": ("libelle classe", "classe", "class"),
}
TEACHER_COLUMNS: dict[str, tuple[str, ...]] = {
    "surname": ("nom d usage", "nom enseignant", "nom", "surname"),
    "first_name": ("prenom enseignant", "prenom", "first name", "given name"),
    "classes": ("classes", "classe", "class"),
}
OPTIONAL_COLUMNS = frozenset({"level"})
SEPARATORS = (";", ",", "\t")
ENCODINGS = ("auto", "utf-8", "cp1252")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")
# "Ã©" and friends: UTF-8 read as Windows-1252 somewhere upstream, then saved again.
MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u017d\u017e\u0178]")


class RosterError(Exception):
    """A file that cannot be read at all (as opposed to bad rows, which are collected)."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Pupil:
    surname: str
    first_name: str
    birth_date: dt.date
    level: str
    class_id: str
    line: int

    @property
    def identity(self) -> str:
        return identity_key("pupil", self.surname, self.first_name, self.birth_date.isoformat())


@dataclass(frozen=True)
class Teacher:
    surname: str
    first_name: str
    class_ids: tuple[str, ...]
    line: int

    @property
    def identity(self) -> str:
        return identity_key("teacher", self.surname, self.first_name, "")


@dataclass
class Roster:
    pupils: list[Pupil] = field(default_factory=list)
    teachers: list[Teacher] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped_rows: int = 0


def fold(value: str) -> str:
    """Lower-case ASCII: accents dropped, ligatures spelled out, everything else kept."""
    value = value.replace("ß", "ss").replace("æ", "ae").replace("Æ", "AE").replace("œ", "oe")
    value = value.replace("Œ", "OE")
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore").decode()


def fold_title(title: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(title).lower()).split())


def identity_key(kind: str, surname: str, first_name: str, extra: str) -> str:
    """Who a person is, across imports: folded names and birth date, hashed so the directory keeps
    no birth dates. 16 hex digits fit the directory's employeeID (64 bits: no collision at 14,000)."""
    parts = [kind, fold_title(surname), fold_title(first_name), extra]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def decode(raw: bytes, name: str, encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise RosterError(f"{name}: unknown encoding {encoding!r} (use one of {', '.join(ENCODINGS)})")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RosterError(f"{name}: UTF-16 file; save it as CSV UTF-8 or CSV (Windows-1252)")
    if b"\x00" in raw:
        raise RosterError(f"{name}: binary data (NUL bytes): is this a spreadsheet rather than a CSV?")
    if raw.startswith(b"\xef\xbb\xbf"):
        if encoding == "cp1252":
            raise RosterError(f"{name}: file starts with a UTF-8 BOM but cp1252 was configured")
        return raw[3:].decode("utf-8", errors="strict")
    if encoding in ("auto", "utf-8"):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            if encoding == "utf-8":
                line = raw[: err.start].count(b"\n") + 1
                raise RosterError(f"{name}:{line}: not UTF-8 (byte {raw[err.start]:#04x})") from err
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise RosterError(
            f"{name}:{line}: neither UTF-8 nor Windows-1252 (byte {raw[err.start]:#04x})"
        ) from err


def detect_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0:
        raise RosterError("cannot find the separator in the header line (expected ';', ',' or tab)")
    return best


def map_columns(
    header: Sequence[str], wanted: Mapping[str, tuple[str, ...]], configured: Mapping[str, str], name: str
) -> dict[str, int]:
    folded = [fold_title(title) for title in header]
    found: dict[str, int] = {}
    for key, titles in wanted.items():
        candidates = (fold_title(configured[key]),) if key in configured else titles
        for title in candidates:
            if title in folded:
                found[key] = folded.index(title)
                break
    missing = [key for key in wanted if key not in found and key not in OPTIONAL_COLUMNS]
    if missing:
        raise RosterError(
            f"{name}:1: no column for {', '.join(missing)} among {', '.join(repr(h) for h in header)}"
            " (configure the column titles if the file uses other ones)"
        )
    return found


def parse_date(value: str) -> dt.date | None:
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def read_rows(
    path: Path,
    wanted: Mapping[str, tuple[str, ...]],
    encoding: str,
    separator: str | None,
    columns: Mapping[str, str],
) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """The data rows as {column: value} with their line numbers, plus encoding problems found per line."""
    name = path.name
    text = decode(path.read_bytes(), name, encoding)
    lines = text.splitlines()
    problems = [
        Problem(name, number, "garbled accents (UTF-8 read as Windows-1252 and saved again?)")
        for number, line in enumerate(lines, start=1)
        if MOJIBAKE.search(line)
    ]
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise RosterError(f"{name}: empty file: refusing to import (it would disable every account)")
    reader = csv.reader(io.StringIO(text), delimiter=separator or detect_separator(first))
    header = next(reader)
    index = map_columns(header, wanted, columns, name)
    rows = []
    for record in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        rows.append((number, {key: record[i].strip() if i < len(record) else "" for key, i in index.items()}))
    return rows, problems


def class_lookup(classes: Mapping[str, str]) -> dict[str, str]:
    """Class names as written in rosters (folded) -> the class id used for groups and shares."""
    lookup = {}
    for class_id, label in classes.items():
        lookup[fold_title(label)] = class_id
        lookup[fold_title(class_id)] = class_id
    return lookup


def read_pupils(
    path: Path,
    classes: Mapping[str, str],
    roster: Roster,
    encoding: str = "auto",
    separator: str | None = None,
    columns: Mapping[str, str] | None = None,
    today: dt.date | None = None,
) -> None:
    rows, problems = read_rows(path, PUPIL_COLUMNS, encoding, separator, columns or {})
    roster.problems.extend(problems)
    bad_lines = {p.line for p in problems}
    lookup = class_lookup(classes)
    today = today or dt.date.today()
    seen: dict[str, int] = {}
    if not rows:
        raise RosterError(f"{path.name}: no pupils: refusing to import (it would disable every pupil)")
    for line, row in rows:
        errors = []
        if not row["surname"]:
            errors.append("missing surname")
        if not row["first_name"]:
            errors.append("missing first name")
        birth = parse_date(row["birth_date"])
        if birth is None:
            errors.append(f"unreadable birth date {row['birth_date']!r} (expected DD/MM/YYYY)")
        elif not today.year - 20 <= birth.year <= today.year:
            errors.append(f"implausible birth date {row['birth_date']!r}")
        class_id = lookup.get(fold_title(row["class"]))
        if class_id is None:
            errors.append(f"unknown class {row['class']!r} (known: {', '.join(sorted(classes.values()))})")
        if not errors and birth is not None and class_id is not None:
            pupil = Pupil(row["surname"], row["first_name"], birth, row.get("level", ""), class_id, line)
            if pupil.identity in seen:
                errors.append(f"duplicate of line {seen[pupil.identity]} (same names and birth date)")
            else:
                seen[pupil.identity] = line
                if line not in bad_lines:
                    roster.pupils.append(pupil)
        for error in errors:
            roster.problems.append(Problem(path.name, line, error))


def read_teachers(
    path: Path,
    classes: Mapping[str, str],
    roster: Roster,
    encoding: str = "auto",
    separator: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> None:
    rows, problems = read_rows(path, TEACHER_COLUMNS, encoding, separator, columns or {})
    roster.problems.extend(problems)
    bad_lines = {p.line for p in problems}
    lookup = class_lookup(classes)
    seen: dict[str, int] = {}
    for line, row in rows:
        errors = []
        if not row["surname"] or not row["first_name"]:
            errors.append("missing surname or first name")
        class_ids = []
        for label in re.split(r"[,/+|]", row["classes"]):
            if not label.strip():
                continue
            class_id = lookup.get(fold_title(label))
            if class_id is None:
                errors.append(f"unknown class {label.strip()!r}")
            else:
                class_ids.append(class_id)
        if not errors:
            teacher = Teacher(row["surname"], row["first_name"], tuple(sorted(set(class_ids))), line)
            if teacher.identity in seen:
                errors.append(f"duplicate of line {seen[teacher.identity]}")
            else:
                seen[teacher.identity] = line
                if line not in bad_lines:
                    roster.teachers.append(teacher)
        for error in errors:
            roster.problems.append(Problem(path.name, line, error))
