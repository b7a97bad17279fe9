#!/usr/bin/env bash
# The benchmark in one command: makes its own venvs under benchmarks/, then
# runs compare.py (every mode, interleaved rounds, JSON + table + verdict).
#   bash benchmarks/run.sh            quick mode (about 8 min)
#   bash benchmarks/run.sh --full     full mode (about 50 min)
#   bash benchmarks/run.sh --full --chart docs/benchmarks.png
# Uses DATABASE_URL when set, else a throwaway PostgreSQL (scram-sha-256).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
activate_all_pythons
ensure_postgres
python=$(command -v python3.13 || command -v python3.12)
main="$ROOT/benchmarks/.venv"
if [ ! -x "$main/bin/django-admin" ] || ! "$main/bin/python" -c 'import dj_db_conn_pool, matplotlib, django_db_geventpool, psycogreen' 2>/dev/null; then
  "$python" -m venv "$main"
  "$main/bin/pip" install -q 'Django>=6.1,<6.2' 'psycopg[binary]' 'psycopg-pool' \
    'psycopg2-binary' 'django-db-connection-pool' 'matplotlib' \
    'gevent' 'psycogreen' 'django-db-geventpool'
fi
# django-postgrespool2 (last release 2.0.5) calls sqlalchemy.pool.manage(),
# which SQLAlchemy 2.0 removed, and drives psycopg2 only: its own venv, with
# SQLAlchemy 1.4 and without psycopg 3.
pgpool2="$ROOT/benchmarks/.venv-pgpool2"
if [ ! -x "$pgpool2/bin/django-admin" ] || ! "$pgpool2/bin/python" -c 'import django_postgrespool2' 2>/dev/null; then
  "$python" -m venv "$pgpool2"
  "$pgpool2/bin/pip" install -q 'Django>=6.1,<6.2' 'psycopg2-binary' 'SQLAlchemy>=1.4,<2' \
    'django-postgrespool2'
fi
export BENCH_COMMAND="bash benchmarks/run.sh $*"
exec "$main/bin/python" benchmarks/compare.py --python-pgpool2 "$pgpool2/bin/python" "$@"
