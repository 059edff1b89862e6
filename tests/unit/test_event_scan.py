"""The job-event scan that catches secrets leaking out of no_log (schoolfleet.event_scan)."""

import json
from pathlib import Path

from schoolfleet import event_scan

SCENARIO = """\
- name: Converge
  hosts: all
  vars:
    backup_server_repositories:
      - name: school-a
        password: fixture-passphrase-one
    radius_server_client_secret: fixture-radius-two
    school_directory_admin_password: "{{ lookup('env', 'X') }}"
    wifi_psk: short
    school_directory_school_name: École de test
"""


def event(path: Path, name: str, task: str, res: object) -> None:
    (path / "job_events").mkdir(parents=True, exist_ok=True)
    body = {"event": "runner_item_on_ok", "event_data": {"task": task, "host": "srv", "res": res}}
    (path / "job_events" / f"{name}.json").write_text(json.dumps(body), encoding="utf-8")


def test_fixture_secrets_are_the_literal_values_of_secret_keys(tmp_path: Path) -> None:
    (tmp_path / "converge.yml").write_text(SCENARIO, encoding="utf-8")
    assert event_scan.fixture_secrets(tmp_path) == {"fixture-passphrase-one", "fixture-radius-two"}


def test_an_item_holding_a_secret_is_named(tmp_path: Path, capsys) -> None:
    scenario, events = tmp_path / "scenario", tmp_path / "events"
    scenario.mkdir()
    (scenario / "converge.yml").write_text(SCENARIO, encoding="utf-8")
    event(events, "1", "Create each school's repository", {"item": {"name": "school-a"}, "changed": True})
    event(events, "2", "Check the repository list", {"item": {"password": "fixture-passphrase-one"}})
    assert event_scan.main([str(events), str(scenario)]) == 1
    err = capsys.readouterr().err
    assert "Check the repository list" in err and "Create each" not in err


def test_a_clean_run_passes_and_an_empty_capture_does_not(tmp_path: Path) -> None:
    scenario, events = tmp_path / "scenario", tmp_path / "events"
    scenario.mkdir()
    (scenario / "converge.yml").write_text(SCENARIO, encoding="utf-8")
    assert event_scan.main([str(events), str(scenario)]) == 2
    event(events, "1", "Store each passphrase", {"censored": "the output has been hidden"})
    assert event_scan.main([str(events), str(scenario)]) == 0
