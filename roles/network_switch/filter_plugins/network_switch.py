"""Ansible filter around schoolfleet.network.plan.switch_plan (the checks live there, tested)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from schoolfleet.network.plan import PlanError, switch_plan


def network_switch_plan(vlans: Any, device: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return switch_plan(device, network=vlans, **kwargs)
    except PlanError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"network_switch_plan": network_switch_plan}
