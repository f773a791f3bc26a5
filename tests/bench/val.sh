#!/usr/bin/env bash
# tests/bench/val.sh - the cost of hubpredict val's metrics after the last answer.
#
# A benchmark, not a test (ctest does not run it). Builds the valbench driver
# (tests/tools/valbench.c) in Release into build-bench/ (unless VALBENCH names
# one) and feeds the metrics accumulator generated detections without a server:
#   20,000 images x 50 predictions, 80 classes and 1 class: target <= 1 s
#   100,000 images x 100 predictions, 80 classes and 1 class: target < 200 MiB
# Each line gives the time to add the images (the per-answer work, spread over
# the run), the time of the final step (what the user waits for after the last
# answer) and the process's peak RSS. Exits 1 when a target is missed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${VALBENCH:-}
if [[ -z $bin ]]; then
	cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$root/build-bench" --target valbench -j2 >/dev/null
	bin=$root/build-bench/tests/valbench
fi

fail=0
run() {         # IMAGES PREDS CLASSES MAX_SECONDS MAX_MIB
	local out secs mib
	out=$("$bin" "$1" "$2" "$3")
	echo "$out"
	secs=$(sed -E 's/.*last answer ([0-9.]+) s.*/\1/' <<<"$out")
	mib=$(sed -E 's/.*peak RSS ([0-9.]+) MiB.*/\1/' <<<"$out")
	if awk -v s="$secs" -v m="$mib" -v ms="$4" -v mm="$5" 'BEGIN { exit !(s > ms || m > mm) }'
	then
		echo "  MISS: target <= $4 s after the last answer, <= $5 MiB"
		fail=1
	fi
}
run 20000 50 80 1 200
run 20000 50 1 1 200
run 100000 100 80 5 200
run 100000 100 1 5 200
exit $fail
