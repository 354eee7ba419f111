#!/usr/bin/env bash
# Installs the Debian packages justgate builds and tests against, only those that are missing
# (libssl-dev for libcrypto's SHA-256 headers; chromium renders the audit HTML report in a test).
# Usage: scripts/install-deps.sh [extra packages...]
set -euo pipefail

packages=(libcurl4-openssl-dev libssl-dev pkg-config openssl curl redis-server chromium nginx libnginx-mod-http-echo "$@")
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing: ${missing[*]}"
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
