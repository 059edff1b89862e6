"""The lab tool's decisions that need no podman: when to rebuild the image, how a run is summarised."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

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
