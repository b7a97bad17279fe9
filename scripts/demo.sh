#!/usr/bin/env bash
# The main job: the sample project served through the pool under
# concurrent requests, then the pool's statistics. Uses DATABASE_URL when
# set, else a throwaway PostgreSQL that is removed afterwards.
# Arguments go to serve_demo, e.g.  scripts/demo.sh --threads 32 --requests 5000
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
activate_all_pythons
ensure_postgres
venv="$ROOT/.venv-demo"
if [ ! -x "$venv/bin/django-admin" ]; then
  # Django 6.1 wants Python 3.12+; fall back to 4.2 on an older Python.
  python=$(command -v python3.13 || command -v python3.12 || command -v python3)
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q 'Django>=6.1,<6.2' 'psycopg[binary]' 2>/dev/null \
    || "$venv/bin/pip" install -q 'Django>=4.2,<4.3' 'psycopg[binary]'
  "$venv/bin/pip" install -q -e .
fi
if [ $# -eq 0 ]; then
  set -- --threads 16 --requests 2000
fi
exec "$venv/bin/python" testprojects/modern/manage.py serve_demo --migrate "$@"
