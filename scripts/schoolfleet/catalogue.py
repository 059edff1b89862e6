"""The software catalogue's check: every package of every pack exists in the Debian 12 index.

An ICT adviser's request is a reviewed change to the register's `software_packs`; before any push,
each package name is looked up in the mirror's index (a `Packages` file, plain or compressed, or
`apt-cache pkgnames` on a Debian 12 machine). A wrong name stops the change, naming the pack, the
package and the file line.

The check takes plain data (`PackPackage` records): with `--register DIR` they come from the
register's loader (`entries_from_packs` on its `SoftwarePack` records, which carry each package's
line; the loader has already refused malformed names and duplicates); given an authority file,
`catalogue_entries` reads them, with their lines, from that file alone (no validation).

    python -m schoolfleet.catalogue --register inventories/demo/register --packages Packages.xz
    python -m schoolfleet.catalogue inventories/demo/register/authority.yml --apt-cache
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import lzma
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from schoolfleet.register import RegisterError, SoftwarePack, load_register

# Debian Policy 5.6.1: lower case letters, digits, + - . ; at least two characters, alphanumeric first.
PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
RELEASE = "Debian 12"


@dataclass(frozen=True)
class PackPackage:
    """One package named by one pack, and where."""

    pack: str
    package: str
    file: str
    line: int


class CatalogueError(Exception):
    """The catalogue or an index could not be read."""


def index_names(text: str) -> frozenset[str]:
    """The binary package names of a Debian `Packages` index (its `Package:` fields)."""
    return frozenset(
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Package:")
    )


def read_index(path: Path) -> frozenset[str]:
    """A `Packages` file, plain or compressed (.gz, .xz, .bz2, .lz4 with the lz4 tool)."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        elif path.suffix == ".xz":
            raw = lzma.decompress(raw)
        elif path.suffix == ".bz2":
            raw = bz2.decompress(raw)
        elif path.suffix == ".lz4":
            tool = shutil.which("lz4cat")
            if tool is None:
                raise CatalogueError(f"{path}: reading .lz4 needs the lz4 tool (apt-get install lz4)")
            raw = subprocess.run([tool], input=raw, capture_output=True, check=True).stdout
    except (OSError, EOFError, lzma.LZMAError, subprocess.CalledProcessError) as error:
        raise CatalogueError(f"{path}: cannot read the package index: {error}") from error
    names = index_names(raw.decode("utf-8", errors="replace"))
    if not names:
        raise CatalogueError(f"{path}: not a Debian package index (no Package: field)")
    return names


def apt_cache_names() -> frozenset[str]:
    """The names apt knows on this machine (`apt-cache pkgnames`, real packages only)."""
    try:
        out = subprocess.run(["apt-cache", "pkgnames"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise CatalogueError(f"apt-cache pkgnames failed: {error}") from error
    return frozenset(out.split())


def catalogue_entries(path: Path) -> list[PackPackage]:
    """Each package of each pack of an authority file, with its line (packs in the string form have none)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CatalogueError(f"{path}: cannot read: {error}") from error
    entries: list[PackPackage] = []
    packs = _value(root, "software_packs")
    if not isinstance(packs, yaml.MappingNode):
        return entries
    for key, pack in packs.value:
        packages = _value(pack, "packages")
        if not isinstance(packages, yaml.SequenceNode):
            continue
        for item in packages.value:
            name = item.value if isinstance(item, yaml.ScalarNode) else ""
            entries.append(PackPackage(str(key.value), str(name), str(path), item.start_mark.line + 1))
    return entries


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def entries_from_packs(
    packs: Mapping[str, Sequence[str]] | Mapping[str, SoftwarePack], file: str = "<catalogue>"
) -> list[PackPackage]:
    """The loader's `SoftwarePack` records (each package with its file and line), or plain
    `{pack: [package, ...]}` data (no lines known), as entries for `check_catalogue`."""
    entries: list[PackPackage] = []
    for pack, packages in packs.items():
        if isinstance(packages, SoftwarePack):
            entries += [PackPackage(pack, p.name, p.source.file, p.source.line) for p in packages.packages]
        else:
            entries += [PackPackage(pack, package, file, 0) for package in packages]
    return entries


def check_catalogue(entries: Iterable[PackPackage], index: frozenset[str]) -> list[str]:
    """Problems, each naming file, line, pack and package; empty when every package is in the index."""
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        where = f"{entry.file}:{entry.line}" if entry.line else entry.file
        label = f"{where}: pack {entry.pack!r}: package {entry.package!r}"
        first = seen.setdefault((entry.pack, entry.package), entry.line)
        if first != entry.line:
            problems.append(f"{label} is listed twice (first on line {first})")
        elif not PACKAGE_NAME.match(entry.package):
            problems.append(f"{label} is not a Debian package name")
        elif entry.package not in index:
            problems.append(f"{label} is not in the {RELEASE} index")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m schoolfleet.catalogue", description=__doc__.splitlines()[0]
    )
    parser.add_argument("authority", type=Path, nargs="?", help="an authority.yml read on its own")
    parser.add_argument("--register", type=Path, help="the register directory, read by its loader")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--packages", type=Path, nargs="+", help="Packages index files of the mirror")
    source.add_argument("--apt-cache", action="store_true", help="use this Debian 12 machine's apt-cache")
    args = parser.parse_args(argv)
    if (args.authority is None) == (args.register is None):
        parser.error("give either an authority file or --register DIR")
    try:
        index = apt_cache_names() if args.apt_cache else frozenset().union(*map(read_index, args.packages))
        if args.register is not None:
            entries = entries_from_packs(load_register(args.register).authority.software_packs)
        else:
            entries = catalogue_entries(args.authority)
    except CatalogueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RegisterError as error:
        # Malformed names and duplicates are the loader's: the change is refused the same way.
        print(f"error: {error}", file=sys.stderr)
        print("the catalogue change is refused", file=sys.stderr)
        return 1
    problems = check_catalogue(entries, index)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): the catalogue change is refused", file=sys.stderr)
        return 1
    print(f"{len(entries)} packages in {len({e.pack for e in entries})} packs: all in the {RELEASE} index")
    return 0


if __name__ == "__main__":
    sys.exit(main())
