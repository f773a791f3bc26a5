#!/usr/bin/env bash
# Label a day's folder of camera images into a YOLO dataset tree, from cron.
#
#   examples/cron-label.sh [DAY_DIR [DATASET]]
#
# DAY_DIR defaults to $CAMERA/$(date +%F) and DATASET to $HOME/dataset. It
# writes, for the day D (DAY_DIR's name):
#   DATASET/labels/D/...   one YOLO label file per image (--save-txt), paths
#                          as below DAY_DIR; an empty file where nothing was found
#   DATASET/logs/D.jsonl   one JSON line per image: the answer or the error
# Images stay where they are; point the dataset's images/ at DAY_DIR (a
# symlink) or copy them. Re-running replaces the day's labels and log.
#
# A crontab line, after the camera's day is over (stderr to a log):
#   30 0 * * * ULTRALYTICS_API_KEY=... HUBPREDICT_MODEL=... CAMERA=$HOME/cam \
#       $HOME/hubpredict/examples/cron-label.sh "$HOME/cam/$(date -d yesterday +\%F)" 2>>$HOME/label.log
#
# Environment: ULTRALYTICS_API_KEY (better: KEY_FILE, a file only you can
# read), HUBPREDICT_MODEL or HUBPREDICT_URL, HUBPREDICT (the binary), RATE
# (default 100/h, HUB's free plan), MIN_CONF (default 0.5).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
day_dir=${1:-${CAMERA:-$HOME/camera}/$(date +%F)}
dataset=${2:-$HOME/dataset}
hp=${HUBPREDICT:-}
if [ -z "$hp" ]; then
	if [ -x "$root/build/hubpredict" ]; then hp=$root/build/hubpredict; else hp=hubpredict; fi
fi
[ -d "$day_dir" ] || { echo "cron-label: no folder $day_dir" >&2; exit 3; }
day=$(basename "$day_dir")
mkdir -p "$dataset/labels" "$dataset/logs"
labels=$(cd "$dataset/labels" && pwd)/$day
log=$(cd "$dataset/logs" && pwd)/$day.jsonl

key=()
[ -n "${KEY_FILE:-}" ] && key=(--api-key-file "$KEY_FILE")
# Files found in a directory INPUT keep their path below it, so the labels
# mirror the day's own layout (labels/D/sub/img.txt for D/sub/img.jpg).
"$hp" -q "${key[@]}" -r --rate "${RATE:-100/h}" --min-conf "${MIN_CONF:-0.5}" \
	--save-txt "$labels" -f jsonl -o "$log" "$day_dir"
