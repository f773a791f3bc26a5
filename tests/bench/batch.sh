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

if [[ -n ${HUBPREDICT_BIN:-} && -n ${PEAKRSS_BIN:-} ]]; then
	bin=$HUBPREDICT_BIN
	peakrss=$PEAKRSS_BIN
else
	echo "== building hubpredict and peakrss (Release) in $root/build-bench"
	cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$root/build-bench" -j"$(nproc)" --target hubpredict peakrss >/dev/null
	bin=${HUBPREDICT_BIN:-$root/build-bench/hubpredict}
	peakrss=${PEAKRSS_BIN:-$root/build-bench/tests/peakrss}
fi
for b in "$bin" "$peakrss"; do
	[[ -x $b ]] || { echo "bench: $b is not an executable" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubpredict-batch.XXXXXX")
standin_pid=
nginx_pid=
cleanup() {
	local pid
	for pid in $nginx_pid $standin_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- the stand-in ------------------------------------------------------------------------------
# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"
hp_start_standin "$root" "$tmp" --latency "$latency" || exit 1
standin_pid=$HP_STANDIN_PID
url=$HP_STANDIN_URL/v1/predict/detect

# -- nginx, when installed: a fast server answering every POST with a static detect document ----
nginx_url=
nginx_note=
if [[ -n ${BENCH_NGINX_BIN:-} ]]; then
	nginx_bin=$(command -v "$BENCH_NGINX_BIN" || true)
else
	nginx_bin=$(command -v nginx || true)
	[[ -z $nginx_bin && -x /usr/sbin/nginx ]] && nginx_bin=/usr/sbin/nginx
fi
start_nginx() {
	local dir=$tmp/nginx body user_line="" port
	mkdir -p "$dir"
	# The documented detect answer, on one line. `return` text may hold nginx variables and
	# ends at the closing quote: refuse a body with $, ' or \ rather than mangle it.
	body=$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' \
		"$root/tests/fixtures/detect.json")
	if [[ $body == *[\$\'\\]* ]]; then
		nginx_note="the detect fixture cannot be put in nginx.conf as it is"
		return 1
	fi
	(( EUID == 0 )) && user_line="user nobody nogroup;"
	for _ in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		cat >"$dir/nginx.conf" <<-EOF
		# written by tests/bench/batch.sh
		$user_line
		worker_processes ${BENCH_NGINX_WORKERS:-1};
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		events { worker_connections 1024; }
		http {
		    # \$connection is nginx's serial number of the TCP connection: it shows reuse.
		    log_format bench '\$msec \$connection \$connection_requests \$status "\$http_user_agent"';
		    access_log $dir/access.log bench;
		    client_body_temp_path $dir/body;
		    proxy_temp_path $dir/proxy;
		    fastcgi_temp_path $dir/fastcgi;
		    uwsgi_temp_path $dir/uwsgi;
		    scgi_temp_path $dir/scgi;
		    keepalive_requests 1000000;
		    keepalive_timeout 60s;
		    server {
		        listen 127.0.0.1:$port;
		        client_max_body_size 1g;
		        client_body_buffer_size 1m;
		        location = /v1/predict/detect {
		            default_type application/json;
		            return 200 '$body';
		        }
		    }
		}
		EOF
		"$nginx_bin" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' \
			>"$dir/stdout" 2>&1 &
		nginx_pid=$!
		for _ in $(seq 50); do
			if curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/predict/detect" 2>/dev/null; then
				nginx_url=http://127.0.0.1:$port/v1/predict/detect
				return 0
			fi
			kill -0 "$nginx_pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
		nginx_pid=
	done
	nginx_note="nginx did not start: $(tail -n 2 "$dir/error.log" "$dir/stdout" 2>/dev/null | tr '\n' ' ')"
	return 1
}
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
