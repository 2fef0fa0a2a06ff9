#!/usr/bin/env bash
# Runs `payswitch demo`: the switch on its embedded configuration between simulated hosts (no set-up).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift run payswitch demo
