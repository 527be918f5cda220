#!/usr/bin/env bash
# Installs what `npm run bench` compares against: Python's `cryptography` (AESGCM) and age.
# Idempotent; needs root (or sudo) for apt-get. The bench runs without them and says what is missing.
set -euo pipefail
need=()
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || need+=(python3-cryptography)
command -v age >/dev/null 2>&1 || need+=(age)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[setup-bench] installing: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
