# shellcheck shell=bash
# tests/bench/nginx.sh - the fast local server of the benchmarks (batch.sh, scale.sh). Source it
# after setting root (the repository) and tmp (a scratch directory); it sets nginx_bin and defines
# start_nginx, which starts nginx on a free loopback port answering POST /v1/predict/detect with
# tests/fixtures/detect.json, and sets nginx_url and nginx_pid (or nginx_note, returning 1).
# The caller stops it (kill "$nginx_pid").
if [[ -n ${BENCH_NGINX_BIN:-} ]]; then
	nginx_bin=$(command -v "$BENCH_NGINX_BIN" || true)
else
	nginx_bin=$(command -v nginx || true)
	[[ -z $nginx_bin && -x /usr/sbin/nginx ]] && nginx_bin=/usr/sbin/nginx
fi
start_nginx() {
	local dir=$tmp/nginx body user_line="" port
	mkdir -p "$dir"
	# The documented detect answer, on one line. `return` text may hold nginx variables and
	# ends at the closing quote: refuse a body with $, ' or \ rather than mangle it.
	body=$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' \
		"$root/tests/fixtures/detect.json")
	if [[ $body == *[\$\'\\]* ]]; then
		nginx_note="the detect fixture cannot be put in nginx.conf as it is"
		return 1
	fi
	(( EUID == 0 )) && user_line="user nobody nogroup;"
	for _ in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		cat >"$dir/nginx.conf" <<-EOF
		# written by tests/bench/nginx.sh
		$user_line
		worker_processes ${BENCH_NGINX_WORKERS:-1};
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		events { worker_connections 1024; }
		http {
		    # \$connection is nginx's serial number of the TCP connection: it shows reuse.
		    log_format bench '\$msec \$connection \$connection_requests \$status "\$http_user_agent"';
		    access_log $dir/access.log bench;
		    client_body_temp_path $dir/body;
		    proxy_temp_path $dir/proxy;
		    fastcgi_temp_path $dir/fastcgi;
		    uwsgi_temp_path $dir/uwsgi;
		    scgi_temp_path $dir/scgi;
		    keepalive_requests 1000000;
		    keepalive_timeout 60s;
		    server {
		        listen 127.0.0.1:$port;
		        client_max_body_size 1g;
		        client_body_buffer_size 1m;
		        location = /v1/predict/detect {
		            default_type application/json;
		            return 200 '$body';
		        }
		    }
		}
		EOF
		"$nginx_bin" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' \
			>"$dir/stdout" 2>&1 &
		nginx_pid=$!
		for _ in $(seq 50); do
			if curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/predict/detect" 2>/dev/null; then
				nginx_url=http://127.0.0.1:$port/v1/predict/detect
				return 0
			fi
			kill -0 "$nginx_pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
		nginx_pid=
	done
	nginx_note="nginx did not start: $(tail -n 2 "$dir/error.log" "$dir/stdout" 2>/dev/null | tr '\n' ' ')"
	return 1
}
