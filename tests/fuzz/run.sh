#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build directory and fuzzes each one,
# under ASan and UBSan, starting from its committed seeds (corpus/<target>/) and past findings
# (regressions/<target>/). Two modes:
#
#   tests/fuzz/run.sh --runs N [--seed S]   bounded and repeatable: each target runs exactly N
#       inputs with the fixed seed S (default 1), from a fresh work corpus every time, with Qt's
#       hash seed fixed. The same commit explores the same inputs on every machine, so it passes
#       or fails the same way. This is what `tools/dev test` runs.
#   tests/fuzz/run.sh --seconds T            open-ended: T seconds per target with a random seed,
#       keeping what it learns in a work corpus across runs. This is `tools/dev fuzz [SECONDS]`.
#
# env: FUZZ_BUILD_DIR (default /tmp/streams-fuzz-build), FUZZ_WORK_DIR (default
#      $FUZZ_BUILD_DIR/work), FUZZ_CXX (default: the newest usable clang++),
#      FUZZ_TARGETS (default: every target in CMakeLists.txt), FUZZ_BUILD_JOBS (default 2)
#
# Exits non-zero when a fuzzer finds a crash, a sanitizer error or a broken invariant. The input
# is left in $FUZZ_WORK_DIR/artifacts and named in the output, with the steps to make it a
# committed regression input (tests/fuzz/README.md).
#
# Needs a clang whose C++23 mode gets std::expected from libstdc++ 12, i.e. clang 17 or later
# (clang 14 reports __cpp_concepts 201907 and libstdc++ hides <expected>), with libFuzzer
# (Debian 12: apt-get install clang-19 libclang-rt-19-dev), and Qt 6 Core.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

runs=""
seconds=""
seed=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs="${2:?}"; shift 2 ;;
        --seconds) seconds="${2:?}"; shift 2 ;;
        --seed) seed="${2:?}"; shift 2 ;;
        *) usage ;;
    esac
done
if [[ -n "$runs" && -n "$seconds" ]] || [[ -z "$runs" && -z "$seconds" ]]; then
    usage
fi
build="${FUZZ_BUILD_DIR:-/tmp/streams-fuzz-build}"
work="${FUZZ_WORK_DIR:-$build/work}"

usable() {
    printf '%s\n' '#include <expected>' '#include <cstdint>' '#include <cstddef>' \
        'extern "C" int LLVMFuzzerTestOneInput(const uint8_t *, size_t)' \
        '{ std::expected<int, int> e; return *e; }' |
        "$1" -std=c++2b -fsanitize=fuzzer -x c++ - -o /dev/null >/dev/null 2>&1
}
cxx="${FUZZ_CXX:-}"
if [[ -z "$cxx" ]]; then
    for candidate in clang++-21 clang++-20 clang++-19 clang++-18 clang++-17 clang++; do
        if command -v "$candidate" >/dev/null && usable "$candidate"; then
            cxx="$candidate"
            break
        fi
    done
fi
if [[ -z "$cxx" ]] || ! usable "$cxx"; then
    echo "run.sh: no clang with libFuzzer and std::expected found${cxx:+ ($cxx fails)};" \
         "Debian 12: apt-get install clang-19 libclang-rt-19-dev" >&2
    exit 2
fi

# The bounded runs use fuzzers built to repeat: without what depends on where things lie in
# memory (CMakeLists.txt says what and why). Open-ended runs, which need not repeat, keep it,
# in fuzzers built in a directory of their own.
bin="$build"
repeatable=ON
if [[ -n "$seconds" ]]; then
    bin="$build/open-ended"
    repeatable=OFF
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$here" -B "$bin" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTREAMS_BUILD_FUZZERS=ON \
      -DSTREAMS_FUZZ_REPEATABLE="$repeatable" >/dev/null
cmake --build "$bin" -j "${FUZZ_BUILD_JOBS:-2}"

# Every target CMakeLists.txt builds (STREAMS_FUZZ_TARGETS), unless FUZZ_TARGETS picks some.
all_targets=$(sed -n 's/^set(STREAMS_FUZZ_TARGETS \(.*\))$/\1/p' "$here/CMakeLists.txt")
read -r -a targets <<<"${FUZZ_TARGETS:-$all_targets}"
# Qt seeds its hashes at random per process; fixed, a QHash iterates the same way every run.
export QT_HASH_SEED=0
mkdir -p "$work/artifacts"
status=0
for target in "${targets[@]}"; do
    inputs=("$here/corpus/$target")
    [[ -d "$here/regressions/$target" ]] && inputs+=("$here/regressions/$target")
    if [[ -n "$runs" ]]; then
        # A fresh corpus each time: what an earlier run found must not steer this one.
        corpus="$work/bounded/$target"
        rm -rf "$corpus"
        # libFuzzer's check for a leak after each input reruns an input that ended with more
        # allocations than frees, and how many it reruns varies from run to run; each rerun
        # moves the run counter that sets the mutation length limit, so two runs part ways.
        # Without it a leak still fails the run, when LeakSanitizer checks at exit.
        bounds=(-runs="$runs" -seed="$seed" -detect_leaks=0)
        what="$runs runs, seed $seed"
    else
        corpus="$work/corpus/$target"
        bounds=(-max_total_time="$seconds")
        what="${seconds}s"
    fi
    # New inputs go to the first directory; the committed ones are only read.
    mkdir -p "$corpus"
    log="$work/$target.log"
    dict=()
    [[ -f "$here/$target.dict" ]] && dict=(-dict="$here/$target.dict")
    started=$SECONDS
    if "$bin/fuzz_$target" "$corpus" "${inputs[@]}" "${dict[@]}" "${bounds[@]}" \
            -reload=0 -max_len=8192 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$work/artifacts/$target-" >"$log" 2>&1; then
        printf '   fuzz_%-13s %-26s %4ds  %s\n' "$target" "$what" $((SECONDS - started)) \
            "$(grep -oE '^#[0-9]+.*(DONE|cov: [0-9]+ ft: [0-9]+ corp: [0-9]+)' "$log" | tail -1 |
                grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)"
    else
        status=1
        echo "!! fuzz_$target FAILED ($what; log: $log):" >&2
        grep -E "ERROR|invariant broken|runtime error|Test unit written" "$log" | head -20 >&2
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        if [[ -n "$artifact" ]]; then
            echo "   reproduce: $bin/fuzz_$target $artifact" >&2
            echo "   then fix it and commit the input as tests/fuzz/regressions/$target/<what-it-found>" >&2
        elif grep -q "LeakSanitizer" "$log"; then
            echo "   a leak found at exit, with no input named: $bin/fuzz_$target -runs=0" \
                 "$corpus checks each input it kept and names the one that leaks" >&2
        fi
    fi
done
exit "$status"
