import json
from pathlib import Path

import pytest
from register_cases import (
    FIXTURES,
    SMALL,
    BadCase,
    ansible_inventory,
    apply,
    bad_cases,
    copy_small,
    inventory_json,
)


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
    assert "unmanaged" not in data and not any(name.startswith("ws-") for name in hostvars)
    server = hostvars["0910001g-srv"]
    assert server["ansible_connection"] == "containers.podman.podman"
    assert server["ansible_python_interpreter"] == "/usr/bin/python3"
    assert "ansible_host" not in server
    assert server["fleet_address"] == "10.128.7.2"
    assert hostvars["central"]["ansible_connection"] == "containers.podman.podman"


def test_constructed_features(tmp_path: Path) -> None:
    data = inventory_json(FIXTURES / "constructed" / "hosts.yml", tmp_path)
    assert data["_meta"]["hostvars"]["0910002h-srv"]["school_name"] == "École maternelle Les Tilleuls"
    assert set(data["big_schools"]["hosts"]) == {
        "0910001g-srv",
        "0910001g-rtr",
        "0910001g-sw1",
        "0910001g-sw2",
        "0910001g-ap1",
    }
    assert data["kind_maternelle"]["hosts"] == ["0910002h-srv", "0910002h-rtr"]
    assert "central" in data["kind_none"]["hosts"]


def test_cache_follows_the_register(tmp_path: Path) -> None:
    copy = copy_small(tmp_path)
    hosts = copy / "hosts.yml"
    cache = tmp_path / "cache"
    hosts.write_text(
        hosts.read_text()
        + f"cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: {cache}\n"
    )
    first = inventory_json(hosts, tmp_path / "home")
    entries = list(cache.iterdir())
    assert len(entries) == 1
    # A second run reads the cache: it must give the same inventory.
    assert inventory_json(hosts, tmp_path / "home") == first
    assert list(cache.iterdir()) == entries
    member = copy / "register" / "members" / "91001-alpha.yml"
    member.write_text(member.read_text().replace("pupils: 210", "pupils: 211"))
    changed = inventory_json(hosts, tmp_path / "home")
    assert changed["_meta"]["hostvars"]["0910001g-srv"]["fleet_school"]["pupils"] == 211
    assert len(list(cache.iterdir())) == 2


def test_as_of_moves_the_fleet(tmp_path: Path) -> None:
    copy = copy_small(tmp_path)
    hosts = copy / "hosts.yml"
    hosts.write_text(hosts.read_text().replace('as_of: "2026-11-01"', 'as_of: "2020-01-01"'))
    hostvars = inventory_json(hosts, tmp_path / "home")["_meta"]["hostvars"]
    # Delta was still a member, the first server of 0910001G still in service, the AP not yet there.
    assert "0910004k-srv" in hostvars
    assert hostvars["0910001g-srv"]["fleet_asset"]["tag"] == "SF-000010"
    assert "0910001g-ap1" not in hostvars


def test_demo_and_lab_sources_describe_the_same_fleet(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    demo = inventory_json(root / "inventories" / "demo" / "hosts.yml", tmp_path)
    lab = inventory_json(root / "inventories" / "lab" / "hosts.yml", tmp_path)
    assert demo["_meta"]["hostvars"].keys() == lab["_meta"]["hostvars"].keys()
    assert demo["central_servers"]["hosts"] == ["central"]
    assert len(demo["school_servers"]["hosts"]) > 100


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
