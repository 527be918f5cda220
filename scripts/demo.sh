#!/usr/bin/env bash
# Runs NoteSeal on the demo workspace: installs what it needs, builds, and opens VS Code (or the
# offline VS Code host, printing its address, where there is no `code` on the PATH).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if command -v code >/dev/null; then NOTESEAL_SKIP_HOST=1 bash scripts/setup.sh >/dev/null; host_dir=""
else host_dir=$(bash scripts/setup.sh | tail -1); fi
export NOTESEAL_HOST_DIR=${host_dir:-}
node scripts/build.mjs
exec node scripts/demo.mjs
