#!/bin/sh
# The netinstall bench's installer (/init of its initramfs, see netinstall_bench.py): a Debian 12
# install from the school server's apt cache, doing what the roles' preseed asks of d-i, whose own
# components (.udeb) the mirror reachable here does not serve. Parameters on the kernel command
# line: netbench.server, netbench.hostname, netbench.domain, netbench.disk.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /run /tmp /target /var/lib/dhcp
mount -t devpts devpts /dev/pts
mount -t tmpfs run /run
exec >/dev/console 2>&1
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^netbench\.$1=//p"; }
server=$(arg server)
name=$(arg hostname)
domain=$(arg domain)
disk=$(arg disk)
say() { echo "netbench-installer: $*"; }
# A failed install reboots after a while: the bench sees it in the serial log and the web log.
fail() {
  say "FAILED: $*"
  sleep 60
  echo b >/proc/sysrq-trigger
}
for module in virtio_pci virtio_net virtio_blk ext4; do modprobe "$module" || say "modprobe $module failed"; done
sleep 2
ip link set lo up
iface=$(ls /sys/class/net | grep -v '^lo$' | head -n1)
dhclient -v -1 "$iface" || fail "no DHCP lease"
say "address: $(ip -4 -o addr show dev "$iface" | awk '{print $4}')"
# Every package through the school's cache, as d-i's mirror/http/proxy does.
export http_proxy="http://$server:3142/" no_proxy="$server"
printf 'label: dos\n,,L,*\n' | sfdisk -q "$disk" || fail "partitioning $disk"
sleep 1
mkfs.ext4 -F -q "${disk}1" || fail "mkfs"
mount "${disk}1" /target || fail "mount"
say "debootstrap (packages through http://$server:3142)"
# The base system first, then the rest with apt in the target, as d-i does (base-installer, then
# pkgsel): apt orders the configuration and takes the debconf answers below.
if ! debootstrap --variant=minbase bookworm /target http://deb.debian.org/debian; then
  tail -20 /target/debootstrap/debootstrap.log
  fail "debootstrap"
fi
say "sources, name, disk and debconf answers"
for d in dev dev/pts proc sys run; do mount --bind "/$d" "/target/$d"; done
echo "Acquire::http::Proxy \"http://$server:3142/\";" >/target/etc/apt/apt.conf.d/00proxy
# The sources d-i writes (apt-setup: the mirror, updates and security).
{
  echo "deb http://deb.debian.org/debian bookworm main non-free-firmware"
  echo "deb http://deb.debian.org/debian bookworm-updates main non-free-firmware"
  echo "deb http://security.debian.org/debian-security bookworm-security main non-free-firmware"
} >/target/etc/apt/sources.list
echo "$name" >/target/etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 %s.%s %s\n' "$name" "$domain" "$name" >/target/etc/hosts
uuid=$(blkid -s UUID -o value "${disk}1")
echo "UUID=$uuid / ext4 errors=remount-ro 0 1" >/target/etc/fstab
cat >/target/tmp/selections <<EOF
grub-pc grub-pc/install_devices multiselect $disk
keyboard-configuration keyboard-configuration/xkb-keymap select fr
locales locales/locales_to_be_generated multiselect fr_FR.UTF-8 UTF-8
locales locales/default_environment_locale select fr_FR.UTF-8
tzdata tzdata/Areas select Europe
tzdata tzdata/Zones/Europe select Paris
EOF
# The target's initramfs with the VM's own drivers only: MODULES=most (d-i's default, seconds on a real
# PC) copies thousands of modules one shell call at a time, over 20 minutes under TCG. The modules
# list is initramfs-tools' conffile: apt keeps this one (--force-confold).
mkdir -p /target/etc/initramfs-tools/conf.d
echo MODULES=list >/target/etc/initramfs-tools/conf.d/netbench
printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' >/target/etc/initramfs-tools/modules
say "packages: @TARGET_PACKAGES@"
chroot /target sh -c "debconf-set-selections /tmp/selections && apt-get update -q && \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold $(echo @TARGET_PACKAGES@ | tr , ' ')" \
  || fail "installing the packages"
say "configuring the target"
# The installed system names a virtio NIC in PCI slot 3 ens3 (what d-i's netcfg writes for it).
printf 'auto lo\niface lo inet loopback\n\nallow-hotplug ens3\niface ens3 inet dhcp\n' \
  >/target/etc/network/interfaces
ln -sf /usr/share/zoneinfo/Europe/Paris /target/etc/localtime
echo Europe/Paris >/target/etc/timezone
printf 'XKBMODEL="pc105"\nXKBLAYOUT="fr"\nXKBVARIANT=""\nXKBOPTIONS=""\nBACKSPACE="guess"\n' \
  >/target/etc/default/keyboard
sed -i 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0,115200n8"/; s/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
  /target/etc/default/grub
chroot /target sh -c "useradd -m -s /bin/bash -c Schoolfleet fleetadmin && grub-install $disk && update-grub" \
  || fail "target configuration"
say "late command from the school server"
if curl -fsS -o /target/tmp/schoolfleet-late.sh "http://$server/install/late-command.sh"; then
  chroot /target sh /tmp/schoolfleet-late.sh
  tail -5 /target/var/log/schoolfleet-install.log
else
  say "no late command at http://$server/install/late-command.sh"
fi
for d in run sys proc dev/pts dev; do umount "/target/$d"; done
umount /target
sync
say "done: rebooting"
echo b >/proc/sysrq-trigger
