"""The yearly renewal: the schools of each member for the coming school year, for members to check.

Members send their changes before 20 June; they come back as a changes file (see `batch.changes_steps`)
applied all or nothing, so access is updated before 20 August.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from schoolfleet.register import Register

COLUMNS = ("member", "member_name", "uai", "school", "kind", "commune", "zone", "pupils", "teachers")


def school_year_start(year: int) -> dt.date:
    """The school year `year`-`year+1` starts on 1 September for the register."""
    return dt.date(year, 9, 1)


def rows(register: Register, year: int) -> list[tuple[str, ...]]:
    """Members in convention on the first day of the school year, their schools in register order."""
    start = school_year_start(year)
    return [
        (
            member.code,
            member.name,
            school.uai,
            school.name,
            school.kind.value,
            school.commune,
            school.zone.value,
            str(school.pupils),
            str(school.teachers),
        )
        for member in register.members_on(start)
        for school in member.schools
    ]


def csv_text(register: Register, year: int) -> str:
    """Semicolons, as French spreadsheets expect; the members edit pupils and teachers in place."""
    stream = io.StringIO()
    writer = csv.writer(stream, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(register, year))
    return stream.getvalue()


def text(register: Register, year: int) -> str:
    out = [f"Schools for the school year {year}-{year + 1}, by member (changes before 20 June {year}):"]
    current = None
    for row in rows(register, year):
        if row[0] != current:
            current = row[0]
            out.append(f"{row[0]} {row[1]}")
        out.append(f"  {row[2]}  {row[3]} ({row[4]}, commune {row[5]}, zone {row[6]}): "
                   f"{row[7]} pupils, {row[8]} teachers")  # fmt: skip
    return "\n".join(out) + "\n"
