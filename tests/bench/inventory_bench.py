"""Benchmark: the convention_register plugin against the same hosts as a static YAML inventory.

    .venv/bin/python tests/bench/inventory_bench.py [--sizes 120,1200,5000] [--repeat 1] [--keep DIR]

For each size it generates a register (the demo's generator and density), writes the inventory the
plugin builds from it as a static YAML inventory (same hosts, groups and variables: checked on the
smallest size), then times `ansible-inventory --list` on the static file, on the plugin without cache,
and on the plugin with a warm jsonfile cache, in the same run. Wall time and CPU time (user + sys of
the child) are both shown: on a shared machine CPU time is the steadier one. Targets: plugin at most
half the static time, cached at most a quarter, time per host flat across sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from schoolfleet.register import load_register  # noqa: E402
from schoolfleet.register.generate import generate  # noqa: E402
from schoolfleet.register.inventory import build_inventory  # noqa: E402

AS_OF = "2026-11-01"
ANSIBLE_INVENTORY = str(Path(sys.executable).with_name("ansible-inventory"))


@dataclass
class Timing:
    wall: float
    cpu: float


def run(source: Path, home: Path, output: Path | None = None) -> Timing:
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with (output or Path(os.devnull)).open("w") as stdout:
        result = subprocess.run(
            [ANSIBLE_INVENTORY, "-i", str(source), "--list"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"ansible-inventory -i {source} failed:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def static_inventory(data: dict[str, Any]) -> dict[str, Any]:
    """The plugin's inventory as a static YAML inventory: group tree, members, variables.

    Each group is written in full under its first parent (or under `all`), and named only elsewhere.
    """
    groups: dict[str, dict[str, Any]] = {name: {} for name in data["groups"]}
    placed: set[str] = set()
    for name, group in data["groups"].items():
        entry = groups[name]
        if group["vars"]:
            entry["vars"] = group["vars"]
        if group["children"]:
            entry["children"] = {}
            for child in group["children"]:
                entry["children"][child] = None if child in placed else groups[child]
                placed.add(child)
    for host, spec in data["hosts"].items():
        first, *others = spec["groups"]
        groups[first].setdefault("hosts", {})[host] = spec["vars"]
        for other in others:
            groups[other].setdefault("hosts", {})[host] = None
    top = {name: groups[name] for name in data["groups"] if name not in placed}
    return {"all": {"vars": data["vars"], "children": top}}


def unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def comparable(path: Path) -> Any:
    data = unwrap(json.loads(path.read_text()))
    for variables in data["_meta"]["hostvars"].values():
        variables.pop("inventory_file", None)
        variables.pop("inventory_dir", None)
    for group in data.values():
        for key in ("hosts", "children"):
            if key in group:
                group[key] = sorted(group[key])
    return data


def bench_size(schools: int, work: Path, repeat: int, check: bool) -> dict[str, Any]:
    register = work / "register"
    counts = generate(register, schools, seed=1)
    data = build_inventory(load_register(register), as_of=dt.date.fromisoformat(AS_OF))
    hosts = len(data["hosts"])
    static = work / "static.yml"
    with static.open("w") as stream:
        yaml.dump(
            static_inventory(data), stream, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True
        )
    plugin = work / "plugin.yml"
    plugin.write_text(f'plugin: convention_register\nregister: register\nas_of: "{AS_OF}"\n')
    cached = work / "cached.yml"
    cached.write_text(
        plugin.read_text()
        + f"cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: {work / 'cache'}\n"
    )
    home = work / "home"
    if check:
        run(static, home, work / "static.json")
        run(plugin, home, work / "plugin.json")
        if comparable(work / "static.json") != comparable(work / "plugin.json"):
            raise SystemExit("the static inventory and the plugin's differ: the comparison would be unfair")
    run(cached, home)  # fills the cache
    results: dict[str, list[Timing]] = {"static": [], "plugin": [], "cached": []}
    for _ in range(repeat):
        # Interleaved, so that a burst of load from elsewhere hits all three alike.
        results["static"].append(run(static, home))
        results["plugin"].append(run(plugin, home))
        results["cached"].append(run(cached, home))
    best = {name: min(timings, key=lambda t: t.cpu) for name, timings in results.items()}
    return {"schools": counts["schools"], "hosts": hosts, "devices": counts["devices"], **best}


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'schools':>7} {'hosts':>7} | {'static s':>15} | {'plugin s':>15} {'ratio':>11} | "
        f"{'cached s':>15} {'ratio':>11} | {'ms/host plugin':>14} {'cached':>7}"
    )
    lines = [
        "times are CPU (wall); ratio = CPU ratio (wall ratio) to the static inventory",
        head,
        "-" * len(head),
    ]
    for row in rows:
        static, plugin, cached = row["static"], row["plugin"], row["cached"]
        lines.append(
            f"{row['schools']:>7} {row['hosts']:>7} | {static.cpu:7.2f} ({static.wall:6.2f}) | "
            f"{plugin.cpu:7.2f} ({plugin.wall:6.2f}) "
            f"{plugin.cpu / static.cpu:5.2f} ({plugin.wall / static.wall:4.2f}) | "
            f"{cached.cpu:7.2f} ({cached.wall:6.2f}) "
            f"{cached.cpu / static.cpu:5.2f} ({cached.wall / static.wall:4.2f}) | "
            f"{1000 * plugin.cpu / row['hosts']:14.3f} {1000 * cached.cpu / row['hosts']:7.3f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="120,1200,5000", help="numbers of schools, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each kind per size (the best is kept)")
    parser.add_argument("--keep", type=Path, help="keep the generated registers and inventories here")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="inventory-bench.") as tmp:
        base = args.keep or Path(tmp)
        for index, schools in enumerate(sizes):
            work = base / f"schools-{schools}"
            work.mkdir(parents=True)
            rows.append(bench_size(schools, work, args.repeat, check=index == 0))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
