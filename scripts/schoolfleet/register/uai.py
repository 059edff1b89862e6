"""The UAI (unité administrative immatriculée), the national identifier of a school.

Seven characters (the département on three, then a number on four) and a check letter: the seven
characters read as a number, modulo 23, index an alphabet without I, O and Q.
"""

from __future__ import annotations

import re

_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ"
_SHAPE = re.compile(r"[0-9]{7}[A-Z]\Z")


def check_letter(number: str) -> str:
    """The check letter of the seven-digit part of a UAI."""
    if len(number) != 7 or not number.isdigit():
        raise ValueError(f"{number!r} is not the seven digits of a UAI")
    return _ALPHABET[int(number) % 23]


def uai_problem(uai: str) -> str | None:
    """What is wrong with a UAI, or None when it is valid."""
    if not _SHAPE.match(uai):
        return f"{uai!r} is not a UAI (seven digits and a capital check letter, e.g. 0750654D)"
    expected = check_letter(uai[:7])
    if uai[7] != expected:
        return f"bad check letter in UAI {uai}: {uai[:7]} gives {expected}"
    return None


def make_uai(number: int) -> str:
    """The UAI with the given seven-digit number, check letter included (for generators and tests)."""
    digits = f"{number:07d}"
    return digits + check_letter(digits)
