#!/usr/bin/env bash
# Installs the Debian packages the cluster tier and `make images` need on a machine without a Docker engine, only
# when something is missing: runc (crun does not work on hybrid cgroups), the CNI plugins (bridge, host-local,
# loopback in /usr/lib/cni), nftables (kube-proxy's nftables mode runs nft), debootstrap (the base image where no
# registry answers), docker.io (a private dockerd builds the Dockerfiles), umoci and skopeo (the pause image), gcc.
set -euo pipefail
need=()
command -v runc >/dev/null 2>&1 || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v dockerd >/dev/null 2>&1 || command -v docker >/dev/null 2>&1 || need+=(docker.io)
command -v umoci >/dev/null 2>&1 || need+=(umoci)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${need[*]}. Install them with: sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
# dockerd and containerd are started by hand, with their own directories, only while they are needed: keep dpkg
# from starting them as services (a policy-rc.d that refuses, unless the machine has one already).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
