#!/bin/sh
# Fetches lwIP's upstream source from Debian's `lwip` source package into the ignored cache and
# unpacks it: apt with private lists and cache (the system's apt configuration is untouched).
# Nothing to do, and no network, once the verified tree exists; a tarball already downloaded is
# reused. Usage: fetch-lwip.sh CACHE_DIR (the tree lands in CACHE_DIR/lwip-2.1.3).
set -eu

VERSION_PREFIX=2.1.3+dfsg1-
ORIG=lwip_2.1.3+dfsg1.orig.tar.xz
# The upstream 2.1.3 release as Debian repacked it (Checksums-Sha256 of lwip_2.1.3+dfsg1-2.dsc).
ORIG_SHA256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24
SUITE=${LWIP_DEB_SRC:-"http://deb.debian.org/debian bookworm main"}

cache=$1
tree=$cache/lwip-2.1.3
stamp=$tree/.civic-verified
[ -f "$stamp" ] && exit 0

die() { echo "fetch-lwip: $*" >&2; exit 1; }
mkdir -p "$cache/src" "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"
cache=$(cd "$cache" && pwd)
src=$cache/src
# Several builds share the cache: one fetches, the others wait and find the tree.
exec 9>"$cache/.lock"
flock 9
[ -f "$stamp" ] && exit 0

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$ORIG_SHA256" ]; }

if ! sha_ok "$src/$ORIG"; then
    echo "fetch-lwip: downloading Debian's lwip source package (bookworm) into $src"
    echo "deb-src $SUITE" > "$cache/apt/sources.list"
    set -- -q -o "Dir::Etc::SourceList=$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt/cache" \
        -o APT::Sandbox::User=root
    apt-get "$@" update >"$cache/apt/update.log" 2>&1 ||
        die "apt-get update failed (no network? see $cache/apt/update.log); or put $ORIG in $src"
    rm -f "$src"/lwip_*
    (cd "$src" && apt-get "$@" source --download-only lwip) >"$cache/apt/source.log" 2>&1 ||
        die "cannot download the lwip source package (no network? see $cache/apt/update.log and source.log); or put $ORIG in $src"
    dsc=$(ls "$src"/lwip_*.dsc 2>/dev/null | head -n 1)
    [ -n "$dsc" ] || die "no .dsc downloaded (see $cache/apt/source.log)"
    version=$(sed -n 's/^Version: //p' "$dsc")
    case $version in
    "$VERSION_PREFIX"*) ;;
    *) die "Debian's lwip is version '$version', civic is pinned to ${VERSION_PREFIX}*" ;;
    esac
    # The .dsc must name the same tarball with the same checksum as the one pinned here.
    grep -q "^ $ORIG_SHA256 [0-9]* $ORIG\$" "$dsc" ||
        die "$dsc does not list $ORIG with sha256 $ORIG_SHA256"
    sha_ok "$src/$ORIG" || die "$src/$ORIG: sha256 mismatch (expected $ORIG_SHA256)"
fi

# Unpack beside the final place and rename, so an interrupted run leaves no half tree behind.
tmp=$(mktemp -d "$cache/unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xJf "$src/$ORIG" || die "cannot unpack $src/$ORIG"
[ -f "$tmp/lwip-2.1.3/src/core/init.c" ] || die "$ORIG does not hold lwip-2.1.3/src"
touch "$tmp/lwip-2.1.3/.civic-verified"
rm -rf "$tree"
mv "$tmp/lwip-2.1.3" "$tree"
echo "fetch-lwip: lwIP 2.1.3 unpacked in $tree"
