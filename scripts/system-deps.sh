#!/usr/bin/env bash
# System packages the full test suite uses: a real Virtuoso server (remote-backend tests)
# and headless Chromium with its driver (browser test of the query page).
# Installs them with apt when they are missing and we may (root, apt-get present);
# otherwise says what is missing: those tests then skip, except under CI=true where they fail.
set -euo pipefail
need=()
command -v virtuoso-t >/dev/null 2>&1 || need+=(virtuoso-opensource)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "note: missing system packages (${need[*]}); the Virtuoso and browser tests will skip" >&2
fi
