#!/usr/bin/env bash
# make bench: like make test's setup (deps, throwaway PostgreSQL on
# FIREBREAK_TEST_PG_PORT, FIREBREAK_TEST_DATABASE_URL), then only benchmarks:
#   go test -run '^$' -bench "$BENCH" -benchtime "$BENCHTIME" -benchmem $PKGS
# Environment: BENCH (default .), BENCHTIME (default 1s), PKGS (default ./...),
# TEST_FLAGS (extra go test flags), CI passed through. PostgreSQL is always stopped.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FB_ROOT" || exit 1
read -ra pkgs <<<"${PKGS:-./...}"
read -ra test_flags <<<"${TEST_FLAGS:-}"
t0=$SECONDS

fb_setup
fb_deps || exit 1
fb_start_pg || exit 1
fb_alertmanager_shim
go test -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1s}" -benchmem "${test_flags[@]}" "${pkgs[@]}"
rc=$?
status=PASS
[ "$rc" = 0 ] || status=FAIL
echo "make bench: $status total $((SECONDS - t0))s, exit $rc"
exit "$rc"
