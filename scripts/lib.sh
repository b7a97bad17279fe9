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

# Install Debian packages as root (apt may be busy: wait for its lock).
# Services they ship are not started here: a container has no init system
# (invoke-rc.d then blocks them), and on a systemd host we stop them below.
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "Run as root, or install these Debian packages yourself: $*" >&2
    return 1
  fi
  if ! apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >/dev/null 2>&1; then
    apt-get update -qq -o DPkg::Lock::Timeout=600
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "$@" >/dev/null
  fi
}

# The major version of the newest installed PostgreSQL server (15 on Debian 12).
pg_major() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed 's|.*/postgresql/\([0-9]*\)/bin|\1|' | sort -n | tail -1
}

# PostGIS for the server the tests run (tests/integration/test_postgis.py),
# and the GEOS and GDAL libraries GeoDjango loads in every Python.
ensure_postgis() {
  local major
  major=$(pg_major)
  if [ -f "/usr/share/postgresql/$major/extension/postgis.control" ] &&
     ldconfig -p | grep -q 'libgeos_c\.so' && ldconfig -p | grep -q 'libgdal\.so'; then
    return 0
  fi
  echo "PostGIS or GeoDjango's GEOS/GDAL libraries not found: installing them" >&2
  # The server extension depends on libgeos-c1v5 and libgdal32 (Debian 12).
  DEBIAN_FRONTEND=noninteractive apt_install "postgresql-$major-postgis-3"
}

# PgBouncer, which tests/integration/test_pgbouncer.py starts on a free port.
ensure_pgbouncer() {
  if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
    return 0
  fi
  echo "PgBouncer not found: installing Debian's pgbouncer package" >&2
  DEBIAN_FRONTEND=noninteractive apt_install pgbouncer || return 1
  # The tests start their own; a system service would only hold port 6432.
  if [ -d /run/systemd/system ]; then
    systemctl disable --now pgbouncer >/dev/null 2>&1 || true
  fi
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
