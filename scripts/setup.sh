#!/usr/bin/env bash
# Everything NoteSeal's build and tests need on a fresh Debian machine, idempotent and quick when done:
# npm dependencies (npm ci when package-lock.json changed) and the offline VS Code host with chromium.
# Set NOTESEAL_SKIP_HOST=1 to skip the host (unit tests only).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { echo "[setup] $*" >&2; }

command -v node >/dev/null || { log "Node.js >= 20 with npm is required (https://nodejs.org or your package manager)"; exit 1; }
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { log "Node.js >= 20 is required, found $(node --version)"; exit 1; }

# Debian packages the tests use: chromium (the workbench window) and its emoji font, the headers
# code-server's native modules build against, and the audio stack of the virtual microphone
# (PulseAudio, parec/paplay, sox, espeak-ng) with the other capture tools the tests run for real
# (arecord and SoX's rec with ALSA's pulse plugin, ffmpeg; pw-record with a private PipeWire and its
# session manager, scripts/virtual-pipewire.sh), for the agent tests iproute2 (ss), passwd (useradd),
# util-linux (runuser) and bsdutils (script), and ripgrep (the search benchmark's anchor). One apt call;
# skipped when all are present.
apt_packages="chromium age git ripgrep fonts-noto-color-emoji iproute2 passwd util-linux bsdutils libkrb5-dev g++ make python3 pulseaudio pulseaudio-utils sox libsox-fmt-alsa espeak-ng alsa-utils libasound2-plugins ffmpeg pipewire-bin wireplumber"
apt_packages="$apt_packages wine wine64"  # the Windows lane: Windows Node runs the unit tests as win32 (issue 24, scripts/setup-windows.sh)
apt_packages="$apt_packages softhsm2 opensc swtpm swtpm-tools tpm2-tools"  # unlock slots (issue 28): pkcs11-tool and tpm2-tools, which they talk through; SoftHSM2 and swtpm, a real token and TPM for the tests
apt_packages="$apt_packages pocketsphinx pocketsphinx-en-us pocketsphinx-testdata"  # transcription engine, its US English model, real speech for the tests (issue 31)
apt_packages="$apt_packages gnupg"  # sops compatibility proof: gpg opens the data key of sops's own test files with its published test key (issue 27)
if [ "${NOTESEAL_SKIP_APT:-0}" != 1 ] && ! dpkg -s $apt_packages >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then log "need root (or sudo) to install: $apt_packages"; exit 1; fi
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  log "installing Debian packages: $apt_packages"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $apt_packages >&2 \
    || { $SUDO apt-get update -q >&2 && $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $apt_packages >&2; }
fi

# The downloads below are independent: the VS Code host (about 2.5 minutes on a fresh machine) and, with
# NOTESEAL_SETUP_WINDOWS=1 (scripts/test.sh sets it when the windows layer will run), the Windows lane's Node and
# Wine prefix are fetched in the background while npm installs the project's packages. The Windows lane runs
# scripts/setup-windows.sh again (quick when done) and reports its failure there.
work=$(mktemp -d); trap 'wait; rm -rf "$work"' EXIT  # on a failure too, nothing is left running
if [ "${NOTESEAL_SKIP_HOST:-0}" != 1 ]; then bash scripts/setup-host.sh >"$work/host" & host_pid=$!; fi
if [ "${NOTESEAL_SETUP_WINDOWS:-0}" = 1 ] && command -v wine >/dev/null; then
  bash scripts/setup-windows.sh >/dev/null & windows_pid=$!
fi

stamp=node_modules/.noteseal-lock-sha
want=$(sha256sum package-lock.json | cut -c1-64)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

if [ -n "${windows_pid:-}" ] && ! wait "$windows_pid"; then
  log "the Windows lane's tools did not install now (the lane tries again and reports it)"
fi
if [ -n "${host_pid:-}" ]; then
  wait "$host_pid" || { log "the VS Code host did not install (scripts/setup-host.sh)"; exit 1; }
  cat "$work/host"
fi
