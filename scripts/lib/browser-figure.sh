# Shared by the scripts that measure the web view in headless Chromium (view-fps.sh,
# view-ring.sh): run one browser test of crates/cli/tests/view.rs, keep the line of
# key=value figures it prints, and note the machine's load when it ended. Sourced, not run.
#
#   measure TEST PREFIX   runs TEST (any environment it needs is the caller's) and sets
#                         `line` to the test's first line starting with PREFIX
#   field NAME            the value of NAME=... in that line
#   machine_line          "machine: N cores, load average ..." with whether the machine
#                         was saturated (1-minute load average at least its cores): a
#                         figure taken on a busy machine says so

measure() {
    local test=$1 prefix=$2 log
    log=$(mktemp)
    cargo test --release -p p2plab --test view "$test" \
        -- --exact --nocapture >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
    line=$(grep -m1 "^$prefix " "$log") || {
        echo "the test printed no $prefix line (is chromium installed? scripts/install-chromium.sh)" >&2
        cat "$log" >&2
        rm -f "$log"
        exit 1
    }
    rm -f "$log"
    read -r load1 load5 load15 _ < /proc/loadavg
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }

machine_line() {
    local cores saturated
    cores=$(nproc)
    saturated=$(awk -v l="$load1" -v c="$cores" 'BEGIN { print (l >= c) ? "yes" : "no" }')
    echo "machine: $cores cores, load average $load1 $load5 $load15 (1, 5, 15 min) at the end; saturated (1-min load >= cores): $saturated"
}
