#!/bin/sh
# tests/fuzz/regress.sh FUZZ_DECODE FUZZ_RETRY_HEADERS [FUZZ_IMAGE [FUZZ_VIDEO]] - replay, without
# fuzzing, every seed in tests/fuzz/corpus/<target>/ and every saved crash in
# tests/fuzz/crashes/<target>/ through its target (the fuzz.regress test).
# A crash input that still crashes is a regression; each is reported by name.
# HP_FUZZ_SKIP is honoured (see fuzz_decode.c).
set -u

if [ $# -lt 2 ] || [ $# -gt 4 ]; then
	echo "usage: regress.sh FUZZ_DECODE FUZZ_RETRY_HEADERS [FUZZ_IMAGE [FUZZ_VIDEO]]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
failed=0
ran=0

replay() { # replay TARGET BINARY FILE...
	name=$1
	bin=$2
	shift 2
	for f in "$@"; do
		[ -f "$f" ] || continue
		ran=$((ran + 1))
		if ! out=$("$bin" "$f" 2>&1); then
			failed=$((failed + 1))
			echo "FAIL $name: ${f#"$here"/}"
			printf '%s\n' "$out" | grep -E "^(SUMMARY|FUZZ CHECK)|runtime error|ERROR: " | head -4
		fi
	done
}

replay decode "$1" "$here"/crashes/decode/*
replay headers "$2" "$here"/crashes/headers/*
targets="decode:$1 headers:$2"
if [ $# -ge 3 ]; then # a build with image support
	replay image "$3" "$here"/crashes/image/*
	targets="$targets image:$3"
fi
if [ $# -eq 4 ]; then # and video support
	replay video "$4" "$here"/crashes/video/*
	targets="$targets video:$4"
fi
# the seeds in one run each (they are many and must all pass)
for t in $targets; do
	name=${t%%:*}
	bin=${t#*:}
	set -- "$here"/corpus/"$name"/*
	ran=$(( ran + $# ))
	if ! out=$("$bin" "$@" 2>&1); then
		failed=$((failed + 1))
		echo "FAIL $name seed corpus:"
		printf '%s\n' "$out" | grep -E "^(Running:|SUMMARY|FUZZ CHECK)|runtime error|ERROR: " | tail -5
	fi
done
echo "fuzz-regress: $((ran - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
