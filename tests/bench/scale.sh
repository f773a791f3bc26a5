#!/usr/bin/env bash
# tests/bench/scale.sh [RUNS] - issue 13's scale figures: 100,000 inputs (hard links of one photo)
# through --shard, --resume and --cache against nginx, a server fast enough that the client sets
# the pace. A benchmark, not a test (ctest does not run it): it exits 0 when every run worked, even
# when a target is missed, and 1 when a run failed.
#
#   1. four shards (--shard K/4, -j 8, each with its own --resume log, one shared --cache) run at
#      once over one 100,000-path list: peak RSS of each client (target <= 32 MiB), and the union
#      of the four logs covers the list exactly once;
#   2. resume start-up: the four logs concatenated into one 100,000-line LOG, then
#      `--resume LOG` over the whole list, which has nothing left to send: wall time (target <= 1 s);
#   3. cache hits: the whole list again with only --cache (every input a hit): inputs/s (target >=
#      5,000), against the same list sent to nginx without a cache for reference.
# Medians of RUNS runs (default 3) for 2 and 3. See tests/bench/README.md.
#
# Environment: HUBPREDICT_BIN and PEAKRSS_BIN (skip the build), BENCH_COUNT (default 100000),
# BENCH_JSON (also write every figure to this file), BENCH_NGINX_BIN, BENCH_NGINX_WORKERS.
set -euo pipefail

runs=${1:-3}
if ! [[ $runs =~ ^[0-9]+$ ]] || (( runs < 1 )); then
	echo "usage: $0 [RUNS]   (default 3)" >&2
	exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"
hp_bench_binaries "$root"

hp_bench_tmp scale
nginx_url=
nginx_note=

# shellcheck source=tests/bench/nginx.sh
. "$here/nginx.sh"
if [[ -z $nginx_bin ]]; then
	echo "bench: nginx is required (apt-get install nginx-light)" >&2
	exit 2
fi
start_nginx || { echo "bench: $nginx_note" >&2; exit 1; }

args=(--bin "$bin" --peakrss "$peakrss" --url "$nginx_url" --image "$root/examples/images/street.jpg"
      --runs "$runs" --tmp "$tmp" --count "${BENCH_COUNT:-100000}"
      --nginx-version "$("$nginx_bin" -v 2>&1 | head -n 1)")
[[ -n ${BENCH_JSON:-} ]] && args+=(--json "$BENCH_JSON")
python3 "$here/scale.py" "${args[@]}"
