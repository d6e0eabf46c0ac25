#!/usr/bin/env bash
# Installs the Redoc bundle that GET /docs serves into vendor/redoc (git-ignored), from the
# pinned npm package, its tarball checked against the pinned sha512 before anything is
# unpacked; the package's LICENSE and the bundle's third-party notices are kept beside it.
# The build copies vendor/redoc to build/bin/docs. Runs at the dependency step (scripts/deps.sh),
# so `make run` serves /docs without the contract tests' npm tree and, once installed, offline.
#
#   scripts/docs-assets.sh           install when missing or not the pinned version
#   scripts/docs-assets.sh --check   verify what is installed (exit 1 when missing or altered)
#
# Order of sources: the npm cache or registry (`npm pack`, works offline from the cache), else
# the tarball in HERALD_REDOC_TARBALL. Every source goes through the same checksum.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REDOC_VERSION=2.5.4
# npm's "integrity" of redoc-2.5.4.tgz (the same line is in tests/contract/package-lock.json)
REDOC_INTEGRITY=sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==
DEST=${HERALD_REDOC_DIR:-$ROOT/vendor/redoc}
FILES=(redoc.standalone.js redoc.standalone.js.LICENSE.txt LICENSE)

say() { echo "docs-assets: $*"; }
die() { echo "docs-assets: error: $*" >&2; exit 1; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# True when DEST holds the pinned version with every file matching the recorded sums.
installed_ok() {
  local f want
  [[ -f $DEST/VERSION ]] || return 1
  [[ $(sed -n 1p "$DEST/VERSION") == "redoc@$REDOC_VERSION $REDOC_INTEGRITY" ]] || return 1
  for f in "${FILES[@]}"; do
    want=$(awk -v f="$f" '$2 == f { print $1 }' "$DEST/VERSION")
    [[ -n $want && -f $DEST/$f && $(sha256 "$DEST/$f") == "$want" ]] || return 1
  done
}

if [[ ${1:-} == --check ]]; then
  installed_ok || die "$DEST does not hold redoc@$REDOC_VERSION intact (run scripts/docs-assets.sh)"
  say "redoc@$REDOC_VERSION in $DEST verified"
  exit 0
fi
if installed_ok; then
  say "redoc@$REDOC_VERSION present ($DEST)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=${HERALD_REDOC_TARBALL:-}
if [[ -z $tarball ]]; then
  command -v npm >/dev/null || die "npm is missing (Debian package npm) and HERALD_REDOC_TARBALL is unset"
  say "fetching redoc@$REDOC_VERSION (npm cache or registry)"
  (cd "$work" && npm pack --silent --prefer-offline "redoc@$REDOC_VERSION" >pack.out 2>pack.err) ||
    die "npm pack redoc@$REDOC_VERSION failed: $(tail -n 3 "$work/pack.err")
  Without network, copy redoc-$REDOC_VERSION.tgz here and set HERALD_REDOC_TARBALL=/path/to/it."
  tarball=$work/$(tail -n 1 "$work/pack.out")
fi
[[ -f $tarball ]] || die "no tarball at $tarball"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
[[ $got == "$REDOC_INTEGRITY" ]] ||
  die "checksum mismatch for $tarball: got $got, pinned $REDOC_INTEGRITY; nothing installed"

mkdir -p "$work/x"
tar -xzf "$tarball" -C "$work/x" package/LICENSE package/bundles/redoc.standalone.js \
  package/bundles/redoc.standalone.js.LICENSE.txt
rm -rf "$DEST.new"
mkdir -p "$DEST.new"
cp "$work/x/package/bundles/redoc.standalone.js" "$work/x/package/bundles/redoc.standalone.js.LICENSE.txt" \
  "$work/x/package/LICENSE" "$DEST.new/"
{
  echo "redoc@$REDOC_VERSION $REDOC_INTEGRITY"
  for f in "${FILES[@]}"; do echo "$(sha256 "$DEST.new/$f") $f"; done
} >"$DEST.new/VERSION"
rm -rf "$DEST"
mv "$DEST.new" "$DEST"
say "redoc@$REDOC_VERSION installed in $DEST (MIT, LICENSE kept; checksum verified)"
