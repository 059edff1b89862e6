"""The secrets generator: adds what is missing, never replaces what exists, writes privately."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from schoolfleet import secrets


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    path = tmp_path_factory.mktemp("secrets") / "vault.yml"
    added = secrets.ensure(path, ["0450001a-srv", "0450002b-srv"], config_signer=True)
    assert "vault_backup_ssh_keys[0450002b-srv]" in added
    return path, yaml.safe_load(path.read_text())


def test_the_file_is_readable_by_its_owner_only(made: tuple[Path, dict[str, object]]) -> None:
    path, _ = made
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_passwords_satisfy_the_directory_complexity_rule(made: tuple[Path, dict[str, object]]) -> None:
    _, data = made
    passwords = data["vault_school_directory_admin_passwords"]
    assert isinstance(passwords, dict) and set(passwords) == {"0450001a-srv", "0450002b-srv"}
    for value in passwords.values():
        assert len(value) >= 20
        assert any(c.islower() for c in value) and any(c.isupper() for c in value)
        assert any(c.isdigit() for c in value)
    assert passwords["0450001a-srv"] != passwords["0450002b-srv"]


def test_ssh_keys_are_real_pairs(made: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    _, data = made
    keys = data["vault_backup_ssh_keys"]
    assert isinstance(keys, dict)
    private = tmp_path / "key"
    private.write_text(keys["0450001a-srv"]["private"])
    private.chmod(0o600)
    derived = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(private)], capture_output=True, text=True, check=True
    )
    assert derived.stdout.split()[:2] == keys["0450001a-srv"]["public"].split()[:2]


def test_the_signing_key_signs(made: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    _, data = made
    gpg = ["gpg", "--batch", "--homedir", str(tmp_path), "--quiet"]
    subprocess.run([*gpg, "--import"], input=str(data["vault_central_repo_signing_key"]).encode(), check=True)
    signed = subprocess.run([*gpg, "--clearsign"], input=b"Release\n", capture_output=True, check=True)
    assert b"BEGIN PGP SIGNATURE" in signed.stdout
    assert "BEGIN PGP PUBLIC KEY BLOCK" in str(data["fleet_repo_signing_pubkey"])


def test_a_second_run_keeps_every_value_and_adds_a_new_school(made: tuple[Path, dict[str, object]]) -> None:
    path, before = made
    added = secrets.ensure(path, ["0450001a-srv", "0450002b-srv", "0450003c-srv"], config_signer=True)
    after = yaml.safe_load(path.read_text())
    assert sorted(added) == [
        "vault_backup_repository_passwords[0450003c-srv]",
        "vault_backup_ssh_keys[0450003c-srv]",
        "vault_school_directory_admin_passwords[0450003c-srv]",
        "vault_wifi_radius_secrets[0450003c-srv]",
        "vault_wifi_schedule_ssh_keys[0450003c-srv]",
    ]
    for key, value in before.items():
        if isinstance(value, dict) and key.startswith("vault_") and "0450001a-srv" in value:
            assert {k: v for k, v in after[key].items() if k != "0450003c-srv"} == value
        else:
            assert after[key] == value


def test_an_encrypted_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "vault.yml"
    path.write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    with pytest.raises(SystemExit, match="encrypted"):
        secrets.ensure(path, ["0450001a-srv"])
    assert path.read_text() == "$ANSIBLE_VAULT;1.1;AES256\n6162\n"
