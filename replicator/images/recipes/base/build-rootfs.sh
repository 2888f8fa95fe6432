#!/bin/bash
# Build the root filesystem of replicator/base as a tarball, from Debian packages only.
#
#   build-rootfs.sh SUITE PACKAGES OUT_TAR SCRATCH_DIR
#
# SUITE     Debian suite for debootstrap (bookworm)
# PACKAGES  comma-separated list for --include
# OUT_TAR   where the tarball goes (written as OUT_TAR.partial, then renamed)
# SCRATCH_DIR  parent of the temporary rootfs (tmpfs is fastest: dpkg is the slow part)
#
# debootstrap uses its default mirror. The contents of this script are part of
# the base image's recipe hash: any change here rebuilds the base and every layer.
set -euo pipefail

suite=$1 packages=$2 out=$3 scratch=$4
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive

rootfs=$(mktemp -d "$scratch/replicator-rootfs.XXXXXX")

mounts_below() {
    awk -v r="$rootfs" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

unmount_all() {
    local m
    for m in $(mounts_below); do
        umount -l "$m" || true
    done
}

cleanup() {
    unmount_all
    if [ -n "$(mounts_below)" ]; then
        echo "build-rootfs: NOT removing $rootfs: something is still mounted below it" >&2
    else
        rm -rf --one-file-system "$rootfs"
    fi
    rm -f "$out.partial"
}
trap cleanup EXIT

echo "build-rootfs: debootstrap --variant=minbase --include=$packages $suite $rootfs"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs"
unmount_all
echo "build-rootfs: debootstrap finished after ${SECONDS}s"

echo "build-rootfs: container settings"
# No service may start while packages are installed (image builds have no init;
# supervisord starts services once configuration management asks for them).
cat > "$rootfs/usr/sbin/policy-rc.d" <<'POLICY'
#!/bin/sh
# replicator: services never start at package installation in this image.
exit 101
POLICY
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

# Later `apt-get install`s in layers skip docs, man pages and translations.
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/90replicator-nodoc" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG

cat > "$rootfs/etc/apt/apt.conf.d/90replicator" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
APT

# Docker provides these at run time; do not leak the build host's.
: > "$rootfs/etc/resolv.conf"
: > "$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$rootfs/etc/hosts"
if [ -e "$rootfs/etc/machine-id" ]; then : > "$rootfs/etc/machine-id"; fi

echo "build-rootfs: stripping apt caches, docs, man pages, locales"
rm -rf "$rootfs"/var/lib/apt/lists/* \
       "$rootfs"/var/cache/apt/*.bin \
       "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/var/cache/debconf/*-old \
       "$rootfs"/var/lib/dpkg/*-old \
       "$rootfs"/var/log/apt/* \
       "$rootfs"/var/log/dpkg.log \
       "$rootfs"/var/log/bootstrap.log \
       "$rootfs"/usr/share/man/* \
       "$rootfs"/usr/share/info/* \
       "$rootfs"/usr/share/groff \
       "$rootfs"/usr/share/lintian \
       "$rootfs"/usr/share/linda
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

echo "build-rootfs: writing $out"
# /dev, /proc and /sys are provided by the container runtime.
tar -C "$rootfs" --numeric-owner \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -cf "$out.partial" .
mv -f "$out.partial" "$out"
echo "build-rootfs: done after ${SECONDS}s ($(du -h "$out" | cut -f1))"
