"""Benchmark (not a test): a first backup versus a second one after a 1 % change.

Runs restic (Debian 12's 0.14) through the same append-only `rclone serve restic --stdio` server
the backup roles use, here started locally instead of behind SSH (SSH's own cost is left out), on
generated, incompressible school-like data: many small documents, some photos, a few big files.

    python tests/bench/backup_bench.py [--size-mib 256] [--seed 1] [--keep DIR]

Two kinds of 1 % change, each measured against the same first backup in the same run:
  new-files   1 % of the volume written as new files (pupils saving new work),
  scattered   1 % of the volume overwritten in place, in 16 KiB pieces spread over many files.
"Sent" is what the repository grew by on the server side (packs + index + snapshot), which is
what crosses the wire; restic's own "data added" figure is printed beside it. Ratios compare
figures measured in this run only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "bench-only-passphrase"


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def generate(root: Path, size: int, rng: random.Random) -> None:
    # Volume split roughly as on a school server: half small documents, a third photos, the rest big.
    plan = [(0.5, 8 * 1024, 200 * 1024), (0.33, 500 * 1024, 4 * 2**20), (0.17, 20 * 2**20, 40 * 2**20)]
    count = 0
    for share, low, high in plan:
        budget = int(size * share)
        while budget > 0:
            n = min(budget, rng.randint(low, high))
            target = root / f"class{count % 12:02d}" / f"pupil{count % 97:03d}" / f"file{count:05d}.bin"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(rng.randbytes(n))
            budget -= n
            count += 1


def change_new_files(root: Path, amount: int, rng: random.Random) -> None:
    done = 0
    while done < amount:
        n = min(amount - done, rng.randint(8 * 1024, 2 * 2**20))
        target = root / "new-work" / f"doc{done}.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rng.randbytes(n))
        done += n


def change_scattered(root: Path, amount: int, rng: random.Random) -> None:
    files = sorted(f for f in root.rglob("*.bin") if f.stat().st_size > 64 * 1024)
    piece, done = 16 * 1024, 0
    while done < amount:
        target = rng.choice(files)
        offset = rng.randrange(0, target.stat().st_size - piece)
        with target.open("r+b") as handle:
            handle.seek(offset)
            handle.write(rng.randbytes(piece))
        done += piece


def backup(repo_env: dict[str, str], data: Path, repo_dir: Path) -> dict[str, float]:
    before = tree_size(repo_dir)
    start = time.monotonic()
    proc = subprocess.run(
        [
            "restic",
            "-o",
            f"rclone.program={repo_env['WRAPPER']}",
            "backup",
            "--json",
            "--host",
            "bench",
            str(data),
        ],
        env=repo_env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"restic backup failed ({proc.returncode}): {proc.stderr.strip()[-1000:]}")
    summary = next(json.loads(line) for line in reversed(proc.stdout.splitlines()) if '"summary"' in line)
    return {"seconds": elapsed, "sent": tree_size(repo_dir) - before, "data_added": summary["data_added"]}


def run_case(
    name: str, base: Path, work: Path, size: int, seed: int
) -> tuple[dict[str, float], dict[str, float]]:
    data, repo = work / name / "data", work / name / "repo"
    shutil.copytree(base, data)
    subprocess.run(
        ["restic", "init", "--repo", str(repo)],
        env={**os.environ, "RESTIC_PASSWORD": PASSWORD},
        capture_output=True,
        check=True,
    )
    wrapper = work / name / "serve"
    wrapper.write_text(
        f"#!/bin/sh\nexec rclone --config /dev/null -q serve restic --stdio --append-only {repo}\n"
    )
    wrapper.chmod(0o755)
    env = {
        **os.environ,
        "RESTIC_PASSWORD": PASSWORD,
        "RESTIC_REPOSITORY": "rclone:",
        "RESTIC_CACHE_DIR": str(work / name / "cache"),
        "WRAPPER": str(wrapper),
    }
    first = backup(env, data, repo)
    rng = random.Random(seed + 1)
    (change_new_files if name == "new-files" else change_scattered)(data, size // 100, rng)
    second = backup(env, data, repo)
    return first, second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work directory to keep (default: a temporary one)")
    args = parser.parse_args()
    missing = [tool for tool in ("restic", "rclone") if shutil.which(tool) is None]
    if missing:
        print(f"backup_bench: not installed here: {', '.join(missing)} (apt-get install restic rclone)")
        return 1
    version = subprocess.run(["restic", "version"], capture_output=True, text=True, check=True).stdout.strip()
    work = args.keep or Path(tempfile.mkdtemp(prefix="backup-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        size = args.size_mib * 2**20
        base = work / "base"
        generate(base, size, random.Random(args.seed))
        files = sum(1 for f in base.rglob("*") if f.is_file())
        print(f"{version}; {tree_size(base) / 2**20:.0f} MiB in {files} files, change = 1 % of the volume")
        print(
            f"{'case':<11} {'backup':<7} {'seconds':>8} {'sent MiB':>9} {'added MiB':>10} {'time ratio':>11} "
            f"{'sent ratio':>11}"
        )
        for case in ("new-files", "scattered"):
            first, second = run_case(case, base, work, size, args.seed)
            for label, r in (("first", first), ("second", second)):
                print(
                    f"{case:<11} {label:<7} {r['seconds']:8.2f} {r['sent'] / 2**20:9.2f} "
                    f"{r['data_added'] / 2**20:10.2f} {r['seconds'] / first['seconds']:11.3f} "
                    f"{r['sent'] / first['sent']:11.4f}"
                )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
