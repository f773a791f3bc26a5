#!/usr/bin/env bash
# A night's camera images on a dedicated endpoint: start it, wait until it
# really answers, label the folder, and stop it again so it costs nothing.
#
#   examples/nightly-dedicated.sh [IMAGES [OUT]]
#
# IMAGES defaults to $CAMERA/$(date -d yesterday +%F) and OUT to
# $HOME/nightly/$(basename IMAGES). It writes:
#   OUT/results.jsonl   one JSON line per image: the answer or the error
#   OUT/labels/...      one YOLO label file per image (--save-txt)
# The deployment is stopped even when the prediction failed or was
# interrupted (a trap); the exit status is the prediction's (or the start's).
#
# A crontab line:
#   15 1 * * * ULTRALYTICS_API_KEY=ul_... DEPLOYMENT=cam CAMERA=$HOME/cam \
#       $HOME/hubpredict/examples/nightly-dedicated.sh 2>>$HOME/nightly.log
#
# Environment: ULTRALYTICS_API_KEY (better: KEY_FILE, a file only you can
# read), DEPLOYMENT (default cam), OWNER (default: the key's account),
# HUBPREDICT (the binary), WAIT_TIMEOUT (default 600 s), JOBS (default 4).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
images=${1:-${CAMERA:-$HOME/camera}/$(date -d yesterday +%F 2>/dev/null || date +%F)}
out=${2:-$HOME/nightly/$(basename "$images")}
deployment=${DEPLOYMENT:-cam}
hp=${HUBPREDICT:-}
if [ -z "$hp" ]; then
	if [ -x "$root/build/hubpredict" ]; then hp=$root/build/hubpredict; else hp=hubpredict; fi
fi
[ -d "$images" ] || { echo "nightly-dedicated: no folder $images" >&2; exit 3; }
mkdir -p "$out/labels"

common=()
[ -n "${KEY_FILE:-}" ] && common+=(--api-key-file "$KEY_FILE")
[ -n "${OWNER:-}" ] && common+=(--owner "$OWNER")

stop_it() {
	# whatever happened before: bring the endpoint down (it is billed while up)
	"$hp" deploy stop "$deployment" "${common[@]}" --wait --wait-timeout 300 ||
		echo "nightly-dedicated: could not stop $deployment; stop it by hand" >&2
}

trap stop_it EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$hp" deploy start "$deployment" "${common[@]}" --wait --wait-timeout "${WAIT_TIMEOUT:-600}"

"$hp" -q "${common[@]}" --deployment "$deployment" -r -j "${JOBS:-4}" -f jsonl -o "$out/results.jsonl" \
	--save-txt "$out/labels" "$images"
