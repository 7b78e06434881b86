#!/usr/bin/env bash
# Builds the test VM image from Debian 12's packages: a root file system (raw ext4, made with mkfs.ext4 -d from an
# mmdebstrap tree) and the kernel and initrd that QEMU boots directly (-kernel/-initrd, no bootloader).
#
# Usage: build-image.sh OUTDIR CA_CERT REGION
#   OUTDIR    written: root.raw, vmlinuz, initrd.img (built in OUTDIR.tmp, then renamed)
#   CA_CERT   the test's CA certificate, added to the image's trust store (the test's SSM endpoint is signed by it)
#   REGION    the AWS region whose SSM endpoint name /etc/hosts points at the test's endpoint
#
# What the image adds to a stock Debian 12 system, each a stand-in for something EC2 provides (see test/vm/README):
# - /etc/hosts: ssm.REGION.amazonaws.com and s3.REGION.amazonaws.com -> 169.254.170.2 (QEMU's guestfwd to the test's
#   SSM and S3 stand-in)
# - the test CA in /usr/local/share/ca-certificates
# - a udev rule naming the data volume /dev/sdf (on EC2, amazon-ec2-utils reads the EBS NVMe vendor data)
# - an apt proxy, 169.254.170.1:3142 (QEMU's guestfwd to the test's apt-cacher-ng)
# - cloud-init's datasource list: NoCloud (the test's cidata disk) instead of Ec2
# - a generated en_US.UTF-8 locale, systemd-networkd enabled, qemu-guest-agent
set -euo pipefail
out="$1"
ca="$2"
region="$3"
tmp="$out.tmp"
rm -rf -- "$tmp"
mkdir -p -- "$tmp"
tree="$tmp/tree"

packages=(
  linux-image-cloud-amd64 initramfs-tools systemd-sysv udev dbus kmod e2fsprogs iproute2 netbase
  cloud-init locales ca-certificates qemu-guest-agent procps
)
# The hooks run in mmdebstrap's shell, which sets $1 to the tree.
# shellcheck disable=SC2016
mmdebstrap --variant=apt --components=main --include="$(IFS=,; echo "${packages[*]}")" \
  --customize-hook='echo "en_US.UTF-8 UTF-8" > "$1/etc/locale.gen"' \
  --customize-hook='chroot "$1" locale-gen' \
  --customize-hook='chroot "$1" update-locale LANG=en_US.UTF-8' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd.service' \
  --customize-hook='echo redis-ha-vm > "$1/etc/hostname"' \
  bookworm "$tree" \
  "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian bookworm-updates main" \
  "deb http://deb.debian.org/debian-security bookworm-security main"

printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n169.254.170.2 ssm.%s.amazonaws.com s3.%s.amazonaws.com\n' "$region" "$region" > "$tree/etc/hosts"
install -m 0644 -- "$ca" "$tree/usr/local/share/ca-certificates/redis-ha-vm-test-ca.crt"
chroot "$tree" update-ca-certificates
cat > "$tree/etc/udev/rules.d/70-redis-ha-vm-test-sdf.rules" <<'RULE'
# Test stand-in: EC2 names an EBS volume attached as /dev/sdf from its NVMe vendor data (amazon-ec2-utils); QEMU's
# emulated NVMe disk has none, so the test's data disk (serial redis-ha-data) gets the name here.
KERNEL=="nvme[0-9]*n[0-9]*", ENV{DEVTYPE}=="disk", ATTRS{serial}=="redis-ha-data*", SYMLINK+="sdf"
RULE
echo 'Acquire::http::Proxy "http://169.254.170.1:3142";' > "$tree/etc/apt/apt.conf.d/90redis-ha-vm-test-proxy"
cat > "$tree/etc/cloud/cloud.cfg.d/90-redis-ha-vm-test.cfg" <<'CFG'
# Test stand-in: the user data and network config come from the test's cidata disk, not from EC2's metadata service.
datasource_list: [NoCloud, None]
CFG
# No root password, no login: the test reaches the guest through qemu-guest-agent only.
rm -f -- "$tree/etc/machine-id" && touch "$tree/etc/machine-id"
rm -rf -- "$tree/var/lib/apt/lists/"* "$tree/var/cache/apt/"*.bin

cp -L -- "$tree/vmlinuz" "$tmp/vmlinuz"
cp -L -- "$tree/initrd.img" "$tmp/initrd.img"
mkfs.ext4 -q -L redis-ha-root -d "$tree" "$tmp/root.raw" 6G
rm -rf -- "$tree"
rm -rf -- "$out"
mv -- "$tmp" "$out"
