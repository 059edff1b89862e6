"""The local lab: a Debian 12 image built here, and podman containers standing in for real servers.

No registry is reachable, so the image is bootstrapped with debootstrap and imported into podman.
It is rebuilt only when its recipe (the package list and this module's recipe version) changes,
which a label on the image records. Every podman call goes through the project's containers.conf
(runc and explicit ulimits: see ../shared/LAB.md), exported by the Makefile as CONTAINERS_CONF.

    python -m schoolfleet.lab image             build the images unless the cached ones are current
    python -m schoolfleet.lab up HOST...        start lab containers named after inventory hosts
    python -m schoolfleet.lab down [HOST...]    remove lab containers (all of them by default)
    python -m schoolfleet.lab status            list lab containers
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/schoolfleet-debian:12"
NETWORK = "schoolfleet-lab"
LAB_LABEL = "schoolfleet.lab"
RECIPE_LABEL = "schoolfleet.recipe"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# procps and iproute2: service reloads call /bin/kill, testinfra's socket checks call ss.
# python3-apt: Ansible's apt module would otherwise install it in every container it touches.
# dbus: timedatectl and hostnamectl talk to systemd over it.
PACKAGES = (
    "python3",
    "python3-apt",
    "systemd",
    "systemd-sysv",
    "dbus",
    "procps",
    "iproute2",
    "ca-certificates",
)
SOURCES_LIST = f"""\
deb {MIRROR} {SUITE} main
deb {MIRROR} {SUITE}-updates main
deb http://deb.debian.org/debian-security {SUITE}-security main
"""
# Bump when the bootstrap steps below change in a way the package list does not show.
RECIPE_VERSION = "1"
# The role families: one image each, the base plus the Debian packages its roles install, so that a
# Molecule scenario or a lab host converges without downloading and unpacking them again (their
# apt tasks then report ok). tests/unit/test_lab.py checks every literal package of a role's apt
# tasks is baked into its family. Test-only tools (clients, sniffers) go in the `client` family.
FAMILIES: dict[str, tuple[str, ...]] = {
    "school": (
        "openssh-server",
        "openssh-client",
        "nftables",
        "sudo",
        "systemd-timesyncd",
        "tzdata",
        "git",
        "ansible-core",
        "dnsdist",
        "unbound",
        "tinycdb",
        "rsync",
        "samba",
        "winbind",
        "libnss-winbind",
        "krb5-user",
        "smbclient",
        "ldb-tools",
        "acl",
        "clamav-daemon",
        "clamav-freshclam",
        "clamdscan",
        "clamav",
        "restic",
        "freeradius",
        "freeradius-utils",
        "python3-cryptography",
        "kea-dhcp4-server",
        "tftpd-hpa",
        "ipxe",
        "nginx",
        "debian-installer-12-netboot-amd64",
        "apt-cacher-ng",
        "wakeonlan",
        # web_filter's checks ask with dig; workstation_upkeep's watch the wire with tcpdump.
        "bind9-dnsutils",
        "tcpdump",
    ),
    "central": (
        "openssh-server",
        "openssh-client",
        "nftables",
        "sudo",
        "systemd-timesyncd",
        "tzdata",
        "apt-cacher-ng",
        "nginx",
        "git",
        "gnupg",
        "apt-utils",
        "clamav",
        "rsync",
        "restic",
        "rclone",
    ),
    "client": (
        # What the scenarios' stand-ins and checks use.
        "openssh-client",
        "openssh-server",
        "smbclient",
        "wpasupplicant",
        "hostapd",
        "eapoltest",
        "freeradius-utils",
        "unbound",
        "bind9-dnsutils",
        "gnupg",
        "git",
        "dpkg-dev",
        "isc-dhcp-client",
        "curl",
    ),
}
# The roles each family serves (the client family serves the scenarios' checks only).
FAMILY_ROLES: dict[str, tuple[str, ...]] = {
    "school": (
        "common",
        "school_sync",
        "web_filter",
        "school_directory",
        "antivirus",
        "backup_client",
        "radius_server",
        "wifi_schedule",
        "school_dhcp",
        "workstation_install",
        "workstation_upkeep",
    ),
    "central": ("common", "central_server", "antivirus_mirror", "blocklist_mirror", "backup_server"),
    "client": (),
}
# Host keys made at build time would be shared by every container of the image: they are removed,
# and made again by the container's first boot, before sshd starts.
SSH_KEYGEN_UNIT = """\
[Unit]
Description=Make this container's own SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target ssh.service
"""
# Containers get NET_ADMIN so the common role can load its nftables firewall.
RUN_OPTIONS = ("--systemd=always", "--cap-add=NET_ADMIN", "--stop-timeout=3")


class LabError(RuntimeError):
    """A lab step failed; the message says which and why."""


def recipe_digest() -> str:
    text = "\n".join((RECIPE_VERSION, SUITE, MIRROR, SOURCES_LIST, *PACKAGES))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def podman(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess[str]:
    if "CONTAINERS_CONF" not in os.environ:
        os.environ["CONTAINERS_CONF"] = str(PROJECT_ROOT / "scripts" / "containers.conf")
    result = subprocess.run(["podman", *args], text=True, capture_output=capture, check=False)
    if check and result.returncode != 0:
        raise LabError(f"podman {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def family_image(family: str) -> str:
    return f"localhost/schoolfleet-{family}:12"


def family_digest(family: str) -> str:
    """A family's recipe: the base image's, its packages and the bake steps below."""
    text = "\n".join((recipe_digest(), SSH_KEYGEN_UNIT, *FAMILIES[family]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def image_recipe(image: str = IMAGE) -> str | None:
    """The recipe label of the cached image, or None when there is no image."""
    result = podman("image", "inspect", image, check=False)
    if result.returncode != 0:
        return None
    labels = json.loads(result.stdout)[0].get("Labels") or {}
    return str(labels.get(RECIPE_LABEL, "")) or None


def build_image(force: bool = False) -> bool:
    """Build the lab image unless the cached one matches the recipe. Returns True when it built."""
    digest = recipe_digest()
    if not force and image_recipe() == digest:
        return False
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed: run `make deps` first")
    cache = PROJECT_ROOT / ".cache" / "lab"
    cache.mkdir(parents=True, exist_ok=True)
    # A temporary rootfs: an interrupted build never leaves a half-made tree that looks finished.
    with tempfile.TemporaryDirectory(dir=cache, prefix="rootfs.") as tmp:
        rootfs = Path(tmp) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(rootfs),
                MIRROR,
            ],
            check=True,
        )
        (rootfs / "etc" / "apt" / "sources.list").write_text(SOURCES_LIST)
        # Drop the downloaded .debs: they are not part of the image.
        subprocess.run(["chroot", str(rootfs), "apt-get", "clean"], check=True)
        # systemd in a container: no getty on consoles that do not exist.
        for unit in ("getty@tty1.service", "console-getty.service"):
            (rootfs / "etc" / "systemd" / "system" / unit).unlink(missing_ok=True)
        (rootfs / "etc" / "machine-id").write_text("")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            [
                "podman",
                "import",
                "--change",
                f"LABEL {RECIPE_LABEL}={digest}",
                "--change",
                "CMD /sbin/init",
                "-",
                IMAGE,
            ],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", "")},
        )
        if tar.stdout is not None:
            tar.stdout.close()
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise LabError(f"podman import failed: {imported.stderr.strip()}")
    return True


def build_family(family: str, force: bool = False) -> bool:
    """Bake a family's packages into an image of its own, from the current base. True when it built."""
    image = family_image(family)
    digest = family_digest(family)
    if not force and image_recipe(image) == digest:
        return False
    keygen = "/etc/systemd/system/schoolfleet-ssh-keygen.service"
    script = "\n".join(
        (
            "set -eu",
            "export DEBIAN_FRONTEND=noninteractive",
            "apt-get update -qq",
            f"apt-get install -y -qq {' '.join(FAMILIES[family])} >/dev/null",
            "apt-get clean",
            "rm -f /etc/ssh/ssh_host_*",
            f"cat > {keygen} <<'UNIT'\n{SSH_KEYGEN_UNIT}UNIT",
            "mkdir -p /etc/systemd/system/multi-user.target.wants",
            f"ln -sf {keygen} /etc/systemd/system/multi-user.target.wants/",
            ": > /etc/machine-id",
        )
    )
    builder = f"schoolfleet-bake-{family}"
    podman("rm", "--force", builder, check=False)
    try:
        podman("run", "--name", builder, IMAGE, "/bin/bash", "-c", script)
        podman(
            "commit",
            "--quiet",
            "--change",
            f"LABEL {RECIPE_LABEL}={digest}",
            "--change",
            "CMD /sbin/init",
            builder,
            image,
        )
    finally:
        podman("rm", "--force", builder, check=False)
    return True


def build_images(force: bool = False) -> dict[str, bool]:
    """The base image, then every family's: which of them were built now.

    Under a lock: two runs at once (test lanes, a developer's scenario beside a bench) would
    otherwise both bake a stale family, and one would remove the other's builder container.
    """
    with _images_lock():
        built = {IMAGE: build_image(force=force)}
        for family in FAMILIES:
            built[family_image(family)] = build_family(family, force=force or built[IMAGE])
    return built


@contextlib.contextmanager
def _images_lock() -> Iterator[None]:
    lock = PROJECT_ROOT / ".cache" / "lab" / "images.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def ensure_network(network: str = NETWORK) -> None:
    if podman("network", "exists", network, check=False).returncode != 0:
        podman("network", "create", network)


def wait_for_systemd(name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        result = podman("exec", name, "systemctl", "is-system-running", check=False)
        state = result.stdout.strip()
        if state in {"running", "degraded"}:
            return
        time.sleep(0.5)
    raise LabError(f"{name}: systemd did not finish booting in {timeout:.0f} s (state {state!r})")


def lab_containers(label: str = "1") -> list[dict[str, str]]:
    result = podman("ps", "-a", "--filter", f"label={LAB_LABEL}={label}", "--format", "json")
    rows = json.loads(result.stdout or "[]")
    return [{"name": row["Names"][0], "state": row["State"], "image": row["Image"]} for row in rows]


def container_name(host: str, prefix: str = "") -> str:
    return f"{prefix}{host}"


def up(
    hosts: Sequence[str],
    *,
    prefix: str = "",
    network: str = NETWORK,
    label: str = "1",
    images: Mapping[str, str] | None = None,
) -> None:
    """Start a container per host, named `prefix` + host, with the host's name as its hostname.

    A prefix, a network and a label of its own give a second lab beside the shared one (a benchmark's,
    say): its containers answer to the hosts' names on their network (an alias) without colliding with
    the shared lab's containers, and `down()` without arguments leaves them alone. `images` gives a
    host its role family's image (the base image otherwise).
    """
    images = images or {}
    if images:
        build_images()
    else:
        build_image()
    ensure_network(network)
    existing = {row["name"]: row["state"] for row in lab_containers(label)}
    for host in hosts:
        name = container_name(host, prefix)
        if existing.get(name) == "running":
            continue
        if name in existing:
            podman("start", name)
        else:
            podman(
                "run",
                "--detach",
                "--name",
                name,
                "--hostname",
                host,
                "--network",
                network,
                *(("--network-alias", host) if prefix else ()),
                "--label",
                f"{LAB_LABEL}={label}",
                *RUN_OPTIONS,
                images.get(host, IMAGE),
                "/sbin/init",
            )
    for host in hosts:
        wait_for_systemd(container_name(host, prefix))


def down(hosts: Sequence[str], *, prefix: str = "", label: str = "1") -> None:
    names = [container_name(host, prefix) for host in hosts] or [row["name"] for row in lab_containers(label)]
    if names:
        podman("rm", "--force", "--time", "3", *names)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    image_cmd = sub.add_parser("image", help="build the lab image unless the cached one is current")
    image_cmd.add_argument("--force", action="store_true", help="rebuild even when the cache is current")
    image_cmd.add_argument("--base", action="store_true", help="the base image only, not the families")
    up_cmd = sub.add_parser("up", help="start lab containers named after inventory hosts")
    up_cmd.add_argument("hosts", nargs="+")
    down_cmd = sub.add_parser("down", help="remove lab containers (all by default)")
    down_cmd.add_argument("hosts", nargs="*")
    sub.add_parser("status", help="list lab containers")
    args = parser.parse_args(argv)
    try:
        if args.command == "image":
            if args.base:
                # A current base needs no lock: the family bakes that may hold it only read it.
                built = False
                if args.force or image_recipe() != recipe_digest():
                    with _images_lock():
                        built = build_image(force=args.force)
                print(f"{IMAGE}: {'built' if built else 'cached'}")
                return 0
            for image, built in build_images(force=args.force).items():
                print(f"{image}: {'built' if built else 'cached'}")
        elif args.command == "up":
            up(args.hosts)
            print(f"lab up: {', '.join(args.hosts)}")
        elif args.command == "down":
            down(args.hosts)
        else:
            for row in lab_containers():
                print(f"{row['name']:30} {row['state']:10} {row['image']}")
    except (LabError, subprocess.CalledProcessError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
