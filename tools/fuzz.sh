#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of the Fuzz package (see Fuzz/README.md).
#
#   tools/fuzz.sh build                      build every target (release, fuzzer + address sanitizers)
#   tools/fuzz.sh TARGET SECONDS             build, then fuzz one target for SECONDS
#   tools/fuzz.sh all SECONDS                build, then fuzz each target in turn for SECONDS
#   tools/fuzz.sh regress [TARGET]           run the kept crashers (and the seeds) once each
#   tools/fuzz.sh minimize TARGET FILE [S]   minimize a crasher (-minimize_crash=1, S seconds, default 60)
#
# The working corpus is Fuzz/.work/TARGET (merged with the seeds of Fuzz/Corpus/TARGET on every
# run), the log Fuzz/.work/TARGET.log. Crashes, leaks, timeouts and out-of-memory inputs are written
# to Fuzz/Crashers/TARGET/. Prints one summary line per target; exits 1 when a run produced any.
#
# Environment: FUZZ_ARGS adds libFuzzer options; FUZZ_KEEP_GOING=1 runs in fork mode and carries on
# after a crash (-fork=1 -ignore_crashes=1 …), so that one known crash does not end the run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Swift's own crash handler would catch the trap before libFuzzer and ASan (and trip ASan itself).
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
FUZZ=$ROOT/Fuzz
BIN=$FUZZ/.build/release
TARGETS=(iso8583 iso8583map framing iso20022 rules dialect behaviour)

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

build() {
    swift build --package-path "$FUZZ" --scratch-path "$FUZZ/.build" -c release \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
}

known_target() {
    local target
    for target in "${TARGETS[@]}"; do [[ $target == "$1" ]] && return 0; done
    echo "fuzz.sh: unknown target '$1' (one of: ${TARGETS[*]})" >&2
    exit 2
}

artifacts() { find "$FUZZ/Crashers/$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null | sort; }

# Prints the failure message and the top of the first stack in a log (without the sanitizer's and
# libFuzzer's own frames), demangled.
stack_top() {
    grep -a -m 1 -E 'Fatal error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$1" | cut -c1-300 | sed 's/^/    /'
    grep -a -E '^ +#[0-9]+ ' "$1" | grep -vE 'compiler-rt/lib|libc\.so|_assertionFailure|__sanitizer' | head -n 15 \
        | sed -E 's/ \(BuildId: [0-9a-f]+\)//' | swift demangle --simplified | sed 's/^/    /'
}

# Seeds kept elsewhere in the repository, read in place rather than copied into Fuzz/Corpus: the
# routing examples (their cases hold test card numbers, which stay in test data).
extra_seeds() {
    case $1 in
        rules) echo "$ROOT/specs/routing" ;;
    esac
}

run() {
    local target=$1 seconds=$2
    local work=$FUZZ/.work/$target crashers=$FUZZ/Crashers/$target seeds=$FUZZ/Corpus/$target
    # A log per run (renamed at the end), so that two runs of one target never interleave.
    local log=$FUZZ/.work/$target.$$.log dict=$FUZZ/Dictionaries/$target.dict
    mkdir -p "$work" "$crashers" "$seeds"
    local before after
    before=$(artifacts "$target")
    local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -keep_seed=1
                   -artifact_prefix="$crashers/")
    [[ -f $dict ]] && options+=(-dict="$dict")
    [[ ${FUZZ_KEEP_GOING:-0} == 1 ]] && options+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    # shellcheck disable=SC2206
    options+=(${FUZZ_ARGS:-})
    local status=0
    local extra
    extra=$(extra_seeds "$target")
    "$BIN/$target" "${options[@]}" "$work" "$seeds" ${extra:+"$extra"} >"$log" 2>&1 || status=$?
    after=$(artifacts "$target")
    local new
    new=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')

    mv "$log" "$FUZZ/.work/$target.log"
    log=$FUZZ/.work/$target.log
    # The last progress line (DONE when the time ran out) has cov, ft and corp; final stats the totals.
    local progress execs rate cov ft corp
    progress=$(grep -a -E '^#[0-9]+' "$log" | grep -a 'cov:' | tail -n 1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    [[ -z $execs ]] && execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$progress")
    [[ -z $rate ]] && rate=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$progress")
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$progress")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$progress")
    corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$progress")
    local count
    count=$(sed '/^$/d' <<<"$new" | wc -l)
    printf '%-10s %4ss  execs %-10s exec/s %-7s cov %-6s ft %-7s corpus %-6s crashes %s\n' \
        "$target" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$count"
    if (( count > 0 )); then
        sed 's/^/    new: /' <<<"$new"
        stack_top "$log"
        return 1
    fi
    if (( status != 0 )); then
        echo "    libFuzzer exited with status $status without an artifact; see $log"
        return 1
    fi
    return 0
}

regress() {
    local target failed=0
    for target in "$@"; do
        local files=()
        mapfile -t files < <(find "$FUZZ/Crashers/$target" "$FUZZ/Corpus/$target" $(extra_seeds "$target") -maxdepth 1 -type f 2>/dev/null | sort)
        (( ${#files[@]} == 0 )) && continue
        if "$BIN/$target" "${files[@]}" >"$FUZZ/.work/$target.regress.log" 2>&1; then
            echo "$target: ${#files[@]} inputs pass"
        else
            echo "$target: FAILS (log: Fuzz/.work/$target.regress.log)"
            stack_top "$FUZZ/.work/$target.regress.log"
            failed=1
        fi
    done
    return $failed
}

(( $# >= 1 )) || usage
mkdir -p "$FUZZ/.work"
case $1 in
    build)
        build
        ;;
    all)
        (( $# == 2 )) || usage
        build
        failed=0
        for target in "${TARGETS[@]}"; do run "$target" "$2" || failed=1; done
        exit $failed
        ;;
    regress)
        build
        if (( $# == 2 )); then known_target "$2"; regress "$2"; else regress "${TARGETS[@]}"; fi
        ;;
    minimize)
        (( $# >= 3 )) || usage
        known_target "$2"
        build
        input=$3
        output=$FUZZ/Crashers/$2/minimized-$(basename "$input")
        "$BIN/$2" -minimize_crash=1 -max_total_time="${4:-60}" -timeout=10 -rss_limit_mb=2048 \
            -exact_artifact_path="$output" "$input" >"$FUZZ/.work/$2.minimize.log" 2>&1 || true
        [[ -f $output ]] || { echo "fuzz.sh: no minimized input (see Fuzz/.work/$2.minimize.log)" >&2; exit 1; }
        "$BIN/$2" -runs=1 "$output" >"$FUZZ/.work/$2.minimized.log" 2>&1 || true
        echo "$output ($(wc -c <"$output") bytes): $(od -An -tx1 -v "$output" | tr -d ' \n' | cut -c1-400)"
        stack_top "$FUZZ/.work/$2.minimized.log"
        ;;
    *)
        (( $# == 2 )) || usage
        known_target "$1"
        build
        run "$1" "$2"
        ;;
esac
