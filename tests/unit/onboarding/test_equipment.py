"""Equipment: one device or a CSV batch added, moved or retired; one bad line and nothing is applied."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from schoolfleet.register import EquipmentKind, load_register

from .support import Run, snapshot


def _devices(root: Path) -> dict[str, tuple[str, EquipmentKind, int | None, dt.date | None]]:
    return {
        item.tag: (school.uai, item.kind, item.unit, item.retired)
        for _, school in load_register(root).schools()
        for item in school.equipment
    }


def test_add_one_device_takes_the_next_free_unit(run: Run, register_dir: Path) -> None:
    status, out, err = run(
        "add-equipment", "--school", "0910001G", "--tag", "SF-000100", "--kind", "switch",
        "--model", "HPE Aruba 2530-48G", "--serial", "0042", "--installed", "2026-09-01",
    )  # fmt: skip
    assert status == 0, err
    assert '+        serial: "0042"\n' in out  # quoted, so it stays text
    assert _devices(register_dir)["SF-000100"] == ("0910001G", EquipmentKind.SWITCH, 2, None)


def test_a_retired_unit_number_is_reused(run: Run, register_dir: Path) -> None:
    assert run("retire-equipment", "--tag", "SF-000013", "--on", "2026-08-31")[0] == 0
    status, _, err = run(
        "add-equipment", "--school", "0910001G", "--tag", "SF-000101", "--kind", "switch",
        "--model", "HPE Aruba 2530-48G", "--serial", "X1", "--installed", "2026-08-31",
    )  # fmt: skip
    assert status == 0, err
    devices = _devices(register_dir)
    assert devices["SF-000013"] == ("0910001G", EquipmentKind.SWITCH, 1, dt.date(2026, 8, 31))
    assert devices["SF-000101"] == ("0910001G", EquipmentKind.SWITCH, 1, None)


def test_a_duplicate_asset_tag_is_refused(run: Run, register_dir: Path) -> None:
    before = snapshot(register_dir)
    status, _, err = run(
        "add-equipment", "--school", "0450001G", "--tag", "SF-000016", "--kind", "workstation",
        "--model", "M", "--serial", "S", "--installed", "2026-09-01",
    )  # fmt: skip
    assert status == 2
    assert "asset tag SF-000016 is already in the register (school 0910001G)" in err
    assert snapshot(register_dir) == before


def test_a_batch_adds_every_line(run: Run, register_dir: Path, tmp_path: Path) -> None:
    batch = tmp_path / "new.csv"
    batch.write_text(
        "school;tag;kind;model;serial;installed\n"
        "0450001G;SF-000200;workstation;Dell OptiPlex;P200;2026-09-01\n"
        "0450001G;SF-000201;inkjet_printer;Epson ET-5850;I201;2026-09-01\n"
    )
    status, _, err = run("add-equipment", "--csv", str(batch))
    assert status == 0, err
    devices = _devices(register_dir)
    assert devices["SF-000200"][:2] == ("0450001G", EquipmentKind.WORKSTATION)
    assert devices["SF-000201"][:2] == ("0450001G", EquipmentKind.INKJET_PRINTER)


def test_a_batch_with_a_duplicate_tag_applies_nothing_and_names_the_line(
    run: Run, register_dir: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "new.csv"
    batch.write_text(
        "school,tag,kind,model,serial,installed\n"
        "0450001G,SF-000200,workstation,Dell OptiPlex,P200,2026-09-01\n"
        "0450001G,SF-000201,workstation,Dell OptiPlex,P201,2026-09-01\n"
        "0450001G,SF-000200,workstation,Dell OptiPlex,P202,2026-09-01\n"
    )
    before = snapshot(register_dir)
    status, _, err = run("add-equipment", "--csv", str(batch))
    assert status == 2
    assert f"{batch} line 4: asset tag SF-000200 is already in the register (school 0450001G)" in err
    assert "line 2" not in err and "line 3" not in err
    assert snapshot(register_dir) == before


def test_a_batch_line_the_loader_refuses_is_named(run: Run, register_dir: Path, tmp_path: Path) -> None:
    batch = tmp_path / "new.csv"
    batch.write_text(
        "school;tag;kind;model;serial;installed\n"
        "0910005L;SF-000300;workstation;Dell OptiPlex;P300;2026-09-01\n"
        "0910005L;SF-000301;toaster;Dualit;T301;2026-09-01\n"
        "0910005L;SF-000302;workstation;Dell OptiPlex;P302;2026-02-30\n"
    )
    before = snapshot(register_dir)
    status, _, err = run("add-equipment", "--csv", str(batch))
    assert status == 2
    assert f"{batch} line 4: installed: '2026-02-30' is not a date" in err
    assert "SF-000300" not in err
    # The step ran; the loader refused the result, and the problem is traced back to its line.
    assert f"{batch} line 2" not in err
    snapshot_before_second_try = snapshot(register_dir)
    assert snapshot_before_second_try == before
    batch.write_text(batch.read_text().replace("2026-02-30", "2026-02-28"))
    status, _, err = run("add-equipment", "--csv", str(batch))
    assert status == 2
    assert f"{batch} line 3: {register_dir}/members/91001-alpha.yml:" in err
    assert "unknown kind 'toaster'" in err
    assert snapshot(register_dir) == before


def test_move_a_device_to_another_school(run: Run, register_dir: Path) -> None:
    status, out, err = run("move-equipment", "--tag", "SF-000013", "--to", "0910005L")
    assert status == 0, err
    devices = _devices(register_dir)
    # Unit 1 is taken at the new school: the switch becomes unit 2 there.
    assert devices["SF-000013"] == ("0910005L", EquipmentKind.SWITCH, 2, None)
    assert "-      - tag: SF-000013\n" in out and "+      - tag: SF-000013\n" in out


def test_move_a_batch_to_another_member(run: Run, register_dir: Path, tmp_path: Path) -> None:
    batch = tmp_path / "move.csv"
    batch.write_text("tag\nSF-000016\nSF-000017\n")
    status, _, err = run("move-equipment", "--csv", str(batch), "--to", "0450001G")
    assert status == 0, err
    devices = _devices(register_dir)
    assert devices["SF-000016"][0] == devices["SF-000017"][0] == "0450001G"


def test_moving_an_access_point_to_a_member_without_wi_fi_is_refused(run: Run, register_dir: Path) -> None:
    assert run(
        "add-equipment", "--school", "0910001G", "--tag", "SF-000400", "--kind", "wifi_ap",
        "--model", "Aruba AP-303", "--serial", "A400", "--installed", "2026-09-01",
    )[0] == 0  # fmt: skip
    status, _, err = run("move-equipment", "--tag", "SF-000400", "--to", "0450001G")
    assert status == 2
    assert "Wi-Fi access point SF-000400 at a school whose member has no Wi-Fi option" in err


def test_retire_a_batch_with_one_unknown_tag_applies_nothing(
    run: Run, register_dir: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "retire.csv"
    batch.write_text("tag;on\nSF-000016;\nSF-000099;\nSF-000017;2026-12-31\n")
    before = snapshot(register_dir)
    status, _, err = run("retire-equipment", "--csv", str(batch), "--on", "2026-10-15")
    assert status == 2
    assert f"{batch} line 3: no device with asset tag 'SF-000099' in the register" in err
    assert snapshot(register_dir) == before
    batch.write_text("tag;on\nSF-000016;\nSF-000017;2026-12-31\n")
    status, _, err = run("retire-equipment", "--csv", str(batch), "--on", "2026-10-15")
    assert status == 0, err
    devices = _devices(register_dir)
    assert devices["SF-000016"][3] == dt.date(2026, 10, 15)
    assert devices["SF-000017"][3] == dt.date(2026, 12, 31)


def test_retiring_before_installation_is_refused_where_the_loader_says(run: Run, register_dir: Path) -> None:
    status, _, err = run("retire-equipment", "--tag", "SF-000016", "--on", "2020-01-01")
    assert status == 2
    assert f"{register_dir}/members/91001-alpha.yml:44: schools[0].equipment[3].retired:" in err


def test_a_device_of_a_model_the_catalogue_does_not_run_is_refused_at_onboarding(
    run: Run, register_dir: Path
) -> None:
    before = snapshot(register_dir)
    status, _, err = run(
        "add-equipment", "--school", "0910001G", "--tag", "SF-000401", "--kind", "switch",
        "--model", "Netgear GS724T", "--serial", "N401", "--installed", "2026-09-01",
    )  # fmt: skip
    assert status == 2
    assert "91001-alpha.yml:" in err and ".model: switch SF-000401: model 'Netgear GS724T' is not in" in err
    assert snapshot(register_dir) == before
