#!/usr/bin/env bash
# Refreshes the browser libraries served from static/vendor/ (the chat's live markdown):
# the newest markdown-it and DOMPurify within the major versions below, their browser builds,
# source maps and licences, and static/vendor/VERSIONS. Needs node and npm, but only here:
# the site and its tests use the copied files.
#
#   scripts/vendor_js.sh          # then check the chat, run the live markdown browser tests
set -euo pipefail
MARKDOWN_IT=markdown-it@14   # 14 follows the same CommonMark as markdown-it-py on the server
DOMPURIFY=dompurify@3
root="$(cd "$(dirname "$0")/.." && pwd)"
vendor="$root/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "$MARKDOWN_IT" "$DOMPURIFY" >/dev/null
version() { node -p "require('./node_modules/$1/package.json').version" 2>/dev/null \
  || sed -n 's/^  "version": "\(.*\)",$/\1/p' "node_modules/$1/package.json"; }

mkdir -p "$vendor"
cp node_modules/markdown-it/dist/markdown-it.min.js{,.map} "$vendor/"
cp node_modules/markdown-it/LICENSE "$vendor/markdown-it.LICENSE"
cp node_modules/dompurify/dist/purify.min.js{,.map} "$vendor/"
cp node_modules/dompurify/LICENSE "$vendor/dompurify.LICENSE"
cp node_modules/dompurify/LICENSE-MPL "$vendor/dompurify.LICENSE-MPL"
{
  echo "# Browser libraries in this folder, as copied by scripts/vendor_js.sh from npm."
  echo "markdown-it $(version markdown-it) MIT"
  echo "dompurify $(version dompurify) Apache-2.0 OR MPL-2.0"
  echo "# sha256 of the files the pages load"
  (cd "$vendor" && sha256sum markdown-it.min.js purify.min.js)
} >"$vendor/VERSIONS"
cat "$vendor/VERSIONS"
