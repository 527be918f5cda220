#!/usr/bin/env bash
# virtual-mic.sh — headless virtual microphone for testing real audio capture on Linux (Debian/Ubuntu, CI).
# NoteSeal's copy of shared/tools/audio/virtual-mic.sh, used by test/unit/recording/audio.test.ts (which
# fails, never skips, when this cannot start). Differences: `status` exits 1 when the daemon is down,
# `stop` removes the env file, and `render TEXT OUT.raw` writes the 16 kHz mono s16le reference of `say`.
#   virtual-mic.sh start        install (if needed) + start private PulseAudio with a virtual mic; prints capture cmd
#   virtual-mic.sh say "text"   speak text (espeak-ng) into the virtual mic (blocks until played)
#   virtual-mic.sh play FILE    play an audio file into the virtual mic
#   virtual-mic.sh render TEXT OUT.raw   the speech of `say TEXT` as 16 kHz mono s16le raw (a reference)
#   virtual-mic.sh env          print `export PULSE_SERVER=...` (eval it in a test shell)
#   virtual-mic.sh status | stop
# Idempotent: `start` twice reuses the running daemon. `stop` kills only the PIDs recorded by `start`.
# Nothing touches the user's own PulseAudio/PipeWire: private socket under $VMIC_DIR.
set -euo pipefail

VMIC_DIR=${VMIC_DIR:-${TMPDIR:-/tmp}/virtual-mic}
VMIC_SINK_RATE=${VMIC_SINK_RATE:-48000}   # rate of the virtual device; clients may record at any rate
VMIC_CAPTURE_RATE=${VMIC_CAPTURE_RATE:-16000}
RUN="$VMIC_DIR/run"; SOCK="$RUN/pulse/native"
export PULSE_SERVER="unix:$SOCK"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

log() { echo "[virtual-mic] $*" >&2; }

# pid_alive PIDFILE COMM -> true if the recorded PID is alive and is still the program we started
pid_alive() {
  local f=$1 comm=$2 pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$comm" ]
}

install_deps() {
  local need=()
  command -v pulseaudio >/dev/null || need+=(pulseaudio)
  command -v parec >/dev/null && command -v pactl >/dev/null || need+=(pulseaudio-utils)
  command -v espeak-ng >/dev/null || need+=(espeak-ng)
  command -v sox >/dev/null || need+=(sox)
  # optional extra capture tools to exercise: VMIC_EXTRA="ffmpeg alsa-utils"
  for p in ${VMIC_EXTRA:-}; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing: ${need[*]}"
  local t0=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when an install without it fails (saves ~1-3 s on warm machines)
  $SUDO apt-get install -y -q --no-install-recommends ${VMIC_APT_OPTS:-} "${need[@]}" >"$VMIC_DIR/apt.log" 2>&1 || {
    $SUDO apt-get update -q >>"$VMIC_DIR/apt.log" 2>&1
    $SUDO apt-get install -y -q --no-install-recommends ${VMIC_APT_OPTS:-} "${need[@]}" >>"$VMIC_DIR/apt.log" 2>&1 \
      || { tail -20 "$VMIC_DIR/apt.log" >&2; exit 1; }
  }
  log "installed in $((SECONDS - t0)) s"
}

start_daemon() {
  if pid_alive "$VMIC_DIR/pulseaudio.pid" pulseaudio && pactl info >/dev/null 2>&1; then
    log "pulseaudio already running (pid $(cat "$VMIC_DIR/pulseaudio.pid"))"
  else
    mkdir -p "$RUN/pulse" "$VMIC_DIR/home"
    cat >"$VMIC_DIR/default.pa" <<EOF
load-module module-native-protocol-unix auth-anonymous=1 socket=$SOCK
load-module module-null-sink sink_name=virtmic_sink rate=$VMIC_SINK_RATE channels=1 sink_properties=device.description=VirtualMicSink
load-module module-remap-source master=virtmic_sink.monitor source_name=virtmic source_properties=device.description=VirtualMic
set-default-sink virtmic_sink
set-default-source virtmic
EOF
    # -n: no default.pa (no udev/alsa/dbus/suspend-on-idle modules); private HOME/XDG dirs; works as root or user
    HOME="$VMIC_DIR/home" XDG_RUNTIME_DIR="$RUN" XDG_CONFIG_HOME="$VMIC_DIR/home" \
      setsid pulseaudio -n -F "$VMIC_DIR/default.pa" --daemonize=no --exit-idle-time=-1 \
        --use-pid-file=no --realtime=no --high-priority=no \
        --log-target="file:$VMIC_DIR/pulseaudio.log" </dev/null >/dev/null 2>&1 &
    echo $! >"$VMIC_DIR/pulseaudio.pid"
    local i
    for i in $(seq 1 100); do pactl info >/dev/null 2>&1 && break; sleep 0.05; done
    pactl info >/dev/null 2>&1 || { log "pulseaudio did not start:"; tail -20 "$VMIC_DIR/pulseaudio.log" >&2; exit 1; }
    log "pulseaudio started (pid $(cat "$VMIC_DIR/pulseaudio.pid"))"
  fi
  # Keep-alive reader: without a low-latency stream the null sink renders in 2 s blocks, so a new
  # recorder gets its first byte only after 0-2 s. A permanent 10 ms reader makes capture start in ~25 ms.
  if ! pid_alive "$VMIC_DIR/keepalive.pid" parec; then
    setsid parec --device=virtmic_sink.monitor --latency-msec=10 --format=s16le --channels=1 --raw \
      </dev/null >/dev/null 2>>"$VMIC_DIR/keepalive.log" &
    echo $! >"$VMIC_DIR/keepalive.pid"
  fi
  echo "export PULSE_SERVER=$PULSE_SERVER" >"$VMIC_DIR/env"
}

stop_pid() {  # stop_pid PIDFILE COMM
  local f=$1 comm=$2 pid i
  if pid_alive "$f" "$comm"; then
    pid=$(cat "$f"); kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do pid_alive "$f" "$comm" || break; sleep 0.1; done
    pid_alive "$f" "$comm" && kill -KILL "$pid" 2>/dev/null || true
    log "stopped $comm (pid $pid)"
  fi
  rm -f "$f"
}

cmd=${1:-start}
mkdir -p "$VMIC_DIR"
case "$cmd" in
  start)
    t0=$(date +%s%N)
    install_deps
    start_daemon
    log "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    echo "PULSE_SERVER=$PULSE_SERVER parec --device=virtmic --format=s16le --rate=$VMIC_CAPTURE_RATE --channels=1 --raw --latency-msec=20"
    ;;
  say)  shift; f="$VMIC_DIR/say.$$.wav"; espeak-ng -w "$f" "$*"; paplay --device=virtmic_sink "$f"; rm -f "$f" ;;
  play) paplay --device=virtmic_sink "$2" ;;
  render) espeak-ng -w "$VMIC_DIR/render.$$.wav" "$2"
          sox "$VMIC_DIR/render.$$.wav" -r "$VMIC_CAPTURE_RATE" -c 1 -b 16 -e signed -t raw "$3"; rm -f "$VMIC_DIR/render.$$.wav" ;;
  env)  echo "export PULSE_SERVER=$PULSE_SERVER" ;;
  status)
    pid_alive "$VMIC_DIR/pulseaudio.pid" pulseaudio && echo "pulseaudio: running pid $(cat "$VMIC_DIR/pulseaudio.pid")" || echo "pulseaudio: stopped"
    pid_alive "$VMIC_DIR/keepalive.pid" parec && echo "keepalive: running pid $(cat "$VMIC_DIR/keepalive.pid")" || echo "keepalive: stopped"
    pactl list short sources 2>/dev/null || true
    pid_alive "$VMIC_DIR/pulseaudio.pid" pulseaudio ;;
  stop)
    stop_pid "$VMIC_DIR/keepalive.pid" parec
    stop_pid "$VMIC_DIR/pulseaudio.pid" pulseaudio
    rm -f "$VMIC_DIR/env" ;;
  *) echo "usage: $0 start|say TEXT|play FILE|render TEXT OUT.raw|env|status|stop" >&2; exit 2 ;;
esac
