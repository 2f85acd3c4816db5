#!/usr/bin/env bash
# The project's Python environment (.venv), exactly as locked in uv.lock.
source "$(dirname "$0")/lib.sh"
export UV_CACHE_DIR="$CACHE/uv"
if ! command -v uv >/dev/null 2>&1; then
  say "installing uv from PyPI"
  python3 -m pip install -q "uv==0.13.8"
fi
cd "$ROOT"
uv sync --frozen --quiet
say "python environment ready: $ROOT/.venv"
