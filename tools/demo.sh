#!/usr/bin/env bash
# Runs the payswitch demo on embedded defaults (no configuration needed).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift run payswitch demo
