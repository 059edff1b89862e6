"""Domain names (the same answers as both list tools' copies) and MAC addresses."""

from __future__ import annotations

import unittest

from agent_testlib import load_script
from schoolfleet_agent.names import normalize_domain, normalize_domain_reason, normalize_mac, parse_mac

CASES = [
    (b"Example.COM", "example.com"),
    (b"example.com.", "example.com"),
    (b"example.com\r", "example.com"),
    (b"  example.com  # a comment", "example.com"),
    (b"# only a comment", None),
    (b"", None),
    (b"\xef\xbb\xbfexample.com", "example.com"),
    (b"*.example.com", "example.com"),
    (b"*.*.example.com", "example.com"),
    (b"http://example.com/path?q=1", "example.com"),
    (b"example.com:8080", "example.com"),
    ("\u00e9cole.fr".encode(), "xn--cole-9oa.fr"),
    ("\u00c9COLE.FR".encode(), "xn--cole-9oa.fr"),
    (b"10.1.2.3", None),
    (b"2001:db8::1", None),
    (b"[2001:db8::1]", None),
    (b"x" * 2000 + b".com", None),
    (b"a" * 64 + b".com", None),
    (b"bad..name", None),
    (b"com", None),
    (b"-", None),
    (b".", None),
    (b"*.", None),
    (b"under_score.example.com", "under_score.example.com"),
    (b"\xff\xfe.example.com", None),
    (b"space in.name", None),
]


class Domains(unittest.TestCase):
    def test_cases(self) -> None:
        for raw, expected in CASES:
            with self.subTest(raw=raw):
                self.assertEqual(normalize_domain(raw), expected)
                self.assertEqual(normalize_domain(raw.decode("utf-8", "replace")), expected)

    def test_reasons(self) -> None:
        self.assertEqual(normalize_domain_reason(b"a.com"), ("a.com", "ok"))
        self.assertEqual(normalize_domain_reason(b"  "), (None, "blank"))
        self.assertEqual(normalize_domain_reason(b"1.2.3.4"), (None, "ip"))
        self.assertEqual(normalize_domain_reason(b"x" * 1025), (None, "long"))
        self.assertEqual(normalize_domain_reason(b"bad..x"), (None, "invalid"))

    def test_same_answers_as_the_copies_in_the_roles(self) -> None:
        mirror = load_script(
            "blocklist_mirror_role_script", "roles/blocklist_mirror/files/blocklist_mirror.py"
        )
        school = load_script("web_filter_role_script", "roles/web_filter/files/web_filter_update.py")
        for raw, _ in CASES:
            with self.subTest(raw=raw):
                self.assertEqual(normalize_domain_reason(raw), mirror.normalize_name(raw))
                self.assertEqual(normalize_domain(raw), school.normalize_name(raw))


class Macs(unittest.TestCase):
    def test_usual_forms(self) -> None:
        for raw in (
            "AA:BB:CC:DD:EE:0F",
            "aa-bb-cc-dd-ee-0f",
            "aabb.ccdd.ee0f",
            "AABBCCDDEE0F",
            " aa:bb:cc:dd:ee:f ",
        ):
            with self.subTest(raw=raw):
                self.assertEqual(parse_mac(raw), "aa:bb:cc:dd:ee:0f")

    def test_refused(self) -> None:
        for raw in (
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "gg:bb:cc:dd:ee:ff",
            "aa:bb-cc:dd:ee:ff",
            "00:00:00:00:00:00",
            "01:00:5e:00:00:01",
            "ff:ff:ff:ff:ff:ff",
            "aabb.ccdd",
            "aa::cc:dd:ee:ff",
        ):
            with self.subTest(raw=raw):
                with self.assertRaises(ValueError):
                    parse_mac(raw)
                self.assertIsNone(normalize_mac(raw))
        with self.assertRaises(ValueError):
            parse_mac(12)  # type: ignore[arg-type]

    def test_locally_administered_addresses_are_machines_too(self) -> None:
        self.assertEqual(parse_mac("02:fc:00:00:00:01"), "02:fc:00:00:00:01")


if __name__ == "__main__":
    unittest.main()
