#!/usr/bin/env bash
# The whole local stack: `stack.sh up` installs what is missing, starts every part bound
# to 127.0.0.1, waits until all are healthy and seeds the dev data; `stack.sh down` stops.
source "$(dirname "$0")/lib.sh"
HERE="$(dirname "$0")"

up() {
  apt_install curl ca-certificates
  "$HERE/python.sh"
  "$HERE/rabbitmq.sh" start
  "$HERE/ferretdb.sh" start
  "$HERE/opensearch.sh" start
  "$HERE/services.sh" start
  "$HERE/services.sh" wait tickets
  say "seeding dev data from deploy/local/seed.yaml"
  (cd "$ROOT" && .venv/bin/guichet admin seed deploy/local/seed.yaml >/dev/null)
  "$HERE/services.sh" wait ingest notify search web
  cat <<MSG

  Guichet is up (everything on 127.0.0.1; logs in var/log/, data in var/).

    Web and REST API   http://127.0.0.1:8000/   (OpenAPI: /docs)
    Mail in (SMTP)     127.0.0.1:2525  — queue achats@tickets.example.org
                                          comments achats-comment@tickets.example.org
    Mail in (LMTP)     127.0.0.1:2424  — for a local MTA (README: Postfix transport)
    Mail out           caught in var/outbox/ (Maildir; smarthost 127.0.0.1:1025)
    RabbitMQ           amqp://127.0.0.1:5672/  (management http://127.0.0.1:15672/)
    FerretDB (MongoDB) mongodb://127.0.0.1:27017/
    OpenSearch         http://127.0.0.1:9200/

  !! DEV ONLY: admin@example.org / changeme — a public password. Never expose this setup.

  Send a first mail:
    swaks --server 127.0.0.1:2525 --to achats@tickets.example.org \\
          --from alice@example.net --header "Subject: Demande de devis écran"
  then:  curl -u admin@example.org:changeme http://127.0.0.1:8000/api/v1/tickets/1
         ls var/outbox/new/        (the autoreply)
  Stop everything with: make down

MSG
}

down() {
  "$HERE/services.sh" stop
  "$HERE/opensearch.sh" stop
  "$HERE/ferretdb.sh" stop
  "$HERE/rabbitmq.sh" stop
}

case "${1:-up}" in
  up) up ;; down) down ;;
  status) "$HERE/services.sh" status ;;
  *) die "usage: $0 [up|down|status]" ;;
esac
