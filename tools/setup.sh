#!/usr/bin/env bash
# Installs what payswitch needs from Debian's packages, only when something is missing.
# Safe to run again; does nothing on a machine that has everything.
set -euo pipefail
packages=(pkg-config libssl-dev libxml2-dev libxml2-utils libsqlite3-dev python3-venv)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.1 or later is needed)"; exit 1; }
