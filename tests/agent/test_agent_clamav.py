"""The ClamAV header parser: the same answers as the antivirus and antivirus mirror scripts."""

from __future__ import annotations

import tempfile
import unittest
from pathlib import Path

from agent_testlib import load_script
from schoolfleet_agent import clamav

GOOD = b"ClamAV-VDB:03 Dec 2026 10-00 +0000:27123:2045123:90:0123abcd:SIGNATURE:builder:1796292000"
FILES = {
    "daily.cvd": GOOD.ljust(512, b" ") + b"\x1f\x8b rest of the archive",
    "main.cld": GOOD + b"\n",
    "nul.cud": GOOD + b"\0" * 100,
    "short.cvd": b"ClamAV-VDB:03 Dec:12:34",
    "garbage.cvd": b"\x00\xff" * 300,
    "badnumber.cvd": b"ClamAV-VDB:x:notanumber:5:90:md5:sig:b:1796292000",
    "badsigs.cvd": b"ClamAV-VDB:x:12:many:90:md5:sig:b:1796292000",
    "empty.cvd": b"",
}


class Header(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        for name, data in FILES.items():
            (self.dir / name).write_bytes(data)

    def test_fields(self) -> None:
        self.assertEqual(
            clamav.cvd_header(self.dir / "daily.cvd"),
            {
                "build_time": "03 Dec 2026 10-00 +0000",
                "version": 27123,
                "signatures": 2045123,
                "functionality_level": 90,
                "builder": "builder",
                "build_epoch": 1796292000,
            },
        )
        self.assertIsNone(clamav.cvd_header(self.dir / "missing.cvd"))
        self.assertEqual(clamav.cvd_version(self.dir / "missing.cvd"), -1)
        self.assertIsNone(clamav.cvd_build_epoch(self.dir / "missing.cvd"))

    def test_same_answers_as_the_roles_scripts(self) -> None:
        antivirus = load_script("antivirus_role_script", "roles/antivirus/files/antivirus.py")
        mirror = load_script(
            "antivirus_mirror_role_script", "roles/antivirus_mirror/files/antivirus_mirror.py"
        )
        for name in FILES:
            path = self.dir / name
            with self.subTest(file=name):
                self.assertEqual(clamav.cvd_header(path), antivirus.cvd_header(path))
                try:
                    theirs = mirror.cvd_version(path)
                except ValueError:
                    # The mirror's copy crashes on a header whose version is not a number; the
                    # shared one says "no version", as it does for any other broken header.
                    theirs = -1
                self.assertEqual(clamav.cvd_version(path), theirs)
                self.assertEqual(clamav.cvd_build_epoch(path), mirror.cvd_build_epoch(path))

    def test_kinds_and_extensions_match_the_roles(self) -> None:
        antivirus = load_script("antivirus_role_script", "roles/antivirus/files/antivirus.py")
        mirror = load_script(
            "antivirus_mirror_role_script", "roles/antivirus_mirror/files/antivirus_mirror.py"
        )
        self.assertEqual(clamav.CUSTOM_EXTENSIONS, antivirus.CUSTOM_EXTENSIONS)
        self.assertEqual(clamav.CUSTOM_EXTENSIONS, mirror.CUSTOM)
        self.assertEqual(clamav.OFFICIAL_EXTENSIONS, antivirus.OFFICIAL_EXTENSIONS)
        self.assertEqual(clamav.SIGNED_EXTENSIONS, mirror.SIGNED)
        self.assertEqual(clamav.PATCH_EXTENSIONS, mirror.PATCHES)
        self.assertEqual(clamav.database_kind(Path("daily.cvd")), "official")
        self.assertEqual(clamav.database_kind(Path("daily-1.cdiff")), "patch")
        self.assertEqual(clamav.database_kind(Path("local.ndb")), "custom")
        self.assertIsNone(clamav.database_kind(Path("freshclam.dat")))


if __name__ == "__main__":
    unittest.main()
