#!/usr/bin/env bash
# Install the offline validators that tests/platform needs and that do not come from PyPI:
#   gitlab-ci-local (npm), pinned with its whole dependency tree by scripts/ci-tools/package-lock.json,
#   into .tools/node (git-ignored). Called by `make ci-tools`, which `make test` depends on.
#
# Idempotent: does nothing when the installed tree matches the committed lock file. Needs Node.js >= 20 and npm, and
# the npm registry the first time. Without Node.js or npm: as root with apt-get (Debian, Ubuntu, CI images) it
# installs them; otherwise it says what is missing and exits 0, and the tests that need gitlab-ci-local are skipped
# with that reason, or fail under CI=true (tests/support/tools.py).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_dir="$root/scripts/ci-tools"
prefix="$root/.tools/node"
binary="$prefix/node_modules/.bin/gitlab-ci-local"
stamp="$prefix/.installed-lock.sha256"

missing() {
    echo "install-ci-tools: $*" >&2
    echo "install-ci-tools: the .gitlab-ci.yml checks will be skipped (under CI=true they fail)." >&2
    exit 0
}

node_is_recent() {
    command -v node > /dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]
}

wanted="$(sha256sum "$source_dir/package-lock.json" | cut -d' ' -f1)"
if [ -x "$binary" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && node_is_recent; then
    exit 0
fi

if ! node_is_recent || ! command -v npm > /dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
        echo "install-ci-tools: installing Node.js and npm with apt-get (for gitlab-ci-local)" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; } \
            > /dev/null || true
    fi
fi
command -v node > /dev/null 2>&1 || missing "Node.js is not installed; gitlab-ci-local needs Node.js >= 20 and npm (Debian: apt-get install nodejs npm)."
command -v npm > /dev/null 2>&1 || missing "npm is not installed; gitlab-ci-local needs it (Debian: apt-get install npm)."
node_is_recent || missing "Node.js $(node --version) is too old: gitlab-ci-local's dependencies need Node.js >= 20."

mkdir -p "$prefix"
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$prefix/"
npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error || missing "npm ci failed (is the npm registry reachable?)."
"$binary" --version > /dev/null || missing "gitlab-ci-local was installed but does not run."
echo "$wanted" > "$stamp"
echo "install-ci-tools: gitlab-ci-local $("$binary" --version) in ${prefix#"$root"/}"
