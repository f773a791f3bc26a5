"""Issue 19: what hubpredict shows and prints must be safe to show and run: deploy's tables with
the key scrubbed and control characters escaped (19.7), --dry-run's curl command replayed by the
real curl (19.11), one HTTP/2 connection for a batch (19.13), --dry-run --resize telling what the
run sends (19.17)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time

from harness import E2E, HUB_KEY, PLATFORM_KEY, ROOT, StandIn, image
from standin import make_test_certificates
from test_deploy import DeployCase
from test_request import RequestCase

OSC52 = "\x1b]52;c;ZXZpbA==\x07"      # writes the terminal's clipboard
CLEAR = "\x1b[2J"                     # clears the screen


class TestDeployTablesAreSafe(DeployCase):
    """19.7: a container that logs its Authorization header, or an API document holding control
    sequences, reaches the terminal scrubbed and escaped, in every table and field."""

    def setUp(self):
        super().setUp()
        self.server.add_deployment("cam", status="ready")
        self.server.deployments.plant(
            "cam", deployment=f"cam{OSC52}", region=CLEAR + "us", project=f"p{PLATFORM_KEY}",
            statusMessage=f"Authorization: Bearer {PLATFORM_KEY}\x1b[31m",
            log=[f"Authorization: Bearer {PLATFORM_KEY}", f"boom{CLEAR}{OSC52}",
                 ("served", {"method": "GET\x1b[1m", "url": f"/predict?key={PLATFORM_KEY}", "status": 200,
                             "latencyMs": 3.0})],
            **{"weird\x1bkey": "x"})

    def assertSafe(self, r):
        self.assertExit(r, 0)
        # the harness's key check runs on every run; and no control character but the newline
        self.assertNotRegex(r.out, r"[\x00-\x09\x0b-\x1f\x7f]", r)
        self.assertIn("[redacted]", r.out)

    def test_list(self):
        r = self.hp("deploy", "list")
        self.assertSafe(r)
        self.assertIn(r"cam\e]52;c;ZXZpbA==\x07", r.out)
        self.assertIn(r"\e[2Jus", r.out)

    def test_show(self):
        r = self.hp("deploy", "show", "cam")
        self.assertSafe(r)
        self.assertIn(r"statusMessage: Authorization: Bearer [redacted]\e[31m", r.out)
        self.assertIn(r"weird\ekey: x", r.out)

    def test_logs(self):
        r = self.hp("deploy", "logs", "cam")
        self.assertSafe(r)
        self.assertIn(r"boom\e[2J\e]52;c;ZXZpbA==\x07", r.out)
        self.assertIn(r"[GET\e[1m /predict?key=[redacted] 200 3.0 ms]", r.out)

    def test_start_and_health_lines(self):
        self.server.push({"match": "/cam/health", "body": {"healthy": False, "status": 503,
                                                           "error": f"{CLEAR}key {PLATFORM_KEY}"}})
        r = self.hp("deploy", "health", "cam")
        self.assertExit(r, 8)
        self.assertIn(r"not healthy (503): \e[2Jkey [redacted]", r.out)
        self.server.push({"match": "/cam", "status": 202,
                          "body": {"status": f"deploying{OSC52}", "message": f"{PLATFORM_KEY} {CLEAR}"}})
        r = self.hp("deploy", "start", "cam")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "cam: deploying\\e]52;c;ZXZpbA==\\x07 ([redacted] \\e[2J)\n")


class TestDryRunReplayed(RequestCase):
    """19.11: the printed command, run as it is by the real curl, sends what the run sends: the same
    headers (no Authorization for a public Platform model; Accept-Encoding as --compressed), fields,
    file name and content type (curl guesses application/octet-stream for an mp4, a WebP, a BMP),
    standard input's name, and a key from a file, a config file or `yolo login`."""

    def sent_by(self, args, path, key, stdin=b"", env=None):
        """(the run's request, its output) for args + path."""
        self.server.reset()
        r = self.run_hp(*args, "-f", "raw", path, key=key, stdin=stdin, env=env)
        self.assertExit(r, 0)
        return self.only_request(), r.out_bytes

    def replay(self, printed, stdin=b"", key=None):
        """Run the dry run's whole output with bash, the key in the environment only when the run had
        it there: what curl sent."""
        env = {k: v for k, v in os.environ.items() if k != "ULTRALYTICS_API_KEY"}
        if key:
            env["ULTRALYTICS_API_KEY"] = key
        self.server.reset()
        p = subprocess.run(["bash", "-c", printed], input=stdin, capture_output=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 0, p)
        return self.only_request(), p.stdout

    def assertSame(self, run, curl):
        self.assertEqual(curl["status"], 200, curl)
        for what in ("method", "path", "fields"):
            self.assertEqual(run[what], curl[what], what)
        for name in ("x-api-key", "authorization", "user-agent", "accept-encoding"):
            self.assertEqual(run["headers"].get(name), curl["headers"].get(name), name)
        for name in ("name", "filename", "content_type", "size", "sha256"):
            self.assertEqual(run["file"][name], curl["file"][name], name)

    def honest(self, args, path, key, stdin=b"", env=None):
        run, out = self.sent_by(args, path, key, stdin, env)
        d = self.run_hp("--dry-run", *args, path, key=key, stdin=stdin, env=env)
        self.assertExit(d, 0)
        curl, body = self.replay(d.out, stdin, key)
        self.assertSame(run, curl)
        self.assertEqual(body, out)
        return run, d.out

    def test_a_public_platform_model_gets_no_authorization(self):
        run, printed = self.honest(["--api", "platform", "-u", self.platform_url("public")], image("cat.png"), None)
        self.assertNotIn("authorization", run["headers"])
        self.assertNotIn("Authorization", printed)

    def test_content_type_and_compression(self):
        with open(image("cat.png"), "rb") as f:
            png = f.read()
        for path, ctype in ((image("clip.mp4"), "video/mp4"), (self.write("x.webp", png), "image/webp"),
                            (self.write("x.bmp", png), "image/bmp"), (image("street.jpg"), "image/jpeg")):
            with self.subTest(path=path):
                run, printed = self.honest(["-u", self.hub_url()], path, HUB_KEY)
                self.assertEqual(run["file"]["content_type"], ctype)
                self.assertIn("gzip", run["headers"]["accept-encoding"])
                self.assertIn(" --compressed", printed)

    def test_standard_input_named_as_the_run_names_it(self):
        with open(image("street.jpg"), "rb") as f:
            jpeg = f.read()
        run, printed = self.honest(["-u", self.hub_url()], "-", HUB_KEY, stdin=jpeg)
        self.assertEqual(run["file"]["filename"], "stdin.jpg")
        self.assertIn(";filename=\"stdin.jpg\";type=image/jpeg", printed)

    def test_a_key_from_a_file_or_a_config_or_yolo_login_is_read_first(self):
        keyfile = self.write("key", PLATFORM_KEY.encode() + b"\r\n")
        os.chmod(keyfile, 0o600)
        run, printed = self.honest(["--api-key-file", keyfile, "-u", self.platform_url()], image("cat.png"), None)
        self.assertPlatformAuth(run)
        self.assertNotIn(PLATFORM_KEY, printed)
        self.assertEqual(printed.splitlines()[0], f"ULTRALYTICS_API_KEY=$(head -n 1 '{keyfile}' | tr -d '\\r')")
        config = self.write(".config/hubpredict/config",
                            f"url = {self.hub_url()}\n[profile ci]\n  api-key =  {HUB_KEY}  \n".encode())
        os.chmod(config, 0o600)
        run, printed = self.honest(["--profile", "ci"], image("cat.png"), None)
        self.assertHubAuth(run)
        settings = self.write("yolo/Ultralytics/settings.json", json.dumps({"api_key": HUB_KEY}).encode())
        os.chmod(settings, 0o600)
        run, printed = self.honest(["-u", self.hub_url()], image("cat.png"), None,
                                   env={"YOLO_CONFIG_DIR": self.path("yolo")})
        self.assertHubAuth(run)

    def test_a_key_that_cannot_be_read_again_is_asked_for(self):
        d = self.run_hp("--dry-run", "-k", PLATFORM_KEY, "-u", self.platform_url(), image("cat.png"), key=None)
        self.assertExit(d, 0)
        self.assertTrue(d.out.startswith("# the key came from -k and is not printed"), d)


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    return found or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


class TestHttp2OneConnection(E2E):
    """19.13: over TLS with HTTP/2, a batch multiplexes on one connection (as curl does) instead of
    one handshake per job. The stand-in speaks HTTP/1.1 only, so a real nginx (ssl, http2, a throw-away
    certificate) answers here, its access log naming each request's connection serial number. nginx
    missing is a failure, not a skip: tests/run.sh installs it."""

    def setUp(self):
        super().setUp()
        nginx = nginx_binary()
        self.assertIsNotNone(nginx, "nginx is not installed (tests/run.sh installs it: apt-get install nginx)")
        os.makedirs(self.path("certs"))
        certs = make_test_certificates(self.path("certs"))
        self.ca = certs["ca"]
        with open(os.path.join(ROOT, "tests", "fixtures", "detect.json")) as f:
            body = json.dumps(json.load(f), separators=(",", ":"))
        self.assertNotRegex(body, r"[$'\\]", "the fixture cannot go into nginx.conf as it is")
        version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
        new = tuple(map(int, re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version).groups())) >= (1, 25, 1)
        d = self.path("nginx")
        os.makedirs(d)
        port = free_port()
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        conf = f"""{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format conns '$connection $server_protocol $status';
    access_log {d}/access.log conns;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl{"" if new else " http2"};
        {"http2 on;" if new else ""}
        ssl_certificate {certs["cert"]};
        ssl_certificate_key {certs["key"]};
        client_max_body_size 100m;
        location / {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}
}}
"""
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)
        self.nginx = subprocess.Popen([nginx, "-e", f"{d}/error.log", "-p", d, "-c", f"{d}/nginx.conf",
                                       "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(self.stop_nginx)
        self.log = os.path.join(d, "access.log")
        self.url = f"https://127.0.0.1:{port}/v1/predict/detect"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                self.assertIsNone(self.nginx.poll(), f"nginx did not start: {self.nginx.stderr.read()!r}")
                time.sleep(0.05)

    def stop_nginx(self):
        self.nginx.terminate()
        self.nginx.wait(10)
        self.nginx.stderr.close()

    def requests_logged(self, n):
        for _ in range(100):       # nginx logs a request once it has answered it
            with open(self.log) as f:
                lines = [ln.split() for ln in f if ln.strip()]
            if len(lines) >= n:
                return lines
            time.sleep(0.05)
        return lines

    def test_a_batch_shares_one_connection(self):
        inputs = [self.write(f"in{i:02d}.png", open(image("cat.png"), "rb").read()) for i in range(16)]
        r = self.run_hp("-u", self.url, "--cacert", self.ca, "-j", "8", "-q", "-f", "jsonl", *inputs)
        self.assertExit(r, 0)
        self.assertEqual(len(r.jsonl()), 16)
        lines = self.requests_logged(16)
        self.assertEqual(len(lines), 16, lines)
        self.assertEqual({proto for _, proto, _ in lines}, {"HTTP/2.0"}, lines)
        self.assertEqual({status for _, _, status in lines}, {"200"}, lines)
        connections = {conn for conn, _, _ in lines}
        self.assertEqual(len(connections), 1, f"{len(connections)} TLS connections for one batch: {lines}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestDeployLimitRange(DeployCase):
    """19.17: --limit out of range names deploy list's 1-100 (one option row serves list and logs)."""

    def test_limit_zero_names_both_ranges(self):
        for args in (("deploy", "list", "--limit", "0"), ("deploy", "list", "--limit", "x"),
                     ("deploy", "logs", "cam", "--limit", "201")):
            with self.subTest(args=args):
                r = self.hp(*args)
                self.assertExit(r, 2)
                self.assertOneLineError(r, "--limit must be a whole number from 1 to 100 for deploy list, "
                                           "1 to 200 for deploy logs, not")
                self.assertNothingSent()


class TestHttp11StillParallel(E2E):
    """19.13's other side: waiting for a connection that can multiplex must not queue an HTTP/1.1
    batch behind its first answer (TLS settles it at the handshake; plain HTTP is not waited on)."""

    def test_jobs_run_side_by_side_over_tls_and_plain_http(self):
        os.makedirs(self.path("certs"))
        certs = make_test_certificates(self.path("certs"))
        tls = StandIn(tls=(certs["cert"], certs["key"])).start()
        self.addCleanup(tls.stop)
        for server in (self.server, tls):
            with self.subTest(url=server.url):
                server.set_latency(1.0)
                t = time.monotonic()
                r = self.run_hp("-u", f"{server.url}/v1/predict/detect", "--cacert", certs["ca"], "-j", "4", "-q",
                                *[image("cat.png")] * 4)
                self.assertExit(r, 0)
                self.assertEqual(len({rec["conn_id"] for rec in server.log()}), 4, server.log())
                self.assertLess(time.monotonic() - t, 3.5)      # side by side, not 4 s one after another
