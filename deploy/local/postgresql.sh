#!/usr/bin/env bash
# Optional PostgreSQL backend for FerretDB (GUICHET_FERRETDB_BACKEND=postgresql): Debian's
# postgresql package, its default cluster on 127.0.0.1:5432, a `guichet` role and database.
# Usage: postgresql.sh [start|stop|status]
source "$(dirname "$0")/lib.sh"

cluster() { pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1" "$2}'; }

start() {
  apt_install postgresql
  local c; c="$(cluster)"
  [ -n "$c" ] || die "no PostgreSQL cluster found (pg_lsclusters)"
  # shellcheck disable=SC2086
  pg_ctlcluster $c start 2>/dev/null || true
  wait_for "PostgreSQL" 60 port_open 5432
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='guichet'" | grep -q 1 \
    || runuser -u postgres -- psql -qc "CREATE ROLE guichet LOGIN PASSWORD 'guichet'"
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='ferretdb'" | grep -q 1 \
    || runuser -u postgres -- createdb -O guichet ferretdb
  say "PostgreSQL ready: postgres://guichet:guichet@127.0.0.1:5432/ferretdb (dev credentials)"
}

stop() {
  local c; c="$(cluster)"
  # shellcheck disable=SC2086
  [ -z "$c" ] || pg_ctlcluster $c stop 2>/dev/null || true
}

status() { port_open 5432; }

case "${1:-start}" in
  start) start ;; stop) stop ;; status) status ;;
  *) die "usage: $0 [start|stop|status]" ;;
esac
