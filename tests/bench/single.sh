#!/usr/bin/env bash
# tests/bench/single.sh [ITERATIONS] - benchmark one request: hubpredict vs curl vs Python.
#
# A benchmark, not a test (ctest does not run it). Builds hubpredict in Release into
# build-bench/ (unless HUBPREDICT_BIN names a binary), starts the stand-in API server on an
# ephemeral port, and has tests/bench/timeit.py time, in alternating shuffled order,
#   raw     hubpredict -u URL -f raw IMG
#   table   hubpredict -u URL IMG
#   curl    the curl command of API.md (plus -s)
#   python  the requests call of API.md, as python3 -c
# then peak memory uploading a 1 GiB sparse PNG. See tests/bench/README.md.
#
# Environment: HUBPREDICT_BIN (skip the build), BENCH_SEED (shuffle seed),
# BENCH_JSON (also write every figure to this file), BENCH_SKIP_BIG=1 (no 1 GiB upload).
set -euo pipefail

iterations=${1:-21}
if ! [[ $iterations =~ ^[0-9]+$ ]] || (( iterations < 15 )); then
	echo "usage: $0 [ITERATIONS]   (at least 15, default 21)" >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
key=0123456789abcdef0123456789abcdef0123456789
image=$root/examples/images/street.jpg

for tool in python3 curl; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done

if [[ -n ${HUBPREDICT_BIN:-} ]]; then
	bin=$HUBPREDICT_BIN
else
	echo "== building hubpredict (Release) in $root/build-bench"
	cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$root/build-bench" -j"$(nproc)" --target hubpredict >/dev/null
	bin=$root/build-bench/hubpredict
fi
[[ -x $bin ]] || { echo "bench: $bin is not an executable" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubpredict-bench.XXXXXX")
standin_pid=
cleanup() {
	if [[ -n $standin_pid ]]; then
		kill "$standin_pid" 2>/dev/null || true
		wait "$standin_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"
hp_start_standin "$root" "$tmp" || exit 1
standin_pid=$HP_STANDIN_PID
url=$HP_STANDIN_URL/v1/predict/detect

# A 1 GiB sparse file that starts as a valid PNG (signature and IHDR of cat.png).
big=
if [[ ${BENCH_SKIP_BIG:-0} != 1 ]]; then
	big=$tmp/big.png
	head -c 33 "$root/examples/images/cat.png" >"$big"
	truncate -s 1G "$big"
fi

args=(--bin "$bin" --url "$url" --key "$key" --image "$image" --iterations "$iterations"
      --big "$big" --tmp "$tmp")
[[ -n ${BENCH_SEED:-} ]] && args+=(--seed "$BENCH_SEED")
[[ -n ${BENCH_JSON:-} ]] && args+=(--json "$BENCH_JSON")
python3 "$here/timeit.py" "${args[@]}"
