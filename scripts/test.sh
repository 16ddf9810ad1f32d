#!/usr/bin/env bash
# make test: install missing system packages, then run in order
#   gofmt -l, go vet, the go.mod tidy check, staticcheck, go test -race
# against a throwaway PostgreSQL cluster (FIREBREAK_TEST_DATABASE_URL) that is
# always stopped at the end. Every step runs even if an earlier one failed, so
# one CI run reports everything; the exit code is go test's when it failed,
# otherwise the first failing step's.
#
# Environment:
#   CI=true                 passed through to the tests (missing components fail instead of skip);
#                           also selects the CI form of the tidy check (see below)
#   FIREBREAK_TEST_PG_PORT  cluster port (default 55433)
#   TEST_FLAGS              extra go test flags, whitespace separated (e.g. "-run TestX -v")
#   PKGS                    packages (default ./...)
#   STATICCHECK_VERSION     version to go install when staticcheck is missing (default latest)
#   FAIL_FAST=1             stop at the first failing step
#   KEEP_TMP=1, PG_EXTRA_OPTS  see scripts/lib.sh
#
# Tidy check: with CI=true (clean clone) it is `go mod tidy && git diff --exit-code go.mod go.sum`.
# Locally it is `go mod tidy -diff`, which prints what tidy would change and
# never writes go.mod/go.sum nor looks at git (others may have edits in progress).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FB_ROOT" || exit 1

STATICCHECK_PIN=v0.8.2 # staticcheck 2026.2.2, known to work with Go 1.26
read -ra pkgs <<<"${PKGS:-./...}"
read -ra test_flags <<<"${TEST_FLAGS:-}"

results=() first_rc=0 test_rc=0 t_all=$SECONDS

# step NAME CMD...: run, time and record one step.
step() {
  local name=$1 t0=$SECONDS rc
  shift
  echo "==> $name"
  "$@"
  rc=$?
  if [ "$rc" = 0 ]; then
    results+=("$name ok $((SECONDS - t0))s")
    echo "<== $name ok ($((SECONDS - t0))s)"
  else
    results+=("$name FAIL($rc) $((SECONDS - t0))s")
    echo "<== $name FAILED with exit code $rc ($((SECONDS - t0))s)" >&2
    [ "$first_rc" = 0 ] && first_rc=$rc
    [ "$name" = test ] && test_rc=$rc
    if [ "${FAIL_FAST:-}" = 1 ]; then summary; fi
  fi
  return 0
}

summary() {
  local rc=$first_rc
  [ "$test_rc" != 0 ] && rc=$test_rc
  local status=PASS
  [ "$rc" != 0 ] && status=FAIL
  local joined
  joined=$(printf '%s, ' "${results[@]}")
  echo "make test: $status (${joined%, }) total $((SECONDS - t_all))s, exit $rc"
  exit "$rc"
}

check_gofmt() {
  local out
  out=$(gofmt -l .) || return 1
  [ -z "$out" ] && return 0
  echo "gofmt: these files need gofmt -w:" >&2
  echo "$out" >&2
  return 1
}

check_tidy() {
  if [ "${CI:-}" = true ]; then
    # safe.directory: the clone may belong to another user than root.
    go mod tidy && git -c safe.directory="$PWD" diff --exit-code -- go.mod go.sum
  else
    go mod tidy -diff
  fi
}

run_staticcheck() {
  local gobin
  gobin=$(go env GOBIN)
  [ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
  export PATH="$gobin:$PATH"
  if ! command -v staticcheck >/dev/null 2>&1; then
    echo "staticcheck: installing into $gobin"
    GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION:-latest}" ||
      GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_PIN" || return 1
  fi
  staticcheck "${pkgs[@]}"
}

run_tests() {
  fb_start_pg || return 1
  fb_alertmanager_shim
  echo "go test -race -count=1 ${test_flags[*]:+${test_flags[*]} }${pkgs[*]} (CI=${CI:-})"
  go test -race -count=1 "${test_flags[@]}" "${pkgs[@]}"
}

fb_setup
if ! fb_deps; then
  echo "make test: FAIL (deps) total $((SECONDS - t_all))s, exit 1"
  exit 1
fi
go version

step gofmt check_gofmt
step vet go vet "${pkgs[@]}"
step tidy check_tidy
step staticcheck run_staticcheck
step test run_tests
summary
