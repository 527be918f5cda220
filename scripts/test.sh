#!/usr/bin/env bash
# The whole test suite: installs what it needs (scripts/setup.sh), builds, then runs every layer
#   static       type check (tsc --noEmit) and lint (typescript-eslint)
#   unit         worker modules in plain Node (node:test)
#   windows      the worker, key, crypto, vault, agent and CLI unit tests as win32 under Wine (run-layers.mjs)
#   integration  inside a real VS Code extension host (@vscode/test-electron runTests)
#   ui           Playwright driving the real workbench (screenshots in test-results/ui/)
# and ends with one line "N passed, N failed" over all layers. Fails if any layer fails or runs no test.
# Run one layer with: scripts/test.sh unit   (or static, windows, integration, ui)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
layers=${*:-static unit windows integration ui}

case " $layers " in *" windows "*) export NOTESEAL_SETUP_WINDOWS=1 ;; esac  # fetched during setup, beside npm ci
host_dir=$(bash scripts/setup.sh | tail -1) || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
export NOTESEAL_HOST_DIR=${host_dir:-}
node scripts/build.mjs --tests || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p test-results
exec node scripts/run-layers.mjs $layers
