"""Textfile-collector metrics: the format, escaping, atomic .prom files, and antivirus.py's output."""

from __future__ import annotations

import math
import tempfile
import unittest
from pathlib import Path

from agent_testlib import load_script
from schoolfleet_agent.metrics import Metric, escape_label_value, format_metrics, format_value, write_textfile


class Format(unittest.TestCase):
    def test_help_type_and_samples(self) -> None:
        text = format_metrics(
            [
                Metric("schoolfleet_x_total", "Things done.", "counter").add(3),
                Metric("schoolfleet_y", "Per disk.").add(1.5, {"disk": "sda"}).add(None, {"disk": "sdb"}),
            ]
        )
        self.assertEqual(
            text,
            "# HELP schoolfleet_x_total Things done.\n"
            "# TYPE schoolfleet_x_total counter\n"
            "schoolfleet_x_total 3\n"
            "# HELP schoolfleet_y Per disk.\n"
            "# TYPE schoolfleet_y gauge\n"
            'schoolfleet_y{disk="sda"} 1.5\n'
            'schoolfleet_y{disk="sdb"} NaN\n',
        )

    def test_label_values_and_help_are_escaped(self) -> None:
        self.assertEqual(escape_label_value('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
        text = format_metrics([Metric("m", "line one\nback\\slash").add(1, {"path": '/srv/"x"\n'})])
        self.assertIn("# HELP m line one\\nback\\\\slash\n", text)
        self.assertIn('m{path="/srv/\\"x\\"\\n"} 1\n', text)
        self.assertEqual(text.count("\n"), 3)

    def test_labels_are_sorted(self) -> None:
        text = format_metrics([Metric("m", "h").add(1, {"b": "2", "a": "1"})])
        self.assertIn('m{a="1",b="2"} 1', text)

    def test_values(self) -> None:
        self.assertEqual(format_value(True), "1")
        self.assertEqual(format_value(False), "0")
        self.assertEqual(format_value(math.inf), "+Inf")
        self.assertEqual(format_value(-math.inf), "-Inf")
        self.assertEqual(format_value(math.nan), "NaN")
        self.assertEqual(format_value(0.1), "0.1")
        self.assertEqual(format_value(12), "12")

    def test_bad_names_are_refused(self) -> None:
        for name in ("1abc", "a-b", "", "a b"):
            with self.assertRaises(ValueError, msg=name):
                Metric(name, "h")
        with self.assertRaises(ValueError):
            Metric("m", "h", "gaugee")
        for label in ("1x", "a-b", "__reserved"):
            with self.assertRaises(ValueError, msg=label):
                format_metrics([Metric("m", "h").add(1, {label: "v"})])
        with self.assertRaises(ValueError):
            format_metrics([Metric("m", "h"), Metric("m", "h")])


class Textfile(unittest.TestCase):
    def test_written_atomically_under_a_name_the_collector_ignores_until_renamed(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_textfile(Path(tmp) / "textfile", "schoolfleet_x", [Metric("m", "h").add(1)])
            self.assertEqual(path.name, "schoolfleet_x.prom")
            self.assertEqual(path.read_text(), "# HELP m h\n# TYPE m gauge\nm 1\n")
            self.assertEqual([p.name for p in path.parent.iterdir()], ["schoolfleet_x.prom"])
            with self.assertRaises(ValueError):
                write_textfile(Path(tmp), "../escape", [])

    def test_same_text_as_the_antivirus_role_writes(self) -> None:
        antivirus = load_script("antivirus_role_script", "roles/antivirus/files/antivirus.py")
        status = {"level": "warning", "signature_age_hours": 5.25}
        databases = [{"name": "main", "version": 62}, {"name": "daily", "version": 27000}, {"name": "x.hdb"}]
        with tempfile.TemporaryDirectory() as tmp:
            antivirus.write_metrics({"textfile_dir": tmp}, status, databases)
            theirs = (Path(tmp) / "schoolfleet_antivirus.prom").read_text()
        ours = format_metrics(
            [
                Metric("schoolfleet_antivirus_alert_level", "0 ok, 1 warning, 2 alert.").add(1),
                Metric(
                    "schoolfleet_antivirus_signature_age_hours",
                    "Hours since the last update from the mirror.",
                ).add(5.25),
                Metric("schoolfleet_antivirus_database_version", "Version of each official database.")
                .add(62, {"database": "main"})
                .add(27000, {"database": "daily"}),
            ]
        )
        self.assertEqual(ours, theirs)


if __name__ == "__main__":
    unittest.main()
