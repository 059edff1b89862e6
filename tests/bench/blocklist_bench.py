"""Benchmark of the web filter at UT1 scale, against squidGuard in the same run.

On the host (Debian 12, root; needs dnsdist, tinycdb, unbound, squidguard, dnsperf, rsync, time):
  python tests/bench/blocklist_bench.py [--tree DIR] [--work DIR]

Steps, each a child process measured with wait4 (wall time, peak RSS):
  1. gen_ut1.py --seed 1 --scale 1.0 (unless --tree gives an existing tree);
  2. the central mirror cleans and publishes it;
  3. the school tool fetches it over rsync, checks it, compiles the CDB files and tests them in a
     throw-away dnsdist ("compile"), then the live dnsdist starts to its first answer ("load");
  4. squidGuard -C all on the same domain files;
  5. a day's change of 200 domains: central publication, then the school's update over rsync,
     bytes counted by rsync, against the full tree as tar.gz and the full first sync;
  6. dnsperf against dnsdist (half blocked names, half unlisted ones answered by a local Unbound),
     and 50,000 sub-domains of listed names, each of which must get the block answer.
Figures go to stdout as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIRROR = ROOT / "roles/blocklist_mirror/files/blocklist_mirror.py"
SCHOOL = ROOT / "roles/web_filter/files/web_filter_update.py"
GEN = Path(os.environ.get("GEN_UT1", "/work/shared/tools/gen_ut1.py"))
BLOCK = "203.0.113.53"
DNSDIST_PORT, UNBOUND_PORT, RSYNC_PORT = 5453, 5454, 8873


def measured(cmd: list[str], **kwargs: object) -> dict[str, float]:
    """Run cmd to completion; wall seconds and peak RSS (MiB) of it and its children.

    Through GNU time: a command spawned straight from this process would report this process's own
    high-water mark, which Linux carries over at exec, whatever the command itself used.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *cmd], **kwargs)  # type: ignore[call-overload]
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[:3]} failed with {proc.returncode}")
        peak_kib = int(report.read().split()[-1])
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(peak_kib / 1024, 1)}


def dns_a(port: int, name: str) -> list[str]:
    sys.path.insert(0, str(SCHOOL.parent))
    from web_filter_update import dns_query

    return dns_query("127.0.0.1", port, name)[1]


def wait_dns(port: int, name: str, timeout: float = 120) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            dns_a(port, name)
            return time.monotonic() - start
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing answers on port {port}")


def squidguard(tree: Path, work: Path, categories: list[str]) -> dict[str, float]:
    db = work / "squidguard"
    shutil.rmtree(db, ignore_errors=True)
    db.mkdir()
    for category in categories:
        (db / category).mkdir()
        shutil.copy(tree / category / "domains", db / category / "domains")
    conf = [f"dbhome {db}", f"logdir {work}"]
    conf += [f"dest {c} {{\n    domainlist {c}/domains\n}}" for c in categories]
    conf.append(
        "acl {\n  default {\n    pass !" + " !".join(categories) + " all\n    redirect http://block/\n  }\n}"
    )
    (work / "squidGuard.conf").write_text("\n".join(conf) + "\n")
    result = measured(
        ["squidGuard", "-c", str(work / "squidGuard.conf"), "-C", "all"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result["db_mib"] = round(sum(f.stat().st_size for f in db.rglob("*.db")) / 2**20, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, help="an existing gen_ut1 tree (its blacklists/ folder)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/blocklist-bench"))
    args = parser.parse_args()
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ, LC_ALL="C")
    figures: dict[str, object] = {}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if args.tree:
            source = work / "upstream"
            shutil.copytree(args.tree, source, symlinks=True)
        else:
            figures["generate"] = measured(
                [sys.executable, str(GEN), str(work / "gen"), "--seed", "1", "--scale", "1.0"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            source = work / "gen/blacklists"
        categories = sorted(p.name for p in source.iterdir() if p.is_dir() and not p.is_symlink())
        figures["upstream_domains"] = sum(
            (source / c / "domains").read_bytes().count(b"\n") for c in categories
        )
        publish = work / "publish"
        mirror_cmd = [
            sys.executable,
            str(MIRROR),
            "--source",
            str(source),
            "--work",
            str(work / "mwork"),
            "--publish",
            str(publish),
        ]
        figures["central_publish"] = measured(mirror_cmd, env=env, stderr=subprocess.DEVNULL)

        (work / "rsyncd.conf").write_text(
            f"pid file = {work}/rsyncd.pid\nuse chroot = no\n"
            f"[blocklist]\n path = {publish}\n read only = yes\n"
        )
        procs.append(
            subprocess.Popen(
                [
                    "rsync",
                    "--daemon",
                    "--no-detach",
                    f"--config={work}/rsyncd.conf",
                    f"--port={RSYNC_PORT}",
                    "--address=127.0.0.1",
                ]
            )
        )
        time.sleep(1)
        state = work / "school"
        config = {
            "source": f"rsync://127.0.0.1:{RSYNC_PORT}/blocklist",
            "state_dir": str(state),
            "local_lists_dir": str(work),
            "required_categories": ["adult", "redirector"],
            "categories": categories,
            "max_shrink_percent": 10,
            "probe_server": "127.0.0.1",
            "probe_port": DNSDIST_PORT,
            "live_check_seconds": 30,
            "dnsdist": "dnsdist",
        }
        (work / "update.json").write_text(json.dumps(config))
        school_cmd = [sys.executable, str(SCHOOL), "--config", str(work / "update.json")]
        out = work / "first.json"
        with out.open("w") as handle:
            figures["school_first_update"] = measured(
                [*school_cmd[:2], "update", *school_cmd[2:]],
                env=env,
                stdout=handle,
                stderr=subprocess.DEVNULL,
            )
        first = json.loads(out.read_text())
        figures["school_first_update"]["bytes_transferred"] = first["bytes_transferred"]  # type: ignore[index]
        subprocess.run([*school_cmd[:2], "local", *school_cmd[2:]], check=True, stdout=subprocess.DEVNULL)
        figures["cdb_mib"] = round(sum(f.stat().st_size for f in (state / "live").glob("*.cdb")) / 2**20, 1)

        (work / "unbound.conf").write_text(
            f'server:\n interface: 127.0.0.1@{UNBOUND_PORT}\n username: ""\n chroot: ""\n'
            f' pidfile: "{work}/unbound.pid"\n do-daemonize: no\n use-syslog: no\n'
            ' local-zone: "." static\n module-config: "iterator"\n'
        )
        procs.append(subprocess.Popen(["unbound", "-c", str(work / "unbound.conf")]))
        rules = "".join(f'category["{c}"], ' for c in categories)
        (work / "dnsdist.conf").write_text(f"""
setSecurityPollSuffix("")
setLocal("127.0.0.1:{DNSDIST_PORT}")
newServer({{address="127.0.0.1:{UNBOUND_PORT}", pool="resolver"}})
getPool("resolver"):setCache(newPacketCache(100000, {{maxTTL=3600}}))
local suffix = KeyValueLookupKeySuffix(2, false)
local function listed(name)
  return KeyValueStoreLookupRule(newCDBKVStore("{state}/live/" .. name .. ".cdb", 5), suffix)
end
local category = {{}}
for _, name in ipairs({{{", ".join(f'"{c}"' for c in categories)}}}) do category[name] = listed(name) end
addAction(listed("deny"), SetTagAction("web_filter", "block"))
addAction(AndRule({{NotRule(TagRule("web_filter")), listed("allow")}}), SetTagAction("web_filter", "allow"))
addAction(AndRule({{NotRule(TagRule("web_filter")), OrRule({{{rules}}})}}),
  SetTagAction("web_filter", "block"))
addAction(AndRule({{TagRule("web_filter", "block"), QTypeRule(DNSQType.A)}}), SpoofAction("{BLOCK}"))
addAction(TagRule("web_filter", "block"), RCodeAction(DNSRCode.NXDOMAIN))
addAction(AllRule(), PoolAction("resolver"))
""")
        start = time.monotonic()
        dnsdist = subprocess.Popen(
            ["dnsdist", "--supervised", "--disable-syslog", "-C", str(work / "dnsdist.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(dnsdist)
        wait_dns(DNSDIST_PORT, "canary.adult.web-filter.invalid")
        load = round(time.monotonic() - start, 2)
        compile_s = figures["school_first_update"]["seconds"]  # type: ignore[index]
        figures["school_load_to_first_answer_seconds"] = load

        rng = random.Random(1)
        adult = (state / "lists/current/adult").read_text().split()
        listed_names = [
            rng.choice((state / "lists/current" / c).read_text().split() or ["x.y"])
            for c in categories
            for _ in range(20)
        ] + rng.sample(adult, 50000)
        leaks = [n for n in listed_names if dns_a(DNSDIST_PORT, f"sub{rng.randrange(99)}.{n}") != [BLOCK]]
        figures["subdomain_probes"] = {
            "asked": len(listed_names),
            "not_blocked": len(leaks),
            "examples": leaks[:5],
        }

        queries = work / "queries.txt"
        with queries.open("w") as handle:
            for i in range(200000):
                name = rng.choice(adult) if i % 2 else f"free{rng.randrange(10**7)}.example.org"
                handle.write(f"{name} A\n")
        perf = subprocess.run(
            [
                "dnsperf",
                "-s",
                "127.0.0.1",
                "-p",
                str(DNSDIST_PORT),
                "-d",
                str(queries),
                "-l",
                "15",
                "-c",
                "4",
                "-Q",
                "200000",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        qps = float(re.search(r"Queries per second:\s+([\d.]+)", perf.stdout).group(1))  # type: ignore[union-attr]
        latency = float(re.search(r"Average Latency \(s\):\s+([\d.]+)", perf.stdout).group(1))  # type: ignore[union-attr]
        lost = re.search(r"Queries lost:\s+(\d+)", perf.stdout).group(1)  # type: ignore[union-attr]
        status = Path(f"/proc/{dnsdist.pid}/status").read_text()
        figures["dnsperf"] = {
            "queries_per_second": qps,
            "average_latency_ms": round(latency * 1000, 3),
            "lost": int(lost),
            "dnsdist_rss_mib": int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) // 1024,
        }  # type: ignore[union-attr]

        figures["squidguard"] = squidguard(source, work, categories)

        # A day's change: 200 new domains in adult.
        with (source / "adult/domains").open("a") as handle:
            for _ in range(200):
                handle.write(f"daily{rng.randrange(10**9)}-{rng.choice(['cam', 'hot'])}.example.com\n")
        time.sleep(1.1)
        figures["central_daily_publish"] = measured(mirror_cmd, env=env, stderr=subprocess.DEVNULL)
        with out.open("w") as handle:
            figures["school_daily_update"] = measured(
                [*school_cmd[:2], "update", *school_cmd[2:]],
                env=env,
                stdout=handle,
                stderr=subprocess.DEVNULL,
            )
        daily = json.loads(out.read_text())
        tarball = work / "tree.tar.gz"
        with tarfile.open(tarball, "w:gz") as tar:
            tar.add(source, arcname="blacklists")
        figures["daily_bytes"] = {
            "transferred": daily["bytes_transferred"],
            "tree_tar_gz": tarball.stat().st_size,
            "first_full_sync": first["bytes_transferred"],
            "percent_of_tar_gz": round(100.0 * daily["bytes_transferred"] / tarball.stat().st_size, 4),
        }
        sg = figures["squidguard"]["seconds"]  # type: ignore[index]
        figures["ratios"] = {
            "squidguard_compile_over_school_compile_and_load": round(sg / (compile_s + load), 2),
            "squidguard_compile_over_school_daily_update": round(
                sg / figures["school_daily_update"]["seconds"], 2
            ),  # type: ignore[index]
        }
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    socket.setdefaulttimeout(5)
    main()
