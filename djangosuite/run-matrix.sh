#!/usr/bin/env bash
# Django's own test suite, stock ENGINE vs dbpool's, over the documented matrix.
#
#   bash djangosuite/run-matrix.sh                      # all six configurations, every module
#   bash djangosuite/run-matrix.sh dj42-psycopg3        # some of them
#   bash djangosuite/run-matrix.sh -- --quick           # arguments after -- go to run.py
#   bash djangosuite/run-matrix.sh --venvs-only         # only create the virtualenvs
#
# Each configuration gets its own virtualenv under $DJSUITE_CACHE/venvs
# (default ~/.cache/dbpool-djangosuite/venvs), made once with pip, and runs
# `python djangosuite/run.py` with it: one after the other, since each run
# uses both cores. run.py starts a private PostgreSQL cluster per
# configuration unless DATABASE_URL is set. The results (one JSON per
# configuration and a Markdown table) go to $DJSUITE_CACHE/results/<time>/.
# Exit status: 0 when every configuration passed, else 1.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=${DJSUITE_CACHE:-$HOME/.cache/dbpool-djangosuite}
VENVS=$CACHE/venvs
PYENV_ROOT=${PYENV_ROOT:-/root/.pyenv}
PY27=${PY27:-$PYENV_ROOT/versions/2.7.18/bin/python}
PY39=${PY39:-$PYENV_ROOT/versions/3.9.18/bin/python}
PY312=${PY312:-$PYENV_ROOT/versions/3.12.1/bin/python}
PY313=${PY313:-$PYENV_ROOT/versions/3.13.0/bin/python}

# name | python | pip requirements (the release, its driver, the test extras
# Django's tests/requirements list that these modules import)
CONFIG_TABLE="
dj111-py27|$PY27|Django==1.11.29 psycopg2-binary==2.8.6 pytz mock<4 enum34 tblib<2 sqlparse<0.4
dj22-py39|$PY39|Django==2.2.28 psycopg2-binary<2.9 pytz sqlparse tblib
dj42-psycopg2|$PY312|Django>=4.2,<4.3 psycopg2-binary pytz tblib
dj42-psycopg3|$PY312|Django>=4.2,<4.3 psycopg[binary] pytz tblib
dj61-psycopg2|$PY313|Django>=6.1,<6.2 psycopg2-binary tblib
dj61-psycopg3|$PY313|Django>=6.1,<6.2 psycopg[binary] psycopg-pool tblib
dj111-py27-tx|$PY27|
dj42-psycopg2-tx|$PY312|
dj61-psycopg3-tx|$PY313|
"
# A name ending in -tx is the configuration before it with dbpool's pools
# transaction-scoped (OPTIONS['CHECKOUT_SCOPE']='transaction'), in its virtualenv.
TX_POOL_OPTIONS='{"CHECKOUT_SCOPE": "transaction"}'

usage() {
  echo "usage: $0 [--venvs-only] [CONFIG...] [-- RUN.PY ARGS...]" >&2
  echo "configurations: $(echo "$CONFIG_TABLE" | cut -d'|' -f1 | xargs)" >&2
  exit 2
}

selected=()
venvs_only=
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    --venvs-only) venvs_only=1; shift ;;
    -h|--help) usage ;;
    *) selected+=("$1"); shift ;;
  esac
done
run_args=("$@")
if [ ${#selected[@]} -eq 0 ]; then
  read -r -a selected <<<"$(echo "$CONFIG_TABLE" | cut -d'|' -f1 | xargs)"
fi

# PostgreSQL's server binaries (initdb, pg_ctl) for the private clusters.
# shellcheck source=../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
if [ -z "${DATABASE_URL:-}" ]; then
  ensure_postgres || exit 2
fi

# virtualenv for Python 2.7 (its stdlib has no venv; virtualenv 20.22 dropped 2.7).
tools_python() {
  local tools="$VENVS/tools"
  if [ ! -x "$tools/bin/virtualenv" ]; then
    "$PY39" -m venv "$tools" && "$tools/bin/pip" install -q 'virtualenv<20.22' >&2 || return 1
  fi
  echo "$tools/bin/virtualenv"
}

# make_venv NAME PYTHON REQUIREMENTS: create it once; reinstall when the requirements change.
make_venv() {
  local name=$1 python=$2 reqs=$3 venv=$VENVS/$1
  if [ -f "$venv/.djsuite-reqs" ] && [ "$(cat "$venv/.djsuite-reqs")" = "$reqs" ] \
      && "$venv/bin/python" -c 'import django' 2>/dev/null; then
    return 0
  fi
  echo "== creating $venv ($reqs)"
  [ -x "$python" ] || { echo "no Python at $python" >&2; return 1; }
  rm -rf "$venv"
  mkdir -p "$VENVS"
  if "$python" -c 'import sys; sys.exit(sys.version_info[0] != 2)'; then
    local virtualenv
    virtualenv=$(tools_python) || return 1
    "$virtualenv" -q -p "$python" "$venv" || return 1
  else
    "$python" -m venv "$venv" || return 1
    "$venv/bin/pip" install -q -U 'pip<24.1' || return 1
  fi
  local pkgs
  read -r -a pkgs <<<"$reqs"
  "$venv/bin/pip" install -q "${pkgs[@]}" 2>&1 | grep -v 'is ignored'
  "$venv/bin/python" -c 'import django' || return 1
  echo "$reqs" >"$venv/.djsuite-reqs"
}

stamp=$(date +%Y%m%d-%H%M%S)
results=$CACHE/results/$stamp
mkdir -p "$results"

# Every configuration tests the same dbpool: a copy of this checkout's
# dbpool/ taken now (others may commit while the matrix runs).
dbpool_args=()
if [ -z "$venvs_only" ]; then
  snapshot=$results/dbpool-snapshot
  mkdir -p "$snapshot"
  tar -C "$ROOT" --exclude=__pycache__ --exclude='*.pyc' -cf - dbpool | tar -C "$snapshot" -xf -
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git -C "$ROOT" status --porcelain -- dbpool 2>/dev/null)
  echo "commit $commit${dirty:+ + uncommitted changes in dbpool/}, copied $stamp" \
      >"$snapshot/DBPOOL_SNAPSHOT"
  echo "== dbpool: $(cat "$snapshot/DBPOOL_SNAPSHOT") -> $snapshot"
  dbpool_args=(--dbpool "$snapshot")
fi
status=0
summary=()
for name in "${selected[@]}"; do
  line=$(echo "$CONFIG_TABLE" | grep "^$name|") || { echo "unknown configuration $name" >&2; usage; }
  venv_name=${name%-tx}
  pool_options=
  if [ "$venv_name" != "$name" ]; then
    line=$(echo "$CONFIG_TABLE" | grep "^$venv_name|") || { echo "no configuration $venv_name" >&2; usage; }
    pool_options=$TX_POOL_OPTIONS
  fi
  python=$(echo "$line" | cut -d'|' -f2)
  reqs=$(echo "$line" | cut -d'|' -f3)
  if ! make_venv "$venv_name" "$python" "$reqs"; then
    echo "== $name: could not create its virtualenv" >&2
    summary+=("$name: venv failed")
    status=1
    continue
  fi
  [ -n "$venvs_only" ] && continue
  echo
  echo "== $name: $VENVS/$venv_name/bin/python djangosuite/run.py ${run_args[*]:-}${pool_options:+ (DJSUITE_POOL_OPTIONS=$pool_options)}"
  start=$(date +%s)
  DJSUITE_POOL_OPTIONS=$pool_options "$VENVS/$venv_name/bin/python" "$HERE/run.py" --label "$name" --json "$results/$name.json" \
      --log-dir "$results/$name" "${dbpool_args[@]}" "${run_args[@]}" 2>&1 \
      | tee "$results/$name.out"
  code=${PIPESTATUS[0]}
  took=$(( $(date +%s) - start ))
  summary+=("$name: exit $code in ${took}s")
  [ "$code" = 0 ] || status=1
done

[ -n "$venvs_only" ] && { rmdir "$results" 2>/dev/null; exit $status; }
echo
echo "== summary (results in $results)"
printf '%s\n' "${summary[@]}"
"$PY313" "$HERE/summarize.py" "$results"/*.json | tee "$results/table.md"
exit $status
