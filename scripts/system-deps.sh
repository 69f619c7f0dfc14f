#!/usr/bin/env bash
# Installs the Debian packages the browsers and tests need, only when something is missing.
set -euo pipefail
need=()
[ -x /usr/lib/chromium/chromium-headless-shell ] || need+=(chromium-headless-shell)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v tini >/dev/null 2>&1 || need+=(tini)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v jq >/dev/null 2>&1 || need+=(jq)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${need[*]}. Install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
