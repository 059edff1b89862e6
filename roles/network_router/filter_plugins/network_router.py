"""Ansible filters around schoolfleet.network.plan.router_plan and the SNS render (the checks live
there, tested)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from schoolfleet.network import sns
from schoolfleet.network.plan import PlanError, router_plan


def network_router_plan(vlans: Any, device: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return router_plan(device, network=vlans, **kwargs)
    except PlanError as error:
        raise AnsibleFilterError(str(error)) from None


def network_router_sns(plan: Any, school: str, location: str, header: str) -> str:
    """The SNS family is rendered in Python: its commands are built from the same tokens the push
    compares, so the file and the diff cannot disagree on quoting or order."""
    return sns.render(plan, school=str(school), location=str(location), header=str(header))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"network_router_plan": network_router_plan, "network_router_sns": network_router_sns}
