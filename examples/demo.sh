#!/usr/bin/env bash
# A tour of hubpredict on a fresh machine: install what is missing, build,
# start the stand-in API server (tests/standin/standin.py) on a free port,
# and send the sample images in examples/images/ to it, one run per task,
# drawing each answer on its image (--annotate) into build/pictures/TASK/.
#
#   examples/demo.sh        (from any directory)
#
# Nothing leaves the machine: the stand-in listens on 127.0.0.1 only. The two
# keys below are the stand-in's own test keys, not real ones. As a real user
# would, the demo passes the key in ULTRALYTICS_API_KEY, never with -k.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build="$root/build"

# ---- dependencies: the same check as tests/run.sh --------------------------
# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"
hp_install_deps examples/demo.sh

# ---- a temporary directory, and the stand-in's clean-up -------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubpredict-demo.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- build ----------------------------------------------------------------
echo "== building hubpredict into build/ (Release) =="
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release &&
	cmake --build "$build" --target hubpredict -j "$(nproc 2>/dev/null || echo 2)"; } >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log" >&2
	echo "examples/demo.sh: the build failed" >&2
	exit 1
fi
hubpredict="$build/hubpredict"
"$hubpredict" --version | head -1

# ---- the stand-in API server ----------------------------------------------
hp_start_standin "$root" "$tmp" --real-speed || exit 1
server_pid=$HP_STANDIN_PID
base=$HP_STANDIN_URL
echo "stand-in API server: $base"

# The stand-in's test keys: a HUB key, and a Platform key (ul_ prefix).
hub_key=0123456789abcdef0123456789abcdef0123456789
platform_key=ul_a1b2c3d4e5a1b2c3d4e5a1b2c3d4e5a1b2c3d4e5
export ULTRALYTICS_API_KEY=$hub_key
unset HUBPREDICT_MODEL HUBPREDICT_URL

# The stand-in's routes: /v1/predict/MODEL (HUB) and /api/models/MODEL/predict
# (Platform); the model's name picks the task. Against the real services you
# would write -m MODEL_ID instead of -u.
hub() { echo "$base/v1/predict/$1"; }
platform() { echo "$base/api/models/$1/predict"; }
img=examples/images

heading() { printf '\n== %s ==\n' "$*"; }

# --annotate: every task's answer drawn on its image, kept in build/pictures/
# (the stand-in's answers are the documented examples, scaled to each image)
pictures="$build/pictures"
rm -rf "$pictures"
drawn() { # drawn TASK: name the picture that --annotate wrote
	local f
	f=$(find "$pictures/$1" -type f | head -1)
	echo "annotated picture: ${f#"$root"/}"
}

# ---- the main job: HUB flavour, detect, the default table ------------------
heading "detect: street.jpg"
"$hubpredict" -u "$(hub detect)" --annotate "$pictures/detect" "$img/street.jpg"
drawn detect

heading "classify: cat.png"
"$hubpredict" -u "$(hub classify)" --annotate "$pictures/classify" "$img/cat.png"
drawn classify

heading "classify a folder of cats: one block per image"
mkdir -p "$tmp/cats"
for n in 1 2 3; do cp "$img/cat.png" "$tmp/cats/cat$n.png"; done
"$hubpredict" -u "$(hub classify)" "$tmp/cats"

heading "obb (oriented boxes): aerial.png"
"$hubpredict" -u "$(hub obb)" --annotate "$pictures/obb" "$img/aerial.png"
drawn obb

heading "segment: people.png"
"$hubpredict" -u "$(hub segment)" --annotate "$pictures/segment" "$img/people.png"
drawn segment

heading "pose: people.png"
"$hubpredict" -u "$(hub pose)" --annotate "$pictures/pose" "$img/people.png"
drawn pose

heading "detect on a video: clip.mp4 (one block per frame)"
"$hubpredict" -u "$(hub detect)" "$img/clip.mp4"

# ---- a video cut into frames here (--fps), and drawn (--annotate) ---------
# clip.mp4 above is a placeholder; this one is made now by ffmpeg: three
# seconds panning down street.jpg at 10 frames a second
ffmpeg -nostdin -hide_banner -loglevel error -y -loop 1 -framerate 10 -i "$img/street.jpg" -t 3 \
	-vf "crop=810:720:0:'min(t*120,360)',scale=540:480" -c:v libx264 -pix_fmt yuv420p "$tmp/street.mp4"
heading "a video cut into frames here: --fps 2 on a 3-second clip (one request per frame, one block each)"
"$hubpredict" -u "$(hub detect)" --fps 2 "$tmp/street.mp4"

heading "--annotate on a video: each sent frame drawn, held until the next, as an MP4"
"$hubpredict" -u "$(hub detect)" --fps 2 -q -f csv --annotate "$pictures/video" "$tmp/street.mp4" >/dev/null
echo "annotated video: ${pictures#"$root"/}/video/street.mp4" \
	"($(ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=width,height,nb_read_frames \
		-of csv=p=0 "$pictures/video/street.mp4" | tr , ' ') frames: width height count)"

heading "a whole folder as csv: examples/images/"
"$hubpredict" -u "$(hub detect)" -f csv "$img/"

heading "json, pretty-printed: cat.png"
"$hubpredict" -u "$(hub detect)" -f json "$img/cat.png" | python3 -m json.tool

# ---- Platform flavour: chosen from the key's ul_ prefix --------------------
heading "platform semantic: street.jpg"
# Platform's semantic answers carry the class-index mask as a PNG
# (`semantic_mask`); the stand-in's documented example has none, so this
# run scripts one answer with a mask: buildings above the pavement, road below.
python3 - "$base" <<'PY'
import base64, json, struct, sys, urllib.request, zlib
w, h = 81, 108                                   # street.jpg / 10
rows = b"".join(b"\0" + bytes([1 if y < 51 else 0] * w) for y in range(h))
def chunk(k, d): return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
doc = {"images": [{"results": [{"class": 0, "name": "road", "pixel_ratio": 0.53},
                               {"class": 1, "name": "building", "pixel_ratio": 0.47}],
                   "shape": [1080, 810], "speed": {"preprocess": 2.8, "inference": 200.8, "postprocess": 0.8},
                   "semantic_mask": {"shape": [h, w], "encoding": "png", "data": base64.b64encode(png).decode()}}],
       "metadata": {"task": "semantic"}}
req = urllib.request.Request(sys.argv[1] + "/_standin/script", data=json.dumps({"body": doc}).encode(),
                             method="POST", headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
PY
ULTRALYTICS_API_KEY=$platform_key "$hubpredict" -u "$(platform semantic)" --annotate "$pictures/semantic" \
	"$img/street.jpg"
drawn semantic

heading "platform depth: street.jpg"
ULTRALYTICS_API_KEY=$platform_key "$hubpredict" -u "$(platform depth)" --annotate "$pictures/depth" \
	"$img/street.jpg"
drawn depth

heading "--resize: street.jpg (810x1080) sent at --imgsz 320, boxes mapped back to the original"
"$hubpredict" -u "$(hub detect)" --resize -s 320 -f json "$img/street.jpg" |
	python3 -c 'import json, sys; e = json.load(sys.stdin)[0]; print("resized:", e["resized"], " shape:", e["response"]["images"][0]["shape"])'

# ---- val: a model's accuracy on a labelled dataset ---------------------------
# examples/dataset/ holds three of the sample images with labels that fit the
# stand-in's detect answers (one person a little off, one person and the cat
# never found), so the numbers are neither 0 nor perfect.
heading "val: examples/dataset/data.yaml (P, R, mAP50, mAP50-95 as yolo val prints them)"
"$hubpredict" val -u "$(hub detect)" examples/dataset/data.yaml

# ---- bench: an endpoint's latency -------------------------------------------
# The stand-in's "bench" model answers after a known service time and stalls for
# 1 s two seconds in: the open loop shows it in p90/p99.
heading "bench: 5 s at 20 requests/s, latency from each request's scheduled start"
"$hubpredict" bench -u "$(hub bench)" --rate 20/s --duration 5 "$img/street.jpg"

# ---- a deliberate error: a wrong key ---------------------------------------
heading "a wrong key (expect exit status 4)"
status=0
ULTRALYTICS_API_KEY=0000000000000000000000000000000000000000ff \
	"$hubpredict" -u "$(hub detect)" "$img/street.jpg" 2>&1 || status=$?
echo "exit status: $status"
if [ "$status" -ne 4 ]; then
	echo "examples/demo.sh: expected exit status 4 for a wrong key, got $status" >&2
	exit 1
fi

# ---- the examples: a CI smoke test and a labelling job ---------------------
export HUBPREDICT="$hubpredict" HUBPREDICT_URL
HUBPREDICT_URL=$(hub detect)

heading "examples/ci-smoke.sh: record a baseline, then check against it (JUnit report)"
(cd "$tmp" && BASELINE="$tmp/baseline.json" UPDATE_BASELINE=1 "$root/examples/ci-smoke.sh" "$root/$img")
(cd "$tmp" && BASELINE="$tmp/baseline.json" EXPECT="person car" "$root/examples/ci-smoke.sh" "$root/$img")
echo "JUnit report: $(grep -o '<testsuites[^>]*>' "$tmp/smoke-junit.xml")"

heading "examples/cron-label.sh: a day's folder into YOLO labels"
mkdir -p "$tmp/camera/2026-11-28"
cp "$root/$img/street.jpg" "$root/$img/people.png" "$tmp/camera/2026-11-28/"
RATE=20/s "$root/examples/cron-label.sh" "$tmp/camera/2026-11-28" "$tmp/dataset"
(cd "$tmp/dataset" && for f in labels/2026-11-28/*.txt; do echo "$f:"; sed 's/^/  /' "$f"; done)
echo "log: $(wc -l <"$tmp/dataset/logs/2026-11-28.jsonl") lines in dataset/logs/2026-11-28.jsonl"

heading "examples/nightly-dedicated.sh: start a dedicated deployment, label a folder, stop it"
export ULTRALYTICS_PLATFORM_URL=$HP_STANDIN_URL
# the stand-in starts with no deployment: make one (and stop it, as a night finds it)
ULTRALYTICS_API_KEY=$platform_key "$hubpredict" deploy create cam --model cams/yolo11n --region us-central1 --wait
ULTRALYTICS_API_KEY=$platform_key "$hubpredict" deploy stop cam --wait
ULTRALYTICS_API_KEY=$platform_key DEPLOYMENT=cam \
	"$root/examples/nightly-dedicated.sh" "$tmp/camera/2026-11-28" "$tmp/nightly"
echo "results: $(wc -l <"$tmp/nightly/results.jsonl") lines in nightly/results.jsonl," \
	"labels: $(ls "$tmp/nightly/labels" | tr '\n' ' ')"
ULTRALYTICS_API_KEY=$platform_key "$hubpredict" deploy list
unset ULTRALYTICS_PLATFORM_URL

printf '\nDone. See README.md and docs/hubpredict.1 (man -l docs/hubpredict.1) for more.\n'
