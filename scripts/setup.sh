#!/usr/bin/env bash
# Set up a NestPatrol checkout; idempotent (a second run installs nothing new).
#   scripts/setup.sh            venv + runtime dependencies (what `nestpatrol demo` needs)
#   scripts/setup.sh --dev      + test/lint tools, and PostGIS when a PostgreSQL server is present
#   scripts/setup.sh --train    + the training extra (torch 2.14.1, ultralytics)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
postgis=0
for arg in "$@"; do
  case "$arg" in
    --dev) extras="${extras:+$extras,}dev"; postgis=1 ;;
    --train) extras="${extras:+$extras,}train" ;;
    *) echo "setup.sh: unknown option $arg (use --dev and/or --train)" >&2; exit 2 ;;
  esac
done

python=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    python=$candidate; break
  fi
done
[ -n "$python" ] || { echo "setup.sh: NestPatrol needs Python 3.11 (python3.11 not found)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python" -m venv .venv

# reinstall only when pyproject.toml or the extras asked for change
want="$(sha256sum pyproject.toml | cut -d' ' -f1) [$extras]"
have="$(cat .venv/.nestpatrol-stamp 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  .venv/bin/python -m pip install --quiet -e "$spec"
  echo "$want" > .venv/.nestpatrol-stamp
fi

# Debian's Chromium for the web-map browser tests (Playwright drives it; no browser download)
if [ "$postgis" = 1 ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's chromium for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# PostGIS for the PostgreSQL backend tests, from Debian's packages
if [ "$postgis" = 1 ] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1; then
  major=$(psql -h 127.0.0.1 -U postgres -tAc 'show server_version_num' 2>/dev/null | cut -c1-2 || true)
  have_postgis=$(psql -h 127.0.0.1 -U postgres -tAc "select count(*) from pg_available_extensions where name='postgis'" 2>/dev/null || echo 0)
  if [ "${have_postgis:-0}" = 0 ] && [ -n "$major" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing PostGIS for PostgreSQL $major (postgresql-$major-postgis-3)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$major-postgis-3" >/dev/null
  fi
fi
