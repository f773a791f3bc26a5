#!/usr/bin/env bash
# A CI accuracy gate for a hosted model: hubpredict val on a held-out set.
#
# Sends every image of DATA's split to the model, matches the answers with
# the labels as yolo val does, writes the metrics (val.json) and a JUnit report
# (one testcase per check and per class), and fails the job when a metric
# check is not met. The exit status is hubpredict's: 0 all good, 1 a check
# not met, 3 a bad dataset (FILE:LINE), 4-10 a request failed (see
# hubpredict(1), VAL and EXIT STATUS).
#
#   examples/ci-val.sh DATA            DATA: a data.yaml or a dataset folder
#
# Environment:
#   ULTRALYTICS_API_KEY   the key (a CI secret), required
#   HUBPREDICT_MODEL      the model ID, or HUBPREDICT_URL a dedicated endpoint
#   HUBPREDICT            the hubpredict binary (default: build/hubpredict, else PATH)
#   SPLIT                 the split (default val)
#   EXPECT                the checks, space-separated (default "map50>=0.5 map50_95>=0.3")
#   ALLOW_FAILED          failed images tolerated (default 0)
#   JUNIT                 the report (default val-junit.xml)
#   OUT                   the metrics as JSON (default val.json)
#
# A GitHub Actions step:
#   - name: accuracy gate
#     env:
#       ULTRALYTICS_API_KEY: ${{ secrets.ULTRALYTICS_API_KEY }}
#       HUBPREDICT_MODEL: owner/project/model
#       EXPECT: "map50>=0.6 person:recall>=0.5"
#     run: examples/ci-val.sh datasets/holdout/data.yaml
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 DATA" >&2
	exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
hp=${HUBPREDICT:-}
if [ -z "$hp" ]; then
	if [ -x "$root/build/hubpredict" ]; then hp=$root/build/hubpredict; else hp=hubpredict; fi
fi
args=(val --split "${SPLIT:-val}" --allow-failed "${ALLOW_FAILED:-0}" --junit "${JUNIT:-val-junit.xml}"
      -f json -o "${OUT:-val.json}")
for check in ${EXPECT:-map50>=0.5 map50_95>=0.3}; do
	args+=(--expect "$check")
done
status=0
"$hp" "${args[@]}" "$1" || status=$?
# the table for the job's log, from the same numbers
if [ -s "${OUT:-val.json}" ]; then
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
m = d["metrics"]
print(d["task"], d["images"], "images, conf", d["conf"], json.dumps(m))' "${OUT:-val.json}" || true
fi
exit $status
