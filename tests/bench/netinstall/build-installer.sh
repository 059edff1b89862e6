#!/bin/bash
# Builds the netinstall bench's installer in a throwaway lab-image container (netinstall_bench.py
# runs it with the output folder on /out, holding the installer's /init, and PACKAGES / MODULES in
# the environment): the container's own Debian 12 userland plus the installer's tools becomes the
# initramfs, with the few modules it needs from Debian's current kernel, whose vmlinuz it boots.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # a list of package names
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
kernel=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n1)
version=${kernel#linux-image-}
cd /tmp
apt-get download -q "$kernel" >/dev/null
dpkg-deb -x /tmp/"$kernel"_*.deb /tmp/k
mkdir -p "/lib/modules/$version"
cp /tmp/k/lib/modules/"$version"/modules.builtin* /tmp/k/lib/modules/"$version"/modules.order "/lib/modules/$version/"
cd "/tmp/k/lib/modules/$version"
for path in $MODULES; do
  if [ -e "$path" ]; then cp --parents -r "$path" "/lib/modules/$version/"; fi
done
depmod "$version"
cp "/tmp/k/boot/vmlinuz-$version" /out/vmlinuz
# What the installer does not need: documentation, translations, Python, apt's lists.
rm -rf /tmp/k /tmp/*.deb /usr/share/doc /usr/share/man /usr/share/info /usr/share/locale \
  /var/lib/apt/lists/* /var/cache/apt/* /usr/lib/python3 /usr/lib/python3.11
install -m 0755 /out/init /init
cd /
find . -xdev \( -path ./out -o -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \) -prune -o -print \
  | cpio -o -H newc --quiet | gzip -1 >/out/initrd.gz
# The mount points themselves (pruned above with their container contents).
mkdir -p /tmp/empty/dev /tmp/empty/proc /tmp/empty/sys /tmp/empty/tmp
cd /tmp/empty
find dev proc sys tmp | cpio -o -H newc --quiet | gzip -1 >>/out/initrd.gz
echo "$version"
