"""Ansible filters around schoolfleet.network.drift (the comparison lives there, tested)."""

from __future__ import annotations

from typing import Any

from schoolfleet.network.drift import drift, report


def network_config_drift(intended: str, running: str) -> dict[str, Any]:
    return drift(intended, running)


def network_drift_report(result: dict[str, Any], device: str) -> str:
    return report(device, result)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"network_config_drift": network_config_drift, "network_drift_report": network_drift_report}
