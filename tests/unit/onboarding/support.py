"""Helpers of the onboarding tests: the command runner's type, and a digest of every register file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., tuple[int, str, str]]


def snapshot(root: Path) -> dict[str, str]:
    """Every file under the register with its digest: to prove a refused command wrote nothing."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
