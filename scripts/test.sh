#!/usr/bin/env bash
# Runs the test matrix: every tox cell, two at a time, each on its own
# throwaway PostgreSQL (or on DATABASE_URL when it is set); then the quick
# subset of Django's own test suite, stock ENGINE vs ours, on nine
# configurations, three with transaction-scoped pools (djangosuite/README.md).
# Extra arguments go to tox alone, e.g.  scripts/test.sh -e py313-dj61-psycopg3
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
activate_all_pythons
ensure_postgres
ensure_postgis
ensure_pgbouncer
venv=$(tools_venv)
django_suite=
if [ $# -eq 0 ]; then
  set -- run-parallel --parallel 2 --parallel-no-spinner
  django_suite=1
fi
status=0
"$venv/bin/tox" "$@" || status=$?
if [ -n "$django_suite" ]; then
  echo "== Django's own test suite, stock ENGINE vs dbpool's (quick subset)"
  bash djangosuite/run-matrix.sh -- --quick || status=1
fi
# run-parallel hides the output of passing cells: add up their reports.
"$venv/bin/python" scripts/summarize_junit.py .tox || true
exit "$status"
