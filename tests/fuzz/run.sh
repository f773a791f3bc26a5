#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] - build the libFuzzer targets with clang into
# build-fuzz/ and fuzz each one for SECONDS (default 30), both at once.
#
# First every saved crash (tests/fuzz/crashes/) and every seed is replayed
# once (regress.sh); a failure there counts as a regression. Then the seed
# corpora (tests/fuzz/corpus/) are copied into build-fuzz/corpus/,
# which the fuzzers grow from run to run; the committed corpus never changes.
# Crashes, leaks, timeouts and failed output checks are written to
# build-fuzz/artifacts/ and make the script exit 1. Replay one with
#   build-fuzz/tests/fuzz/fuzz_decode build-fuzz/artifacts/decode-crash-...
# minimise it with -minimize_crash=1 -runs=100000, and save it under
# tests/fuzz/crashes/<target>/ with a name that says what it is.
#
# Exits 0 with a message when clang or its libFuzzer runtime is missing.
#
# Environment: HP_FUZZ_SKIP (checks to turn off, see fuzz_decode.c),
# HP_FUZZ_CC (default clang), HP_FUZZ_SRC (the source tree, default this
# repository), HP_FUZZ_BUILD (default $HP_FUZZ_SRC/build-fuzz).
set -uo pipefail

secs=${1:-30}
case $secs in
'' | *[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
root=${HP_FUZZ_SRC:-$(cd "$here/../.." && pwd)}
build=${HP_FUZZ_BUILD:-$root/build-fuzz}
cc=${HP_FUZZ_CC:-clang}

skip() {
	echo "fuzz: clang with libFuzzer not available, skipped"
	exit 0
}

# clang, and a trivial fuzzer that links (the runtime is a separate package
# on some systems)
command -v "$cc" >/dev/null 2>&1 || skip
probe=$(mktemp -d "${TMPDIR:-/tmp}/hp-fuzz-probe.XXXXXX") || exit 1
trap 'rm -rf "$probe"' EXIT
cat >"$probe/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return n > 0 && d[0] == 0; }
EOF
"$cc" -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" >/dev/null 2>&1 || skip
"$probe/probe" -runs=10 >/dev/null 2>&1 || skip

mkdir -p "$build"
echo "fuzz: building in $build"
if ! cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DHUBPREDICT_FUZZ=ON -DHUBPREDICT_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1; then
	cat "$build/configure.log" >&2
	echo "fuzz: configuring failed" >&2
	exit 1
fi
if ! cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target fuzz_decode fuzz_retry_headers fuzz_image fuzz_video \
	>"$build/build.log" 2>&1; then
	cat "$build/build.log" >&2
	echo "fuzz: building failed" >&2
	exit 1
fi

artifacts="$build/artifacts"
rm -rf "$artifacts" "$build/logs"
mkdir -p "$artifacts" "$build/logs"

# First the saved crashes and the seeds, once each (tests/fuzz/regress.sh).
regressions=0
if ! sh "$here/regress.sh" "$build/tests/fuzz/fuzz_decode" "$build/tests/fuzz/fuzz_retry_headers" \
	"$build/tests/fuzz/fuzz_image" "$build/tests/fuzz/fuzz_video" \
	>"$build/logs/regress.log" 2>&1; then
	regressions=$(sed -n 's/^fuzz-regress: .* passed, \([0-9]*\) failed$/\1/p' "$build/logs/regress.log")
	regressions=${regressions:-1}
	echo "fuzz: inputs in tests/fuzz/crashes/ or corpus/ still fail:" >&2
	grep -E "^(FAIL|SUMMARY|FUZZ CHECK)|runtime error" "$build/logs/regress.log" >&2
fi

# run_target NAME BINARY DICT SEEDS: fuzz in the background, log to logs/NAME.log
pids=()
run_target() {
	local name=$1 bin=$2 dict=$3 seeds=$4
	local corpus="$build/corpus/$name"
	mkdir -p "$corpus"
	cp -n "$seeds"/* "$corpus"/ 2>/dev/null
	# -timeout: a hang, not a big picture. The four targets share the cores, and a legal
	# 100-megapixel picture from a few hundred bytes (a GIF's screen, a PNG's zlib) takes
	# seconds to decode under ASan for each of fuzz_image's three decodes; 10 s timed out
	(
		"$bin" -max_total_time="$secs" -dict="$dict" -rss_limit_mb=2048 -timeout=30 \
			-print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$corpus" \
			>"$build/logs/$name.log" 2>&1
		echo $? >"$build/logs/$name.rc"
	) &
	pids+=($!)
}

echo "fuzz: running fuzz_decode, fuzz_retry_headers, fuzz_image and fuzz_video for ${secs} s each"
run_target decode "$build/tests/fuzz/fuzz_decode" "$here/decode.dict" "$here/corpus/decode"
run_target headers "$build/tests/fuzz/fuzz_retry_headers" "$here/headers.dict" "$here/corpus/headers"
run_target image "$build/tests/fuzz/fuzz_image" "$here/image.dict" "$here/corpus/image"
run_target video "$build/tests/fuzz/fuzz_video" "$here/video.dict" "$here/corpus/video"
wait "${pids[@]}"

failed=0
summary=()
for name in decode headers image video; do
	log="$build/logs/$name.log"
	rc=$(cat "$build/logs/$name.rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	summary+=("$name ${execs:-0} execs")
	found=$(find "$artifacts" -name "$name-*" \( -name "$name-crash-*" -o -name "$name-leak-*" \
		-o -name "$name-timeout-*" -o -name "$name-oom-*" \) | wc -l)
	if [ "$found" -gt 0 ] || [ "$rc" != 0 ]; then
		[ "$found" -gt 0 ] || found=1
		failed=$((failed + found))
		echo "fuzz: $name failed (exit $rc); log $log:" >&2
		grep -E "^(SUMMARY|FUZZ CHECK|==[0-9]+==ERROR)|runtime error|artifact_prefix|Test unit written" "$log" >&2
	fi
done
echo "fuzz: ${summary[0]}, ${summary[1]}, ${summary[2]}, ${summary[3]}, $failed crashes, $regressions regressions"
[ "$failed" -eq 0 ] && [ "$regressions" -eq 0 ]
