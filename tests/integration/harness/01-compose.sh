#!/usr/bin/env bash
# docker-compose.yml is a valid compose file with the deployment's parts
# (checked with Debian's docker-compose; no Docker engine is needed).
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

if ! command -v docker-compose >/dev/null 2>&1; then
    t_skip "docker-compose.yml validates" "docker-compose is not installed"
    t_done
fi

dc() {
    docker-compose -f docker-compose.yml --env-file deploy/.env.example "$@"
}

t_ok "docker-compose config -q accepts docker-compose.yml" dc config -q
services=$(dc config --services 2>&1 | sort | tr '\n' ' ')
for s in kafka postgres redis topics migrate outbox-relay catalog-publisher \
    stock-publisher image-uploader order-ingestor; do
    t_like "service $s is defined" " $services" " $s "
done
cfg=$(dc config 2>&1)
t_like "Kafka is Apache Kafka 3.9.1 (KRaft)" "$cfg" 'image: apache/kafka:3\.9\.1'
t_like "the broker runs as broker and controller" "$cfg" \
    'KAFKA_PROCESS_ROLES: broker,controller'
t_like "Postgres 15" "$cfg" 'image: postgres:15'
t_like "Redis 7" "$cfg" 'image: redis:7'
t_like "services are built from deploy/Dockerfile" "$cfg" \
    'dockerfile: deploy/Dockerfile'
t_like "topics are created by the project's own code" "$cfg" \
    'devkafka[[:space:]]*- --create-topics'
t_ok "the Dockerfile is multi-stage on Debian 12" \
    grep -qE '^FROM debian:12 AS build' deploy/Dockerfile
t_ok "the image ships the migrations" \
    grep -q 'deploy/sql' deploy/Dockerfile
t_ok "deploy/.env.example names the secret key" \
    grep -q '^OMNISYNC_SECRET_KEY=' deploy/.env.example
t_done
