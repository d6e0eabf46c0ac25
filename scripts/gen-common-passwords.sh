#!/usr/bin/env bash
# Regenerates common/data/common_passwords.txt: the 1,000 most common passwords, by
# frequency, from the password list of the zxcvbn package (MIT licence, Dropbox),
# version pinned below. The file is committed; the build does not need npm.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent zxcvbn@4.4.2 >/dev/null && tar xzf zxcvbn-4.4.2.tgz)
node -e '
const lists = require(process.argv[1]);
process.stdout.write((Array.isArray(lists.passwords) ? lists.passwords : lists.passwords.split(",")).slice(0, 1000).join("\n") + "\n");
' "$tmp/package/lib/frequency_lists.js" > "$ROOT/common/data/common_passwords.txt"
wc -l "$ROOT/common/data/common_passwords.txt"
