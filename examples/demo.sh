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
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --exists libcurl 2>/dev/null || missing+=(libcurl4-openssl-dev)
	pkg-config --exists libcjson 2>/dev/null || missing+=(libcjson-dev)
else
	missing+=(libcurl4-openssl-dev libcjson-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "examples/demo.sh: installing ${missing[*]}"
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	else
		echo "examples/demo.sh: missing build dependencies; run:" >&2
		echo "  sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi

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
python3 tests/standin/standin.py --port 0 --port-file "$tmp/port" >"$tmp/standin.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	[ -s "$tmp/port" ] && break
	if ! kill -0 "$server_pid" 2>/dev/null; then
		cat "$tmp/standin.log" >&2
		echo "examples/demo.sh: the stand-in server did not start" >&2
		exit 1
	fi
	sleep 0.1
done
[ -s "$tmp/port" ] || { echo "examples/demo.sh: the stand-in server did not say its port" >&2; exit 1; }
base="http://127.0.0.1:$(cat "$tmp/port")"
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

printf '\nDone. See README.md and docs/hubpredict.1 (man -l docs/hubpredict.1) for more.\n'
