"""Refuse an Ansible Vault file (`vault*.yml`) that is not encrypted, before it reaches the repository.

    python -m schoolfleet.vault_check [--staged] [ROOT]

Without --staged (`make lint`): every file git would commit in ROOT, tracked or untracked but not
ignored, as it is in the work tree. With --staged (the pre-commit hook, scripts/git-hooks/): the
files the commit adds or changes, as they are in the index, which is what gets committed. Exit
status 1, one line per file, when any is in clear.

A Vault file is encrypted whole (`ansible-vault encrypt FILE`): a file of inline `!vault` values
is refused too, since everything else in it is in clear. Only the lab's throwaway secrets, under
`.cache/lab/` (made by `make demo`, never real), may stay plain.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

VAULT_NAMES = ("vault*.yml", "vault*.yaml")
THROWAWAY = PurePosixPath(".cache/lab")
# ansible-vault's own test of an encrypted file: the envelope's header at the very start.
HEADER = b"$ANSIBLE_VAULT;"


def is_vault_file(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in VAULT_NAMES)


def check(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """One problem per plaintext Vault file, given as (path relative to the root, content)."""
    problems = []
    for path, data in files:
        if not is_vault_file(path) or PurePosixPath(path).is_relative_to(THROWAWAY):
            continue
        if not data.startswith(HEADER):
            problems.append(f"{path}: a Vault file in clear; encrypt it first: ansible-vault encrypt {path}")
    return problems


def git(root: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=True).stdout


def work_tree_files(root: Path) -> list[tuple[str, bytes]]:
    listed = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    paths = [p for p in listed.decode().split("\0") if p and is_vault_file(p)]
    # A tracked file deleted from the work tree is not committed as it was: nothing to read.
    return [(p, (root / p).read_bytes()) for p in paths if (root / p).is_file()]


def staged_files(root: Path) -> list[tuple[str, bytes]]:
    listed = git(root, "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR")
    paths = [p for p in listed.decode().split("\0") if p and is_vault_file(p)]
    return [(p, git(root, "cat-file", "blob", f":{p}")) for p in paths]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vault_check", description=__doc__.splitlines()[0])
    parser.add_argument(
        "root", nargs="?", type=Path, default=Path.cwd(), help="the repository (default: here)"
    )
    parser.add_argument("--staged", action="store_true", help="check the index (pre-commit hook)")
    args = parser.parse_args(argv)
    root = Path(git(args.root, "rev-parse", "--show-toplevel").decode().strip())
    problems = check(staged_files(root) if args.staged else work_tree_files(root))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and args.staged:
        print("commit refused: no Vault file in clear outside .cache/lab/", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
