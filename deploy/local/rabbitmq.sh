#!/usr/bin/env bash
# RabbitMQ from Debian's rabbitmq-server, run as a private node bound to 127.0.0.1
# with its data under var/rabbitmq (not the system service).
# Usage: rabbitmq.sh [install|start|stop|status]
source "$(dirname "$0")/lib.sh"

PORT="${GUICHET_RABBITMQ_PORT:-5672}"
MGMT_PORT="${GUICHET_RABBITMQ_MGMT_PORT:-15672}"
BASE="$VAR/rabbitmq"

export RABBITMQ_NODENAME="guichet@localhost"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$PORT"
export RABBITMQ_DIST_PORT=$((PORT + 20000))
export RABBITMQ_MNESIA_BASE="$BASE/mnesia"
export RABBITMQ_LOG_BASE="$LOG/rabbitmq"
export RABBITMQ_PID_FILE="$RUN/rabbitmq.pid"
export RABBITMQ_CONFIG_FILE="$BASE/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$BASE/enabled_plugins"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export ERL_EPMD_ADDRESS=127.0.0.1
export HOME="$BASE"   # the Erlang cookie lives here, shared by server and rabbitmqctl

ctl() { /usr/lib/rabbitmq/bin/rabbitmqctl "$@"; }

install() {
  apt_install rabbitmq-server
  # The Debian package may have started the system node; it would hold port 5672.
  if command -v systemctl >/dev/null && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
    systemctl stop rabbitmq-server || true
  fi
}

configure() {
  mkdir -p "$BASE" "$RABBITMQ_LOG_BASE"
  cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = 127.0.0.1:$PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $MGMT_PORT
loopback_users.guest = true
# Large mails travel inside mail.received; keep room for a 30 MB message base64-encoded.
max_message_size = 134217728
disk_free_limit.absolute = 200MB
log.console = false
log.file.level = warning
CONF
  echo '[rabbitmq_management].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
}

status() { ctl -q status >/dev/null 2>&1 && port_open "$PORT"; }

start() {
  install
  configure
  if status; then say "already running on 127.0.0.1:$PORT"; return 0; fi
  say "starting RabbitMQ on 127.0.0.1:$PORT (management on 127.0.0.1:$MGMT_PORT)"
  setsid nohup /usr/lib/rabbitmq/bin/rabbitmq-server >>"$LOG/rabbitmq.log" 2>&1 </dev/null &
  wait_for "RabbitMQ" 120 status
  ctl -q await_startup >/dev/null
  say "RabbitMQ ready: amqp://guest:guest@127.0.0.1:$PORT/"
}

stop() {
  if status; then say "stopping RabbitMQ"; ctl -q stop >/dev/null 2>&1 || true; fi
  for _ in $(seq 60); do port_open "$PORT" || break; sleep 0.5; done
  rm -f "$RABBITMQ_PID_FILE"
}

case "${1:-start}" in
  install) install ;; start) start ;; stop) stop ;; status) status ;;
  *) die "usage: $0 [install|start|stop|status]" ;;
esac
