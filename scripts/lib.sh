# Shared helpers of scripts/test.sh and scripts/bench.sh (source it; bash only).
# Environment:
#   FIREBREAK_TEST_PG_PORT  loopback port of the throwaway cluster (default 55433)
#   KEEP_TMP=1              keep the temp dir (cluster data, server.log) after the run
#   PG_EXTRA_OPTS           extra server options for scripts/pg.sh (e.g. "-c fsync=off")

FB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FB_TMP=""
FB_PG_DIR=""

fb_cleanup() {
  local rc=$?
  if [ -n "$FB_PG_DIR" ]; then
    bash "$FB_ROOT/scripts/pg.sh" stop "$FB_PG_DIR" && echo "postgres: stopped ($FB_PG_DIR)" >&2
  fi
  if [ -n "$FB_TMP" ]; then
    if [ "${KEEP_TMP:-}" = 1 ]; then echo "kept $FB_TMP" >&2; else rm -rf "$FB_TMP"; fi
  fi
  return "$rc"
}

# fb_setup: temp dir, EXIT/INT/TERM traps (the exit code survives the cleanup).
fb_setup() {
  FB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/firebreak-test.XXXXXX")
  trap 'fb_cleanup' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# fb_start_pg: start the cluster and export FIREBREAK_TEST_DATABASE_URL.
fb_start_pg() {
  local port=${FIREBREAK_TEST_PG_PORT:-55433} url t0=$SECONDS
  # PostgreSQL runs as postgres and must be able to enter the (0700, root-owned)
  # temp dir. Done here, after fb_deps, since installing postgresql creates the user.
  if [ "$(id -u)" = 0 ]; then chown postgres: "$FB_TMP" || return 1; fi
  FB_PG_DIR=$FB_TMP/pg
  # A port can be taken by something else on the machine: try the next few.
  local try
  for try in 0 1 2 3 4; do
    if url=$(bash "$FB_ROOT/scripts/pg.sh" start "$FB_PG_DIR" "$((port + try))"); then break; fi
    url=""
    echo "postgres: port $((port + try)) unusable, trying $((port + try + 1))" >&2
  done
  [ -n "$url" ] || { FB_PG_DIR=""; return 1; }
  export FIREBREAK_TEST_DATABASE_URL=$url
  echo "postgres: $url ($FB_PG_DIR, $((SECONDS - t0))s)"
}

# fb_alertmanager_shim: Debian names the binary prometheus-alertmanager; also
# offer it as "alertmanager" on PATH for the tests.
fb_alertmanager_shim() {
  local am
  if ! command -v alertmanager >/dev/null 2>&1 && am=$(command -v prometheus-alertmanager); then
    mkdir -p "$FB_TMP/bin"
    ln -s "$am" "$FB_TMP/bin/alertmanager"
    export PATH="$FB_TMP/bin:$PATH"
  fi
}

# fb_deps: install missing system packages (scripts/deps.sh).
fb_deps() { bash "$FB_ROOT/scripts/deps.sh"; }
