#!/usr/bin/env bash
# Guichet's own processes (five services and the mail catcher) under the supervisor.
# Usage: services.sh [start|stop|status|hold NAME|release NAME]
source "$(dirname "$0")/lib.sh"

PIDFILE="$RUN/supervisor.pid"
PY="$ROOT/.venv/bin/python"
declare -A HTTP_PORTS=([ingest]=8101 [tickets]=8102 [notify]=8103 [search]=8104 [web]=8000)

ready() { curl -fsS -m 2 "http://127.0.0.1:${HTTP_PORTS[$1]}/readyz" >/dev/null 2>&1; }

start() {
  if pid_alive "$PIDFILE"; then say "supervisor already running"; else
    mkdir -p "$RUN/hold"
    say "starting the supervisor (logs in $LOG)"
    cd "$ROOT"
    setsid nohup "$PY" deploy/local/supervise.py >>"$LOG/supervisor.log" 2>&1 </dev/null &
    wait_for "supervisor" 10 test -f "$PIDFILE"
  fi
}

wait_ready() {
  for name in "$@"; do wait_for "$name" "${GUICHET_READY_TIMEOUT:-90}" ready "$name"; done
}

status() {
  local rc=0
  for name in tickets ingest notify search web; do
    if ready "$name"; then echo "$name: ready"; else echo "$name: NOT ready"; rc=1; fi
  done
  port_open 1025 && echo "catcher: listening" || { echo "catcher: down"; rc=1; }
  return $rc
}

case "${1:-start}" in
  start) start ;;
  wait) shift; wait_ready "$@" ;;
  stop) stop_pidfile "$PIDFILE" supervisor ;;
  status) status ;;
  hold) mkdir -p "$RUN/hold"; touch "$RUN/hold/$2" ;;
  release) rm -f "$RUN/hold/$2" ;;
  *) die "usage: $0 [start|wait NAME...|stop|status|hold NAME|release NAME]" ;;
esac
