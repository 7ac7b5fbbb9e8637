#!/usr/bin/env bash
# Fuzzes every decoder for a bounded time: runs each cargo-fuzz target in fuzz/ (libFuzzer)
# for SECONDS (default 60, or $FUZZ_SECONDS), then prints a table of executions, coverage
# and crashes. Exits 1 if any target crashed, 2 if a step failed, and prints where each
# crashing input was written. Not run by CI: it needs a nightly compiler and minutes.
#
#   scripts/fuzz.sh                        every target, 60 s each
#   scripts/fuzz.sh 10                     every target, 10 s each
#   scripts/fuzz.sh 300 chord_frame        one target, 5 minutes
#
# Environment: CARGO_TARGET_DIR (where to build; the default is fuzz/target),
# FUZZ_SANITIZER (address, the default, or none for more executions per second).
# Each target starts from fuzz/corpus/<target>: the committed seed-* files and whatever
# earlier runs added there (ignored by git). Logs go to <target dir>/fuzz-logs/.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "fuzz.sh: $*" >&2
    exit 2
}

seconds="${1:-${FUZZ_SECONDS:-60}}"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || fail "the time per target must be whole seconds, got '$seconds'"
shift $(($# > 0 ? 1 : 0))
sanitizer="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version > /dev/null 2>&1; then
    echo "cargo-fuzz is missing: installing it from crates.io"
    cargo install cargo-fuzz --locked || fail "could not install cargo-fuzz (cargo install cargo-fuzz --locked)"
fi

# libFuzzer instrumentation needs nightly flags; without a nightly toolchain, let stable
# accept them.
if command -v rustup > /dev/null && rustup toolchain list | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    echo "no nightly toolchain: building with stable and RUSTC_BOOTSTRAP=1"
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

known=$("${fuzz[@]}" list) || fail "could not list the fuzz targets (cargo fuzz list)"
[[ -n $known ]] || fail "cargo fuzz list found no targets in fuzz/"
if (($# > 0)); then
    targets=("$@")
    for target in "${targets[@]}"; do
        grep -qx -- "$target" <<< "$known" || fail "no fuzz target '$target'; there are: ${known//$'\n'/ }"
    done
else
    mapfile -t targets <<< "$known"
fi

target_dir="${CARGO_TARGET_DIR:-fuzz/target}"
logs="$target_dir/fuzz-logs"
mkdir -p "$logs" || fail "cannot create the log folder $logs"

echo "building the fuzz targets (sanitizer: $sanitizer)"
"${fuzz[@]}" build --sanitizer "$sanitizer" || fail "the fuzz targets do not build (cargo fuzz build)"

crashed=0
broken=0
rows=()
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    echo "fuzzing $target for ${seconds}s (log: $log)"
    status=0
    "${fuzz[@]}" run --sanitizer "$sanitizer" "$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 > "$log" 2>&1 || status=$?

    # libFuzzer's final statistics, else its last status line (`#N DONE cov: C ...`).
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [[ -n $execs ]] || execs=$(sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)
    cov=$(sed -n 's/^#[0-9]*[[:space:]].*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    inputs=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")

    if ((status == 0)); then
        result="ok"
    elif [[ -n $inputs ]]; then
        result="CRASHED"
        crashed=$((crashed + 1))
        echo "  $target crashed; the input that did it:" >&2
        sed 's/^/    /' <<< "$inputs" >&2
        grep -m 2 -A 1 -E "panicked at|^==[0-9]+==ERROR" "$log" | sed 's/^/    /' >&2 || true
        echo "    reproduce: ${fuzz[*]} run --sanitizer $sanitizer $target <input>" >&2
    else
        result="FAILED"
        broken=$((broken + 1))
        echo "  $target stopped with status $status before fuzzing; the end of its log:" >&2
        { grep -m 5 -iE '^error' "$log" || tail -n 15 "$log"; } | sed 's/^/    /' >&2
    fi
    rows+=("$(printf '%-26s %12s %6s  %s' "$target" "${execs:-?}" "${cov:-?}" "$result")")
done

echo
printf '%-26s %12s %6s  %s\n' target executions cov result
printf '%s\n' "${rows[@]}"
echo "(${seconds}s per target, sanitizer $sanitizer)"

if ((broken > 0)); then
    fail "$broken target(s) could not be run"
fi
if ((crashed > 0)); then
    echo "fuzz.sh: $crashed target(s) crashed" >&2
    exit 1
fi
