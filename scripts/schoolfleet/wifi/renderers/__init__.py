"""One module per access-point family: `render(ap) -> str`, `secret_slots(ap)`, and for the push its
configuration ownership. Adding a family = a module here and an entry in RENDERERS; the model and
the role's checks stay as they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schoolfleet.wifi.model import AccessPoint
from schoolfleet.wifi.renderers import openwrt


@dataclass(frozen=True)
class Renderer:
    render: Callable[[AccessPoint], str]
    secret_slots: Callable[[AccessPoint], list[dict[str, Any]]]
    # Suffix of the rendered file in the build directory.
    suffix: str


RENDERERS: dict[str, Renderer] = {
    openwrt.FAMILY: Renderer(openwrt.render, openwrt.secret_slots, "uci"),
}
FAMILIES = tuple(RENDERERS)
