"""Input hygiene of both list tools, and the central publication's delta chain."""

import gzip
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


MIRROR = load("blocklist_mirror_tool", "roles/blocklist_mirror/files/blocklist_mirror.py")
SCHOOL = load("web_filter_update_tool", "roles/web_filter/files/web_filter_update.py")


def mirror_name(line):
    return MIRROR.normalize_name(line)[0]


CASES = [
    (b"Example.COM", "example.com"),
    (b"example.com.", "example.com"),
    (b"example.com\r", "example.com"),
    (b"  example.com  # a comment", "example.com"),
    (b"# only a comment", None),
    (b"", None),
    (b"\xef\xbb\xbfexample.com", "example.com"),
    (b"*.example.com", "example.com"),
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
    (b"under_score.example.com", "under_score.example.com"),
    (b"\xff\xfe.example.com", None),
    (b"space in.name", None),  # the first word alone is a single label
]


@pytest.mark.parametrize(("line", "expected"), CASES)
@pytest.mark.parametrize("normalize", [mirror_name, SCHOOL.normalize_name], ids=["mirror", "school"])
def test_hostile_lines_never_crash_and_never_widen(normalize, line, expected):
    assert normalize(line) == expected


def test_reasons_are_counted():
    names, reasons = MIRROR.clean_lines([b"a.com\n", b"A.COM.\r\n", b"1.2.3.4\n", b"#x\n", b"bad..x\n"])
    assert names == ["a.com"]
    assert reasons == {"ok": 2, "ip": 1, "blank": 1, "invalid": 1}


def make_tree(root: Path, adult: list[str], redirector: list[str]) -> Path:
    for category, names in (("adult", adult), ("redirector", redirector)):
        (root / category).mkdir(parents=True, exist_ok=True)
        (root / category / "domains").write_text("".join(n + "\n" for n in names))
    return root


def publish(tree: Path, out: Path, stamp: str):
    import datetime as dt

    now = dt.datetime.strptime(stamp, "%Y%m%d").replace(tzinfo=dt.UTC)
    return MIRROR.publish(tree, out, ["adult", "redirector"], 10.0, 1.0, 90, 2, now=now)


def test_a_day_of_changes_is_published_as_a_small_delta(tmp_path):
    adult = [f"site{n}.example.com" for n in range(5000)]
    tree = make_tree(tmp_path / "tree", adult, ["proxy.example.net"])
    first = publish(tree, tmp_path / "pub", "20250101")
    assert publish(tree, tmp_path / "pub", "20250102") is None  # nothing changed: no new version
    make_tree(tree, [*adult[1:], "NEW.example.org."], ["proxy.example.net"])
    second = publish(tree, tmp_path / "pub", "20250103")
    manifest = json.loads((tmp_path / "pub/manifest.json").read_text())
    assert manifest["version"] == second
    assert manifest["deltas"] == [
        {
            "from": first,
            "to": second,
            "file": f"deltas/{second}.gz",
            "sha256": manifest["deltas"][0]["sha256"],
        }
    ]
    delta = gzip.decompress((tmp_path / "pub" / manifest["deltas"][0]["file"]).read_bytes()).decode()
    assert delta.splitlines()[2:] == ["-adult\tsite0.example.com", "+adult\tnew.example.org"]
    assert manifest["categories"]["adult"]["count"] == 5000


def test_a_shrunk_or_empty_list_is_refused_and_the_publication_kept(tmp_path):
    tree = make_tree(tmp_path / "tree", [f"s{n}.example.com" for n in range(1000)], ["p.example.net"])
    version = publish(tree, tmp_path / "pub", "20250101")
    make_tree(tree, [f"s{n}.example.com" for n in range(800)], ["p.example.net"])
    with pytest.raises(MIRROR.ValidationError, match="shrank"):
        publish(tree, tmp_path / "pub", "20250102")
    make_tree(tree, [f"s{n}.example.com" for n in range(1000)], [])
    with pytest.raises(MIRROR.ValidationError, match="redirector"):
        publish(tree, tmp_path / "pub", "20250102")
    assert json.loads((tmp_path / "pub/manifest.json").read_text())["version"] == version


def test_a_list_of_junk_is_refused(tmp_path):
    tree = make_tree(tmp_path / "tree", ["a.example.com"] + ["<html>"] * 50, ["p.example.net"])
    with pytest.raises(MIRROR.ValidationError, match="do not parse"):
        publish(tree, tmp_path / "pub", "20250101")


def test_the_school_applies_the_delta_chain_to_the_published_lists(tmp_path):
    adult = sorted(f"site{n}.example.com" for n in range(3000))
    tree = make_tree(tmp_path / "tree", adult, ["proxy.example.net"])
    pub = tmp_path / "pub"
    first = publish(tree, pub, "20250101")
    # Only the newest snapshots are kept on the mirror: the school's copy of the first one.
    shutil.copytree(pub / "snapshots" / first, tmp_path / "first")
    make_tree(tree, [*adult[5:], "zz.example.org", "aa.example.org"], ["proxy.example.net"])
    publish(tree, pub, "20250102")
    make_tree(tree, [*adult[5:], "aa.example.org", "mm.example.org"], ["proxy.example.net", "p2.example.net"])
    publish(tree, pub, "20250103")
    state = tmp_path / "school"
    (state / "lists").mkdir(parents=True)
    shutil.copytree(tmp_path / "first", state / "lists/current")
    (state / "state.json").write_text(json.dumps({"version": first}))
    (state / "incoming").symlink_to(pub)
    updater = SCHOOL.Updater({"state_dir": str(state), "source": str(pub)})
    manifest = json.loads((pub / "manifest.json").read_text())
    chain = updater.delta_chain(manifest, first)
    assert [p.name for p in chain] == [d["file"].split("/")[1] for d in manifest["deltas"]]
    target = tmp_path / "target"
    target.mkdir()
    updater.apply_deltas(chain, target)
    updater.verify_lists(manifest, target)
    assert "mm.example.org\n" in (target / "adult").read_text()
    assert "zz.example.org" not in (target / "adult").read_text()


def test_the_school_refuses_lists_that_do_not_match_the_manifest(tmp_path):
    tree = make_tree(tmp_path / "tree", ["a.example.com", "b.example.com"], ["p.example.net"])
    version = publish(tree, tmp_path / "pub", "20250101")
    manifest = json.loads((tmp_path / "pub/manifest.json").read_text())
    lists = tmp_path / "pub/snapshots" / version
    updater = SCHOOL.Updater({"state_dir": str(tmp_path / "s")})
    (lists / "adult").write_text("a.example.com\n")
    with pytest.raises(SCHOOL.UpdateError, match="checksum"):
        updater.verify_lists(manifest, lists)


def test_the_school_refuses_a_shrink_beyond_the_threshold(tmp_path):
    state = tmp_path / "s"
    state.mkdir()
    (state / "state.json").write_text(json.dumps({"version": "1", "counts": {"adult": 1000}}))
    updater = SCHOOL.Updater(
        {
            "state_dir": str(state),
            "required_categories": ["adult"],
            "categories": ["adult"],
            "max_shrink_percent": 10,
        }
    )
    with pytest.raises(SCHOOL.UpdateError, match="shrink"):
        updater.check_policy({"categories": {"adult": {"count": 850}}})
    with pytest.raises(SCHOOL.UpdateError, match="empty"):
        updater.check_policy({"categories": {"adult": {"count": 0}}})
    updater.check_policy({"categories": {"adult": {"count": 950}}})


@pytest.mark.parametrize(
    ("data", "clean"),
    [
        (b"a.com\nb.c.org\n", True),
        (b"", True),
        (b"a.com\n\nb.com\n", False),
        (b"a..com\n", False),
        (b".a.com\n", False),
        (b"a.com.\n", False),
        (b"a.com\ncom\n", False),
        (b"A.com\n", False),
        (b"a.com", False),
        (b"a.com\r\n", False),
        (b"a.com\n10.0.0.1/8\n", False),
    ],
)
def test_the_school_checks_every_line_of_a_received_list(tmp_path, data, clean):
    path = tmp_path / "list"
    path.write_bytes(data)
    assert SCHOOL.clean_list(path, data) is clean
