#!/usr/bin/env bash
# A tour of hubpredict on a fresh machine: install what is missing, build,
# start the stand-in API server (tests/standin/standin.py) on a free port,
# and send the sample images in examples/images/ to it, one run per task.
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

# ---- the main job: HUB flavour, detect, the default table ------------------
heading "detect: street.jpg"
"$hubpredict" -u "$(hub detect)" "$img/street.jpg"

heading "classify: cat.png"
"$hubpredict" -u "$(hub classify)" "$img/cat.png"

heading "classify a folder of cats: one block per image"
mkdir -p "$tmp/cats"
for n in 1 2 3; do cp "$img/cat.png" "$tmp/cats/cat$n.png"; done
"$hubpredict" -u "$(hub classify)" "$tmp/cats"

heading "obb (oriented boxes): aerial.png"
"$hubpredict" -u "$(hub obb)" "$img/aerial.png"

heading "segment: people.png"
"$hubpredict" -u "$(hub segment)" "$img/people.png"

heading "pose: people.png"
"$hubpredict" -u "$(hub pose)" "$img/people.png"

heading "detect on a video: clip.mp4 (one block per frame)"
"$hubpredict" -u "$(hub detect)" "$img/clip.mp4"

heading "a whole folder as csv: examples/images/"
"$hubpredict" -u "$(hub detect)" -f csv "$img/"

heading "json, pretty-printed: cat.png"
"$hubpredict" -u "$(hub detect)" -f json "$img/cat.png" | python3 -m json.tool

# ---- Platform flavour: chosen from the key's ul_ prefix --------------------
heading "platform semantic: street.jpg"
ULTRALYTICS_API_KEY=$platform_key "$hubpredict" -u "$(platform semantic)" "$img/street.jpg"

heading "platform depth: street.jpg"
ULTRALYTICS_API_KEY=$platform_key "$hubpredict" -u "$(platform depth)" "$img/street.jpg"

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

printf '\nDone. See README.md and docs/hubpredict.1 (man -l docs/hubpredict.1) for more.\n'
