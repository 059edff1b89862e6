"""Which copy of the package is under test (the installed one when SCHOOLFLEET_AGENT_INSTALLED=1)."""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

import schoolfleet_agent
from agent_testlib import INSTALLED, ROOT, command_env, hwreport_command, run


class WhichPackage(unittest.TestCase):
    def test_the_package_under_test_is_the_intended_one(self) -> None:
        location = Path(schoolfleet_agent.__file__).resolve()
        if INSTALLED:
            self.assertEqual(location.parent, Path("/usr/lib/python3/dist-packages/schoolfleet_agent"))
        else:
            self.assertEqual(location.parent, ROOT / "scripts/agent/schoolfleet_agent")

    def test_version_comes_from_the_version_file(self) -> None:
        expected = (ROOT / "scripts/agent/schoolfleet_agent/VERSION").read_text().strip()
        self.assertEqual(schoolfleet_agent.__version__, expected)
        result = run([*hwreport_command(), "--version"], env=command_env())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), f"schoolfleet-hwreport {expected}")

    def test_runs_on_python_3_11(self) -> None:
        self.assertEqual(sys.version_info[:2], (3, 11))


if __name__ == "__main__":
    unittest.main()
