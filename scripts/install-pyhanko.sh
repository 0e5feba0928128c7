#!/usr/bin/env bash
# Installs pyHanko (PyPI `pyhanko`, `pyhanko-certvalidator` and its command line
# `pyhanko-cli`) into a virtual environment under target/tools/pyhanko: the independent PDF
# signature validator that tests/tests/pdf.rs checks camr's seals with (integrity, trust path
# to the softca root, modifications after signing).
#
# Needs python3 with the venv module (Debian `python3-venv`). Idempotent: does nothing when
# target/tools/pyhanko/bin/pyhanko runs.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/tools/pyhanko"
bin="$venv/bin/pyhanko"

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "install-pyhanko: $bin already installed ($("$bin" --version 2>/dev/null | head -n1))"
  exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  pyhanko==0.38.0 pyhanko-certvalidator==0.33.0 pyhanko-cli==0.6.0
"$bin" --version
