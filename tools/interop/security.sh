#!/usr/bin/env bash
# Cross-check of payswitch's security module (PIN blocks, DUKPT, MACs) against psec, pydukpt and
# cryptography from PyPI. Creates <repo>/.venv-security with the pinned packages if needed, then
# runs security_check.py with the arguments given here (--count, --seed).
# The payswitch binary: $PAYSWITCH_BIN, default <repo>/.build/debug/payswitch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.venv-security"
python="${PYTHON:-python3}"
if ! "$venv/bin/python" -c 'import psec, pydukpt, cryptography' >/dev/null 2>&1; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check psec==1.3.0 pydukpt==0.1.0
fi
exec "$venv/bin/python" -W ignore "$here/security_check.py" "${PAYSWITCH_BIN:-$repo/.build/debug/payswitch}" "$@"
