#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build directory and runs each for a
# bounded time. Exits non-zero when a fuzzer finds a crash, a sanitizer error or a broken
# invariant; the reproducer is left in the work directory and named in the output.
#
#   tests/fuzz/run.sh [seconds per fuzzer, default 30]
#   env: FUZZ_BUILD_DIR (default /tmp/streams-fuzz-build), FUZZ_WORK_DIR (default
#        $FUZZ_BUILD_DIR/work), FUZZ_CXX (default: the newest clang++ found),
#        FUZZ_TARGETS (default: all of them, as listed in CMakeLists.txt)
#
# Needs a clang whose C++23 mode gets std::expected from libstdc++ 12, i.e. clang 17 or later
# (clang 14 reports __cpp_concepts 201907 and libstdc++ hides <expected>), with libFuzzer
# (Debian 12: apt-get install clang-19 libclang-rt-19-dev), and Qt 6 Core.
# Reproduce a finding: $FUZZ_BUILD_DIR/fuzz_<target> <artifact file>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${1:-30}"
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

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTREAMS_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" -j "${FUZZ_BUILD_JOBS:-2}"

# Every target CMakeLists.txt builds (STREAMS_FUZZ_TARGETS), unless FUZZ_TARGETS picks some.
all_targets=$(sed -n 's/^set(STREAMS_FUZZ_TARGETS \(.*\))$/\1/p' "$here/CMakeLists.txt")
targets=(${FUZZ_TARGETS:-$all_targets})
status=0
for target in "${targets[@]}"; do
    # New inputs go to the work corpus (first directory); the committed seeds are only read.
    mkdir -p "$work/corpus/$target" "$work/artifacts"
    log="$work/$target.log"
    echo "== fuzz_$target for ${seconds}s (log: $log)"
    dict=()
    [[ -f "$here/$target.dict" ]] && dict=(-dict="$here/$target.dict")
    if "$build/fuzz_$target" "$work/corpus/$target" "$here/corpus/$target" \
            "${dict[@]}" -max_total_time="$seconds" -max_len=8192 \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$work/artifacts/$target-" >"$log" 2>&1; then
        grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log" || true
        echo "   corpus: $(find "$work/corpus/$target" -type f | wc -l) inputs in $work/corpus/$target"
    else
        status=1
        echo "!! fuzz_$target FAILED:" >&2
        grep -E "ERROR|invariant broken|runtime error|Test unit written" "$log" | head -20 >&2
    fi
done
exit "$status"
