"""Deliveries: a supplier's CSV of serial, MAC and model, matched to the register's records by serial.

All or nothing: one bad line and no file changes; every error names the CSV file, its line and the
field. A delivered workstation gets its school's next never-used host number.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from schoolfleet.register import Equipment, load_register
from schoolfleet.register.inventory import build_inventory

from .support import Run, snapshot

HEADER = "serial,mac,model,uai\n"


def _csv(tmp_path: Path, *rows: str, name: str = "delivery.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(f"{row}\n" for row in rows))
    return path


def _records(root: Path) -> dict[str, tuple[str, Equipment]]:
    return {
        item.tag: (school.uai, item)
        for _, school in load_register(root).schools()
        for item in school.equipment
    }


def test_known_serials_get_their_mac_and_new_ones_a_record(
    run: Run, register_dir: Path, tmp_path: Path
) -> None:
    delivery = _csv(
        tmp_path,
        "P0016,A4-BB-6D-00-00-16,Dell OptiPlex 3000 Micro,",
        "P0017,a4bb.6d00.0017,dell optiplex  3000 micro,0910001G",
        "N0100,98:FA:9B:00:01:00,Lenovo ThinkCentre M70q,0450001G",
    )
    status, out, err = run("deliver", "--csv", str(delivery), "--on", "2026-12-07")
    assert status == 0, err
    # Written after the serial, quoted (a MAC of digits only would be a number in YAML 1.1).
    assert '         serial: "P0016"\n+        mac: "a4:bb:6d:00:00:16"\n+        host: 10\n' in out
    records = _records(register_dir)
    uai, first = records["SF-000016"]
    assert (uai, first.mac, first.host, first.installed) == (
        "0910001G",
        "a4:bb:6d:00:00:16",
        10,
        dt.date(2022, 8, 29),
    )
    uai, second = records["SF-000017"]
    assert (uai, second.mac, second.host, second.model) == (
        "0910001G",
        "a4:bb:6d:00:00:17",
        11,
        "Dell OptiPlex 3000 Micro",
    )
    # The unknown serial: a new record at the row's school, the next asset tag, installed on --on.
    uai, new = records["SF-000051"]
    assert (uai, new.kind.value, new.serial, new.model) == (
        "0450001G",
        "workstation",
        "N0100",
        "Lenovo ThinkCentre M70q",
    )
    assert (new.mac, new.host, new.installed) == ("98:fa:9b:00:01:00", 10, dt.date(2026, 12, 7))


def test_the_delivered_machines_are_in_the_inventory(run: Run, register_dir: Path, tmp_path: Path) -> None:
    delivery = _csv(tmp_path, "P0016,a4:bb:6d:00:00:16,Dell OptiPlex 3000 Micro,")
    assert run("deliver", "--csv", str(delivery))[0] == 0
    inventory = build_inventory(load_register(register_dir), as_of=dt.date(2026, 11, 1))
    assert [
        entry["address"] for entry in inventory["hosts"]["0910001g-srv"]["vars"]["fleet_workstations"]
    ] == ["10.128.0.10"]
    assert "classroom_workstations" in inventory["hosts"]["ws-sf-000016"]["groups"]


def test_a_dry_run_shows_the_diff_and_writes_nothing(run: Run, register_dir: Path, tmp_path: Path) -> None:
    before = snapshot(register_dir)
    delivery = _csv(tmp_path, "P0016,a4:bb:6d:00:00:16,Dell OptiPlex 3000 Micro,")
    status, out, err = run("deliver", "--csv", str(delivery), "--dry-run")
    assert status == 0, err
    assert '+        mac: "a4:bb:6d:00:00:16"\n' in out and out.endswith("dry run: nothing written\n")
    assert snapshot(register_dir) == before


def test_new_records_are_installed_today_by_default(run: Run, register_dir: Path, tmp_path: Path) -> None:
    delivery = _csv(tmp_path, "N0200,a4:bb:6d:00:02:00,Dell OptiPlex 3000 Micro,0910005L")
    assert run("deliver", "--csv", str(delivery))[0] == 0
    assert _records(register_dir)["SF-000051"][1].installed == dt.date.today()


def test_a_mac_twice_in_the_file_names_both_lines(run: Run, register_dir: Path, tmp_path: Path) -> None:
    before = snapshot(register_dir)
    delivery = _csv(
        tmp_path,
        "P0016,a4:bb:6d:00:00:16,Dell OptiPlex 3000 Micro,",
        "N0300,A4-BB-6D-00-00-16,Dell OptiPlex 3000 Micro,0910005L",
    )
    status, _, err = run("deliver", "--csv", str(delivery))
    assert status == 2
    assert (
        f"{delivery} line 3: mac: a4:bb:6d:00:00:16 is given twice: it is already SF-000016's "
        f"(school 0910001G, from {delivery} line 2)"
    ) in err
    assert f"{delivery} line 2" not in err.split("line 3:")[0]
    assert snapshot(register_dir) == before


def test_a_mac_already_in_the_register_is_refused(run: Run, register_dir: Path, tmp_path: Path) -> None:
    assert (
        run("deliver", "--csv", str(_csv(tmp_path, "P0016,a4:bb:6d:00:00:16,Dell OptiPlex 3000 Micro,")))[0]
        == 0
    )
    before = snapshot(register_dir)
    again = _csv(tmp_path, "P0017,a4:bb:6d:00:00:16,Dell OptiPlex 3000 Micro,", name="again.csv")
    status, _, err = run("deliver", "--csv", str(again))
    assert status == 2
    assert (
        f"{again} line 2: mac: a4:bb:6d:00:00:16 is given twice: it is already SF-000016's (school 0910001G, "
        in err
    )
    assert f"{register_dir}/members/91001-alpha.yml:39)" in err
    # The same file once more: the machine was delivered already.
    status, _, err = run("deliver", "--csv", str(tmp_path / "delivery.csv"))
    assert status == 2
    assert "line 2: mac: serial P0016 (SF-000016) was already delivered with this MAC" in err
    assert snapshot(register_dir) == before


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("P0016,a4:bb:6d:00:00,Dell OptiPlex 3000 Micro,", "mac: 'a4:bb:6d:00:00' is not a MAC address"),
        ("P0016,ff:ff:ff:ff:ff:ff,Dell OptiPlex 3000 Micro,", "mac: 'ff:ff:ff:ff:ff:ff' is a multicast MAC"),
        ("P0016,,Dell OptiPlex 3000 Micro,", "missing mac"),
        (
            "X9999,a4:bb:6d:00:99:99,Dell OptiPlex 3000 Micro,",
            "serial: a delivery row whose serial matches no school: X9999 is on no record of the register, "
            "and the row gives no uai",
        ),
        (
            "X9999,a4:bb:6d:00:99:99,Dell OptiPlex 3000 Micro,0999999Z",
            "uai: a delivery row whose serial matches no school: no school '0999999Z' in the register",
        ),
        (
            "P0016,a4:bb:6d:00:00:16,HP ProDesk 400 G7,",
            "model: serial P0016 is SF-000016, a 'Dell OptiPlex 3000 Micro' in the register, "
            "not 'HP ProDesk 400 G7'",
        ),
        (
            "P0016,a4:bb:6d:00:00:16,Dell OptiPlex 3000 Micro,0910005L",
            "uai: serial P0016 is SF-000016 at school 0910001G, not 0910005L",
        ),
        (
            "W0013,a4:bb:6d:00:00:13,HPE Aruba 2530-24G-PoE+,",
            "serial: W0013 is SF-000013, a switch: a delivery holds workstations",
        ),
    ],
)
def test_a_bad_row_names_the_file_the_line_and_the_field(
    run: Run, register_dir: Path, tmp_path: Path, row: str, message: str
) -> None:
    before = snapshot(register_dir)
    delivery = _csv(tmp_path, "P0017,a4:bb:6d:00:00:17,Dell OptiPlex 3000 Micro,", row)
    status, _, err = run("deliver", "--csv", str(delivery))
    assert status == 2
    assert f"{delivery} line 3: {message}" in err
    # The good line 2 was not applied either.
    assert snapshot(register_dir) == before


def test_a_new_record_of_another_kind_is_refused(run: Run, register_dir: Path, tmp_path: Path) -> None:
    delivery = _csv(
        tmp_path,
        "N0400,a4:bb:6d:00:04:00,Epson ET-5850,0910005L,inkjet_printer",
        header="serial,mac,model,uai,kind\n",
    )
    status, _, err = run("deliver", "--csv", str(delivery))
    assert status == 2
    assert (
        f"{delivery} line 2: kind: 'inkjet_printer': a delivery holds workstation or specific_workstation"
        in err
    )


def test_a_specific_workstation_can_be_delivered(run: Run, register_dir: Path, tmp_path: Path) -> None:
    delivery = _csv(
        tmp_path,
        "N0500,f0:18:98:00:05:00,Apple iMac 24,0910005L,specific_workstation",
        header="serial,mac,model,uai,kind\n",
    )
    assert run("deliver", "--csv", str(delivery))[0] == 0
    uai, item = _records(register_dir)["SF-000051"]
    assert (uai, item.kind.value, item.host) == ("0910005L", "specific_workstation", 10)


def test_the_host_range_exhausted_names_the_line(run: Run, register_dir: Path, tmp_path: Path) -> None:
    authority = register_dir / "authority.yml"
    authority.write_text(authority.read_text().replace("workstations: 10-31", "workstations: 10-11"))
    before = snapshot(register_dir)
    delivery = _csv(
        tmp_path,
        "P0016,a4:bb:6d:00:00:16,Dell OptiPlex 3000 Micro,",
        "N0600,a4:bb:6d:00:06:00,Dell OptiPlex 3000 Micro,0910005L",
        "P0017,a4:bb:6d:00:00:17,Dell OptiPlex 3000 Micro,",
        "N0601,a4:bb:6d:00:06:01,Dell OptiPlex 3000 Micro,0910001G",
    )
    status, _, err = run("deliver", "--csv", str(delivery))
    assert status == 2
    assert (
        f"{delivery} line 5: host: the workstations' range 10-11 of school 0910001G is exhausted: every host "
        "number was given once"
    ) in err
    assert "line 2" not in err and "line 3" not in err and "line 4" not in err
    assert snapshot(register_dir) == before


def test_a_retired_machine_keeps_its_number_for_good(run: Run, register_dir: Path, tmp_path: Path) -> None:
    """The reservation plan: the lowest number no record of the school ever had, retired ones included."""
    assert (
        run("deliver", "--csv", str(_csv(tmp_path, "P0016,a4:bb:6d:00:00:16,Dell OptiPlex 3000 Micro,")))[0]
        == 0
    )
    assert run("retire-equipment", "--tag", "SF-000016", "--on", "2026-12-01")[0] == 0
    replacement = _csv(
        tmp_path,
        "N0700,a4:bb:6d:00:07:00,Dell OptiPlex 3000 Micro,0910001G",
        "P0017,a4:bb:6d:00:00:17,Dell OptiPlex 3000 Micro,",
        name="replacement.csv",
    )
    status, _, err = run("deliver", "--csv", str(replacement), "--on", "2026-12-01")
    assert status == 0, err
    records = _records(register_dir)
    assert (records["SF-000016"][1].host, records["SF-000016"][1].retired) == (10, dt.date(2026, 12, 1))
    assert records["SF-000051"][1].host == 11
    assert records["SF-000017"][1].host == 12
    # Another school's numbers are its own: its first delivery takes 10.
    other = _csv(tmp_path, "N0701,a4:bb:6d:00:07:01,Dell OptiPlex 3000 Micro,0910005L", name="other.csv")
    assert run("deliver", "--csv", str(other))[0] == 0
    assert _records(register_dir)["SF-000052"][1].host == 10


def test_a_retired_record_is_not_delivered_again(run: Run, register_dir: Path, tmp_path: Path) -> None:
    assert run("retire-equipment", "--tag", "SF-000017", "--on", "2026-12-01")[0] == 0
    status, _, err = run(
        "deliver", "--csv", str(_csv(tmp_path, "P0017,a4:bb:6d:00:00:17,Dell OptiPlex 3000 Micro,"))
    )
    assert status == 2
    assert "line 2: serial: P0017 is SF-000017, retired on 2026-12-01" in err


def test_a_serial_twice_in_the_file_is_refused(run: Run, register_dir: Path, tmp_path: Path) -> None:
    delivery = _csv(
        tmp_path,
        "N0800,a4:bb:6d:00:08:00,Dell OptiPlex 3000 Micro,0910005L",
        "N0800,a4:bb:6d:00:08:01,Dell OptiPlex 3000 Micro,0910005L",
    )
    status, _, err = run("deliver", "--csv", str(delivery))
    assert status == 2
    assert f"{delivery} line 3: serial: N0800 is delivered twice (also {delivery} line 2)" in err


def test_every_kind_of_error_is_reported_in_one_pass(run: Run, register_dir: Path, tmp_path: Path) -> None:
    before = snapshot(register_dir)
    delivery = _csv(
        tmp_path,
        "X0001,a4:bb:6d:00:01:01,Dell OptiPlex 3000 Micro,",  # a serial nowhere, and no uai: a step error
        "P0017,zz:zz,Dell OptiPlex 3000 Micro,",  # a bad MAC: a step error
        "N0500,a4:bb:6d:00:05:00,Dell OptiPlex 3000 Micro,0910004K",  # the loader's: the member has left
    )
    status, _, err = run("deliver", "--csv", str(delivery), "--on", "2026-12-07")
    assert status == 2
    assert f"{delivery} line 2: serial: a delivery row whose serial matches no school" in err
    assert f"{delivery} line 3: mac:" in err
    assert f"{delivery} line 4: {register_dir}/members/91004-delta.yml:" in err
    assert "installed 2026-12-07, once its member had left (2024-08-31)" in err
    assert snapshot(register_dir) == before


def test_rows_with_too_many_cells_are_all_reported(run: Run, tmp_path: Path) -> None:
    delivery = _csv(tmp_path, "A,a4:bb:6d:00:01:01,M,,extra", "B,a4:bb:6d:00:01:02,M,,extra")
    status, _, err = run("deliver", "--csv", str(delivery))
    assert status == 2
    assert f"{delivery} line 2: more cells" in err and f"{delivery} line 3: more cells" in err
