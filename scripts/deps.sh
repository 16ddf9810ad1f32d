#!/usr/bin/env bash
# Install the system packages that make test needs, only when something is missing.
# Debian/Ubuntu, as root: one apt-get update + install --no-install-recommends.
#   postgresql                       server binaries for scripts/pg.sh (Debian 12: 15)
#   chromium (+ fonts-liberation)    browser tests (internal/testenv.Browser)
#   prometheus-alertmanager          alertmanager integration tests
#   prometheus                       prometheus check integration tests (internal/testenv.Prometheus)
#   gcc libc6-dev                    go test -race needs cgo
#   make git ca-certificates         CI plumbing (make test, tidy diff, module downloads)
# Not root / no apt-get: prints the missing packages; exits 1 only under CI=true
# (locally the tests that need a missing component skip themselves).
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1; }

# missing: set need to the packages whose programs are absent.
missing() {
  need=()
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
  have chromium || have chromium-browser || have google-chrome || need+=(chromium fonts-liberation)
  have prometheus-alertmanager || have alertmanager || need+=(prometheus-alertmanager)
  have prometheus || need+=(prometheus)
  { have gcc && [ -e /usr/include/stdio.h ]; } || need+=(gcc libc6-dev)
  have make || need+=(make)
  have git || need+=(git)
  [ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
}
missing

if [ ${#need[@]} -eq 0 ]; then
  echo "deps: all present (postgresql, chromium, alertmanager, prometheus, gcc, make, git)"
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! have apt-get; then
  echo "deps: missing packages: ${need[*]}" >&2
  echo "deps: install them as root: apt-get install --no-install-recommends ${need[*]}" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
echo "deps: installing ${need[*]}"
start=$SECONDS
apt-get "${apt_opts[@]}" update >/dev/null || apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${need[@]}" >/dev/null
installed=("${need[@]}")
hash -r
missing
if [ ${#need[@]} -ne 0 ]; then
  echo "deps: still missing after apt-get install: ${need[*]}" >&2
  exit 1
fi
echo "deps: installed ${installed[*]} in $((SECONDS - start))s"
