#!/usr/bin/env bash
# The project's test command. Installs missing build dependencies, then:
#   1. builds with CMake (warnings are errors) and runs the whole suite with ctest;
#   2. builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs
#      the whole suite under them;
#   3. runs a selection of the end-to-end tests with the binary under valgrind
#      (zero errors, zero leaks of any kind);
#   4. fuzzes the response decoder and the retry-header parsers for a short
#      while, when clang with libFuzzer is present.
#
#   tests/run.sh            everything (CI runs this)
#   tests/run.sh --quick    stage 1 only
#
# Dependencies come from Debian's packages: apt-get when root, else sudo,
# else the line to run is printed and the script stops.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)
# Most end-to-end tests spend their time waiting (on backoffs, cold starts,
# deployments), so ctest runs twice as many as there are cores; under valgrind
# they are CPU-bound, and one more than the cores keeps both busy.
test_jobs=$((jobs * 2))
valgrind_jobs=$((jobs + 1))

# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"
# What the suite runs besides the build: zsh and fish for the completion tests, dpkg-dev and
# lintian for the package test (cpack -G DEB), mandoc for the man page's lint (test_docs.py),
# GNU parallel and PyYAML for the recipes of docs/scaling.md (test_scaling.py), nginx for
# HTTP/2 (test_guard.py), OpenSSH's server for the GNU parallel recipe over real ssh (test_scaling.py),
# numpy for val's reference metrics (tests/val), GStreamer's RTSP server for the live sources
# (test_video_stream.py)
suite_deps=(zsh fish dpkg-dev lintian mandoc parallel python3-yaml nginx openssh-server python3-numpy rtsp-server)
if [ $quick -eq 1 ]; then
	hp_install_deps tests/run.sh "${suite_deps[@]}"
else
	# valgrind for stage 3; the fuzz stage skips itself without clang's libFuzzer
	hp_install_deps tests/run.sh valgrind clang "${suite_deps[@]}"
fi

stage() { printf '\n== tests/run.sh: %s ==\n' "$*"; }

stage "1/4 build and run the whole suite"
cmake -S "$root" -B "$root/build-test" -DHUBPREDICT_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build-test" -j "$jobs"
(cd "$root/build-test" && ctest --output-on-failure -j "$test_jobs" -LE valgrind)
# A build without image support compiles and refuses the picture flags (exit 2).
cmake -S "$root" -B "$root/build-noimages" -DHUBPREDICT_WERROR=ON -DHUBPREDICT_IMAGES=OFF \
	-DHUBPREDICT_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build-noimages" -j "$jobs" --target hubpredict >/dev/null
# refused WHAT ARG...: build-noimages' hubpredict ARG... must be exit 2 saying "no WHAT support"
refused() {
	local what=$1 err=$root/build-noimages/err
	shift
	if "$root/build-noimages/hubpredict" "$@" 2>"$err"; then
		echo "a build without $what support accepted $*" >&2
		exit 1
	elif [ $? -ne 2 ] || ! grep -q "no $what support" "$err"; then
		echo "a build without $what support: $* did not give exit 2 and the message:" >&2
		cat "$err" >&2
		exit 1
	fi
}
for flag in "--annotate out" "--resize"; do
	# shellcheck disable=SC2086 # the flag and its value are two words
	refused image -u http://127.0.0.1:9/ $flag x.jpg
done
refused image val -u http://127.0.0.1:9/ --plots out x
refused image bench -u http://127.0.0.1:9/ --plots out x
echo "build without image support: --annotate, --resize, val --plots and bench --plots are exit 2, as documented"
# video needs images: that build has no video either, and refuses its flags (exit 2)
for flag in "--vid-stride 2" "--fps 1" "--stream" "--frames 3" "--duration 5"; do
	# shellcheck disable=SC2086 # the flag and its value are two words
	refused video -u http://127.0.0.1:9/ $flag x.mp4
done
echo "build without video support: --vid-stride, --fps, --stream, --frames and --duration are exit 2"
[ $quick -eq 1 ] && exit 0

stage "2/4 AddressSanitizer + UndefinedBehaviorSanitizer: the whole suite again"
cmake -S "$root" -B "$root/build-asan" -DHUBPREDICT_WERROR=ON -DHUBPREDICT_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build-asan" -j "$jobs"
(cd "$root/build-asan" && ctest --output-on-failure -j "$test_jobs")

stage "3/4 valgrind: end-to-end tests with the binary under memcheck"
cmake -S "$root" -B "$root/build-test" -DHUBPREDICT_VALGRIND=ON >/dev/null
(cd "$root/build-test" && ctest --output-on-failure -j "$valgrind_jobs" -L valgrind)

stage "4/4 fuzzing"
"$root/tests/fuzz/run.sh" "${HUBPREDICT_FUZZ_SECONDS:-30}"
