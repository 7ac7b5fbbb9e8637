#!/usr/bin/env bash
# The whole test suite: unit tests on the in-memory network, integration tests on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release "$@"
