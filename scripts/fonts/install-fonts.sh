#!/bin/sh
# Installs the pinned fonts of fonts.list into <dir> (the font files) and writes <dir>/fonts.conf (a fontconfig
# that sees only them): in the browser image (Dockerfile) and for make run's local browsers (make fonts), so both
# render with the same files and settings. Each .deb comes from the Debian archive ($DEBIAN_MIRROR, then
# snapshot.debian.org) and is checked against its pinned sha256; with FONTS_CACHE set, downloads are kept there.
# Needs curl (or an already filled FONTS_CACHE), dpkg-deb and sha256sum.
#   install-fonts.sh <dir>
set -eu
dest=${1:?usage: install-fonts.sh <dir>}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${FONTS_CACHE:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
grep -v '^#' "$here/fonts.list" | while read -r pkg version pool sum; do
  [ -n "$pkg" ] || continue
  deb=$work/$pkg.deb
  cached=${cache:+$cache/$(basename "$pool")}
  if [ -n "$cached" ] && [ -f "$cached" ] && echo "$sum  $cached" | sha256sum -c --quiet - 2>/dev/null; then
    cp "$cached" "$deb"
  else
    curl -fsSL --retry 3 -o "$deb" "$mirror/$pool" ||
      curl -fsSL --retry 3 -o "$deb" "https://snapshot.debian.org/archive/debian/20250901T000000Z/$pool" ||
      { echo "install-fonts.sh: cannot download $pkg $version ($pool)" >&2; exit 1; }
    if ! echo "$sum  $deb" | sha256sum -c --quiet -; then
      echo "install-fonts.sh: $pkg $version does not match its pinned sha256 (scripts/fonts/fonts.list)" >&2; exit 1
    fi
    if [ -n "$cached" ]; then mkdir -p "$cache" && cp "$deb" "$cached"; fi
  fi
  mkdir -p "$work/$pkg" && dpkg-deb -x "$deb" "$work/$pkg"
  mkdir -p "$dest/$pkg"
  find "$work/$pkg/usr/share/fonts" -type f \( -name '*.ttf' -o -name '*.ttc' -o -name '*.otf' \) -exec cp {} "$dest/$pkg/" \;
  [ -f "$work/$pkg/usr/share/doc/$pkg/copyright" ] && cp "$work/$pkg/usr/share/doc/$pkg/copyright" "$dest/$pkg/COPYRIGHT"
done
sed "s#@FONT_DIR@#$dest#" "$here/fonts.conf.in" >"$dest/fonts.conf"
chmod -R a+rX "$dest"
