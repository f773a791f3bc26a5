#!/usr/bin/env bash
# tests/bench/batch.sh [RUNS] - benchmark batches: hubpredict -j 8 vs curl in a loop and xargs -P 8.
#
# A benchmark, not a test (ctest does not run it). Builds hubpredict and tests/peakrss in Release
# into build-bench/ (unless HUBPREDICT_BIN and PEAKRSS_BIN name binaries), starts the stand-in
# API server on an ephemeral port (answering after 100 ms, then with no added latency), and,
# when nginx is installed, an nginx on another loopback port that answers every POST with a
# static detect document. tests/bench/batchtime.py then measures, medians of RUNS runs
# (default 3, at least 3), in shuffled order within each run:
#   1. 200 images, 100 ms latency: hubpredict -j 8 -f jsonl -q --files-from LIST versus the
#      curl command of API.md run once per image by a shell loop, and by xargs -P 8;
#   2. the same 200 images, no latency: requests/s of hubpredict -j 8 versus xargs -P 8 curl,
#      against the stand-in and against nginx;
#   3. peak RSS of hubpredict -j 8 over a 10,000-path list (and a 200-path one; and 10,000
#      paths against nginx);
#   4. start-up: hubpredict --version versus curl --version, 51 alternating runs.
# See tests/bench/README.md.
#
# Environment: HUBPREDICT_BIN, PEAKRSS_BIN (skip the build), BENCH_SEED (shuffle seed),
# BENCH_JSON (also write every figure to this file), BENCH_NGINX=0 (skip nginx),
# BENCH_NGINX_BIN (the nginx to run), BENCH_NGINX_WORKERS (default 1), BENCH_KEEP (a folder
# for the output of failed runs), BENCH_STARTUP_RUNS (default 51, at least 50),
# BENCH_SKIP_10K=1 (no 10,000-path runs).
set -euo pipefail

runs=${1:-3}
if ! [[ $runs =~ ^[0-9]+$ ]] || (( runs < 3 )); then
	echo "usage: $0 [RUNS]   (at least 3, default 3)" >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
key=0123456789abcdef0123456789abcdef0123456789
image=$root/examples/images/street.jpg
latency=0.1

for tool in python3 curl xargs bash; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done

# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"
hp_bench_binaries "$root"
for b in "$bin" "$peakrss"; do
	[[ -x $b ]] || { echo "bench: $b is not an executable" >&2; exit 2; }
done

hp_bench_tmp batch

# -- the stand-in ------------------------------------------------------------------------------
hp_start_standin "$root" "$tmp" --latency "$latency" || exit 1
standin_pid=$HP_STANDIN_PID
url=$HP_STANDIN_URL/v1/predict/detect

# -- nginx, when installed: a fast server answering every POST with a static detect document ----
nginx_url=
nginx_note=
# shellcheck source=tests/bench/nginx.sh
. "$here/nginx.sh"
if [[ ${BENCH_NGINX:-1} == 0 ]]; then
	nginx_note="skipped (BENCH_NGINX=0)"
elif [[ -z $nginx_bin ]]; then
	nginx_note="nginx is not installed (apt-get install nginx-light): skipped"
else
	start_nginx || true
fi

args=(--bin "$bin" --peakrss "$peakrss" --url "$url" --key "$key" --image "$image"
      --runs "$runs" --latency "$latency" --tmp "$tmp" --standin-pid "$standin_pid"
      --startup-runs "${BENCH_STARTUP_RUNS:-51}")
if [[ -n $nginx_url ]]; then
	args+=(--nginx-url "$nginx_url" --nginx-pid "$nginx_pid" --nginx-log "$tmp/nginx/access.log"
	       --nginx-version "$("$nginx_bin" -v 2>&1 | head -n 1)")
else
	args+=(--nginx-note "$nginx_note")
fi
[[ -n ${BENCH_SEED:-} ]] && args+=(--seed "$BENCH_SEED")
[[ -n ${BENCH_JSON:-} ]] && args+=(--json "$BENCH_JSON")
[[ ${BENCH_SKIP_10K:-0} == 1 ]] && args+=(--big-count 0)
python3 "$here/batchtime.py" "${args[@]}"
