#!/usr/bin/env bash
# A CI smoke test of a freshly trained and deployed model.
#
# Sends the test images to the model, checks that it still finds what it
# should (--expect), that it answers as it did when the baseline was recorded
# (--baseline), and writes a JUnit report for the CI's test view (--junit).
# The exit status is hubpredict's: 0 all good, 1 the answers changed, 2-11 a
# request failed (see hubpredict(1), EXIT STATUS).
#
#   examples/ci-smoke.sh [IMAGES]            check IMAGES (default examples/images)
#   UPDATE_BASELINE=1 examples/ci-smoke.sh   record the baseline (check it, commit it)
#
# Environment:
#   ULTRALYTICS_API_KEY   the key (a CI secret), required
#   HUBPREDICT_MODEL      the model ID, or HUBPREDICT_URL a dedicated endpoint
#   HUBPREDICT            the hubpredict binary (default: build/hubpredict, else PATH)
#   BASELINE              the golden answers (default examples/smoke/baseline.json)
#   JUNIT                 the report (default smoke-junit.xml)
#   EXPECT                the checks, space-separated (default "person")
#   MIN_CONF              results below this confidence are ignored (default 0.25)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
images=${1:-$root/examples/images}
hp=${HUBPREDICT:-}
if [ -z "$hp" ]; then
	if [ -x "$root/build/hubpredict" ]; then hp=$root/build/hubpredict; else hp=hubpredict; fi
fi
baseline=${BASELINE:-$root/examples/smoke/baseline.json}
junit=${JUNIT:-smoke-junit.xml}
min_conf=${MIN_CONF:-0.25}

if [ -z "${ULTRALYTICS_API_KEY:-}" ]; then
	echo "ci-smoke: set ULTRALYTICS_API_KEY (a CI secret)" >&2
	exit 2
fi

if [ "${UPDATE_BASELINE:-0}" = 1 ]; then
	mkdir -p "$(dirname "$baseline")"
	"$hp" -q --min-conf "$min_conf" -f json -o "$baseline" "$images"
	echo "ci-smoke: recorded $baseline; check it before you commit it"
	exit 0
fi

args=(-q --min-conf "$min_conf" --junit "$junit" -f jsonl -o smoke-results.jsonl)
for e in ${EXPECT:-person}; do
	args+=(--expect "$e")
done
if [ -f "$baseline" ]; then
	args+=(--baseline "$baseline")
else
	echo "ci-smoke: no baseline at $baseline: checking expectations only" >&2
fi
status=0
"$hp" "${args[@]}" "$images" || status=$?
echo "ci-smoke: exit status $status; report in $junit, answers in smoke-results.jsonl"
exit "$status"
