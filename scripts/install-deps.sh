#!/usr/bin/env bash
# Installs Debian packages justgate needs, only those that are missing.
# Usage: scripts/install-deps.sh                 what building and running need (make build, make run, make dist)
#        scripts/install-deps.sh --test          that, and what every test needs (make test)
#        scripts/install-deps.sh [--test] PKG... that, and these packages too
# Building and running: libcurl (the upstream client), libssl-dev (libcrypto's SHA-256 headers), pkg-config.
# Tests only: redis-server (shared limits), chromium (renders the audit HTML report), nginx and its echo
# module (the deploy/ nginx config, the TLS upstream stand-in), systemd (systemd-analyze on the unit), openssl
# (test certificates), curl, git (the Dockerfile's COPY sources must be tracked), util-linux (unshare, to
# run dist/justgate with the toolchain hidden), prometheus (promtool checks deploy/prometheus's alert rules and
# the dashboard's queries; Debian has promtool only in this package, which with --no-install-recommends adds
# about a dozen small libjs-* packages. On a host with systemd, installing it also enables and starts a
# Prometheus server on :9090, the port of the example configs' admin_listen: `systemctl disable --now prometheus`).
set -euo pipefail

packages=(libcurl4-openssl-dev libssl-dev pkg-config)
test_packages=(redis-server chromium nginx libnginx-mod-http-echo systemd openssl curl git util-linux prometheus)
if [ "${1:-}" = "--test" ]; then
    shift
    packages+=("${test_packages[@]}")
fi
packages+=("$@")

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
