"""Register text in the IOS and ProCurve files: what the register lets through renders on one line,
and a line break, a quote or a semicolon never gets that far (schoolfleet.register.config_text)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from network_helpers import run_playbook

from schoolfleet.register.config_text import config_problem

# The fixture devices: IOS and ProCurve, switches and routers.
DEVICES = {
    "ec-jaures-sw1": "IOS",
    "ec-jaures-rt1": "IOS",
    "ec-jaures-sw2": "ProCurve",
    "ec-curie-rt1": "ProCurve",
}
# What the register accepts, at its edge: apostrophes, accents, parentheses, & / + , and n°.
LOCATION = "École maternelle de l'Europe (bât. A) & d’Orsay, n°2 / 1+1"
HOSTILE = {
    "newline": "Ferry\nusername admin privilege 15 secret 0 x",
    "quote": 'Ferry"\nsnmp-server community public',
    "semicolon": "Ferry; no snmp-server",
    "quote-semicolon": 'Ferry" ; x',
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("network-register-text")
    variables = {
        "network_build_dir": str(out),
        "network_switch_snmp_location": LOCATION,
        "network_router_snmp_location": LOCATION,
    }
    run_playbook("render.yml", "-e", json.dumps(variables), "-l", ":".join(DEVICES))
    return out


@pytest.mark.parametrize("device", DEVICES)
def test_an_accepted_location_stays_on_its_line(rendered: Path, device: str) -> None:
    assert config_problem(LOCATION) is None
    lines = (rendered / f"{device}.cfg").read_text(encoding="utf-8").splitlines()
    located = [line for line in lines if "snmp-server location" in line]
    if DEVICES[device] == "IOS":
        assert located == [f"snmp-server location {LOCATION}"]
    else:
        assert located == [f'snmp-server location "{LOCATION}"']
    assert not any(line.lstrip().startswith("username") for line in lines)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE)
def test_line_breaks_quotes_and_semicolons_never_reach_a_device_file(value: str) -> None:
    problem = config_problem(value)
    assert problem is not None
    # A line break ends a command in both syntaxes; a quote or a semicolon breaks ProCurve's.
    assert "line break" in problem or "ProCurve" in problem
