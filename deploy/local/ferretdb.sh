#!/usr/bin/env bash
# FerretDB v1.24.1 (MongoDB wire protocol) on 127.0.0.1, SQLite backend by default,
# PostgreSQL from Debian with GUICHET_FERRETDB_BACKEND=postgresql.
# Usage: ferretdb.sh [install|start|stop|status]
source "$(dirname "$0")/lib.sh"

VERSION=v1.24.1
PORT="${GUICHET_FERRETDB_PORT:-27017}"
BACKEND="${GUICHET_FERRETDB_BACKEND:-sqlite}"
# The build carries one fix (see install): the name changes with it so a cached
# unfixed build is not reused.
BUILD="$VERSION-idindex"
BIN="$CACHE/ferretdb-$BUILD/ferretdb"
PIDFILE="$RUN/ferretdb.pid"
DATA="$VAR/ferretdb"

install() {
  [ -x "$BIN" ] && return 0
  command -v go >/dev/null || apt_install golang-go
  say "building FerretDB $VERSION from the Go module proxy"
  local gopath; gopath="$(go env GOMODCACHE)"
  # `go install …@v1.24.1` gives a binary that panics: the module ships without the
  # generated build/version/version.txt. Build from the module source with that file added.
  (cd "$CACHE" && go mod download "github.com/FerretDB/FerretDB@$VERSION")
  local src="$gopath/github.com/!ferret!d!b/!ferret!d!b@$VERSION"
  [ -d "$src" ] || die "FerretDB source not found at $src"
  local work="$CACHE/ferretdb-$BUILD/src"
  rm -rf "$work"; mkdir -p "$work"
  cp -r "$src/." "$work/"; chmod -R u+w "$work"
  printf '%s\n' "$VERSION" > "$work/build/version/version.txt"
  # The SQLite backend indexes `_id` as `_ferretdb_sjson->"_id"` but looks documents up by
  # `_ferretdb_sjson->'$._id'`: SQLite matches index expressions as written, so every
  # find, update and delete by _id scanned the whole table (EXPLAIN QUERY PLAN: SCAN).
  # One expression for both makes them index searches, as MongoDB's are.
  local meta="$work/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$meta"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$meta" || die "FerretDB _id fix did not apply"
  printf 'guichet-local\n' > "$work/build/version/package.txt"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/ferretdb)
  rm -rf "$work"
  "$BIN" --version >/dev/null || die "built FerretDB does not run"
}

start() {
  install
  if pid_alive "$PIDFILE"; then say "already running on 127.0.0.1:$PORT"; return 0; fi
  mkdir -p "$DATA/sqlite" "$DATA/state" "$LOG"
  local backend_args=(--handler=sqlite "--sqlite-url=file:$DATA/sqlite/")
  if [ "$BACKEND" = postgresql ]; then
    "$(dirname "$0")/postgresql.sh" start
    backend_args=(--handler=postgresql "--postgresql-url=${GUICHET_FERRETDB_POSTGRESQL_URL:-postgres://guichet:guichet@127.0.0.1:5432/ferretdb}")
  fi
  say "starting FerretDB $VERSION ($BACKEND) on 127.0.0.1:$PORT"
  setsid nohup "$BIN" --listen-addr="127.0.0.1:$PORT" "${backend_args[@]}" \
    --state-dir="$DATA/state" --telemetry=disable --log-level=warn \
    --debug-addr=- >>"$LOG/ferretdb.log" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
  wait_for "FerretDB" 60 port_open "$PORT"
  say "FerretDB ready: mongodb://127.0.0.1:$PORT/"
}

status() { pid_alive "$PIDFILE" && port_open "$PORT"; }
stop() { stop_pidfile "$PIDFILE" FerretDB; }

case "${1:-start}" in
  install) install ;; start) start ;; stop) stop ;; status) status ;;
  *) die "usage: $0 [install|start|stop|status]" ;;
esac
