"""The agent package from a file and from a repository: pinned version, units shipped, not enabled."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[5]
VERSION = (ROOT / "scripts/agent/schoolfleet_agent/VERSION").read_text().strip()


def test_the_pinned_version_is_installed(host):
    package = host.package("schoolfleet-agent")
    assert package.is_installed
    assert package.version == VERSION


def test_the_command_runs_under_debian_python(host):
    result = host.run("schoolfleet-hwreport --help")
    assert result.rc == 0, result.stderr
    assert "usage: schoolfleet-hwreport" in result.stdout
    assert host.run("schoolfleet-hwreport --version").stdout.strip() == f"schoolfleet-hwreport {VERSION}"
    imported = host.run("python3 -c 'import schoolfleet_agent.files as f; print(f.__file__)'")
    assert imported.stdout.strip() == "/usr/lib/python3/dist-packages/schoolfleet_agent/files.py"


def test_units_are_shipped_but_not_enabled(host):
    for unit in ("schoolfleet-hwreport.service", "schoolfleet-hwreport-serve.service"):
        assert host.file(f"/lib/systemd/system/{unit}").exists
        assert host.run(f"systemctl is-enabled {unit}").stdout.strip() == "disabled"
        assert not host.service(unit).is_running


def test_bytecode_was_compiled_by_py3compile(host):
    assert host.file("/usr/lib/python3/dist-packages/schoolfleet_agent/__pycache__").is_directory


def test_the_package_file_is_only_where_the_file_route_was_used(host):
    copied = host.file("/var/cache/schoolfleet/schoolfleet-agent.deb").exists
    assert copied == (host.backend.get_hostname() == "agent-package-deb")
