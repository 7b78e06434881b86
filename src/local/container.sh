#!/usr/bin/env bash
# Starts one container process of an emulated Kubernetes pod (src/local/kubelet.ts). Run as root, in the pod's
# network namespace, inside a fresh mount and UTS namespace of its own (unshare --mount --uts --propagation
# private), so that nothing mounted here is seen outside. It builds the container's root file system as a kubelet
# and container runtime would, then execs the command as the pod's user: the PID stays the one the kubelet tracks.
#
# Usage: container.sh ROOT HOSTNAME UID GID WORKDIR ETC DNS READ_ONLY_ROOT MOUNT... -- COMMAND...
#   ROOT            an empty directory: the root file system is a fresh tmpfs mounted there
#   ETC             a directory whose files become the container's /etc (passwd, group, nsswitch.conf)
#   DNS             the directory holding the cluster's hosts file: /etc/hosts points into it, so that every pod
#                   sees a changed record at its next lookup
#   READ_ONLY_ROOT  true: the root file system is read-only once built (readOnlyRootFilesystem)
#   MOUNT           ro:SOURCE:TARGET or rw:SOURCE:TARGET, a volume at its mountPath
set -euo pipefail

root="$1" hostname="$2" uid="$3" gid="$4" workdir="$5" etc="$6" dns="$7" read_only_root="$8"
shift 8

# The image's root: Debian 12's merged /usr from this machine, read-only, stands in for the redis image's.
mount -t tmpfs -o mode=0755 container-root "$root"
mkdir -p "$root/usr" "$root/dev" "$root/proc" "$root/etc/cluster-dns" "$root/tmp" "$root/run"
for dir in bin lib lib64 sbin; do ln -s "usr/$dir" "$root/$dir"; done
mount --rbind /usr "$root/usr"
mount -o remount,bind,ro "$root/usr"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
cp -- "$etc"/* /etc/ld.so.cache "$root/etc/"
mount --bind "$dns" "$root/etc/cluster-dns"
mount -o remount,bind,ro "$root/etc/cluster-dns"
ln -s cluster-dns/hosts "$root/etc/hosts"

# The pod's volumes at their mount paths.
while [ "$1" != -- ]; do
  mode="${1%%:*}" rest="${1#*:}"
  source="${rest%%:*}" target="${rest#*:}"
  mkdir -p "$root$target"
  mount --bind "$source" "$root$target"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$target"; fi
  shift
done
shift

if [ "$read_only_root" = true ]; then mount -o remount,ro "$root"; fi
hostname "$hostname"
exec chroot --userspec="$uid:$gid" --groups="$gid" "$root" /usr/bin/env -i -C "$workdir" \
  HOSTNAME="$hostname" HOME=/ PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
