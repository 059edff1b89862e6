import json
from pathlib import Path

import pytest
import yaml
from register_cases import (
    FIXTURES,
    SMALL,
    BadCase,
    ansible_inventory,
    ansible_tool,
    apply,
    bad_cases,
    copy_small,
    inventory_json,
)

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def test_golden_small(tmp_path: Path) -> None:
    expected = json.loads((SMALL / "expected.json").read_text(encoding="utf-8"))
    assert inventory_json(SMALL / "hosts.yml", tmp_path) == expected


def test_register_text_is_never_templated(tmp_path: Path) -> None:
    raw = inventory_json(SMALL / "hosts.yml", tmp_path, raw=True)
    school = raw["_meta"]["hostvars"]["0910001g-srv"]["fleet_school"]
    assert school["name"] == {"__ansible_unsafe": "École élémentaire Jules Ferry"}


def test_lab_reach(tmp_path: Path) -> None:
    data = inventory_json(FIXTURES / "lab" / "hosts.yml", tmp_path)
    hostvars = data["_meta"]["hostvars"]
    # Without billable-only equipment: the workstation with no MAC is gone, the delivered ones stay.
    assert "unmanaged" not in data and "ws-sf-000042" not in hostvars
    assert data["classroom_workstations"]["hosts"] == ["ws-sf-000016", "sws-sf-000032"]
    server = hostvars["0910001g-srv"]
    assert server["ansible_connection"] == "containers.podman.podman"
    assert server["ansible_python_interpreter"] == "/usr/bin/python3"
    assert "ansible_host" not in server
    assert server["fleet_address"] == "10.128.7.2"
    assert hostvars["central"]["ansible_connection"] == "containers.podman.podman"
    workstation = hostvars["ws-sf-000016"]
    assert workstation["ansible_connection"] == "containers.podman.podman"
    assert "ansible_host" not in workstation and workstation["fleet_address"] == "10.128.4.10"


def test_delivered_workstations_are_managed_through_their_school_server(tmp_path: Path) -> None:
    data = inventory_json(SMALL / "hosts.yml", tmp_path)
    hostvars = data["_meta"]["hostvars"]
    workstation = hostvars["ws-sf-000016"]
    assert "ansible_connection" not in workstation
    assert (workstation["fleet_address"], workstation["ansible_host"]) == ("10.128.4.10", "10.128.4.10")
    assert workstation["fleet_mac"] == "a4:bb:6d:00:00:16"
    assert workstation["fleet_school_server"] == "0910001g-srv"
    assert workstation["fleet_asset"]["host"] == 10
    assert workstation["fleet_network"]["pedagogy"]["cidr"] == "10.128.4.0/24"
    assert data["classroom_workstations"]["hosts"] == ["ws-sf-000016", "sws-sf-000032"]
    assert "classroom_workstations" in data["managed"]["children"]
    # Both kinds of workstation group sit outside the unmanaged tree: a delivered one must not get
    # `ansible_connection: none` from it.
    assert "workstations" not in data["unmanaged"]["children"]
    assert data["unmanaged"]["hosts"] == ["ws-sf-000042"]
    assert hostvars["ws-sf-000042"]["ansible_connection"] == "none"
    assert set(data["workstations"]["hosts"]) == {"ws-sf-000016", "ws-sf-000042"}
    # The retired workstation keeps its MAC and host number in the register, not in the inventory.
    assert "ws-sf-000017" not in hostvars
    assert hostvars["0910001g-srv"]["fleet_workstations"] == [
        {
            "hostname": "ws-sf-000016",
            "tag": "SF-000016",
            "kind": "workstation",
            "mac": "a4:bb:6d:00:00:16",
            "address": "10.128.4.10",
            "host": 10,
            "serial": "P0016",
            "model": "Dell OptiPlex 3000 Micro",
        }
    ]
    assert hostvars["0450001g-srv"]["fleet_workstations"] == []


def test_the_group_vars_jump_through_the_school_server(tmp_path: Path) -> None:
    """The playbooks' group_vars as Ansible templates them: SSH through the school server's address,
    with the server's own account and port when the inventory gives them."""
    copy = copy_small(tmp_path)
    (copy / "group_vars").mkdir()
    (copy / "group_vars" / "school_servers.yml").write_text("ansible_user: admin\nansible_port: 2222\n")

    def jump(host: str) -> str:
        result = ansible_tool(
            "ansible", copy / "hosts.yml", tmp_path / "home", host, "--playbook-dir", str(PLAYBOOKS),
            "-m", "ansible.builtin.debug", "-a", "var=ansible_ssh_common_args",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout.split("ansible_ssh_common_args:", 1)[1].strip()

    assert jump("ws-sf-000016") == "-o ProxyJump=admin@10.128.7.2:2222"
    assert jump("sws-sf-000032") == "-o ProxyJump=admin@10.128.15.2:2222"


def test_fleet_software_gives_the_schools_packs(tmp_path: Path) -> None:
    """What the catalogue gives a school, on its server and its classroom workstations."""
    hostvars = inventory_json(SMALL / "hosts.yml", tmp_path)["_meta"]["hostvars"]
    only_base = {
        "packs": ["base"],
        "packages": ["libreoffice-writer", "firefox-esr", "evince"],
        # maternelle's packages, except evince which base has too; direction (old form) has none.
        "removed_packages": ["gcompris-qt", "tuxpaint"],
        "settings": {"firefox_homepage": "https://ecole.example/"},
    }
    assert hostvars["0910001g-srv"]["fleet_software"] == only_base
    assert hostvars["ws-sf-000016"]["fleet_software"] == only_base
    both = hostvars["0910002h-srv"]["fleet_software"]
    assert both["packages"] == ["libreoffice-writer", "firefox-esr", "evince", "gcompris-qt", "tuxpaint"]
    assert both["removed_packages"] == []
    # A school with no pack has every package of the catalogue removed from its machines.
    assert hostvars["0450001g-srv"]["fleet_software"]["packages"] == []
    assert "fleet_software" not in hostvars["0910001g-rtr"]


def test_the_group_vars_give_the_workstation_role_its_packs(tmp_path: Path) -> None:
    result = ansible_tool(
        "ansible", SMALL / "hosts.yml", tmp_path / "home", "ws-sf-000016", "--playbook-dir", str(PLAYBOOKS),
        "-m", "ansible.builtin.debug",
        "-a", "msg={{ [workstation_packs, workstation_removed_packages, workstation_settings] | to_json }}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    # The output callback prints YAML: the message is the JSON text.
    shown = json.loads(yaml.safe_load(result.stdout.split("=>", 1)[1])["msg"])
    assert shown == [
        ["libreoffice-writer", "firefox-esr", "evince"],
        ["gcompris-qt", "tuxpaint"],
        {"firefox_homepage": "https://ecole.example/"},
    ]


@pytest.mark.parametrize("case", bad_cases(), ids=lambda case: case.id)
def test_bad_input_fails_the_inventory(case: BadCase, tmp_path: Path) -> None:
    copy = copy_small(tmp_path)
    path, line = apply(case, copy / "register")
    result = ansible_inventory(copy / "hosts.yml", tmp_path / "home", "--list")
    assert result.returncode != 0
    where = f"{path}:{line}: {case.field}: " if case.field else f"{path}:{line}: "
    assert where in result.stderr
    assert case.message in result.stderr


def test_no_partial_inventory_even_when_failures_are_tolerated(tmp_path: Path) -> None:
    copy = copy_small(tmp_path)
    apply(next(case for case in bad_cases() if case.id == "duplicate_uai"), copy / "register")
    result = ansible_inventory(
        copy / "hosts.yml", tmp_path / "home", "--list", ANSIBLE_INVENTORY_UNPARSED_FAILED="false"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["_meta"]["hostvars"] == {}
    assert "duplicate UAI 0910001G" in result.stderr


def test_other_yaml_inventories_are_left_alone(tmp_path: Path) -> None:
    static = tmp_path / "static.yml"
    static.write_text("---\nall:\n  hosts:\n    plain:\n")
    data = inventory_json(static, tmp_path / "home")
    assert data["ungrouped"]["hosts"] == ["plain"]
