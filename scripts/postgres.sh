#!/usr/bin/env bash
# A private PostgreSQL cluster for Kiln: unix socket only (no TCP port to
# collide with), in a directory we choose. initdb refuses root, so as root the
# server runs as the `postgres` system user.
#   postgres.sh start DATA_DIR SOCKET_DIR [--throwaway]   (creates the cluster once)
#   postgres.sh stop DATA_DIR
#   postgres.sh url SOCKET_DIR DATABASE [PASSWORD_FILE]
# The socket directory is mode 700 and must be ours (or, as root, the server's):
# another local user cannot reach the socket. A kept cluster (`make run`) also
# wants a password (scram-sha-256), made once into DATA_DIR.password (mode 600);
# a cluster from before is switched over. Throwaway test clusters trust the
# socket, which only their 700 directory reaches.
# PG_OPTIONS="-c name=value ..." adds server settings (make bench: pg_stat_statements).
# PG_LISTEN=ADDRESS PG_TRUST_NETWORK=CIDR also listen on TCP there and trust that
# network (the multi-host test's private network of namespaces; nothing else).
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[ -x "$PGBIN/initdb" ] || { echo "postgres.sh: no PostgreSQL server binaries found (install postgresql-15)" >&2; exit 1; }
PORT=5432
SUPERUSER=kiln

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

prepare_dir() {
  mkdir -p "$1"
  local owner; owner=$(stat -c %U "$1")
  if [ "$(id -u)" -eq 0 ]; then
    # Ours or the server's, never a stranger's (someone could be waiting with a socket of their own there).
    case "$owner" in root|postgres) ;; *) echo "postgres.sh: $1 belongs to $owner; refusing to use it" >&2; exit 1 ;; esac
    chown postgres:postgres "$1"
  elif [ "$owner" != "$(id -un)" ]; then
    echo "postgres.sh: $1 belongs to $owner; refusing to use it" >&2; exit 1
  fi
  chmod 700 "$1"
}

# The server must not inherit the caller's other descriptors: a pipe a test
# reads to its end would then never end while PostgreSQL runs.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
done

cmd=${1:?usage: postgres.sh start|stop|url ...}
case "$cmd" in
  start)
    data=${2:?data dir}; sock=${3:?socket dir}; mode=${4:-}
    prepare_dir "$sock"
    auth=(--auth=trust)
    password=
    if [ "$mode" != "--throwaway" ]; then
      if [ ! -s "$data.password" ]; then
        (umask 077; head -c 24 /dev/urandom | base64 | tr '+/' '-_' > "$data.password")
      fi
      chmod 600 "$data.password"
      password=$(cat "$data.password")
    fi
    if [ ! -s "$data/PG_VERSION" ]; then
      prepare_dir "$data"
      if [ -n "$password" ]; then
        pwfile=$(mktemp)
        printf '%s\n' "$password" > "$pwfile"
        [ "$(id -u)" -eq 0 ] && chown postgres "$pwfile"
        auth=(--auth-local=scram-sha-256 --auth-host=scram-sha-256 --pwfile="$pwfile")
      fi
      as_owner "$PGBIN/initdb" -D "$data" -U "$SUPERUSER" "${auth[@]}" --encoding=UTF8 --no-instructions >/dev/null
      [ -n "${pwfile:-}" ] && rm -f "$pwfile"
    fi
    listen=${PG_LISTEN:-}
    if [ -n "${PG_TRUST_NETWORK:-}" ] && ! grep -q "$PG_TRUST_NETWORK" "$data/pg_hba.conf"; then
      echo "host all all $PG_TRUST_NETWORK trust" >>"$data/pg_hba.conf"
    fi
    opts="-c listen_addresses='$listen' -c unix_socket_directories='$sock' -c port=$PORT -c max_connections=200"
    if [ "$mode" = "--throwaway" ]; then
      # Throwaway test clusters only: durability buys nothing there. The tests start
      # dozens of Kiln instances at once (each a pool plus its LISTEN connections).
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500"
    fi
    # PG_OPTIONS: more server settings (make bench loads pg_stat_statements so).
    opts="$opts ${PG_OPTIONS:-}"
    as_owner "$PGBIN/pg_ctl" -D "$data" -o "$opts" -l "$data/server.log" -w -t 60 start >/dev/null
    if [ -n "$password" ] && as_owner grep -Eq '^(local|host)[[:space:]].*[[:space:]]trust[[:space:]]*$' "$data/pg_hba.conf"; then
      # A cluster made before passwords: set one, then stop trusting.
      as_owner "$PGBIN/psql" -h "$sock" -p $PORT -U "$SUPERUSER" -d postgres -qc "ALTER ROLE $SUPERUSER PASSWORD '$password'"
      as_owner sed -i -E 's/^((local|host)[[:space:]].*[[:space:]])trust[[:space:]]*$/\1scram-sha-256/' "$data/pg_hba.conf"
      as_owner "$PGBIN/pg_ctl" -D "$data" reload >/dev/null
    fi
    for db in kiln; do
      as_owner env PGPASSWORD="$password" "$PGBIN/psql" -h "$sock" -p $PORT -U "$SUPERUSER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
        || as_owner env PGPASSWORD="$password" "$PGBIN/createdb" -h "$sock" -p $PORT -U "$SUPERUSER" "$db"
    done
    ;;
  stop)
    data=${2:?data dir}
    [ -f "$data/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    ;;
  url)
    sock=${2:?socket dir}; db=${3:-kiln}; passfile=${4:-}
    if [ -n "$passfile" ]; then
      echo "postgres://$SUPERUSER:$(cat "$passfile")@localhost:$PORT/$db?host=$sock"
    else
      echo "postgres://$SUPERUSER@localhost:$PORT/$db?host=$sock"
    fi
    ;;
  *) echo "postgres.sh: unknown command $cmd" >&2; exit 2 ;;
esac
