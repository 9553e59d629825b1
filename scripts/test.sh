#!/usr/bin/env bash
# Install everything the test suite needs and run it. This is the README's test command, and what
# .ci/run calls. Safe to re-run: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# System parts the tests use as real servers: Knot (authoritative DNS), dnsmasq (caching resolver);
# promtool (from Debian's prometheus package) for the shipped alerting rules and /metrics; headless
# Chromium for the rendered email.
need_apt=()
command -v knotd >/dev/null 2>&1 || need_apt+=(knot knot-dnsutils)
command -v dnsmasq >/dev/null 2>&1 || need_apt+=(dnsmasq-base)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "note: ${need_apt[*]} missing and not root; the tests that need them will be skipped" >&2
  fi
fi

# PostgreSQL for the store tests (this machine kind runs it; start it if it stopped).
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-4}" "$@"
