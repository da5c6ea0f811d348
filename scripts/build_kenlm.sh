#!/usr/bin/env bash
# Build KenLM's `lmplz` (estimates an ARPA n-gram model) and `build_binary` (ARPA -> mmap-able
# binary) from the kenlm source distribution on PyPI, and install them into a bin folder.
#
#   scripts/build_kenlm.sh [BIN_DIR]      BIN_DIR defaults to .venv/bin (or $KENLM_BIN_DIR)
#
# Idempotent: does nothing when both binaries already run from BIN_DIR. Installs the Debian build
# dependencies with apt-get when a header or tool is missing (needs root, as in `make setup` on a
# fresh machine and in the Dockerfile's builder stage). The sdist is pinned by version and SHA-256.
# The Python `kenlm` module used for scoring is the ufal.kenlm wheel; these binaries are only for
# training the reference model.
set -euo pipefail

KENLM_VERSION="${KENLM_VERSION:-0.3.0}"
KENLM_SHA256="${KENLM_SHA256:-c4628bb9fb63c8a6f9240035b8b037385cfc404cb72e933cf48878291edac1e8}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${1:-${KENLM_BIN_DIR:-$ROOT/.venv/bin}}"
if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"; else PYTHON="${PYTHON:-python3}"; fi
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

# build_binary --help exits 1; read its usage line to know the binary runs (shared libs present).
usage="$("$BIN_DIR/build_binary" --help 2>&1 || true)"
if [[ -x "$BIN_DIR/lmplz" && "$usage" == *"Usage:"* ]]; then
  echo "kenlm: lmplz and build_binary already in $BIN_DIR"
  exit 0
fi

# Debian packages (cmake needs boost's test framework too: kenlm's CMakeLists asks for it).
DEB_DEPS=(cmake build-essential libboost-program-options-dev libboost-system-dev libboost-thread-dev
          libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev)
missing=()
for pkg in "${DEB_DEPS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  echo "kenlm: installing build dependencies: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kenlm-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# PyPI only. --no-build-isolation: pip only reads the sdist's metadata here (the Python extension
# is not built), so it must not go and build cmake/setuptools from source for an isolated env.
"$PYTHON" -m pip download --quiet --no-binary kenlm --no-deps --no-build-isolation \
  "kenlm==${KENLM_VERSION}" -d "$WORK"
SDIST="$WORK/kenlm-${KENLM_VERSION}.tar.gz"
echo "${KENLM_SHA256}  ${SDIST}" | sha256sum -c --quiet -

tar -xzf "$SDIST" -C "$WORK"
cmake -S "$WORK/kenlm-${KENLM_VERSION}" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release \
  -DCOMPILE_TESTS=OFF -DENABLE_PYTHON=OFF >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log"; exit 1; }
cmake --build "$WORK/build" --target lmplz build_binary -j "$JOBS" >"$WORK/make.log" 2>&1 \
  || { tail -50 "$WORK/make.log"; exit 1; }

mkdir -p "$BIN_DIR"
install -m 0755 "$WORK/build/bin/lmplz" "$WORK/build/bin/build_binary" "$BIN_DIR/"
echo "kenlm ${KENLM_VERSION}: installed lmplz and build_binary into $BIN_DIR"
