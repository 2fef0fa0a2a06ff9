#!/usr/bin/env bash
# Byte-compatibility check of payswitch's ISO 8583 codec against pyiso8583 (PyPI).
# Creates <repo>/.venv-interop with the pinned pyiso8583 if needed, then runs
# pyiso8583_check.py with the arguments given here (--seed, --count, --dialect, --show-hex).
# The payswitch binary: $PAYSWITCH_BIN, default <repo>/.build/debug/payswitch.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.venv-interop"
pin="pyiso8583==4.0.1"
python="${PYTHON:-python3}"

if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import iso8583, sys; sys.exit(iso8583.__version__ != "4.0.1")' \
        >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$pin"
fi

exec "$venv/bin/python" "$here/pyiso8583_check.py" "$@"
