#!/usr/bin/env bash
# Builds the book in docs/ into docs/book/, installing mdBook first if it is missing.
# The figures and numbers it shows come from scripts/docs-figures.sh (committed output).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v mdbook >/dev/null 2>&1; then
    cargo install mdbook --locked
fi
mdbook build docs
echo "open docs/book/index.html"
