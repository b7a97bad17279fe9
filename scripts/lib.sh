# Shared set-up for the project's scripts; source it, do not run it.
# Makes every installed Python findable by tox and makes sure the
# PostgreSQL server binaries exist (tests start a throwaway cluster with them).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# pyenv keeps each Python in its own folder. Naming every installed version
# in PYENV_VERSION (newest first) makes each shim (python2.7, python3.12, ...)
# answer, so tox finds every interpreter of the matrix.
activate_all_pythons() {
  command -v pyenv >/dev/null 2>&1 || return 0
  local versions
  versions=$(pyenv versions --bare --skip-aliases 2>/dev/null | sort -t. -k1,1nr -k2,2nr -k3,3nr | paste -sd: -)
  [ -n "$versions" ] && export PYENV_VERSION="$versions"
  return 0
}

# The tests run initdb/pg_ctl themselves; install the server if it is absent.
ensure_postgres() {
  if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    return 0
  fi
  echo "PostgreSQL server binaries not found: installing Debian's postgresql package" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "Run as root, or install PostgreSQL (initdb, pg_ctl) yourself." >&2
    return 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# A private virtualenv of tools (tox) beside the checkout.
tools_venv() {
  local venv="$ROOT/.venv-tools"
  if [ ! -x "$venv/bin/tox" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'tox>=4,<5' 'virtualenv<20.22'
  fi
  echo "$venv"
}
