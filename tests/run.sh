#!/usr/bin/env bash
# The project's test command: install missing build dependencies, build with
# CMake (warnings are errors), run the whole suite with ctest.
#
#   tests/run.sh            build into build-test/ and run everything
#
# Dependencies come from Debian's packages: apt-get when root, else sudo,
# else the line to run is printed and the script stops.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-test"

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
	echo "tests/run.sh: installing ${missing[*]}"
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	else
		echo "tests/run.sh: missing build dependencies; run:" >&2
		echo "  sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi

cmake -S "$root" -B "$build" -DHUBPREDICT_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
