#!/usr/bin/env bash
# Builds a stand-in for the `debian:<suite>-slim` base image from Debian's own packages with debootstrap, for
# machines that reach Debian's mirror but no container registry. The result is a rootfs tarball (for
# `docker import`), built once per suite and script version and cached outside the repo:
#   ${COMPOSER_MCP_CACHE:-~/.cache/composer-mcp}/images/debian-<suite>-slim-<key>.tar
# It is made like the official slim image: `--variant=minbase`, docs/man/locales excluded by a dpkg config that
# later `apt-get install`s keep honouring, apt lists and caches removed, deb822 sources for <suite>,
# <suite>-updates and <suite>-security. Prints the tarball's path on stdout.
# Needs root (debootstrap chroots and mounts /proc in the target; both are undone on every exit path).
set -euo pipefail
suite=${1:-trixie}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
cache=${COMPOSER_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/composer-mcp}/images
key=$( (cat "$0"; echo "$suite $mirror $security_mirror") | sha256sum | cut -c1-12)
out=$cache/debian-$suite-slim-$key.tar
if [ -s "$out" ]; then echo "$out"; exit 0; fi

[ "$(id -u)" -eq 0 ] || { echo "ERROR: building the Debian base with debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null 2>&1 || { echo "ERROR: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/.debian-$suite.XXXXXX")
rootfs=$work/rootfs
cleanup() {
  # debootstrap mounts proc/sys (and may leave them when it fails); unmount anything below the rootfs, deepest first.
  if [ -d "$rootfs" ]; then
    awk -v root="$rootfs" '$2 == root || index($2, root "/") == 1 {print $2}' /proc/mounts | sort -r |
      while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start=$SECONDS
echo "Building the debian:$suite-slim stand-in with debootstrap (first time on this machine; cached at $out)" >&2
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
# The official slim image's exclusions, in place before the first package is unpacked.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
log=$work/debootstrap.log
if ! debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
      "$suite" "$rootfs" "$mirror" >"$log" 2>&1; then
  echo "ERROR: debootstrap $suite failed. Last lines:" >&2; tail -n 30 "$log" >&2; exit 1
fi

rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# As in the official image: apt cleans its caches after each install and skips translations.
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
# Updates from the security suite, so the stand-in is as current as the official image.
if ! chroot "$rootfs" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq' >>"$log" 2>&1; then
  echo "ERROR: apt-get upgrade inside the new $suite rootfs failed. Last lines:" >&2; tail -n 30 "$log" >&2; exit 1
fi
cleanup_mounts() {
  awk -v root="$rootfs" 'index($2, root "/") == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
}
cleanup_mounts
# What the official slim image does not carry: docs/man/locales (already excluded), apt lists, logs, caches.
rm -rf "$rootfs"/usr/share/doc/*/[!c]* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/* \
  "$rootfs"/tmp/* "$rootfs"/var/tmp/* "$rootfs"/root/.bash_history
: >"$rootfs/etc/machine-id"
find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -depth -type d -empty -delete 2>/dev/null || true
# A stable tarball: sorted names, numeric owners, fixed mtimes.
tar --numeric-owner --sort=name --mtime='2000-01-01 00:00:00Z' -C "$rootfs" -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$out"
echo "Built the debian:$suite-slim stand-in in $((SECONDS - start))s ($(du -m "$out" | cut -f1) MB)" >&2
echo "$out"
