#!/usr/bin/env bash
# tests/bench/pictures.sh [RUNS] - benchmark --resize and --annotate (issue 12, item 6).
#
# A benchmark, not a test (ctest does not run it). Builds hubpredict, tests/tools/imgtool and
# tests/tools/peakrss in Release into build-bench/ (unless HUBPREDICT_BIN, HUBPREDICT_IMGTOOL and
# HUBPREDICT_PEAKRSS name them), then tests/bench/pictures.py measures, RUNS times each (default
# 7, at least 5), in alternating order, and reports medians:
#   (a) a 4000x3000 photo-like JPEG (about 5 MB) sent to the stand-in reading at 2 MB/s (a
#       16 Mbit/s uplink): bytes uploaded and wall time without and with --resize
#       (targets: >= 10x fewer bytes, >= 5x less time);
#   (b) a 1920x1080 JPEG with a 50-box detect answer and 100 ms of server latency: the time
#       --annotate adds (target <= 20 % of the call) and the peak RSS (target <= 3x the
#       decoded image, 6.2 MB).
# Exits 0 when every run worked, whether or not a target is met. BENCH_JSON=file also writes
# the figures as JSON.
set -euo pipefail

runs=${1:-7}
if ! [[ $runs =~ ^[0-9]+$ ]] || (( runs < 5 )); then
	echo "usage: $0 [RUNS]   (at least 5, default 7)" >&2
	exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if [[ -z ${HUBPREDICT_BIN:-} || -z ${HUBPREDICT_IMGTOOL:-} || -z ${HUBPREDICT_PEAKRSS:-} ]]; then
	echo "== building hubpredict, imgtool and peakrss (Release) in $root/build-bench"
	cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$root/build-bench" -j"$(nproc)" --target hubpredict imgtool peakrss >/dev/null
	export HUBPREDICT_BIN=${HUBPREDICT_BIN:-$root/build-bench/hubpredict}
	export HUBPREDICT_IMGTOOL=${HUBPREDICT_IMGTOOL:-$root/build-bench/tests/imgtool}
	export HUBPREDICT_PEAKRSS=${HUBPREDICT_PEAKRSS:-$root/build-bench/tests/peakrss}
fi
exec python3 "$here/pictures.py" "$runs"
