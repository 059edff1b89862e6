"""Ansible filters of the network_switch and network_router roles, around schoolfleet.network (the
checks and the SNS render live there, tested)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from schoolfleet.network import sns
from schoolfleet.network.plan import PlanError, router_plan, switch_plan


def _plan(build: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def plan(vlans: Any, device: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return build(device, network=vlans, **kwargs)
        except PlanError as error:
            raise AnsibleFilterError(str(error)) from None

    return plan


def network_router_sns(plan: Any, school: str, location: str, header: str) -> str:
    """The SNS family is rendered in Python: its commands are built from the same tokens the push
    compares, so the file and the diff cannot disagree on quoting or order."""
    return sns.render(plan, school=str(school), location=str(location), header=str(header))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "network_switch_plan": _plan(switch_plan),
            "network_router_plan": _plan(router_plan),
            "network_router_sns": network_router_sns,
        }
