"""The check that no plaintext Vault file gets into the repository: `make lint` and the pre-commit hook."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from schoolfleet import vault_check

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "scripts" / "git-hooks"
PLAIN = b"---\nvault_network_snmp_community: s3cr3t-community\n"


def encrypted(data: bytes = PLAIN) -> bytes:
    vault = VaultLib([("default", VaultSecret(b"test-only-password"))])
    return bytes(vault.encrypt(data))


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    assert git(tmp_path, "init", "-q", "-b", "main").returncode == 0
    (tmp_path / ".gitignore").write_text("/.cache/\n/secret-notes/\n")
    return tmp_path


def write(root: Path, relative: str, data: bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("path", "data", "refused"),
    [
        ("inventories/production/group_vars/all/vault.yml", PLAIN, True),
        ("inventories/production/group_vars/all/vault.yml", encrypted(), False),
        ("inventories/production/host_vars/srv/vault_backup.yaml", PLAIN, True),
        ("group_vars/all/Vault-2026.yml", PLAIN, True),
        # Inline !vault values are not a Vault file: the rest of such a file is in clear.
        ("group_vars/all/vault.yml", b"a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nb: clear\n", True),
        ("group_vars/all/vault.yml", b"", True),
        ("group_vars/all/vars.yml", PLAIN, False),
        ("docs/vault.yml.example", PLAIN, False),
        # The lab's throwaway secrets, made by `make demo`.
        (".cache/lab/vault.yml", PLAIN, False),
        (".cache/lab/sub/vault.yml", PLAIN, False),
        ("x/.cache/lab/vault.yml", PLAIN, True),
        (".cache/labx/vault.yml", PLAIN, True),
    ],
)
def test_plaintext_vault_files_are_refused_outside_the_lab_throwaway_path(
    path: str, data: bytes, refused: bool
) -> None:
    problems = vault_check.check([(path, data)])
    assert bool(problems) is refused
    if refused:
        assert problems[0].startswith(f"{path}: ")
        assert "ansible-vault encrypt" in problems[0]


def test_lint_checks_what_git_would_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "inventories/production/group_vars/all/vault.yml", encrypted())
    write(repo, ".cache/lab/vault.yml", PLAIN)  # ignored by git, and the throwaway path anyway
    write(repo, "secret-notes/vault.yml", PLAIN)  # ignored by git: never committed
    assert vault_check.main([str(repo)]) == 0
    write(repo, "inventories/staging/group_vars/all/vault.yml", PLAIN)  # untracked, not ignored
    assert vault_check.main([str(repo)]) == 1
    assert "inventories/staging/group_vars/all/vault.yml: " in capsys.readouterr().err
    git(repo, "add", "inventories")
    assert vault_check.main([str(repo)]) == 1


def test_the_pre_commit_hook_refuses_a_plaintext_vault_file(repo: Path) -> None:
    assert git(repo, "config", "core.hooksPath", str(HOOKS)).returncode == 0
    write(repo, "README", b"x\n")
    git(repo, "add", "README")
    assert git(repo, "commit", "-qm", "first").returncode == 0
    vault = write(repo, "inventories/production/group_vars/all/vault.yml", PLAIN)
    git(repo, "add", "inventories")
    refused = git(repo, "commit", "-qm", "secrets in clear")
    assert refused.returncode != 0
    assert "inventories/production/group_vars/all/vault.yml" in refused.stderr
    assert git(repo, "log", "--format=%s").stdout.split("\n")[0] == "first"
    # What counts is what is staged: encrypting the file without `git add` changes nothing.
    vault.write_bytes(encrypted())
    assert git(repo, "commit", "-qm", "secrets in clear").returncode != 0
    git(repo, "add", "inventories")
    done = git(repo, "commit", "-qm", "secrets encrypted")
    assert done.returncode == 0, done.stderr
    # `commit -a` stages into a temporary index of its own (GIT_INDEX_FILE): the hook reads that one.
    vault.write_bytes(PLAIN)
    assert git(repo, "commit", "-qam", "back in clear").returncode != 0
    vault.write_bytes(encrypted())
    # A commit that does not touch the file passes, and so does removing it.
    write(repo, "README", b"y\n")
    git(repo, "add", "README")
    assert git(repo, "commit", "-qm", "readme").returncode == 0
    git(repo, "rm", "-qf", str(vault))
    assert git(repo, "commit", "-qm", "remove").returncode == 0


def test_the_repository_holds_no_plaintext_vault_file() -> None:
    assert vault_check.main([str(ROOT)]) == 0
