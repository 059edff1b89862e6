"""Free text of the register that reaches configurations: what passes, what is refused and why.

The bad cases of tests/inventory/fixtures/bad_cases.yml (school_name_with_a_line_break and the
next ones) check file, line and field through the loader and the inventory plugin.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from register_cases import copy_small

from schoolfleet.register import RegisterError, load_register
from schoolfleet.register.config_text import BREAKS, config_problem, control_problem

# Real names: accents, apostrophes (typed and typographic), hyphens, parentheses, commas, n°, &, /, +.
NAMES = [
    "École élémentaire Jules Ferry",
    "École maternelle de l'Europe (bât. A), n°2",
    "Groupe scolaire Saint-Exupéry & Marie Curie",
    "Unité d’enseignement – IME Les Lilas",
    "HPE Aruba 2530-24G-PoE+",
    "Cisco ISR 1111-8P / 4G",
]


@pytest.mark.parametrize("name", NAMES)
def test_real_names_and_models_pass(name: str) -> None:
    assert config_problem(name) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Ferry\nusername admin privilege 15", "line break or control character (U+000A)"),
        ("Ferry\r\nend", "(U+000D)"),
        ("Ferry\tx", "(U+0009)"),
        ("Ferry\x85x", "(U+0085)"),
        ("Ferry\u2028x", "(U+2028)"),
        ("Ferry\u202ex", "(U+202E)"),  # a bidi override shows the reader another text
        ('Ferry" ; x', "'\"', which breaks the ProCurve, FreeRADIUS and nftables syntax"),
        ("Ferry; x", "';', which breaks the ProCurve and nftables syntax"),
        ("Ferry?", "'?', which breaks the IOS syntax"),
        ("Ferry 100%", "'%', which breaks the smb.conf and FreeRADIUS syntax"),
        ("Ferry\\", "'\\\\', which breaks the smb.conf and FreeRADIUS syntax"),
        ("Ferry ${x}", "'$', which breaks the FreeRADIUS syntax"),
        ("Ferry {x}", "'{', which breaks the FreeRADIUS and nftables syntax"),
    ],
)
def test_line_breaks_and_breaking_characters_are_refused(value: str, message: str) -> None:
    problem = config_problem(value)
    assert problem is not None and message in problem


def test_every_target_names_what_breaks_it() -> None:
    assert set(BREAKS) == {"IOS", "ProCurve", "UCI", "smb.conf", "FreeRADIUS", "nftables"}
    # A URL setting goes through JSON only: its ? % ; pass, a line break does not.
    assert control_problem("https://ent.example/?a=1;b=%20") is None
    assert control_problem("https://ent.example/\nX: y") is not None


def test_billed_only_devices_keep_any_printable_model(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    member = register / "members" / "91001-alpha.yml"
    text = member.read_text(encoding="utf-8")
    member.write_text(
        text.replace("model: Epson EB-725Wi", "model: 'Epson 65\" Flip; 100%'"), encoding="utf-8"
    )
    projector = next(
        i for i in load_register(register).members[0].schools[0].equipment if i.tag == "SF-000020"
    )
    assert projector.model == 'Epson 65" Flip; 100%'
    member.write_text(text.replace("model: Epson EB-725Wi", 'model: "Epson\\nX"'), encoding="utf-8")
    with pytest.raises(
        RegisterError, match=r"schools\[0\]\.equipment\[\d+\]\.model: 'Epson\\nX' holds a line"
    ):
        load_register(register)
