"""The .deb that `make package` builds: reproducible, laid out as Debian expects, units not enabled."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from agent_testlib import ROOT, load_script

BUILD = load_script("agent_build_deb", "scripts/agent/build_deb.py")


@unittest.skipIf(
    shutil.which("dpkg-deb") is None, "dpkg-deb is Debian's: every machine of the project has it"
)
class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        cls.first = BUILD.build(Path(cls.tmp.name) / "one", epoch=1764720000)
        cls.second = BUILD.build(Path(cls.tmp.name) / "two", epoch=1764720000)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def dpkg_deb(self, *args: str) -> str:
        return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout

    def test_name_and_version_come_from_the_version_file(self) -> None:
        version = (ROOT / "scripts/agent/schoolfleet_agent/VERSION").read_text().strip()
        self.assertEqual(self.first.name, f"schoolfleet-agent_{version}_all.deb")
        self.assertEqual(self.dpkg_deb("--field", str(self.first), "Version").strip(), version)

    def test_reproducible(self) -> None:
        digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (self.first, self.second)]
        self.assertEqual(digest[0], digest[1])

    def test_control(self) -> None:
        fields = self.dpkg_deb("--field", str(self.first), "Package", "Architecture", "Depends")
        self.assertEqual(
            fields.splitlines(),
            ["Package: schoolfleet-agent", "Architecture: all", "Depends: python3 (>= 3.11)"],
        )

    def test_layout(self) -> None:
        listing = [line.split() for line in self.dpkg_deb("--contents", str(self.first)).splitlines()]
        entries = {row[-1]: (row[0], row[1], row[3], row[4]) for row in listing}
        self.assertTrue(all(owner == "root/root" for _, owner, _, _ in entries.values()))
        self.assertEqual({date for _, _, date, _ in entries.values()}, {"2025-12-03"})
        names = sorted(entries)
        self.assertIn("./usr/lib/python3/dist-packages/schoolfleet_agent/hwreport/receiver.py", names)
        self.assertIn("./usr/lib/python3/dist-packages/schoolfleet_agent/VERSION", names)
        self.assertEqual(entries["./usr/bin/schoolfleet-hwreport"][0], "-rwxr-xr-x")
        self.assertEqual(entries["./lib/systemd/system/schoolfleet-hwreport.service"][0], "-rw-r--r--")
        self.assertIn("./lib/systemd/system/schoolfleet-hwreport-serve.service", names)
        self.assertFalse([n for n in names if "__pycache__" in n or n.endswith(".pyc")])
        # Nothing enables a unit: no symlink in a .wants folder, no preset.
        self.assertFalse([n for n in names if ".wants" in n or "preset" in n])

    def test_maintainer_scripts_compile_and_clean_bytecode_but_enable_nothing(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["dpkg-deb", "--control", str(self.first), tmp], check=True)
            postinst = (Path(tmp) / "postinst").read_text()
            self.assertIn("py3compile -p schoolfleet-agent", postinst)
            self.assertNotIn("systemctl enable", postinst)
            self.assertNotIn("systemctl start", postinst)
            self.assertIn("py3clean -p schoolfleet-agent", (Path(tmp) / "prerm").read_text())
            md5sums = (Path(tmp) / "md5sums").read_text()
            self.assertIn("usr/bin/schoolfleet-hwreport\n", md5sums)


if __name__ == "__main__":
    unittest.main()
