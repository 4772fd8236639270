#!/usr/bin/env bash
# Install what the frontend-facing tests drive, none of which comes from PyPI:
#   - Chromium from the Debian packages, for tests/service/api/test_docs.py (Playwright launches /usr/bin/chromium;
#     it never downloads a browser of its own). Installed with apt-get when we are root and it is missing.
#   - openapi-typescript, openapi-fetch and TypeScript (npm), pinned with their whole dependency tree by
#     scripts/frontend-tools/package-lock.json, into .tools/frontend (git-ignored), for
#     tests/service/api/test_generated_client.py, with generate-client.mjs beside them.
# Called by `make frontend-tools`, which `make test` depends on. Idempotent. What it cannot install it reports
# and leaves out: those tests then skip, naming the package, or fail under CI=true.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_dir="$root/scripts/frontend-tools"
prefix="$root/.tools/frontend"
stamp="$prefix/.installed-lock.sha256"

note() {
    echo "install-frontend-tools: $*" >&2
}

# In CI every tool must be there: a failed install fails the run. Elsewhere it is reported, and the tests
# that need the tool skip.
could_not() {
    note "$*"
    if [ "${CI:-}" = "true" ]; then
        exit 1
    fi
}

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
        note "installing Chromium (Debian package 'chromium')"
        { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium > /dev/null; } ||
            could_not "apt-get install chromium failed (the /docs browser test needs it)"
    else
        could_not "Chromium is missing and I am not root: apt-get install chromium (the /docs browser test needs it)"
    fi
fi

if ! command -v node > /dev/null 2>&1 || ! command -v npm > /dev/null 2>&1; then
    could_not "Node.js or npm is missing: apt-get install nodejs npm (the generated-client test needs them)"
    exit 0
fi

wanted="$(cat "$source_dir/package-lock.json" "$source_dir/generate-client.mjs" | sha256sum | cut -d' ' -f1)"
if [ -x "$prefix/node_modules/.bin/tsc" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi

mkdir -p "$prefix"
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$source_dir/generate-client.mjs" "$prefix/"
if ! npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error || ! "$prefix/node_modules/.bin/tsc" --version > /dev/null; then
    could_not "npm ci of scripts/frontend-tools failed (the generated-client test needs openapi-typescript)"
    exit 0
fi
echo "$wanted" > "$stamp"
note "openapi-typescript $("$prefix/node_modules/.bin/openapi-typescript" --version 2>/dev/null | tail -1), $("$prefix/node_modules/.bin/tsc" --version) in ${prefix#"$root"/}"
