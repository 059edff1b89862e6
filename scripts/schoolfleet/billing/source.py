"""What the billing rules count, taken from the register as `load_register` returns it.

Nothing here reads a register file: the register's own loader and validator did that. This module only
flattens members and schools into the rules' simple records:

- each device is one countable under its kind (its asset tag is the reference);
- each school's pupils are one countable of kind `pupil` whose quantity is the school's pupil count,
  which the register records as of 1 November;
- a school's software packs are one `software_pack` per school (the grid prices a pack per school; the
  pack names are the software catalogue), with the number of packs as its parts for a grid that prices
  them one by one; it is installed when the school joined its member and held until its last day
  there, and its installation line names the school and its arrival;
- a school counts (pupils included) only from its arrival and up to its last day under the member;
- each licence is `specific_software` with its seats as quantity, installed on its start and held up to
  its last day (`end`);
- the convention's options keep their periods, so a Wi-Fi option switched on mid-series bills access
  points only from the year it holds on the counting day.
"""

from __future__ import annotations

from collections.abc import Iterator

from schoolfleet.billing.rules import Countable, Holder, OptionSpan
from schoolfleet.register import Member, Register, Source

PUPIL = "pupil"
SOFTWARE_PACK = "software_pack"
SPECIFIC_SOFTWARE = "specific_software"


def _where(source: Source) -> str:
    return f"{source.file}:{source.line}: {source.path}" if source.path else str(source)


def holder(member: Member) -> Holder:
    return Holder(
        code=member.code,
        name=member.name,
        kind=member.kind.value,
        joined=member.convention.joined,
        left=member.convention.left,
        options=tuple(OptionSpan(period.name, period.since, period.until) for period in member.options),
    )


def holders(register: Register) -> list[Holder]:
    return [holder(member) for member in register.members]


def countables(register: Register) -> Iterator[Countable]:
    for member in register.members:
        for school in member.schools:
            where = _where(school.source)
            last_day = school.last_day(member.convention.left)
            yield Countable(
                f"{school.uai}/pupils",
                PUPIL,
                member.code,
                school.pupils,
                None,
                last_day,
                where,
                present_from=school.joined,
            )
            if school.packs:
                arrival = "arrivée" if school.joined_source is not None else "convention"
                yield Countable(
                    f"{school.uai}/packs",
                    SOFTWARE_PACK,
                    member.code,
                    1,
                    school.joined,
                    last_day,
                    f"{where}.software.packs",
                    parts=len(school.packs),
                    note=f"{school.uai} {school.name} ({arrival} le {school.joined:%d/%m/%Y})",
                )
            for licence in school.licences:
                yield Countable(
                    f"{school.uai}/licence/{licence.product}/{licence.start.isoformat()}",
                    SPECIFIC_SOFTWARE,
                    member.code,
                    licence.seats,
                    licence.start,
                    # The billing rule keeps what is "not retired before" the day: the last day held.
                    licence.end,
                    _where(licence.source),
                )
            for device in school.equipment:
                yield Countable(
                    device.tag,
                    device.kind.value,
                    member.code,
                    1,
                    device.installed,
                    device.retired,
                    _where(device.source),
                )
