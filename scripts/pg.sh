#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster on a loopback port, owned by the
# postgres user (PostgreSQL refuses to run as root). Prints the admin URL on start.
#   scripts/pg.sh start DIR PORT
#   scripts/pg.sh stop DIR
# DIR is created if needed (initdb runs when it holds no cluster yet). As root,
# DIR is chowned to postgres; its parent directories must let postgres through
# (for a mktemp -d parent: chown postgres: "$parent").
# Extra server settings: PG_EXTRA_OPTS (e.g. "-c fsync=off").
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?directory}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bindir" ] || { echo "pg.sh: PostgreSQL server binaries not found (make deps, or apt-get install postgresql)" >&2; exit 1; }
# Run as postgres when root; from / so that postgres never needs root's cwd.
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
case "$cmd" in
start)
  port=${3:?port}
  case "$port" in ''|*[!0-9]*) echo "pg.sh: bad port '$port'" >&2; exit 2 ;; esac
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "pg.sh: 127.0.0.1:$port is already in use (choose another port)" >&2; exit 1
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "pg.sh: no postgres user (install the postgresql package)" >&2; exit 1; }
    chown postgres: "$dir"
    chmod 0700 "$dir"
  fi
  as_pg test -w "$dir" || { echo "pg.sh: $dir is not writable by $( [ "$(id -u)" = 0 ] && echo postgres || id -un) (check its parent directories)" >&2; exit 1; }
  if [ ! -f "$dir/PG_VERSION" ]; then
    # C.UTF-8 always exists on Debian and does not depend on the caller's LANG.
    out=$(as_pg "$bindir/initdb" -D "$dir" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 2>&1) ||
      { echo "$out" >&2; exit 1; }
  fi
  # shellcheck disable=SC2086 # PG_EXTRA_OPTS is a list of server options
  if ! as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=300 -c shared_buffers=256MB ${PG_EXTRA_OPTS:-}" start >/dev/null; then
    echo "pg.sh: PostgreSQL failed to start; tail of $dir/server.log:" >&2
    tail -n 30 "$dir/server.log" >&2 || true
    exit 1
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  [ -f "$dir/postmaster.pid" ] || exit 0
  as_pg "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null ||
    as_pg "$bindir/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null || true
  ;;
*) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
