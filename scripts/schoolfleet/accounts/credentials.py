"""Logins and first passwords.

Login rule (documented in the role's README section): the first name and the surname, each folded
to lower-case ASCII (accents dropped, "œ" -> "oe") with everything but letters and digits removed,
joined by the pattern (default "{first}.{last}": "Léa-Marie N'Diaye" -> "leamarie.ndiaye"),
cut to 20 characters (the sAMAccountName limit). A login already taken in the directory (by anyone,
including disabled leavers and built-in accounts) gets the smallest free numeric suffix from 2:
"lea.martin2". A login, once given, stays with the person: the planner finds people by identity,
never by recomputing their login, so a second Léa Martin never takes the first one's files.

Password pattern: one character per letter of the pattern; C = upper-case consonant, c = lower-case
consonant, V/v = vowel, 9 = digit, anything else literal. Letters and digits that children confuse
(I, l, O, 0, 1, q, y) are left out, and there are no symbols needing AltGr on an AZERTY keyboard.
The default "Cvcvcv99" ("Bakoti42") has about 2^25 possibilities and passes Samba's default
complexity rule (upper, lower, digit); the directory's lockout threshold stops online guessing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from schoolfleet.accounts.roster import fold

LOGIN_MAX = 20
DEFAULT_LOGIN_PATTERN = "{first}.{last}"
DEFAULT_PASSWORD_PATTERN = "Cvcvcv99"
CONSONANTS = "bcdfghjkmnprstvz"
VOWELS = "aeiou"
DIGITS = "23456789"
PASSWORD_CLASSES = {
    "C": CONSONANTS.upper(),
    "c": CONSONANTS,
    "V": VOWELS.upper(),
    "v": VOWELS,
    "9": DIGITS,
}


def login_part(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(name).lower())


def base_login(first_name: str, surname: str, pattern: str = DEFAULT_LOGIN_PATTERN) -> str:
    first, last = login_part(first_name), login_part(surname)
    if not first or not last:
        raise ValueError(f"no letters left in {first_name!r} {surname!r} after folding to ASCII")
    login = pattern.format(first=first, last=last, f=first[0])
    return login[:LOGIN_MAX].rstrip(".-_")


def unique_login(base: str, taken: set[str]) -> str:
    """base, or base + the smallest free suffix from 2; the caller adds the result to taken."""
    if base not in taken:
        return base
    suffix = 2
    while True:
        candidate = base[: LOGIN_MAX - len(str(suffix))].rstrip(".-_") + str(suffix)
        if candidate not in taken:
            return candidate
        suffix += 1


def validate_password_pattern(pattern: str, minimum_length: int) -> None:
    if len(pattern) < minimum_length:
        raise ValueError(
            f"password pattern {pattern!r} is shorter than the directory minimum {minimum_length}"
        )
    if not any(char in PASSWORD_CLASSES for char in pattern):
        raise ValueError(f"password pattern {pattern!r} has no random part")


def make_password(pattern: str = DEFAULT_PASSWORD_PATTERN) -> str:
    return "".join(
        secrets.choice(PASSWORD_CLASSES[char]) if char in PASSWORD_CLASSES else char for char in pattern
    )


def password_space(pattern: str) -> int:
    space = 1
    for char in pattern:
        space *= len(PASSWORD_CLASSES.get(char, "x"))
    return space


def lower_set(values: Iterable[str]) -> set[str]:
    return {value.lower() for value in values}
