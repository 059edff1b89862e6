"""The package's maintenance window answers as the controller's (schoolfleet.maintenance.window)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import tempfile
import unittest
from pathlib import Path
from zoneinfo import ZoneInfo

from agent_testlib import INSTALLED, command_env, load_script, run
from schoolfleet_agent import window

PARIS = ZoneInfo("Europe/Paris")
CALENDAR = {
    "zone": "B",
    "valid_from": "2026-01-01",
    "valid_until": "2027-08-31",
    "school_hours": {d: ["07:00", "19:00"] for d in ("mon", "tue", "thu", "fri")}
    | {"wed": ["07:00", "12:30"]},
    "public_holidays": {"2026-11-11": "Armistice", "2026-12-25": "Noël", "2027-05-13": "Ascension"},
    "school_holidays": [
        ["2026-10-17", "2026-11-01", "Vacances de la Toussaint"],
        ["2026-12-19", "2027-01-03", "Vacances de Noël"],
    ],
}


class SameAnswers(unittest.TestCase):
    def test_every_moment_of_a_school_year_gets_the_controllers_answer(self) -> None:
        controller = load_script("controller_window", "scripts/schoolfleet/maintenance/window.py")
        ours = window.SchoolCalendar.from_json(CALENDAR)
        theirs = controller.SchoolCalendar.from_json(CALENDAR)
        self.assertEqual(ours.to_json(), theirs.to_json())
        moment = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
        end = dt.datetime(2027, 7, 10, tzinfo=dt.UTC)
        checked = 0
        while moment < end:
            self.assertEqual(
                window.window_reason(moment, ours), controller.window_reason(moment, theirs), moment
            )
            self.assertEqual(
                window.teaching_reason(moment, ours), controller.teaching_reason(moment, theirs), moment
            )
            moment += dt.timedelta(minutes=47)
            checked += 1
        self.assertGreater(checked, 9000)

    def test_the_public_names_are_the_same(self) -> None:
        controller = load_script("controller_window", "scripts/schoolfleet/maintenance/window.py")
        public = {name for name in dir(controller) if not name.startswith("_")}
        self.assertEqual(public - {name for name in dir(window) if not name.startswith("_")}, set())

    def test_a_few_known_moments(self) -> None:
        calendar = window.SchoolCalendar.from_json(CALENDAR)
        self.assertFalse(window.in_window(dt.datetime(2026, 11, 24, 10, 0, tzinfo=PARIS), calendar))
        self.assertTrue(window.in_window(dt.datetime(2026, 11, 25, 15, 0, tzinfo=PARIS), calendar))
        self.assertTrue(window.in_window(dt.datetime(2026, 11, 11, 10, 0, tzinfo=PARIS), calendar))
        self.assertTrue(window.is_teaching(dt.datetime(2026, 11, 24, 9, 0, tzinfo=PARIS), calendar))
        with self.assertRaises(ValueError):
            window.window_reason(dt.datetime(2026, 11, 24, 10, 0), calendar)


class Command(unittest.TestCase):
    def test_exit_status_for_exec_condition(self) -> None:
        if INSTALLED:
            command = [str(shutil.which("schoolfleet-maintenance-window"))]
            self.assertEqual(command, ["/usr/bin/schoolfleet-maintenance-window"])
        else:
            command = [sys.executable, "-m", "schoolfleet_agent.window"]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "calendar.json"
            path.write_text(json.dumps(CALENDAR))
            inside = run(
                [*command, "--calendar", str(path), "--at", "2026-11-24T22:00+01:00"], env=command_env()
            )
            self.assertEqual(inside.returncode, 0, inside.stderr)
            outside = run(
                [*command, "--calendar", str(path), "--at", "2026-11-24T10:00+01:00"], env=command_env()
            )
            self.assertEqual(outside.returncode, 1, outside.stderr)
            broken = run([*command, "--calendar", str(Path(tmp) / "none.json")], env=command_env())
            self.assertEqual(broken.returncode, 255)


if __name__ == "__main__":
    unittest.main()
