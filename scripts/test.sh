#!/usr/bin/env bash
# Runs the test matrix: every tox cell, two at a time, each on its own
# throwaway PostgreSQL (or on DATABASE_URL when it is set).
# Extra arguments go to tox, e.g.  scripts/test.sh -e py313-dj61-psycopg3
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
activate_all_pythons
ensure_postgres
ensure_postgis
ensure_pgbouncer
venv=$(tools_venv)
if [ $# -eq 0 ]; then
  set -- run-parallel --parallel 2 --parallel-no-spinner
fi
status=0
"$venv/bin/tox" "$@" || status=$?
# run-parallel hides the output of passing cells: add up their reports.
"$venv/bin/python" scripts/summarize_junit.py .tox || true
exit "$status"
