"""The school resolver against a central mirror built from a hostile UT1-layout tree.

The stub behind the school's Unbound answers blocked names too (192.0.2.66, ...), so a name that
slips through shows up as a real address instead of the block answer. Tests run in file order:
the update tests at the end change the published lists.
"""

import json

import pytest
import testinfra

BLOCK = "203.0.113.53"
CENTRAL = testinfra.get_host("podman://web-filter-central")
SCHOOL = testinfra.get_host("podman://web-filter-school")
SOURCE = "/srv/ut1-source"
PUBLISH = "/srv/blocklist"


def ask(name, qtype="A", source="127.0.0.1"):
    """(status, answer lines "name type data") from the school resolver."""
    out = SCHOOL.check_output(f"dig +tries=2 +time=3 -b {source} @127.0.0.1 {name} {qtype}")
    status = out.split("status: ", 1)[1].split(",", 1)[0]
    section = out.split(";; ANSWER SECTION:\n", 1)[1].split("\n\n", 1)[0] if "ANSWER SECTION" in out else ""
    answers = [" ".join(line.split()[i] for i in (0, 3, 4)) for line in section.splitlines()]
    return status, answers


def addresses(name, source="127.0.0.1"):
    return [a.split()[2] for a in ask(name, source=source)[1] if a.split()[1] == "A"]


def update():
    return SCHOOL.run("/usr/local/sbin/web-filter-update update")


def installed_version():
    return json.loads(SCHOOL.file("/var/lib/web-filter/state.json").content_string)["version"]


@pytest.mark.parametrize(
    "name",
    [
        "blocked-adult.example.net",
        "deep.sub.blocked-adult.example.net",
        "BLOCKED-Adult.Example.NET",
        "proxy-site.example.net",
        "www.proxy-site.example.net",
    ],
)
def test_a_listed_domain_and_its_sub_domains_get_the_block_answer(name):
    assert addresses(name) == [BLOCK]


def test_other_query_types_of_a_blocked_name_get_an_empty_answer():
    for qtype in ("AAAA", "MX", "TXT"):
        status, answers = ask("blocked-adult.example.net", qtype)
        assert (status, answers) == ("NOERROR", [])


@pytest.mark.parametrize(
    "name",
    [
        "mixed-case.example.org",
        "crlf-line.example.com",
        "spaced.example.com",
        "with-scheme.example.com",
        "www.parent-listed.example.com",
        "x.parent-listed.example.com",
        "école-interdite.fr".encode("idna").decode(),
    ],
)
def test_hostile_lines_of_the_upstream_list_still_block(name):
    assert addresses(name) == [BLOCK]


def test_the_published_list_holds_only_clean_names():
    manifest = json.loads(CENTRAL.file(f"{PUBLISH}/manifest.json").content_string)
    adult = CENTRAL.file(f"{PUBLISH}/{manifest['snapshot']}/adult").content_string.splitlines()
    assert adult == sorted(set(adult))
    assert all(name == name.lower().strip(". \r") and "/" not in name and "#" not in name for name in adult)
    assert "10.1.2.3" not in adult
    assert manifest["categories"]["adult"]["ip_entries"] == 1
    # "bad..name", "-" and the line of bytes that are not UTF-8: refused and counted, not guessed at.
    assert manifest["categories"]["adult"]["rejected"] == 3
    assert "porn" not in manifest["categories"]


def test_an_unlisted_domain_resolves_through_the_forwarder():
    assert addresses("ecole-exemple.fr") == ["192.0.2.10"]


def test_the_schools_own_machines_resolve_both_ways():
    assert ask("ws-sf-000001.school.example.net") == (
        "NOERROR",
        ["ws-sf-000001.school.example.net. A 10.19.0.50"],
    )
    assert ask("50.0.19.10.in-addr.arpa", "PTR") == (
        "NOERROR",
        ["50.0.19.10.in-addr.arpa. PTR ws-sf-000001.school.example.net."],
    )
    assert ask("ws-sf-000001.school.example.net", "AAAA") == ("NOERROR", [])


def test_the_school_allow_list_wins_over_a_category():
    # The name is in the adult list of the upstream tree and in web_filter_allow_school.
    CENTRAL.run_test(f"grep -qx allowed-by-school.example.net {SOURCE}/adult/domains")
    assert addresses("allowed-by-school.example.net") == ["192.0.2.11"]


def test_the_fleet_deny_list_blocks_a_name_of_no_category():
    assert addresses("denied-by-school.example.org") == [BLOCK]
    assert addresses("www.denied-by-school.example.org") == [BLOCK]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("127.0.0.20", [BLOCK]),  # maternelle: games blocked
        ("127.0.0.40", ["192.0.2.12"]),  # elementaire: games allowed
        ("127.0.0.50", ["192.0.2.12"]),  # teachers
        ("127.0.0.1", [BLOCK]),  # no listed network: the default population (maternelle)
    ],
)
def test_categories_depend_on_the_population(source, expected):
    assert addresses("game-site.example.net", source) == expected


def test_adult_is_blocked_for_every_population_even_when_not_listed():
    assert addresses("blocked-adult.example.net", "127.0.0.50") == [BLOCK]


@pytest.mark.parametrize(
    ("name", "target", "address"),
    [
        ("www.google.fr", "forcesafesearch.google.com.", "216.239.38.120"),
        ("www.youtube.com", "restrict.youtube.com.", "216.239.38.120"),
        ("www.bing.com", "strict.bing.com.", "204.79.197.220"),
        ("duckduckgo.com", "safe.duckduckgo.com.", "52.142.124.215"),
    ],
)
def test_safe_search_is_forced(name, target, address):
    _, answers = ask(name)
    assert f"{name}. CNAME {target}" in answers
    assert f"{target} A {address}" in answers


def test_firefox_is_told_to_keep_dns_over_https_off():
    assert ask("use-application-dns.net")[0] == "NXDOMAIN"


def test_dnsdist_does_not_start_without_compiled_lists():
    SCHOOL.run_test(
        "sed 's#/var/lib/web-filter#/tmp/empty-state#' /etc/web-filter/update.json > /tmp/empty.json"
    )
    result = SCHOOL.run("/usr/local/sbin/web-filter-update check-live --config /tmp/empty.json")
    assert result.rc == 1
    assert "missing compiled lists" in result.stderr
    assert "web-filter-update check-live" in SCHOOL.check_output("systemctl cat dnsdist")


def test_a_day_of_changes_travels_as_a_small_delta_and_never_opens_a_hole():
    before = installed_version()
    CENTRAL.run_test(
        f"cp {SOURCE}/adult/domains /root/adult.orig && "
        f"(echo new-today.example.net; seq -f 'daily%g.example.com' 1 199) >> {SOURCE}/adult/domains"
    )
    CENTRAL.run_test("systemctl start blocklist-mirror.service")
    # Blocked names are asked all along the update: not one may get a real address.
    SCHOOL.run_test(
        "systemd-run --unit=probe-loop sh -c 'for i in $(seq 1 400); do "
        "dig +short +tries=1 +time=1 @127.0.0.1 blocked-adult.example.net; sleep 0.02; done > /tmp/probe.out'"
    )
    result = update()
    assert result.rc == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["changed"] and summary["version"] != before
    snapshot_bytes = int(CENTRAL.check_output(f"du -sb {PUBLISH}/snapshots/{summary['version']}").split()[0])
    assert summary["bytes_transferred"] < snapshot_bytes * 0.05
    assert addresses("new-today.example.net") == [BLOCK]
    SCHOOL.run_test("while systemctl is-active -q probe-loop; do sleep 0.5; done")
    answers = SCHOOL.file("/tmp/probe.out").content_string.split()
    assert answers and set(answers) == {BLOCK}


def test_a_truncated_upstream_list_is_refused_by_the_mirror():
    version = json.loads(CENTRAL.file(f"{PUBLISH}/manifest.json").content_string)["version"]
    CENTRAL.run_test(
        f"cp {SOURCE}/adult/domains /root/adult.good && "
        f"head -n 2000 /root/adult.good > {SOURCE}/adult/domains"
    )
    assert CENTRAL.run("systemctl start blocklist-mirror.service").rc != 0
    status = json.loads(CENTRAL.file("/var/cache/blocklist-mirror/status.json").content_string)
    assert not status["ok"] and "shrank" in status["error"]
    assert json.loads(CENTRAL.file(f"{PUBLISH}/manifest.json").content_string)["version"] == version
    CENTRAL.run_test(f"cp /root/adult.good {SOURCE}/adult/domains")


FORGE = r"""
import hashlib, json, pathlib, shutil, sys
mode = sys.argv[1]
pub = pathlib.Path("/srv/blocklist")
manifest = json.loads((pub / "manifest.json").read_text())
shutil.copy(pub / "manifest.json", "/root/manifest.good")
new = pub / "snapshots" / "29990101T000000Z"
shutil.copytree(pub / manifest["snapshot"], new, dirs_exist_ok=True)
adult = new / "adult"
lines = adult.read_bytes().splitlines(keepends=True)
if mode == "empty":
    adult.write_bytes(b"")
    data = b""
else:  # a transfer cut short: the manifest describes the full list, the file holds half of it
    data = b"".join(lines)
    adult.write_bytes(b"".join(lines[: len(lines) // 2]))
manifest["categories"]["adult"].update(count=data.count(b"\n"), sha256=hashlib.sha256(data).hexdigest())
manifest.update(version="29990101T000000Z", snapshot="snapshots/29990101T000000Z")
(pub / "manifest.json").write_text(json.dumps(manifest))
"""


@pytest.mark.parametrize(("mode", "reason"), [("empty", "empty"), ("truncated", "checksum")])
def test_a_bad_publication_is_refused_by_the_school_and_the_old_list_still_blocks(mode, reason):
    before = installed_version()
    CENTRAL.run_test(f"python3 - {mode} <<'EOF'\n{FORGE}\nEOF")
    try:
        result = update()
    finally:
        CENTRAL.run_test(
            f"cp /root/manifest.good {PUBLISH}/manifest.json && rm -rf {PUBLISH}/snapshots/2999*"
        )
    assert result.rc == 1
    assert "ALERT" in result.stderr and reason in result.stderr
    assert installed_version() == before
    status = json.loads(SCHOOL.file("/var/lib/web-filter/status.json").content_string)
    assert status["ok"] is False
    assert "ALERT" in SCHOOL.check_output("journalctl -t web-filter -p crit --no-pager -n 5")
    assert addresses("blocked-adult.example.net") == [BLOCK]
    assert addresses("new-today.example.net") == [BLOCK]
