#!/usr/bin/env bash
# virtual-pipewire.sh — a private, headless PipeWire with a virtual microphone, for testing pw-record for
# real (test/unit/recording/audio.test.ts; scripts/virtual-mic.sh is the PulseAudio one). No systemd, no
# D-Bus: WirePlumber (the session manager, without which pw-record gets silence) is started by the daemon
# itself with D-Bus and Bluetooth turned off. Nothing touches the user's own PipeWire: every socket, config
# and state file lives under $VPW_DIR.
#   virtual-pipewire.sh start        install (if needed) and start; waits until the mic is the default source
#   virtual-pipewire.sh play FILE    play an audio file into the microphone (blocks until played)
#   virtual-pipewire.sh env          print `export PIPEWIRE_RUNTIME_DIR=...` (all a client needs)
#   virtual-pipewire.sh status | stop
# The microphone: a loopback whose sink `virtual_mic_in` feeds the source `virtual_mic`, so it is listed as
# a real source. pw-record exits 1 when stopped with SIGINT (it only returns 0 after a playback drain).
set -euo pipefail

VPW_DIR=${VPW_DIR:-${TMPDIR:-/tmp}/virtual-pipewire}
RUN="$VPW_DIR/run"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
# The daemon and every client see only our directories (and no session bus).
export XDG_RUNTIME_DIR="$RUN" PIPEWIRE_RUNTIME_DIR="$RUN" XDG_CONFIG_HOME="$VPW_DIR/config" XDG_STATE_HOME="$VPW_DIR/state"
unset DBUS_SESSION_BUS_ADDRESS PULSE_SERVER PIPEWIRE_REMOTE

log() { echo "[virtual-pipewire] $*" >&2; }

alive() {  # the daemon we started is still running
  [ -s "$VPW_DIR/pipewire.pid" ] && [ "$(cat "/proc/$(cat "$VPW_DIR/pipewire.pid")/comm" 2>/dev/null)" = pipewire ]
}

ready() {  # WirePlumber is up and has made the virtual microphone the default source
  wpctl inspect @DEFAULT_AUDIO_SOURCE@ 2>/dev/null | grep -q 'node.name = "virtual_mic"'
}

install_deps() {
  command -v pipewire >/dev/null && command -v pw-record >/dev/null && command -v wireplumber >/dev/null && return 0
  log "installing pipewire-bin wireplumber"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends pipewire-bin wireplumber >"$VPW_DIR/apt.log" 2>&1 || {
    $SUDO apt-get update -q >>"$VPW_DIR/apt.log" 2>&1
    $SUDO apt-get install -y -q --no-install-recommends pipewire-bin wireplumber >>"$VPW_DIR/apt.log" 2>&1 \
      || { tail -20 "$VPW_DIR/apt.log" >&2; exit 1; }
  }
}

write_config() {
  local conf="$XDG_CONFIG_HOME/pipewire/pipewire.conf.d" wp="$XDG_CONFIG_HOME/wireplumber"
  mkdir -p "$conf" "$wp/main.lua.d"
  cat >"$conf/10-virtual-mic.conf" <<'EOF'
context.properties = { support.dbus = false }
context.modules = [
  { name = libpipewire-module-loopback
    args = {
      node.description = "Virtual Microphone"
      audio.position   = [ MONO ]
      capture.props  = { node.name = "virtual_mic_in" media.class = "Audio/Sink"   priority.session = 2000 }
      playback.props = { node.name = "virtual_mic"    media.class = "Audio/Source" priority.session = 2000 }
    } } ]
EOF
  # WirePlumber runs as the daemon's child, so one process group holds both.
  echo "context.exec = [ { path = \"$(command -v wireplumber)\" args = \"\" } ]" >"$conf/20-wireplumber.conf"
  # WirePlumber's own config without D-Bus (it exits at once when it cannot reach a bus) and Bluetooth.
  sed -e 's/^\( *\)#* *support\.dbus *= *true/\1support.dbus = false/' -e '/bluetooth\.lua/d' \
    /usr/share/wireplumber/wireplumber.conf >"$wp/wireplumber.conf"
  cat >"$wp/main.lua.d/51-no-dbus.lua" <<'EOF'
alsa_monitor.properties["alsa.reserve"] = false
default_access.properties["enable-flatpak-portal"] = false
EOF
}

start() {
  mkdir -p "$VPW_DIR"
  install_deps
  if alive && ready; then log "already running (pid $(cat "$VPW_DIR/pipewire.pid"))"; return 0; fi
  stop_daemon
  rm -rf "$RUN" "$XDG_STATE_HOME"   # a fresh state: WirePlumber remembers default devices there
  mkdir -p -m 700 "$RUN"; mkdir -p "$XDG_STATE_HOME"
  write_config
  setsid pipewire </dev/null >"$VPW_DIR/pipewire.log" 2>&1 &
  echo $! >"$VPW_DIR/pipewire.pid"
  local i
  for i in $(seq 1 400); do ready && break; sleep 0.025; done   # ~50 ms here; 10 s at most
  ready || { log "the virtual microphone did not become the default source:"; tail -20 "$VPW_DIR/pipewire.log" >&2; exit 1; }
  echo "export PIPEWIRE_RUNTIME_DIR=$RUN" >"$VPW_DIR/env"
  log "started (pid $(cat "$VPW_DIR/pipewire.pid")); capture: PIPEWIRE_RUNTIME_DIR=$RUN pw-record --target virtual_mic ..."
}

stop_daemon() {  # SIGTERM to the process group (pipewire and its wireplumber), SIGKILL after 5 s
  alive || { rm -f "$VPW_DIR/pipewire.pid"; return 0; }
  local pid i; pid=$(cat "$VPW_DIR/pipewire.pid")
  kill -TERM -- "-$pid" 2>/dev/null || true
  for i in $(seq 1 50); do alive || break; sleep 0.1; done
  alive && kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$VPW_DIR/pipewire.pid" "$VPW_DIR/env"
  log "stopped (pid $pid)"
}

case "${1:-start}" in
  start) start ;;
  stop) stop_daemon ;;
  status) if alive && ready; then echo "pipewire: running"; else echo "pipewire: stopped"; exit 1; fi ;;
  env) echo "export PIPEWIRE_RUNTIME_DIR=$RUN" ;;
  play) pw-play --target virtual_mic_in "$2" ;;
  *) echo "usage: $0 start|stop|status|env|play FILE" >&2; exit 2 ;;
esac
