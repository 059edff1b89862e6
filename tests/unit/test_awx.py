"""The AWX execution environment: its build context is generated and pins what CI tested."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "scripts" / "awx"


def pins(path: Path) -> dict[str, str]:
    found = (re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line) for line in path.read_text().splitlines())
    return {m.group(1).lower(): m.group(2) for m in found if m}


def test_ee_pins_are_the_controllers() -> None:
    controller = pins(ROOT / "requirements.txt")
    for name, version in pins(AWX / "requirements-ee.txt").items():
        assert controller.get(name) == version, f"{name}: EE {version}, controller {controller.get(name)}"


def test_ansible_builder_creates_the_build_context(tmp_path: Path) -> None:
    builder = Path(sys.executable).with_name("ansible-builder")
    subprocess.run(
        [str(builder), "create", "-f", str(AWX / "execution-environment.yml"), "--context", str(tmp_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    containerfile = (tmp_path / "Containerfile").read_text()
    core = pins(ROOT / "requirements.txt")["ansible-core"]
    assert f"ansible-core=={core}" in containerfile
    assert pins(tmp_path / "_build" / "requirements.txt") == pins(AWX / "requirements-ee.txt")
    assert "community.general" in (tmp_path / "_build" / "requirements.yml").read_text()


def test_inventory_source_answers_as_awx_calls_it(tmp_path: Path) -> None:
    inventory = str(Path(sys.executable).with_name("ansible-inventory"))
    awx_args = ["--list", "--export", "--playbook-dir", "playbooks"]
    result = subprocess.run(
        [inventory, "-i", "inventories/demo/hosts.yml", *awx_args],
        cwd=ROOT,
        env={"PATH": str(Path(sys.executable).parent), "ANSIBLE_HOME": str(tmp_path), "HOME": str(tmp_path)},
        check=True,
        capture_output=True,
        text=True,
    )
    listing = json.loads(result.stdout)
    assert {"school_servers", "central_servers", "backup_servers", "switches", "routers"} <= set(listing)
    assert len(listing["school_servers"]["hosts"]) >= 100
    assert any(group.startswith("commune_") for group in listing)
