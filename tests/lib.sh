# shellcheck shell=bash
# tests/lib.sh - shell pieces shared by tests/run.sh, examples/demo.sh and the
# benchmarks. Source it; it defines functions only.

# hp_install_deps WHO [PACKAGE...]
#   Install the build dependencies that are missing (and any extra Debian
#   PACKAGEs asked for by command name: "valgrind", "clang", "zsh", "fish",
#   "dpkg-dev"): apt-get when
#   root, else sudo, else print the line to run and return 1.
hp_install_deps() {
	local who=$1
	shift
	local missing=() tool
	command -v cmake >/dev/null 2>&1 || missing+=(cmake)
	command -v cc >/dev/null 2>&1 || missing+=(gcc)
	command -v python3 >/dev/null 2>&1 || missing+=(python3)
	# the TLS tests make a throw-away CA at run time (standin.make_test_certificates)
	command -v openssl >/dev/null 2>&1 || missing+=(openssl)
	if command -v pkg-config >/dev/null 2>&1; then
		pkg-config --exists libcurl 2>/dev/null || missing+=(libcurl4-openssl-dev)
		pkg-config --exists libcjson 2>/dev/null || missing+=(libcjson-dev)
		# image support (HUBPREDICT_IMAGES, on by default): --annotate, --resize
		pkg-config --exists libturbojpeg 2>/dev/null || missing+=(libturbojpeg0-dev)
		pkg-config --exists libpng 2>/dev/null || missing+=(libpng-dev)
		pkg-config --exists libwebp 2>/dev/null || missing+=(libwebp-dev)
		pkg-config --exists freetype2 2>/dev/null || missing+=(libfreetype-dev)
		pkg-config --exists fontconfig 2>/dev/null || missing+=(libfontconfig-dev)
		# video support (HUBPREDICT_VIDEO, on by default): frames cut locally
		pkg-config --exists libavformat 2>/dev/null || missing+=(libavformat-dev)
		pkg-config --exists libavcodec 2>/dev/null || missing+=(libavcodec-dev)
		pkg-config --exists libswscale 2>/dev/null || missing+=(libswscale-dev)
		pkg-config --exists libavutil 2>/dev/null || missing+=(libavutil-dev)
	else
		missing+=(pkg-config libcurl4-openssl-dev libcjson-dev libturbojpeg0-dev libpng-dev libwebp-dev
			libfreetype-dev libfontconfig-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev)
	fi
	# the video tests make their media with the ffmpeg program (libx264, libvpx)
	command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
	[ -e /usr/include/gif_lib.h ] || missing+=(libgif-dev)
	# the font --annotate draws with, found through fontconfig
	[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
	for tool in "$@"; do
		case $tool in
		clang) command -v clang >/dev/null 2>&1 || missing+=(clang libclang-rt-dev) ;;
		# a YAML parser for Debian's own python3 (the Kubernetes manifest's test)
		python3-yaml) /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || missing+=(python3-yaml) ;;
		# GStreamer's RTSP server for Debian's python3 (tests/tools/rtsp_server.py: H.264 by x264enc,
		# RTP by rtph264pay)
		rtsp-server) /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0")' \
			>/dev/null 2>&1 || missing+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
				gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly) ;;
		# numpy for Debian's python3 (val's reference metrics, tests/val)
		python3-numpy) /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy) ;;
		# cpack -G DEB's dependency list (CPACK_DEBIAN_PACKAGE_SHLIBDEPS)
		dpkg-dev) command -v dpkg-shlibdeps >/dev/null 2>&1 || missing+=(dpkg-dev) ;;
		# HTTP/2 over TLS for test_guard.py (the stand-in speaks HTTP/1.1 only); /usr/sbin may not be in PATH
		nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx) ;;
		# the real sshd that the GNU parallel recipe of docs/scaling.md runs over (test_scaling.py)
		openssh-server) [ -x /usr/sbin/sshd ] || missing+=(openssh-server) ;;
		*) command -v "$tool" >/dev/null 2>&1 || missing+=("$tool") ;;
		esac
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "$who: installing ${missing[*]}"
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	else
		echo "$who: missing build dependencies; run:" >&2
		echo "  sudo apt-get install ${missing[*]}" >&2
		return 1
	fi
}

# hp_start_standin ROOT TMPDIR [STANDIN ARGS...]
#   Start the stand-in API server on an ephemeral loopback port, wait until
#   it says its port, and set HP_STANDIN_PID and HP_STANDIN_URL
#   (http://127.0.0.1:PORT). Its output goes to TMPDIR/standin.log. The
#   caller stops it (kill "$HP_STANDIN_PID"). Returns 1 if it did not start.
hp_start_standin() {
	local root=$1 tmp=$2
	shift 2
	python3 "$root/tests/standin/standin.py" --port 0 --port-file "$tmp/port" "$@" >"$tmp/standin.log" 2>&1 &
	HP_STANDIN_PID=$!
	local _
	for _ in $(seq 200); do
		[ -s "$tmp/port" ] && break
		if ! kill -0 "$HP_STANDIN_PID" 2>/dev/null; then
			cat "$tmp/standin.log" >&2
			echo "the stand-in server did not start" >&2
			return 1
		fi
		sleep 0.05
	done
	[ -s "$tmp/port" ] || { echo "the stand-in server did not say its port" >&2; return 1; }
	# shellcheck disable=SC2034 # read by the callers
	HP_STANDIN_URL="http://127.0.0.1:$(cat "$tmp/port")"
}

# hp_bench_binaries ROOT
#   Set bin and peakrss for a benchmark: $HUBPREDICT_BIN and $PEAKRSS_BIN when
#   both are given, else a Release build of both in ROOT/build-bench.
hp_bench_binaries() {
	local root=$1
	if [[ -n ${HUBPREDICT_BIN:-} && -n ${PEAKRSS_BIN:-} ]]; then
		bin=$HUBPREDICT_BIN
		peakrss=$PEAKRSS_BIN
		return 0
	fi
	echo "== building hubpredict and peakrss (Release) in $root/build-bench"
	cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$root/build-bench" -j"$(nproc)" --target hubpredict peakrss >/dev/null
	bin=$root/build-bench/hubpredict
	peakrss=$root/build-bench/tests/peakrss
}

# hp_bench_tmp NAME
#   Make a benchmark's scratch folder tmp (hubpredict-NAME.XXXXXX in $TMPDIR, else /tmp),
#   set nginx_pid and standin_pid empty, and trap EXIT (INT and TERM exit 130 and 143) to
#   stop the processes whose ids the script has put in those two and remove tmp.
hp_bench_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubpredict-$1.XXXXXX")
	nginx_pid=
	standin_pid=
	trap hp_bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
hp_bench_cleanup() {
	local pid
	for pid in ${nginx_pid:-} ${standin_pid:-}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
