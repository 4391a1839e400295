#!/usr/bin/env bash
# Creates or updates the local AWS emulator's virtualenv (.venv/emulator, relative to the
# repository root) from tests/emulator/requirements.txt. Idempotent: when the requirements
# file has not changed since the last successful install, it returns at once.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv/emulator"
req="$root/tests/emulator/requirements.txt"
stamp="$venv/.requirements.sha256"
python=${PYTHON:-python3}

want=$( { sha256sum "$req"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "emulator venv up to date: $venv"
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
echo "$want" > "$stamp"
echo "emulator venv ready: $venv"
