#!/usr/bin/python3
"""A small upstream tree in the UT1 layout, with the junk real lists contain, for the scenario."""

import random
import sys
from pathlib import Path

HOSTILE = [
    b"# a comment line",
    b"blocked-adult.example.net",
    b"blocked-adult.example.net",
    b"MiXeD-Case.Example.ORG.",
    b"crlf-line.example.com\r",
    b"   spaced.example.com   # trailing comment",
    b"10.1.2.3",
    "\u00e9COLE-interdite.fr".encode(),
    b"x" * 5000 + b".example.com",
    b"bad..name",
    b"-",
    b"http://with-scheme.example.com/some/path",
    b"allowed-by-school.example.net",
    b"parent-listed.example.com",
    b"www.parent-listed.example.com",
    b"\xff\xfe-not-utf8.example.com",
]
CATEGORIES = {
    "redirector": ["proxy-site.example.net"],
    "games": ["game-site.example.net"],
    "malware": ["malware-site.example.net"],
    "gambling": ["casino-site.example.net"],
}


def main() -> None:
    out = Path(sys.argv[1])
    rng = random.Random(1)
    adult = out / "adult"
    adult.mkdir(parents=True, exist_ok=True)
    names = {
        f"{rng.choice(['hot', 'cam', 'xxx'])}{n}.example.{rng.choice(['com', 'net', 'fr'])}".encode()
        for n in rng.sample(range(10**7), 20000)
    }
    (adult / "domains").write_bytes(b"\n".join(sorted(names) + HOSTILE) + b"\n")
    (adult / "urls").write_bytes(b"blocked-adult.example.net/page\n")
    for category, listed in CATEGORIES.items():
        (out / category).mkdir(exist_ok=True)
        filler = [f"{category}{n}.example.org" for n in range(50)]
        (out / category / "domains").write_text("\n".join(sorted(listed + filler)) + "\n")
    (out / "porn").symlink_to("adult")
    (out / "global_usage").write_text("NAME:\tadult\nDEFAULT_TYPE: black\n")


if __name__ == "__main__":
    main()
