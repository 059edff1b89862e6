"""Benchmark (not a test): a QEMU machine boots from a lab school server and installs Debian 12 unattended.

    .venv/bin/python tests/bench/netinstall_bench.py plumbing [--firmware bios|uefi]
    .venv/bin/python tests/bench/netinstall_bench.py install [--server roles|standalone]
            [--installer debootstrap|d-i] [--prefetch FILE] [--timeout MIN] [--stop-at HH:MM] [--clients 30]
            [--keep] [--reuse]
    .venv/bin/python tests/bench/netinstall_bench.py classroom --keep [--urls FILE] [--clients 30]

Issue 19, "once, end to end". The lab is the bench's own (containers `netbench-*` on the podman network
`netbench-lab`, label schoolfleet.lab=netbench), so the shared lab and Molecule are left alone:
  netbench-central   the central server's apt cache (apt-cacher-ng, fetching from the Debian mirror) and
                     the in-house repository (a flat repository of schoolfleet-agent, signed here);
  netbench-school    the school server: DHCP, TFTP (iPXE), HTTP (menu per MAC, installer, preseed per
                     machine), the school's apt cache (upstream = central's) and the hardware report receiver;
  a tap device on the network's Linux bridge, and QEMU (TCG: this CPU has no vmx/svm) with a fixed MAC,
  which boots from the network, installs, reboots from its disk and reports its hardware.

  plumbing   BIOS or UEFI (OVMF) firmware gets a reserved address and fetches a script over TFTP and a
             file over HTTP, then stops: the network path without an install (a minute or two).
  install    the whole install. It prints the install time (QEMU start to the installer's late command,
             and to the installed system's hardware report), the bytes the machine fetched from the
             school server and the bytes the school server fetched past itself (nftables counters in the
             school server, checked against apt-cacher-ng's logs), then measures the school server with N
             concurrent clients fetching what the install fetched (the URLs in the school cache's log,
             through that cache, and the web server's) and estimates a classroom of N machines at once.
  classroom  that last measurement alone, on a lab kept by `install --keep`.

  --server roles       the school server converged with school_dhcp and workstation_install
                       (netinstall/converge.yml), then the roles' off-hours prefetch, run at once;
  --server standalone  stand-ins set up by this script (dnsmasq, a small Python web server).
  --installer d-i      Debian's netboot installer with the preseed: it cannot finish here, the mirror this
                       machine reaches serves no .udeb (see "the debootstrap installer" below);
  --installer debootstrap (default) the bench's own initramfs, served by the school server, doing the
                       preseed's install through the school cache and running the roles' late command.
  --prefetch FILE      before the install, fetch every URL of FILE through the school cache (`install`
                       writes the URLs it saw to .cache/bench/netinstall/urls.txt).

Every wait has a timeout; SIGINT/SIGTERM, a timeout or --stop-at (default 18:10 UTC, the machine's
CPU is needed after that) stops the VM and prints what was measured so far; the bench's containers,
tap and network are removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from schoolfleet import lab  # noqa: E402

PREFIX = "netbench-"
NETWORK = "netbench-lab"
LABEL = "netbench"
WORK = ROOT / ".cache" / "bench" / "netinstall"
# A subnet of its own, far from podman's default 10.88-10.89 and from the register's 10.128.0.0/12.
SUBNET = "10.231.50.0/24"
GATEWAY = "10.231.50.1"
SCHOOL_IP = "10.231.50.2"
CENTRAL_IP = "10.231.50.3"
# The machine: a reserved address in the workstations' range (A's plan: host numbers 10-199).
VM_MAC = "52:54:00:5f:00:01"
VM_IP = "10.231.50.10"
VM_NAME = "ws-netbench"
POOL = ("10.231.50.200", "10.231.50.250")
TAP = "nbtap0"
SCHOOL = f"{PREFIX}school"
CENTRAL = f"{PREFIX}central"
ACNG_PORT = 3142
ACNG_LOG = "/var/log/apt-cacher-ng/apt-cacher.log"
HTTPD_LOG = "/var/log/netbench-httpd.log"
HWREPORT_INDEX = "/var/lib/netbench/hwreport/index.json"
DI_IMAGES = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64"
HOST_PACKAGES = ("qemu-system-x86", "qemu-utils", "ipxe", "ovmf")
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
RUN_OPTIONS = (
    "--systemd=always",
    # NET_ADMIN: nftables counters and the DHCP server's ARP entries; NET_RAW: Kea's raw DHCP socket.
    "--cap-add=NET_ADMIN",
    "--cap-add=NET_RAW",
    "--stop-timeout=3",
)


class StoppedError(Exception):
    """A signal, a timeout or the stop time: measure nothing more, print what we have, clean up."""


def on_signal(signum: int, _frame: FrameType | None) -> None:
    raise StoppedError(f"signal {signal.Signals(signum).name}")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def log(message: str) -> None:
    print(f"[{utc_now():%H:%M:%S}] {message}", flush=True)


def run(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, text=True, capture_output=True, check=False, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def in_container(name: str, script: str, *, check: bool = True, timeout: float = 900) -> str:
    """Run a bash script in a container; its stdout. The timeout bounds apt-get and friends."""
    command = ("podman", "exec", name, "bash", "-euo", "pipefail", "-c", script)
    result = subprocess.run(
        command, text=True, capture_output=True, check=False, timeout=timeout, env=podman_env()
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"{name}: script failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(ROOT / "scripts" / "containers.conf")}


def put_file(name: str, path: str, text: str, mode: str = "0644") -> None:
    """Write a file into a container through podman exec's stdin (no temporary file on the host)."""
    script = (
        f"mkdir -p {shlex.quote(str(Path(path).parent))} && cat > {shlex.quote(path)} && chmod {mode} {path}"
    )
    subprocess.run(
        ("podman", "exec", "-i", name, "sh", "-c", script),
        input=text,
        text=True,
        check=True,
        env=podman_env(),
        timeout=60,
    )


# --- the host side: packages, network, tap ------------------------------------------------------


def ensure_host_packages() -> None:
    missing = [
        package
        for package in HOST_PACKAGES
        if "install ok installed" not in run("dpkg-query", "-W", "-f=${Status}", package, check=False).stdout
    ]
    if missing:
        log(f"apt-get install {' '.join(missing)}")
        run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, timeout=900)


def create_network() -> str:
    """The bench's podman network; returns its Linux bridge (it exists once a container is attached)."""
    if lab.podman("network", "exists", NETWORK, check=False).returncode != 0:
        lab.podman("network", "create", "--subnet", SUBNET, "--gateway", GATEWAY, NETWORK)
    info = json.loads(lab.podman("network", "inspect", NETWORK).stdout)[0]
    return str(info["network_interface"])


def create_tap(bridge: str) -> None:
    run("ip", "link", "del", TAP, check=False)
    run("ip", "tuntap", "add", "dev", TAP, "mode", "tap")
    run("ip", "link", "set", TAP, "master", bridge)
    run("ip", "link", "set", TAP, "up")


def start_container(name: str, address: str) -> None:
    lab.build_image()
    lab.podman("rm", "--force", "--time", "3", name, check=False)
    lab.podman(
        "run",
        "--detach",
        "--name",
        name,
        "--hostname",
        name,
        "--network",
        NETWORK,
        "--ip",
        address,
        "--label",
        f"{lab.LAB_LABEL}={LABEL}",
        *RUN_OPTIONS,
        lab.IMAGE,
        "/sbin/init",
    )
    lab.wait_for_systemd(name, timeout=90)


def cleanup() -> None:
    """Remove whatever the bench made; each step on its own, so one failure does not skip the rest."""
    # The tap first: netavark deletes the bridge with the last container only when nothing else is
    # attached to it, and a bridge left behind keeps the subnet's address ("subnet already used").
    run("ip", "link", "del", TAP, check=False)
    for row in lab.lab_containers(LABEL):
        lab.podman("rm", "--force", "--time", "3", row["name"], check=False)
    lab.podman("network", "rm", "--force", NETWORK, check=False)


# --- the school server and the central cache ---------------------------------------------------

CENTRAL_SETUP = """
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends apt-cacher-ng >/dev/null
systemctl restart apt-cacher-ng
"""

# The stand-in school server. Its packages come straight from the Debian mirror (set-up, not measured).
SCHOOL_PACKAGES = "dnsmasq apt-cacher-ng debian-installer-12-netboot-amd64 ipxe nftables curl"

DNSMASQ_CONF = f"""\
# The bench's stand-in for the school's DHCP/TFTP (the roles use Kea).
port=0
interface=eth0
bind-interfaces
dhcp-range={POOL[0]},{POOL[1]},255.255.255.0,1h
dhcp-host={VM_MAC},{VM_IP},{VM_NAME}
dhcp-option=option:router,{GATEWAY}
# The podman network's own resolver (aardvark-dns on the gateway).
dhcp-option=option:dns-server,{GATEWAY}
dhcp-option=option:domain-name,lab
dhcp-match=set:ipxe,175
dhcp-match=set:efi64,option:client-arch,7
dhcp-match=set:efi64,option:client-arch,9
dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe
dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi
dhcp-boot=tag:ipxe,http://{SCHOOL_IP}/boot.ipxe
enable-tftp
tftp-root=/srv/tftp
log-dhcp
log-facility=/var/log/dnsmasq.log
"""

# Serves /srv/http, logs every request with its size (the bytes the machine fetched over HTTP), and
# keeps the latest hardware report per MAC, as the agent's receiver does.
HTTPD = r'''#!/usr/bin/python3
"""netbench-httpd: the bench's HTTP stand-in (menu, d-i, preseed, hardware reports)."""
import json, os, tempfile, threading, time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

LOG = "/var/log/netbench-httpd.log"
INDEX = "/var/lib/netbench/hwreport/index.json"
LOCK = threading.Lock()


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory="/srv/http", **kwargs)

    def log_message(self, *args):
        pass

    def send_response(self, code, message=None):
        self.status, self.length = code, 0
        super().send_response(code, message)

    def send_header(self, keyword, value):
        if keyword.lower() == "content-length":
            self.length = int(value)
        super().send_header(keyword, value)

    def record(self):
        with LOCK, open(LOG, "a") as out:
            out.write(f"{time.time():.3f} {self.client_address[0]} {self.command} {self.path} "
                      f"{getattr(self, 'status', 0)} {getattr(self, 'length', 0)}\n")

    def do_GET(self):
        try:
            super().do_GET()
        finally:
            self.record()

    def do_POST(self):
        try:
            size = int(self.headers.get("Content-Length", "0"))
            if self.path != "/hwreport" or not 0 < size <= 65536:
                self.send_error(400)
                return
            report = json.loads(self.rfile.read(size))
            mac = str(report["mac"]).lower()
            report.update(received_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          **{"from": self.client_address[0]})
            with LOCK:
                os.makedirs(os.path.dirname(INDEX), exist_ok=True)
                try:
                    with open(INDEX) as old:
                        index = json.load(old)
                except FileNotFoundError:
                    index = {"reports": {}}
                index["reports"][mac] = report
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(INDEX))
                with os.fdopen(fd, "w") as new:
                    json.dump(index, new, indent=1)
                os.replace(tmp, INDEX)
            self.send_response(204)
            self.end_headers()
        except (ValueError, KeyError):
            self.send_error(400)
        finally:
            self.record()


ThreadingHTTPServer(("", 80), Handler).serve_forever()
'''

HTTPD_UNIT = """\
[Unit]
Description=netbench HTTP stand-in
After=network.target

[Service]
ExecStart=/usr/local/sbin/netbench-httpd
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""

BOOT_IPXE = f"""\
#!ipxe
# Known machines have a menu of their own; the others get a message only.
chain http://{SCHOOL_IP}/menu/${{mac:hexhyp}}.ipxe || goto unknown
:unknown
echo This machine (${{mac}}) is not registered: no install. Ask the service to register it.
sleep 60
exit
"""


def kernel_args(server: str, preseed: str) -> str:
    # auto=true postpones the locale and keyboard questions until the preseed is read;
    # console=ttyS0 gives the installer's screens to the serial log, and after `---` to the installed
    # system too (the installer copies what follows it onto the new kernel command line).
    return (
        f"auto=true priority=critical preseed/url=http://{server}/{preseed} "
        "netcfg/choose_interface=auto language=en country=FR locale=fr_FR.UTF-8 "
        "keyboard-configuration/xkb-keymap=fr console=ttyS0,115200n8 --- console=ttyS0,115200n8"
    )


MENU_IPXE = f"""\
#!ipxe
menu {VM_NAME}: network install
item --default install install  Debian 12, unattended
item local   Boot from the local disk
choose --default install --timeout 5000 target && goto ${{target}}
:install
kernel http://{SCHOOL_IP}/d-i/linux {kernel_args(SCHOOL_IP, "preseed/" + VM_MAC.replace(":", "-") + ".cfg")}
initrd http://{SCHOOL_IP}/d-i/initrd.gz
boot
:local
exit
"""

# The hardware report the installed machine sends at each boot (the agent's `schoolfleet-hwreport
# send` stand-in: plain sh and curl, so the install needs no package from the in-house repository).
HWREPORT_SH = f"""\
#!/bin/sh
set -eu
iface=$(ip route show default | awk '{{print $5; exit}}')
dmi() {{ cat "/sys/class/dmi/id/$1" 2>/dev/null | tr -d '"\\\\' || true; }}
disks=""
for d in /sys/block/*; do
  case ${{d##*/}} in loop*|ram*|sr*|fd*) continue;; esac
  disks="$disks{{\\"name\\":\\"${{d##*/}}\\",\\"bytes\\":$(( $(cat "$d/size") * 512 ))}},"
done
body=$(printf '{{"mac":"%s","serial":"%s","vendor":"%s","model":"%s","hostname":"%s","disks":[%s]}}' \\
  "$(cat /sys/class/net/$iface/address)" "$(dmi product_serial)" "$(dmi sys_vendor)" \\
  "$(dmi product_name)" "$(hostname)" "${{disks%,}}")
curl -fsS --retry 10 --retry-delay 5 --retry-connrefused -H 'Content-Type: application/json' \\
  -d "$body" http://{SCHOOL_IP}/hwreport
"""

HWREPORT_UNIT = """\
[Unit]
Description=Report this machine's hardware to the school server
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/netbench-hwreport

[Install]
WantedBy=multi-user.target
"""

# Run in the target at the end of the install (preseed/late_command fetches it).
LATE_SETUP = f"""\
#!/bin/sh
set -eu
curl -fsS -o /usr/local/sbin/netbench-hwreport http://{SCHOOL_IP}/netbench/hwreport.sh
chmod 0755 /usr/local/sbin/netbench-hwreport
curl -fsS -o /etc/systemd/system/netbench-hwreport.service http://{SCHOOL_IP}/netbench/hwreport.service
systemctl enable netbench-hwreport.service
"""


def preseed(server: str, password_hash: str) -> str:
    """The machine's preseed: fr_FR, French keyboard, Paris, one disk, packages through the school cache."""
    return textwrap.dedent(
        f"""\
        # The installer speaks English: on a serial console it offers no other language and would
        # stop at that question. The installed system is still fr_FR.UTF-8 with a French keyboard.
        d-i debian-installer/language string en
        d-i debian-installer/country string FR
        d-i debian-installer/locale string fr_FR.UTF-8
        d-i localechooser/supported-locales multiselect fr_FR.UTF-8
        d-i keyboard-configuration/xkb-keymap select fr
        d-i netcfg/choose_interface select auto
        d-i netcfg/get_hostname string {VM_NAME}
        d-i netcfg/get_domain string lab
        d-i netcfg/hostname string {VM_NAME}
        d-i hw-detect/load_firmware boolean false
        d-i mirror/country string manual
        d-i mirror/http/hostname string deb.debian.org
        d-i mirror/http/directory string /debian
        d-i mirror/http/proxy string http://{server}:{ACNG_PORT}/
        d-i clock-setup/utc boolean true
        d-i time/zone string Europe/Paris
        d-i clock-setup/ntp boolean false
        d-i passwd/root-login boolean false
        d-i passwd/user-fullname string Fleet admin
        d-i passwd/username string fleetadmin
        d-i passwd/user-password-crypted password {password_hash}
        d-i partman-auto/disk string /dev/vda
        d-i partman-auto/method string regular
        d-i partman-auto/choose_recipe select atomic
        d-i partman-lvm/device_remove_lvm boolean true
        d-i partman-md/device_remove_md boolean true
        d-i partman-partitioning/confirm_write_new_label boolean true
        d-i partman/choose_partition select finish
        d-i partman/confirm boolean true
        d-i partman/confirm_nooverwrite boolean true
        d-i apt-setup/cdrom/set-first boolean false
        d-i apt-setup/non-free-firmware boolean false
        d-i apt-setup/services-select multiselect security, updates
        tasksel tasksel/first multiselect ssh-server
        d-i pkgsel/include string curl dmidecode
        d-i pkgsel/upgrade select none
        popularity-contest popularity-contest/participate boolean false
        d-i grub-installer/only_debian boolean true
        d-i grub-installer/bootdev string default
        d-i finish-install/reboot_in_progress note
        d-i preseed/late_command string in-target sh -c 'curl -fsS http://{server}/netbench/late.sh | sh'
        """
    )


def setup_central() -> None:
    start_container(CENTRAL, CENTRAL_IP)
    in_container(CENTRAL, CENTRAL_SETUP)


def setup_school_standalone() -> None:
    start_container(SCHOOL, SCHOOL_IP)
    in_container(
        SCHOOL,
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; "
        f"apt-get install -y -qq --no-install-recommends {SCHOOL_PACKAGES} >/dev/null",
    )
    put_file(SCHOOL, "/etc/dnsmasq.d/netbench.conf", DNSMASQ_CONF)
    put_file(SCHOOL, "/usr/local/sbin/netbench-httpd", HTTPD, "0755")
    put_file(SCHOOL, "/etc/systemd/system/netbench-httpd.service", HTTPD_UNIT)
    # The school cache fetches through the central one, as production's does.
    put_file(SCHOOL, "/etc/apt-cacher-ng/zz_netbench.conf", f"Proxy: http://{CENTRAL_IP}:{ACNG_PORT}/\n")
    put_file(SCHOOL, "/srv/http/boot.ipxe", BOOT_IPXE)
    put_file(SCHOOL, f"/srv/http/menu/{VM_MAC.replace(':', '-')}.ipxe", MENU_IPXE)
    password = run("openssl", "passwd", "-6", os.urandom(12).hex()).stdout.strip()
    put_file(SCHOOL, f"/srv/http/preseed/{VM_MAC.replace(':', '-')}.cfg", preseed(SCHOOL_IP, password))
    put_file(SCHOOL, "/srv/http/netbench/hwreport.sh", HWREPORT_SH)
    put_file(SCHOOL, "/srv/http/netbench/hwreport.service", HWREPORT_UNIT)
    put_file(SCHOOL, "/srv/http/netbench/late.sh", LATE_SETUP)
    in_container(
        SCHOOL,
        "mkdir -p /srv/tftp /srv/http/d-i; "
        "cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi /srv/tftp/; "
        f"ln -sf {DI_IMAGES}/linux {DI_IMAGES}/initrd.gz /srv/http/d-i/; "
        "systemctl daemon-reload; systemctl enable --now netbench-httpd; "
        "systemctl restart dnsmasq apt-cacher-ng",
    )


@dataclass(frozen=True)
class Layout:
    """Where a school server set-up keeps what the bench reads, and the requests that mark progress."""

    http_log: str
    http_format: str  # "netbench" (the stand-in's own lines) or "nginx" (combined)
    hwreport_index: str
    marks: tuple[tuple[str, str], ...]


STANDALONE = Layout(
    http_log=HTTPD_LOG,
    http_format="netbench",
    hwreport_index=HWREPORT_INDEX,
    marks=(
        ("/boot.ipxe", "iPXE fetched boot.ipxe"),
        ("/d-i/linux", "iPXE fetched the kernel"),
        ("/preseed/", "installer fetched its preseed"),
        ("/netbench/late.sh", "installer finished (late_command fetch)"),
    ),
)
ROLES = Layout(
    http_log="/var/log/nginx/access.log",
    http_format="nginx",
    hwreport_index="/var/lib/schoolfleet/hwreport/index.json",
    marks=(
        ("/ipxe/boot.ipxe", "iPXE fetched boot.ipxe"),
        ("/d-i/linux", "iPXE fetched the kernel"),
        ("/netbench/vmlinuz", "iPXE fetched the (debootstrap) installer's kernel"),
        ("/preseed/", "installer fetched its preseed"),
        ("/install/late-command.sh", "installer finished (late_command fetch)"),
    ),
)
# The set-up in use (install_steps picks it).
LAYOUT = [STANDALONE]
REPO_PORT = 80
AGENT_REPO = f"http://{CENTRAL_IP}:{REPO_PORT}/schoolfleet"
ADMIN_KEY = WORK / "ssh" / "id_ed25519"


def build_agent_repo() -> tuple[Path, Path, str]:
    """The agent package and a flat repository of it signed with a throwaway key.

    The installed machine gets schoolfleet-agent from the in-house repository (the roles' late
    command), as production's central server serves it; here the central container does.
    Returns the .deb, the repository folder and the ASCII-armoured public key.
    """
    packages = WORK / "packages"
    run(sys.executable, str(ROOT / "scripts" / "agent" / "build_deb.py"), "--out", str(packages), timeout=300)
    deb = sorted(packages.glob("schoolfleet-agent_*_all.deb"))[-1]
    repo = WORK / "repo" / "schoolfleet"
    run("rm", "-rf", str(repo))
    repo.mkdir(parents=True)
    (repo / deb.name).write_bytes(deb.read_bytes())
    listing = subprocess.run(
        ["dpkg-scanpackages", "--multiversion", "."], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    (repo / "Packages").write_text(listing)
    body = (repo / "Packages").read_bytes()
    date = utc_now().strftime("%a, %d %b %Y %H:%M:%S UTC")
    release = (
        f"Origin: schoolfleet-netbench\nLabel: schoolfleet-netbench\nDate: {date}\n"
        f"MD5Sum:\n {hashlib.md5(body).hexdigest()} {len(body)} Packages\n"
        f"SHA256:\n {hashlib.sha256(body).hexdigest()} {len(body)} Packages\n"
    )
    (repo / "Release").write_text(release)
    home = WORK / "gnupg"
    if not home.exists():
        home.mkdir(mode=0o700)
        gpg(
            home,
            "--quick-generate-key",
            "netbench repository <netbench@lab.invalid>",
            "ed25519",
            "sign",
            "1d",
        )
    gpg(home, "--yes", "--clearsign", "--output", str(repo / "InRelease"), str(repo / "Release"))
    public = gpg(home, "--armor", "--export")
    return deb, repo, public


def gpg(home: Path, *args: str) -> str:
    return run(
        "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--homedir", str(home), *args
    ).stdout


def setup_central_repo(repo: Path) -> None:
    lab.podman("cp", str(repo.parent), f"{CENTRAL}:/srv/")
    in_container(
        CENTRAL,
        f"systemd-run --unit netbench-repo python3 -m http.server {REPO_PORT} --directory /srv/repo",
    )


def roles_vars(deb: Path, public_key: str) -> dict[str, object]:
    """The roles' variables, as roles/workstation_install/molecule/default/converge.yml sets them."""
    if not ADMIN_KEY.exists():
        ADMIN_KEY.parent.mkdir(parents=True, exist_ok=True)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "netbench", "-f", str(ADMIN_KEY))
    machines = [{"hostname": VM_NAME, "mac": VM_MAC, "address": VM_IP}]
    return {
        "school_dhcp_subnets": [
            {
                "name": "pedagogy",
                "id": 10,
                "cidr": SUBNET,
                "gateway": GATEWAY,
                "reserved_start": VM_IP.rsplit(".", 1)[0] + ".10",
                "reserved_end": VM_IP.rsplit(".", 1)[0] + ".199",
                "pool_start": POOL[0],
                "pool_end": POOL[1],
            }
        ],
        "school_dhcp_reservations": machines,
        # The lab's school server has no resolver of its own (no web filter here): the podman
        # network's aardvark-dns on the gateway stands in for it.
        "school_dhcp_dns_servers": [GATEWAY],
        "school_dhcp_domain_name": "netbench.ecoles.internal",
        "school_dhcp_boot_server": SCHOOL_IP,
        "school_dhcp_boot_ipxe_url": f"http://{SCHOOL_IP}/ipxe/boot.ipxe",
        "netbench_agent_deb": str(deb),
        "workstation_install_server_address": SCHOOL_IP,
        "workstation_install_machines": machines,
        "workstation_install_domain": "netbench.ecoles.internal",
        "workstation_install_dns_servers": [GATEWAY],
        "workstation_install_disk": "/dev/vda",
        "workstation_install_admin_authorized_keys": [ADMIN_KEY.with_suffix(".pub").read_text().strip()],
        "workstation_install_apt_cache_upstream_proxy": f"http://{CENTRAL_IP}:{ACNG_PORT}",
        "workstation_install_repo_url": AGENT_REPO,
        "workstation_install_repo_signing_pubkey": public_key,
    }


def setup_school_roles() -> None:
    """Converge roles school_dhcp and workstation_install on the school server (ansible-playbook)."""
    roles = [ROOT / "roles" / name for name in ("school_dhcp", "workstation_install")]
    missing = [str(path) for path in roles if not (path / "tasks" / "main.yml").exists()]
    if missing:
        raise RuntimeError(f"--server roles: not there yet: {', '.join(missing)}")
    deb, repo, public = build_agent_repo()
    setup_central_repo(repo)
    start_container(SCHOOL, SCHOOL_IP)
    inventory = WORK / "inventory.yml"
    inventory.write_text(
        "all:\n  hosts:\n    netbench-school:\n      ansible_connection: podman\n"
        "      ansible_python_interpreter: /usr/bin/python3\n"
    )
    extra = WORK / "vars.json"
    extra.write_text(json.dumps(roles_vars(deb, public), indent=1))
    bin_dir = Path(sys.executable).parent
    env = {
        **podman_env(),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_HOME": str(ROOT / ".cache" / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(ROOT / ".cache" / "ansible" / "tmp"),
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
    }
    converge_log = WORK / "converge.log"
    log(f"ansible-playbook tests/bench/netinstall/converge.yml (log {converge_log})")
    with converge_log.open("w") as out:
        result = subprocess.run(
            [
                str(bin_dir / "ansible-playbook"),
                "-i",
                str(inventory),
                "-e",
                f"@{extra}",
                str(ROOT / "tests" / "bench" / "netinstall" / "converge.yml"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=1800,
        )
    if result.returncode != 0:
        tail = converge_log.read_text().splitlines()[-25:]
        raise RuntimeError("converging the roles failed:\n" + "\n".join(tail))
    in_container(SCHOOL, "apt-get install -y -qq nftables >/dev/null")


def roles_prefetch() -> None:
    """The roles' off-hours prefetch, run now (its command: the timer's guard is for real schools)."""
    log("prefetch: workstation-install-prefetch (the roles' own package set)")
    # A failed prefetch is a result, not the end of the bench: the install then shows what crosses
    # the school's link without it.
    out = in_container(
        SCHOOL,
        "/usr/local/sbin/workstation-install-prefetch >/var/log/netbench-prefetch.log 2>&1; "
        "echo \"exit status $?\"; grep -E '^(E|W):|packages are in' /var/log/netbench-prefetch.log | tail -8",
        check=False,
        timeout=1800,
    )
    log("prefetch: " + out.strip().replace("\n", "\n    "))
    if "exit status 0" not in out:
        split_prefetch()


def split_prefetch() -> None:
    """The roles' prefetch once per boot loader (see /work/notes/D-requests.md, item 1).

    Its one `apt-get install --download-only` lists grub-pc and grub-efi-amd64, which conflict, so
    apt resolves nothing and downloads nothing (exit 100). The same command with one of the two
    at a time fills the cache as intended; the bench runs that copy so that the install can be
    measured after a working prefetch, and says so.
    """
    script = in_container(SCHOOL, "cat /usr/local/sbin/workstation-install-prefetch")
    for drop in ("grub-efi-amd64", "grub-pc"):
        lines = [
            " ".join(word for word in line.split(" ") if word.strip("'\"") != drop)
            if "--download-only" in line
            else line
            for line in script.splitlines()
        ]
        path = f"/usr/local/sbin/netbench-prefetch-without-{drop}"
        put_file(SCHOOL, path, "\n".join(lines) + "\n", "0755")
        out = in_container(
            SCHOOL,
            f'{path} >/var/log/netbench-prefetch-{drop}.log 2>&1; echo "exit status $?"; '
            f"grep -E '^(E|W):|packages are in' /var/log/netbench-prefetch-{drop}.log | tail -5",
            check=False,
            timeout=1800,
        )
        log(f"prefetch without {drop} (the bench's workaround): " + out.strip().replace("\n", "\n    "))


# --- the debootstrap installer (d-i's components cannot be downloaded here) ----------------------

# The Debian mirror this machine reaches serves .deb files but no .udeb (HTTP 404 for every
# installer component, e.g. pool/main/d/debootstrap/debootstrap-udeb_1.0.128+nmu2+deb12u2_all.udeb,
# while debootstrap_1.0.128+nmu2+deb12u2_all.deb is there), so the netboot installer stops at
# "Download installer components: Downloading a file failed". `--installer debootstrap` boots
# instead a small Debian initramfs (built here from .debs) whose /init does what the preseed asks
# for: the same disk, locale, keyboard, time zone, admin account, packages through the school
# cache, and then the roles' own late command (admin key, sudo, in-house repository, the agent
# and its hardware report at boot).
INSTALLER_PACKAGES = "debootstrap wget e2fsprogs fdisk kmod isc-dhcp-client curl ca-certificates cpio"
# The modules the installer needs from Debian's kernel (the rest of what it needs is built in).
INSTALLER_MODULES = (
    "kernel/drivers/virtio",
    "kernel/drivers/net/virtio_net.ko",
    "kernel/drivers/net/net_failover.ko",
    "kernel/net/core/failover.ko",
    "kernel/drivers/block/virtio_blk.ko",
    "kernel/fs/ext4",
    "kernel/fs/jbd2",
    "kernel/fs/mbcache.ko",
    "kernel/lib/crc16.ko",
    "kernel/crypto/crc32c_generic.ko",
    "kernel/arch/x86/crypto",
)
# What the target gets on top of debootstrap's minbase: d-i's base system and the preseed's
# pkgsel/include (openssh-server, python3, sudo); no tasksel "standard", to fit the time here.
TARGET_PACKAGES = (
    "systemd,systemd-sysv,udev,kmod,iproute2,ifupdown,isc-dhcp-client,openssh-server,python3,sudo,"
    "locales,keyboard-configuration,console-setup,linux-image-amd64,grub-pc,curl,wget,ca-certificates,"
    "dmidecode,initramfs-tools,adduser,passwd,tzdata"
)
INSTALLER_INIT_FILE = Path(__file__).resolve().parent / "netinstall" / "installer-init.sh"
INSTALLER_BUILD_FILE = Path(__file__).resolve().parent / "netinstall" / "build-installer.sh"


def build_installer() -> Path:
    """The installer's kernel and initramfs (in WORK/installer), rebuilt only when its recipe changes."""
    folder = WORK / "installer"
    init = INSTALLER_INIT_FILE.read_text().replace("@TARGET_PACKAGES@", TARGET_PACKAGES)
    build = INSTALLER_BUILD_FILE.read_text()
    recipe = "\n".join((init, build, INSTALLER_PACKAGES, *INSTALLER_MODULES))
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    stamp = folder / "recipe"
    if stamp.exists() and stamp.read_text() == digest and (folder / "initrd.gz").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "init").write_text(init)
    (folder / "build.sh").write_text(build)
    log("building the debootstrap installer (an initramfs from the lab image and Debian's kernel)")
    name = f"{PREFIX}build"
    lab.podman("rm", "--force", name, check=False)
    command = [
        "podman",
        "run",
        "--rm",
        "--name",
        name,
        "--label",
        f"{lab.LAB_LABEL}={LABEL}",
        "-v",
        f"{folder}:/out",
        "-e",
        f"PACKAGES={INSTALLER_PACKAGES}",
        "-e",
        f"MODULES={' '.join(INSTALLER_MODULES)}",
        lab.IMAGE,
        "bash",
        "-euo",
        "pipefail",
        "/out/build.sh",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=1500, env=podman_env()
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the installer failed: {result.stderr.strip()[-2000:]}")
    stamp.write_text(digest)
    size = mib((folder / "initrd.gz").stat().st_size)
    log(f"installer: kernel {result.stdout.strip().splitlines()[-1]}, initrd {size}")
    return folder


def use_debootstrap_installer(folder: Path) -> None:
    """Serve the installer from the school server's web root and point the machine's menu at it.

    Only the menu entry's kernel and initrd change: DHCP, iPXE, the web server, the cache, the late
    command and the hardware report receiver stay the roles' (or the stand-in's) own.
    """
    roles = LAYOUT[0] is ROLES
    root = "/srv/workstation-install" if roles else "/srv/http"
    menu = f"{root}/{'ipxe/hosts' if roles else 'menu'}/{VM_MAC.replace(':', '-')}.ipxe"
    in_container(SCHOOL, f"mkdir -p {root}/netbench")
    for item in ("vmlinuz", "initrd.gz"):
        lab.podman("cp", str(folder / item), f"{SCHOOL}:{root}/netbench/{item}")
    args = (
        f"console=ttyS0,115200n8 rdinit=/init netbench.server={SCHOOL_IP} netbench.hostname={VM_NAME} "
        "netbench.domain=netbench.ecoles.internal netbench.disk=/dev/vda"
    )
    put_file(
        SCHOOL,
        menu,
        "#!ipxe\n# netinstall bench: the debootstrap installer (d-i's components are not reachable here)\n"
        f"kernel http://{SCHOOL_IP}/netbench/vmlinuz {args}\n"
        f"initrd http://{SCHOOL_IP}/netbench/initrd.gz\nboot\n",
    )
    in_container(SCHOOL, f"chmod -R a+rX {root}/netbench {menu}")


# --- measuring -----------------------------------------------------------------------------------

NFT_RULES = f"""\
table inet netbench {{
  counter from_vm {{}}
  counter to_vm {{}}
  counter from_central {{}}
  counter to_central {{}}
  counter from_other {{}}
  counter to_other {{}}
  chain input {{
    type filter hook input priority -300; policy accept;
    iifname "lo" return
    ip saddr {VM_IP} counter name from_vm return
    ether saddr {VM_MAC} counter name from_vm return
    ip saddr {CENTRAL_IP} counter name from_central return
    counter name from_other
  }}
  chain output {{
    type filter hook output priority -300; policy accept;
    oifname "lo" return
    ip daddr {VM_IP} counter name to_vm return
    ip daddr {CENTRAL_IP} counter name to_central return
    counter name to_other
  }}
}}
"""


def install_counters() -> None:
    put_file(SCHOOL, "/etc/netbench.nft", NFT_RULES)
    in_container(SCHOOL, "nft delete table inet netbench 2>/dev/null || true; nft -f /etc/netbench.nft")


def read_counters() -> dict[str, int]:
    """Bytes per named counter of the school server, as nftables counts them (IP packets, headers in)."""
    out = in_container(SCHOOL, "nft -j list counters table inet netbench", check=False, timeout=30)
    counters: dict[str, int] = {}
    with contextlib.suppress(ValueError):
        for item in json.loads(out).get("nftables", []):
            if "counter" in item:
                counters[item["counter"]["name"]] = int(item["counter"]["bytes"])
    return counters


@dataclass
class AcngLine:
    when: float
    kind: str  # "I": fetched from upstream, "O": delivered to a client
    size: int
    client: str
    path: str


def acng_log(name: str) -> list[AcngLine]:
    """apt-cacher-ng's transfer log: `time|I or O|size|client|path` per line."""
    lines = []
    for raw in in_container(name, f"cat {ACNG_LOG} 2>/dev/null || true", timeout=30).splitlines():
        parts = raw.split("|")
        if len(parts) >= 5 and parts[1] in {"I", "O"} and parts[0].isdigit() and parts[2].isdigit():
            lines.append(AcngLine(float(parts[0]), parts[1], int(parts[2]), parts[3], "|".join(parts[4:])))
    return lines


@dataclass
class HttpLine:
    when: float
    client: str
    method: str
    path: str
    status: int
    size: int


NGINX_LINE = re.compile(r'^(\S+) \S+ \S+ \[([^]]+)\] "(\S+) (\S+) [^"]*" (\d+) (\d+)')


def httpd_log() -> list[HttpLine]:
    layout = LAYOUT[0]
    lines = []
    for raw in in_container(SCHOOL, f"cat {layout.http_log} 2>/dev/null || true", timeout=30).splitlines():
        if layout.http_format == "nginx":
            match = NGINX_LINE.match(raw)
            if match:
                when = dt.datetime.strptime(match[2], "%d/%b/%Y:%H:%M:%S %z").timestamp()
                lines.append(HttpLine(when, match[1], match[3], match[4], int(match[5]), int(match[6])))
            continue
        parts = raw.split()
        if len(parts) == 6:
            with contextlib.suppress(ValueError):
                lines.append(
                    HttpLine(float(parts[0]), parts[1], parts[2], parts[3], int(parts[4]), int(parts[5]))
                )
    return lines


def hwreport(mac: str) -> dict[str, object] | None:
    index = LAYOUT[0].hwreport_index
    out = in_container(SCHOOL, f"cat {index} 2>/dev/null || true", check=False, timeout=30)
    with contextlib.suppress(ValueError, AttributeError):
        report = json.loads(out)["reports"].get(mac)
        return dict(report) if isinstance(report, dict) else None
    return None


@dataclass
class Results:
    started: float = 0.0
    milestones: dict[str, float] = field(default_factory=dict)
    counters_before: dict[str, int] = field(default_factory=dict)
    counters_after: dict[str, int] = field(default_factory=dict)
    acng_to_vm: int = 0
    acng_from_upstream: int = 0
    acng_requests: int = 0
    central_served: int = 0
    http_to_vm: int = 0
    report: dict[str, object] | None = None
    urls: list[str] = field(default_factory=list)
    load: list[str] = field(default_factory=list)
    stopped: str = ""
    prefetch: str = ""

    def delta(self, name: str) -> int:
        return self.counters_after.get(name, 0) - self.counters_before.get(name, 0)


def mib(size: float) -> str:
    return f"{size / 2**20:.1f} MiB"


def print_results(results: Results) -> None:
    print("\n=== netinstall bench ===")
    if results.stopped:
        print(f"stopped early: {results.stopped}")
    if results.prefetch:
        print(results.prefetch)
    for name, when in sorted(results.milestones.items(), key=lambda item: item[1]):
        print(f"  {name:44} +{(when - results.started) / 60:6.1f} min")
    if results.counters_after:
        print("school server, nftables (IP bytes, both directions, during the install):")
        print(f"  to the machine {mib(results.delta('to_vm'))}, from it {mib(results.delta('from_vm'))}")
        print(
            f"  past the school server: from central {mib(results.delta('from_central'))}, "
            f"to central {mib(results.delta('to_central'))}, other in {mib(results.delta('from_other'))} "
            f"/ out {mib(results.delta('to_other'))}"
        )
    print(
        f"school cache log: {results.acng_requests} requests, {mib(results.acng_to_vm)} to the machine, "
        f"{mib(results.acng_from_upstream)} fetched upstream; "
        f"central cache served {mib(results.central_served)}; "
        f"HTTP (d-i, menu, preseed) to the machine {mib(results.http_to_vm)}"
    )
    if results.report:
        print(f"hardware report: {json.dumps(results.report, sort_keys=True)}")
    for line in results.load:
        print(f"  {line}")


def collect(results: Results) -> None:
    """Read the counters and the logs into results (called after the install, and when stopping)."""
    with contextlib.suppress(Exception):
        results.counters_after = read_counters()
    with contextlib.suppress(Exception):
        school = [line for line in acng_log(SCHOOL) if line.when >= results.started - 1]
        to_vm = [line for line in school if line.kind == "O" and line.client == VM_IP]
        results.acng_to_vm = sum(line.size for line in to_vm)
        results.acng_requests = len(to_vm)
        results.acng_from_upstream = sum(line.size for line in school if line.kind == "I")
        results.urls = sorted({line.path for line in to_vm})
    with contextlib.suppress(Exception):
        central = [line for line in acng_log(CENTRAL) if line.when >= results.started - 1]
        results.central_served = sum(line.size for line in central if line.kind == "O")
    with contextlib.suppress(Exception):
        http = [line for line in httpd_log() if line.client == VM_IP and line.when >= results.started - 1]
        results.http_to_vm = sum(line.size for line in http if line.method == "GET")
        web = sorted({line.path for line in http if line.method == "GET" and line.status == 200})
        results.urls += [f"http://{SCHOOL_IP}{path}" for path in web]


# --- the virtual machine -------------------------------------------------------------------------


def qemu_command(firmware: str, serial_log: Path, disk: Path | None) -> list[str]:
    command = [
        # Not niced: on this shared machine a niced TCG install got a third of a core under other
        # people's Molecule runs (3 CPU minutes in 9) and could not finish in time. -smp 1 bounds it.
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-m",
        "1024",
        # One vCPU: one host thread, so the install leaves the other core to the other helpers' work.
        "-smp",
        "1",
        "-nographic",
        # The monitor on a socket: `screendump` shows the VGA screen, where an installer without a
        # serial console (the roles' menu gives none) shows a question it stopped at.
        "-monitor",
        f"unix:{WORK / 'monitor.sock'},server,nowait",
        "-serial",
        f"file:{serial_log}",
        "-netdev",
        f"tap,id=n0,ifname={TAP},script=no,downscript=no",
        "-device",
        f"virtio-net-pci,netdev=n0,mac={VM_MAC}",
        # What the hardware report reads back from /sys/class/dmi/id.
        "-smbios",
        "type=1,manufacturer=Netbench,product=QEMU TCG workstation,serial=NB-0001",
    ]
    if firmware == "uefi":
        vars_copy = WORK / "OVMF_VARS.fd"
        vars_copy.write_bytes(OVMF_VARS.read_bytes())
        command += [
            "-machine",
            "q35",
            "-drive",
            f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
            "-drive",
            f"if=pflash,format=raw,file={vars_copy}",
        ]
    else:
        command += ["-machine", "pc"]
    if disk is not None:
        # Disk first: a blank disk falls through to the network; the installed one boots itself, so
        # the machine does not reinstall at its first reboot.
        command += ["-drive", f"file={disk},if=virtio,format=qcow2,cache=unsafe", "-boot", "order=cn"]
    else:
        command += ["-boot", "n"]
    return command


@contextlib.contextmanager
def virtual_machine(command: Sequence[str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def check_deadline(deadline: float, stop_at: dt.datetime) -> None:
    if time.monotonic() > deadline:
        raise StoppedError("timeout")
    if utc_now() >= stop_at:
        raise StoppedError(f"stop time {stop_at:%H:%M} UTC")


def serial_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def plumbing(firmware: str, timeout: float, stop_at: dt.datetime) -> int:
    """Boot the firmware off the stand-in server: DHCP, TFTP script, HTTP file; no install."""
    WORK.mkdir(parents=True, exist_ok=True)
    serial_log = WORK / f"plumbing-{firmware}.log"
    serial_log.unlink(missing_ok=True)
    bridge = create_network()
    start_container(SCHOOL, SCHOOL_IP)
    in_container(
        SCHOOL,
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; "
        "apt-get install -y -qq --no-install-recommends dnsmasq ipxe >/dev/null; "
        "mkdir -p /srv/tftp /srv/http; "
        "cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi /srv/tftp/; echo hello > /srv/http/hello.txt",
    )
    put_file(SCHOOL, "/usr/local/sbin/netbench-httpd", HTTPD, "0755")
    put_file(SCHOOL, "/etc/systemd/system/netbench-httpd.service", HTTPD_UNIT)
    put_file(SCHOOL, "/etc/dnsmasq.d/netbench.conf", DNSMASQ_CONF)
    put_file(
        SCHOOL,
        "/srv/http/boot.ipxe",
        "#!ipxe\necho plumbing: ${net0/ip} ${platform}\n"
        f"imgfetch http://{SCHOOL_IP}/hello.txt && echo plumbing: HTTP fetch ok\nsleep 600\n",
    )
    in_container(
        SCHOOL, "systemctl daemon-reload; systemctl enable --now netbench-httpd; systemctl restart dnsmasq"
    )
    create_tap(bridge)
    started = time.monotonic()
    with virtual_machine(qemu_command(firmware, serial_log, None)):
        while "plumbing: HTTP fetch ok" not in serial_text(serial_log):
            check_deadline(started + timeout, stop_at)
            time.sleep(2)
    log(f"plumbing ({firmware}): HTTP fetch seen after {time.monotonic() - started:.0f} s")
    leases = in_container(SCHOOL, "grep -E 'DHCPACK|sent' /var/log/dnsmasq.log | tail -5; cat " + HTTPD_LOG)
    print(leases)
    return 0


# --- the install ----------------------------------------------------------------------------------


def prefetch(urls: Sequence[str]) -> None:
    """The off-hours prefetch: every URL once through the school cache, one client."""
    log(f"prefetch: {len(urls)} URLs through the school cache")
    fetch_all(urls, clients=1)


def curl_config(urls: Sequence[str]) -> str:
    lines = []
    for url in urls:
        lines.append(f'url = "{url}"')
        lines.append('output = "/dev/null"')
    return "\n".join(lines) + "\n"


@dataclass
class ClientRun:
    seconds: float
    size: int
    failures: int


def one_client(config: Path) -> ClientRun:
    started = time.monotonic()
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "--proxy",
            f"http://{SCHOOL_IP}:{ACNG_PORT}",
            "--noproxy",
            SCHOOL_IP,
            "-w",
            "%{http_code} %{size_download}\n",
            "-K",
            str(config),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    size = failures = 0
    for line in result.stdout.splitlines():
        code, _, got = line.partition(" ")
        if code == "200":
            size += int(got)
        else:
            failures += 1
    return ClientRun(time.monotonic() - started, size, failures)


def fetch_all(urls: Sequence[str], clients: int) -> list[ClientRun]:
    """`clients` curl processes at once, each fetching every URL (one connection reused per client)."""
    WORK.mkdir(parents=True, exist_ok=True)
    config = WORK / "curl.conf"
    config.write_text(curl_config(urls))
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(one_client, [config] * clients))


# apt-cacher-ng logs a Debian repository under its own key; the URLs clients ask it for.
ACNG_KEYS = {
    "debrep/": "http://deb.debian.org/debian/",
    "secdeb/": "http://security.debian.org/debian-security/",
}


def as_url(path: str) -> str:
    bare = path.removeprefix("http://")
    for key, prefix in ACNG_KEYS.items():
        if bare.startswith(key):
            return prefix + bare.removeprefix(key)
    return path if path.startswith("http") else f"http://{path}"


def package_urls(results: Results) -> list[str]:
    """The install's fetches as URLs: the cache's (proxy requests keep the host) and the web server's."""
    return sorted({as_url(path) for path in results.urls})


def classroom(results: Results, clients: int, stop_at: dt.datetime, urls: Sequence[str] = ()) -> None:
    urls = list(urls) or package_urls(results)
    if utc_now() >= stop_at or len(urls) <= 2:
        print("classroom estimate: skipped (no package set, or past the stop time)")
        return
    log(f"classroom: {clients} clients fetching {len(urls)} URLs each")
    before = read_counters()
    started = time.monotonic()
    runs = fetch_all(urls, clients)
    wall = time.monotonic() - started
    after = read_counters()
    total = sum(item.size for item in runs)
    per_client = max(item.size for item in runs)
    failures = sum(item.failures for item in runs)
    past = sum(after.get(k, 0) - before.get(k, 0) for k in ("from_central", "from_other"))
    install = results.milestones.get("installer finished (late_command fetch)", 0) - results.started
    print(
        f"classroom: {clients} clients x {mib(per_client)} = {mib(total)} in {wall:.1f} s "
        f"({total / wall / 2**20:.1f} MiB/s from the school server; slowest client "
        f"{max(item.seconds for item in runs):.1f} s, fastest {min(item.seconds for item in runs):.1f} s; "
        f"{failures} failed requests; {mib(past)} fetched past the school server meanwhile)"
    )
    gigabit = total / (125e6 * 0.9)
    print(f"  a 1 Gb/s school LAN alone needs {gigabit:.0f} s for it; this lab server {wall:.0f} s")
    if install > 0:
        # The single install is bound by the machine's own (emulated) CPU, not by the server: with N
        # at once each still needs that, and at worst every download waits for the others in turn.
        extra = max(wall, gigabit)
        print(
            f"  estimate for {clients} machines at once: the single install ({install / 60:.1f} min here "
            f"under TCG) plus at most {extra / 60:.1f} min of waiting for the server and the LAN, "
            f"so {install / 60:.1f}-{(install + extra) / 60:.1f} min"
        )


def classroom_again(args: argparse.Namespace, stop_at: dt.datetime) -> int:
    """The classroom measurement alone, on a lab left by `install --keep`, from its urls.txt."""
    if args.server == "roles":
        LAYOUT[0] = ROLES
    listing = Path(args.urls) if args.urls else WORK / "urls.txt"
    urls = sorted({as_url(line.strip()) for line in listing.read_text().splitlines() if line.strip()})
    results = Results(started=time.time() - args.install_minutes * 60)
    if args.install_minutes:
        results.milestones["installer finished (late_command fetch)"] = time.time()
    classroom(results, args.clients, stop_at, urls)
    return 0


def install(args: argparse.Namespace, stop_at: dt.datetime) -> int:
    results = Results()
    try:
        return install_steps(args, stop_at, results)
    except StoppedError as exc:
        results.stopped = str(exc)
        collect(results)
        print_results(results)
        return 2


def install_steps(args: argparse.Namespace, stop_at: dt.datetime, results: Results) -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    bridge = create_network()
    if args.server == "roles":
        LAYOUT[0] = ROLES
    running = {row["name"] for row in lab.lab_containers(LABEL) if row["state"] == "running"}
    reuse = args.reuse and {SCHOOL, CENTRAL} <= running
    if reuse:
        log("reusing the running central and school containers (set up and prefetched before)")
    else:
        log("central cache")
        setup_central()
        log(f"school server ({args.server})")
        if args.server == "roles":
            setup_school_roles()
        else:
            setup_school_standalone()
    if args.installer == "debootstrap":
        use_debootstrap_installer(build_installer())
    install_counters()
    before = read_counters()
    started = time.monotonic()
    roles_prefetch_now = args.server == "roles" and not args.no_roles_prefetch and not reuse
    if roles_prefetch_now:
        roles_prefetch()
    if args.prefetch:
        prefetch([line for line in Path(args.prefetch).read_text().splitlines() if line.strip()])
    if args.prefetch or roles_prefetch_now:
        after = read_counters()
        results.prefetch = (
            f"prefetch (the off-hours run): {time.monotonic() - started:.0f} s, "
            f"{mib(after.get('from_central', 0) - before.get('from_central', 0))} from central, "
            f"{mib(after.get('from_other', 0) - before.get('from_other', 0))} from elsewhere"
        )
        log(results.prefetch)
    create_tap(bridge)
    disk = WORK / "disk.qcow2"
    disk.unlink(missing_ok=True)
    run("qemu-img", "create", "-f", "qcow2", str(disk), "8G")
    serial_log = WORK / "install-serial.log"
    serial_log.unlink(missing_ok=True)
    results.counters_before = read_counters()
    results.started = time.time()
    deadline = time.monotonic() + args.timeout * 60
    log(f"VM started; serial console in {serial_log}")
    with virtual_machine(qemu_command("bios", serial_log, disk)) as vm:
        try:
            wait_for_install(vm, results, serial_log, deadline, stop_at)
        finally:
            collect(results)
    (WORK / "urls.txt").write_text("\n".join(package_urls(results)) + "\n")
    print_results(results)
    classroom(results, args.clients, stop_at)
    return 0


def wait_for_install(
    vm: subprocess.Popen[bytes], results: Results, serial_log: Path, deadline: float, stop_at: dt.datetime
) -> None:
    marks = dict(LAYOUT[0].marks)
    last_load = 0.0
    while True:
        check_deadline(deadline, stop_at)
        if vm.poll() is not None:
            raise StoppedError(f"QEMU exited ({vm.returncode})")
        for line in httpd_log():
            for needle, name in marks.items():
                if needle in line.path and name not in results.milestones:
                    results.milestones[name] = line.when
                    log(name)
        if "reboot: Restarting system" in serial_text(serial_log):
            results.milestones.setdefault("installer rebooted", time.time())
        report = hwreport(VM_MAC)
        if report is not None:
            results.milestones["hardware report received"] = time.time()
            results.report = report
            log("hardware report received")
            return
        if time.monotonic() - last_load > 300:
            last_load = time.monotonic()
            results.load.append(f"{utc_now():%H:%M} load {os.getloadavg()[0]:.1f}")
            log(f"waiting; load {os.getloadavg()[0]:.1f}")
        time.sleep(15)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="netinstall_bench", description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("plumbing", "install", "classroom"))
    parser.add_argument("--urls", help="classroom: the URL list (default: the last install's urls.txt)")
    parser.add_argument(
        "--install-minutes",
        type=float,
        default=0,
        help="classroom: the single install's time, for the estimate",
    )
    parser.add_argument("--firmware", choices=("bios", "uefi"), default="bios", help="plumbing only")
    parser.add_argument("--server", choices=("standalone", "roles"), default="standalone")
    parser.add_argument("--prefetch", help="URLs to fetch through the school cache before the install")
    parser.add_argument(
        "--no-roles-prefetch", action="store_true", help="--server roles: skip the roles' own prefetch"
    )
    parser.add_argument("--timeout", type=float, default=75, help="minutes for the install (default 75)")
    parser.add_argument("--stop-at", default="18:10", help="UTC time HH:MM after which QEMU is stopped")
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the running (--keep) central and school containers as they are",
    )
    parser.add_argument(
        "--installer",
        choices=("debootstrap", "d-i"),
        default="debootstrap",
        help="d-i: Debian's netboot installer with the preseed (its components are not reachable here); "
        "debootstrap: the bench's initramfs doing the same install (the default)",
    )
    args = parser.parse_args(argv)
    hour, minute = (int(part) for part in args.stop_at.split(":"))
    stop_at = utc_now().replace(hour=hour, minute=minute, second=0, microsecond=0)
    os.environ["CONTAINERS_CONF"] = str(ROOT / "scripts" / "containers.conf")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        ensure_host_packages()
        if args.mode == "plumbing":
            return plumbing(args.firmware, args.timeout * 60, stop_at)
        if args.mode == "classroom":
            return classroom_again(args, stop_at)
        return install(args, stop_at)
    except (RuntimeError, lab.LabError, subprocess.SubprocessError) as exc:
        print(f"netinstall bench: {exc}", file=sys.stderr)
        return 1
    except StoppedError as exc:
        print(f"netinstall bench: stopped ({exc})", file=sys.stderr)
        return 2
    finally:
        # Cleaning up must not be cut short by a second signal.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
