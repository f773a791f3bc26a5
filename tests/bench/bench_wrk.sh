#!/usr/bin/env bash
# tests/bench/bench_wrk.sh [SECONDS] - hubpredict bench's open loop against wrk and autocannon.
#
# A benchmark, not a test (ctest does not run it). Two rounds:
#   1. nginx on loopback answering a fixed document (tests/bench/nginx.sh): hubpredict bench
#      --rate 2000/s for SECONDS (default 10): its own lateness against the schedule (behind
#      p99) and its latency p50; then wrk (a closed loop over the same number of connections
#      hubpredict used, which nginx's access log counts) and autocannon -R 2000 on the same
#      target and the same multipart body.
#   2. the stand-in's "bench" model (a known service time, median 20 ms, and a 1 s stall two
#      seconds in) for 6 s at 50/s: what each tool reports for the stall window (p50, p90,
#      p99, max); wrk has no rate, so its closed loop over 1 connection hides the stall.
# A tool that is missing is said and left out, not a failure (autocannon: npm install -g
# autocannon). Prints one table per round. HUBPREDICT_BIN (and PEAKRSS_BIN) skip the build.
set -euo pipefail

seconds=${1:-10}
[[ $seconds =~ ^[0-9]+$ ]] && (( seconds >= 2 )) || { echo "usage: $0 [SECONDS >= 2]" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
key=0123456789abcdef0123456789abcdef0123456789
image=$root/examples/images/cat.png
rate=${BENCH_RATE:-2000}

# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"
hp_bench_binaries "$root"
hp_bench_tmp wrk

have() { command -v "$1" >/dev/null 2>&1; }
wrk_bin=$(command -v wrk || true)
ac_bin=$(command -v autocannon || true)
[[ -n $wrk_bin ]] || echo "bench_wrk: wrk is not installed (apt-get install wrk): left out"
[[ -n $ac_bin ]] || echo "bench_wrk: autocannon is not installed (npm install -g autocannon): left out"

# The body every tool sends: hubpredict's multipart form with the image, written once.
boundary=hubpredictbenchboundary
python3 - "$image" "$tmp/body" "$boundary" <<'EOF'
import sys
img, out, b = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(img, "rb").read()
parts = [f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="cat.png"\r\n'
         f'Content-Type: image/png\r\n\r\n'.encode() + data + b"\r\n"]
for name, value in (("imgsz", "640"), ("conf", "0.25"), ("iou", "0.45")):
    parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
open(out, "wb").write(b"".join(parts) + f"--{b}--\r\n".encode())
EOF
ctype="multipart/form-data; boundary=$boundary"
cat >"$tmp/post.lua" <<EOF
local f = io.open("$tmp/body", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "$ctype"
wrk.headers["x-api-key"] = "$key"
EOF

# hubpredict's figures from its -f json: achieved rate, p50, p90, p99, max, behind p99
hp_row() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); l = d["latency_ms"]
f = lambda v: "-" if v is None else "%.3f" % v
print("%-11s %-22s %9.1f %9s %9s %9s %9s %11s" % ("hubpredict", sys.argv[2], d["rate"], f(l["p50"]), f(l["p90"]),
      f(l["p99"]), f(l["max"]), f(d["behind_ms"])))' "$1" "$2"
}
# wrk --latency: its percentiles (HdrHistogram) in ms
wrk_row() {
	python3 -c 'import re, sys
t = open(sys.argv[1]).read()
def ms(v, u): return float(v) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[u]
p = {m.group(1): ms(m.group(2), m.group(3)) for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M)}
mx = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)", t)
r = re.search(r"Requests/sec:\s+([\d.]+)", t)
print("%-11s %-22s %9.1f %9.3f %9.3f %9.3f %9.3f %11s" % ("wrk", sys.argv[2], float(r.group(1)), p["50"], p["90"],
      p["99"], ms(*mx.groups()), "n/a"))' "$1" "$2"
}
# autocannon --json: latency percentiles in ms
ac_row() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); l = d["latency"]
print("%-11s %-22s %9.1f %9.3f %9.3f %9.3f %9.3f %11s" % ("autocannon", sys.argv[2], d["requests"]["average"],
      l["p50"], l["p90"], l["p99"], l["max"], "n/a"))' "$1" "$2"
}
header() {
	printf '\n%s\n%-11s %-22s %9s %9s %9s %9s %9s %11s\n' "$1" tool mode "req/s" "p50 ms" "p90 ms" "p99 ms" \
		"max ms" "behind p99"
}

# ---- round 1: nginx --------------------------------------------------------
# shellcheck source=tests/bench/nginx.sh
. "$here/nginx.sh"
if [[ -z $nginx_bin ]] || ! start_nginx; then
	echo "bench_wrk: nginx is not available (${nginx_note:-not installed}): round 1 left out"
else
	log=$tmp/nginx/access.log
	: >"$log"
	ULTRALYTICS_API_KEY=$key "$bin" bench -q -u "$nginx_url" --rate "$rate/s" --duration "$seconds" -f json \
		"$image" >"$tmp/hp.json"
	conns=$(awk '{print $2}' "$log" | sort -u | wc -l)
	(( conns >= 1 )) || conns=1
	header "nginx on loopback, $seconds s: hubpredict --rate $rate/s used $conns connection(s)"
	hp_row "$tmp/hp.json" "open $rate/s"
	if [[ -n $wrk_bin ]]; then
		"$wrk_bin" -t1 -c"$conns" -d"${seconds}s" --latency -s "$tmp/post.lua" "$nginx_url" >"$tmp/wrk.txt"
		wrk_row "$tmp/wrk.txt" "closed, $conns conn"
	fi
	if [[ -n $ac_bin ]]; then
		"$ac_bin" -c "$conns" -d "$seconds" -R "$rate" -m POST -i "$tmp/body" -H "content-type=$ctype" \
			-H "x-api-key=$key" --json "$nginx_url" >"$tmp/ac.json" 2>/dev/null
		ac_row "$tmp/ac.json" "-R $rate, $conns conn"
	fi
	kill "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
	nginx_pid=
fi

# ---- round 2: the stall window ---------------------------------------------
hp_start_standin "$root" "$tmp" || exit 1
standin_pid=$HP_STANDIN_PID
burl=$HP_STANDIN_URL/v1/predict/bench
fresh() { # a new bench sequence: the stall 2-3 s after the next first request
	curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
		-d '{"seed": 23, "median_ms": 20, "sigma": 0.5, "cap_ms": 250, "stall": [2, 3]}' \
		"$HP_STANDIN_URL/_standin/bench"
}
header "the stand-in's bench model, 6 s, a 1 s stall at 2 s (service median 20 ms)"
fresh
ULTRALYTICS_API_KEY=$key "$bin" bench -q -u "$burl" --rate 50/s --duration 6 -f json "$image" >"$tmp/hp2.json"
hp_row "$tmp/hp2.json" "open 50/s"
fresh
ULTRALYTICS_API_KEY=$key "$bin" bench -q -u "$burl" -j 1 --duration 6 -f json "$image" >"$tmp/hp3.json"
hp_row "$tmp/hp3.json" "closed, 1 job"
if [[ -n $wrk_bin ]]; then
	fresh
	"$wrk_bin" -t1 -c1 -d6s --latency -s "$tmp/post.lua" "$burl" >"$tmp/wrk2.txt"
	wrk_row "$tmp/wrk2.txt" "closed, 1 conn"
fi
if [[ -n $ac_bin ]]; then
	fresh
	"$ac_bin" -c 10 -d 6 -R 50 -m POST -i "$tmp/body" -H "content-type=$ctype" -H "x-api-key=$key" \
		--json "$burl" >"$tmp/ac2.json" 2>/dev/null
	ac_row "$tmp/ac2.json" "-R 50, 10 conn"
fi
echo
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
