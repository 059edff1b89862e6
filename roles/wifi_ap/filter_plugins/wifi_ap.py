"""Ansible filters around schoolfleet.wifi (the checks and the renderers live there, unit-tested)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from schoolfleet.wifi.model import WifiError, access_point_from_dict, build_access_point
from schoolfleet.wifi.renderers import FAMILIES, RENDERERS


def wifi_ap_model(network: Any, host: str, **kwargs: Any) -> dict[str, Any]:
    """The checked, family-neutral model of the access point, as plain data."""
    try:
        return build_access_point(host, network=network, families=FAMILIES, **kwargs).as_dict()
    except WifiError as error:
        raise AnsibleFilterError(str(error)) from None


def wifi_ap_render(model: dict[str, Any]) -> str:
    ap = access_point_from_dict(model)
    return RENDERERS[ap.family].render(ap)


def wifi_ap_secret_slots(model: dict[str, Any]) -> list[dict[str, Any]]:
    ap = access_point_from_dict(model)
    return RENDERERS[ap.family].secret_slots(ap)


def wifi_ap_secret_problem(value: Any, name: str) -> str:
    """What is wrong with a secret's shape ("" when nothing), never quoting the value itself."""
    low, high = (16, 128) if name == "radius" else (8, 63)
    text = "" if value is None else str(value)
    if not low <= len(text) <= high:
        return f"{name}: {low} to {high} characters are needed, it has {len(text)}"
    if any(c in text for c in "'\"\\") or not text.isprintable():
        return f"{name}: quotes, backslashes and control characters are not allowed"
    return ""


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "wifi_ap_model": wifi_ap_model,
            "wifi_ap_render": wifi_ap_render,
            "wifi_ap_secret_slots": wifi_ap_secret_slots,
            "wifi_ap_secret_problem": wifi_ap_secret_problem,
        }
