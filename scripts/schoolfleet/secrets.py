"""Generate the fleet's secrets into a Vault variables file, keeping the ones it already holds.

    python -m schoolfleet.secrets FILE [--inventory INV] [--hosts PATTERN] [--config-signer]

FILE is plain YAML, mode 0600: encrypt it with `ansible-vault encrypt FILE` before it goes
anywhere near the repository (the lab keeps its own under .cache/, which git ignores).

Existing values are never replaced: a school's restic password or SSH key changing would cut it
off from its own backups. Running it again after onboarding a school adds that school's entries
and leaves everybody else's alone.
"""

from __future__ import annotations

import argparse
import os
import secrets
import string
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

# Samba's complexity rule wants three character classes; no quote or shell metacharacter.
PASSWORD_ALPHABET = string.ascii_letters + string.digits


def password(length: int = 24) -> str:
    while True:
        value = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        classes = (str.islower, str.isupper, str.isdigit)
        if all(any(test(c) for c in value) for test in classes):
            return value


def ssh_keypair(comment: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)],
            check=True,
        )
        return {"private": key.read_text(), "public": key.with_suffix(".pub").read_text().strip()}


def signing_key(name: str) -> dict[str, str]:
    """An OpenPGP signing key without passphrase (the central server signs unattended)."""
    with tempfile.TemporaryDirectory() as home:
        gpg = ["gpg", "--batch", "--homedir", home, "--quiet"]
        subprocess.run(
            [*gpg, "--passphrase", "", "--quick-gen-key", name, "ed25519", "sign", "never"], check=True
        )
        private = subprocess.run([*gpg, "--armor", "--export-secret-keys"], check=True, capture_output=True)
        public = subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True)
        return {"private": private.stdout.decode(), "public": public.stdout.decode()}


def complete(data: dict[str, Any], schools: Iterable[str], config_signer: bool) -> list[str]:
    """Add what is missing to `data` in place; return what was added."""
    added: list[str] = []

    def per_school(key: str, make: Any) -> None:
        table = data.setdefault(key, {})
        for school in schools:
            if school not in table:
                table[school] = make(school)
                added.append(f"{key}[{school}]")

    per_school("vault_school_directory_admin_passwords", lambda _: password())
    per_school("vault_backup_repository_passwords", lambda _: password(32))
    per_school("vault_backup_ssh_keys", lambda school: ssh_keypair(f"backup@{school}"))
    # The access points' RADIUS secret and the key the school's radio schedule logs in to them with.
    per_school("vault_wifi_radius_secrets", lambda _: password(32))
    per_school("vault_wifi_schedule_ssh_keys", lambda school: ssh_keypair(f"wifi-schedule@{school}"))
    if "vault_central_repo_signing_key" not in data:
        key = signing_key("schoolfleet in-house repository")
        data["vault_central_repo_signing_key"] = key["private"]
        data["fleet_repo_signing_pubkey"] = key["public"]
        added.append("vault_central_repo_signing_key")
    if "vault_network_snmp_community" not in data:
        data["vault_network_snmp_community"] = password(20)
        added.append("vault_network_snmp_community")
    if config_signer and "fleet_config_signers" not in data:
        # The lab has no admins' keys: one throwaway signer stands in for them.
        pair = ssh_keypair("config-admin@lab.invalid")
        data["fleet_config_signers"] = [{"principal": "config-admin@lab.invalid", "key": pair["public"]}]
        data["lab_config_signer_private_key"] = pair["private"]
        added.append("fleet_config_signers")
    return added


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, readable by the owner only, so an interrupted run loses nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("---\n# Made by schoolfleet.secrets. Encrypt with ansible-vault before sharing.\n")
            yaml.safe_dump(data, handle, sort_keys=True, default_flow_style=False, width=1000)
        tmp.chmod(0o600)
        tmp.replace(path)
    except BaseException:
        tmp.unlink()
        raise


def load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    if text.startswith("$ANSIBLE_VAULT"):
        raise SystemExit(f"{path}: encrypted; decrypt it (ansible-vault decrypt), run this, encrypt it again")
    data = yaml.load(text, Loader=yaml.CSafeLoader) or {}
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: not a mapping of variables")
    return data


def ensure(path: Path, schools: Sequence[str], config_signer: bool = False) -> list[str]:
    data = load(path)
    added = complete(data, schools, config_signer)
    if added or not path.exists():
        write_private(path, data)
    return added


def main(argv: Sequence[str] | None = None) -> int:
    from schoolfleet import demo  # the inventory resolution the demo uses

    parser = argparse.ArgumentParser(prog="secrets", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--inventory", type=Path, default=demo.ROOT / "inventories" / "demo" / "hosts.yml")
    parser.add_argument("--hosts", default="school_servers", help="host pattern of the school servers")
    parser.add_argument("--config-signer", action="store_true", help="add a throwaway config signer (lab)")
    args = parser.parse_args(argv)
    schools = demo.resolve_hosts(args.hosts, args.inventory)
    added = ensure(args.file, schools, args.config_signer)
    print(f"{args.file}: {len(added)} secrets added, the others kept", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
