#!/usr/bin/env bash
# tests/bench/answers.sh - answers of any size (SPEC 11; issue 20): generated segmentation answers
# served by nginx from a file, hubpredict -f csv, jsonl and table against `curl | jq` producing the
# same csv rows: wall time (median) and peak RSS (tests/tools/peakrss).
#
# A benchmark, not a test (ctest does not run it): it exits 0 when every run worked, even when a
# target is missed. Builds hubpredict and peakrss in Release into build-bench/ unless
# HUBPREDICT_BIN and PEAKRSS_BIN name binaries.
#
#   tests/bench/answers.sh [RUNS]    (default 5)
#
# Answers: `one` 1 image of 3,000 polygons of 2,500 points (~149 MB: csv, jsonl, table, curl|jq);
# `frames` 6,000 frames of 3 polygons of 500 points (~180 MB: every format); `big` 20 frames of
# 2,200 polygons of 2,500 points (~2 GB: every format, one run; BENCH_SKIP_BIG=1 skips it).
# hp-csv-txt is csv with --save-txt (a label file per frame, the polygons read part by part).
# Targets: peak RSS <= 64 MiB for every format; on `one`, wall <= 1.0x curl|jq.
# Environment: HUBPREDICT_BIN, PEAKRSS_BIN, BENCH_JSON (every figure), BENCH_SKIP_BIG, BENCH_TMP
# (where the answers are written: 2.5 GB free).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/hp-bench-answers.XXXXXX")
nginx_pid=
cleanup() {
	[[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
for tool in nginx curl jq python3; do
	if ! command -v "$tool" >/dev/null && ! [[ $tool == nginx && -x /usr/sbin/nginx ]]; then
		echo "answers.sh: $tool is needed (apt-get install $tool)" >&2
		exit 1
	fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"
hp_bench_binaries "$root"
img=$root/examples/images/cat.png
gen() { python3 "$root/tests/bench/answers.py" gen "$tmp/doc/$1.json" "$2" "$3" "$4"; }
mkdir -p "$tmp/doc" "$tmp/nginx"
echo "== generating the answers in $tmp/doc"
gen one 1 3000 2500
gen frames 6000 3 500
[[ -z ${BENCH_SKIP_BIG:-} ]] && gen big 20 2200 2500
ls -l "$tmp/doc"

# nginx answers a POST with a file: its static module refuses POST (405), and error_page's
# internal redirect turns the request into a GET of the document
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_line=""
(( EUID == 0 )) && user_line="user root;"
cat >"$tmp/nginx/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 100m;
        location ~ ^/v1/predict/(\w+)\$ {
            error_page 405 =200 /doc/\$1.json;
            return 405;
        }
        location /doc/ {
            internal;
            root $tmp;
            default_type application/json;
        }
    }
}
CONF
"$nginx_bin" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 50); do
	curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/predict/one" -F "file=@$img" && break
	sleep 0.1
done
export HUBPREDICT_BIN=$bin HUBPREDICT_PEAKRSS=$peakrss ULTRALYTICS_API_KEY=${ULTRALYTICS_API_KEY:-bench-key-0123456789abcdef0123456789abcdef}
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "== one: 1 image, 3,000 polygons of 2,500 points, $runs runs"
python3 "$root/tests/bench/answers.py" run "http://127.0.0.1:$port/v1/predict/one" "$img" "$runs" \
	hp-csv hp-jsonl hp-table hp-csv-txt curl-jq-csv
echo "== frames: 6,000 frames of 3 polygons of 500 points, $runs runs"
python3 "$root/tests/bench/answers.py" run "http://127.0.0.1:$port/v1/predict/frames" "$img" "$runs" \
	hp-csv hp-jsonl hp-table hp-csv-txt
if [[ -z ${BENCH_SKIP_BIG:-} ]]; then
	echo "== big: 20 frames of 2,200 polygons of 2,500 points, 1 run"
	python3 "$root/tests/bench/answers.py" run "http://127.0.0.1:$port/v1/predict/big" "$img" 1 \
		hp-csv hp-jsonl hp-table hp-csv-txt
fi
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
