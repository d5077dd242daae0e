#!/usr/bin/env bash
# Starts the services the Node host's tests need, private to this machine's
# loopback: a PostgreSQL cluster on port 55432 (trust auth) and nats-server
# with JetStream on port 54222, data in a temp dir. Installs the Debian
# packages first when missing (run as root). Prints the variables for the
# caller to take in:   eval "$(bash .ci/services.sh)"
# Everything else goes to stderr. Running it again reuses services that
# already answer on those ports.
set -euo pipefail

PG_PORT=55432
NATS_PORT=54222
log() { printf 'services: %s\n' "$*" >&2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_missing() {
  local packages=()
  [ -n "$(pg_bin)" ] || packages+=(postgresql)
  command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || packages+=(nats-server)
  # The manifest tests render k8s/ with kubectl.
  command -v kubectl >/dev/null || packages+=(kubernetes-client)
  # The console's browser tests drive Debian's Chromium with playwright-core.
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  [ ${#packages[@]} -eq 0 ] && return
  log "installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${packages[@]}" >&2
}

# Runs a command as the postgres user when we are root (PostgreSQL refuses root).
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local what=$1; shift
  for _ in $(seq 1 100); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  log "$what did not answer in 20 s"
  return 1
}

start_postgres() {
  local bin; bin=$(pg_bin)
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    log "PostgreSQL already answers on $PG_PORT"
    return
  fi
  local dir; dir=$(mktemp -d /tmp/edgewhisk-postgres.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_pg_user "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  as_pg_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200 -c fsync=off" start >&2
  wait_for PostgreSQL "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
  log "PostgreSQL on 127.0.0.1:$PG_PORT (data $dir)"
}

start_nats() {
  if port_answers "$NATS_PORT"; then
    log "NATS already answers on $NATS_PORT"
    return
  fi
  local server; server=$(command -v nats-server || echo /usr/sbin/nats-server)
  local dir; dir=$(mktemp -d /tmp/edgewhisk-nats.XXXXXX)
  # Detached, with no inherited stdout: the caller reads ours to its end.
  setsid "$server" -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$dir" </dev/null >"$dir/nats.log" 2>&1 &
  wait_for NATS port_answers "$NATS_PORT"
  log "NATS JetStream on 127.0.0.1:$NATS_PORT (data $dir)"
}

install_missing
start_postgres
start_nats
echo "export EDGEWHISK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
echo "export EDGEWHISK_TEST_NATS_URL=nats://127.0.0.1:$NATS_PORT"
