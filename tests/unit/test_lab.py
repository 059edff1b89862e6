"""The lab tool's decisions that need no podman: when to rebuild the image, how a run is summarised."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from schoolfleet import demo, lab


def test_recipe_digest_follows_the_package_list(monkeypatch: pytest.MonkeyPatch) -> None:
    before = lab.recipe_digest()
    assert lab.recipe_digest() == before
    monkeypatch.setattr(lab, "PACKAGES", (*lab.PACKAGES, "vim"))
    assert lab.recipe_digest() != before


def test_a_current_image_is_not_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab, "image_recipe", lambda: lab.recipe_digest())

    def no_bootstrap(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("debootstrap must not run for a current image")

    monkeypatch.setattr(lab.subprocess, "run", no_bootstrap)
    assert lab.build_image() is False


def test_a_stale_image_needs_debootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab, "image_recipe", lambda: "stale")
    monkeypatch.setattr(lab.shutil, "which", lambda name: None)
    with pytest.raises(lab.LabError, match="debootstrap is not installed"):
        lab.build_image()


def test_summary_names_failed_hosts_and_their_roles() -> None:
    runner = SimpleNamespace(
        status="failed",
        stats={"ok": {"a": 5, "b": 2}, "changed": {"a": 3}, "failures": {"b": 1}, "dark": {}},
        events=[
            {"event": "runner_on_ok", "event_data": {"host": "a", "role": "common"}},
            {"event": "runner_on_ok", "event_data": {"host": "b", "role": "common"}},
            {"event": "runner_on_failed", "event_data": {"host": "b", "role": "antivirus"}},
        ],
    )
    lines = demo.summarise(runner, ["a", "b"], 12.0).splitlines()  # type: ignore[arg-type]
    assert lines[0] == "Demo: failed in 12 s on 2 lab hosts"
    assert lines[1].split()[:4] == ["a", "ok", "ok=5", "changed=3"]
    assert lines[1].endswith("roles: common")
    assert lines[2].split()[:2] == ["b", "FAILED"]


def test_a_second_lab_has_its_own_names_network_and_label(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []

    def fake_podman(*args: str, check: bool = True, capture: bool = True) -> Any:
        calls.append(args)
        stdout = "[]" if args[:2] == ("ps", "-a") else ""
        return SimpleNamespace(returncode=0, stdout=stdout, stderr="")

    waited: list[str] = []
    monkeypatch.setattr(lab, "podman", fake_podman)
    monkeypatch.setattr(lab, "build_image", lambda force=False: False)
    monkeypatch.setattr(lab, "wait_for_systemd", lambda name, timeout=60.0: waited.append(name))
    lab.up(["central"], prefix="bench-", network="bench-net", label="bench")
    run = next(call for call in calls if call[0] == "run")
    assert run[run.index("--name") + 1] == "bench-central"
    assert run[run.index("--hostname") + 1] == "central"
    assert run[run.index("--network") + 1] == "bench-net"
    assert run[run.index("--network-alias") + 1] == "central"
    assert run[run.index("--label") + 1] == f"{lab.LAB_LABEL}=bench"
    assert ("ps", "-a", "--filter", f"label={lab.LAB_LABEL}=bench", "--format", "json") in calls
    assert waited == ["bench-central"]
    calls.clear()
    lab.down([], label="bench")
    assert calls == [("ps", "-a", "--filter", f"label={lab.LAB_LABEL}=bench", "--format", "json")]


def _literal_apt_packages(role: Path) -> set[str]:
    """The package names a role's apt tasks give literally (templated ones cannot be baked)."""
    names: set[str] = set()
    for tasks in sorted((role / "tasks").glob("*.yml")):
        for task in yaml.safe_load(tasks.read_text()) or []:
            apt = task.get("ansible.builtin.apt") if isinstance(task, dict) else None
            if not isinstance(apt, dict) or apt.get("state", "present") != "present":
                continue
            listed = apt.get("name", [])
            for name in [listed] if isinstance(listed, str) else listed:
                if "{{" not in name:
                    names.add(name)
    return names


@pytest.mark.parametrize("family", sorted(lab.FAMILY_ROLES))
def test_each_family_bakes_what_its_roles_install(family: str) -> None:
    roles = lab.PROJECT_ROOT / "roles"
    missing = {
        role: sorted(_literal_apt_packages(roles / role) - set(lab.FAMILIES[family]) - set(lab.PACKAGES))
        for role in lab.FAMILY_ROLES[family]
    }
    assert {role: names for role, names in missing.items() if names} == {}


def test_a_new_base_rebuilds_every_family(monkeypatch: pytest.MonkeyPatch) -> None:
    forced: list[tuple[str, bool]] = []
    monkeypatch.setattr(lab, "build_image", lambda force=False: True)
    monkeypatch.setattr(
        lab, "build_family", lambda family, force=False: forced.append((family, force)) or force
    )
    built = lab.build_images()
    assert forced == [(family, True) for family in lab.FAMILIES]
    assert all(built.values())


def test_a_family_recipe_follows_its_packages_and_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    before = lab.family_digest("school")
    monkeypatch.setitem(lab.FAMILIES, "school", (*lab.FAMILIES["school"], "vim"))
    changed = lab.family_digest("school")
    assert changed != before
    monkeypatch.setattr(lab, "PACKAGES", (*lab.PACKAGES, "less"))
    assert lab.family_digest("school") != changed
