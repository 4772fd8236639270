#!/usr/bin/env bash
# Install the offline validators that tests/platform needs and that do not come from PyPI:
#   gitlab-ci-local (npm), pinned with its whole dependency tree by scripts/ci-tools/package-lock.json,
#   into .tools/node (git-ignored). Called by `make ci-tools`, which `make test` depends on.
#
# Idempotent: does nothing when the installed tree matches the committed lock file. Needs Node.js >= 20 and npm
# (Debian: apt-get install nodejs npm) and the npm registry the first time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_dir="$root/scripts/ci-tools"
prefix="$root/.tools/node"
binary="$prefix/node_modules/.bin/gitlab-ci-local"
stamp="$prefix/.installed-lock.sha256"

fail() {
    echo "install-ci-tools: $*" >&2
    exit 1
}

command -v node > /dev/null 2>&1 || fail "Node.js is not installed; tests/platform needs it for gitlab-ci-local (apt-get install nodejs npm)."
command -v npm > /dev/null 2>&1 || fail "npm is not installed; tests/platform needs it for gitlab-ci-local (apt-get install npm)."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "Node.js $(node --version) is too old: gitlab-ci-local's dependencies need Node.js >= 20."

wanted="$(sha256sum "$source_dir/package-lock.json" | cut -d' ' -f1)"
if [ -x "$binary" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi

mkdir -p "$prefix"
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$prefix/"
npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error
"$binary" --version > /dev/null || fail "gitlab-ci-local was installed but does not run."
echo "$wanted" > "$stamp"
echo "install-ci-tools: gitlab-ci-local $("$binary" --version) in ${prefix#"$root"/}"
