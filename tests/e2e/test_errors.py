"""Failures, one SPEC section 4 exit status at a time: what a user or a script sees.

Each case checks the exact exit status, the one stderr line (`hubpredict: FILE: STATUS REASON:
server message`, or `hubpredict: cannot open 'x.jpg': ...` for input errors), that stdout
holds no partial output, and (for most) the error record of `-f json`. Usage errors also
check the `try 'hubpredict --help'` line and that the stand-in received nothing.

hubpredict does not retry yet; every case that provokes a retryable failure (429, 408, 5xx,
network, cut-off) passes `--retries 0` so it stays fast once retries exist.
"""

import json
import os
import re
import socket
import subprocess
import time
import unittest

from harness import E2E, HUB_KEY, PLATFORM_KEY, WRAPPER, Result, StandIn, image

from standin import FIXTURES  # noqa: E402  (harness put tests/standin on sys.path)

CAT = image("cat.png")
STREET = image("street.jpg")
HELP_LINE = "try 'hubpredict --help'"
# Time limits are for a plain run; a wrapper such as valgrind is slower.
SLOW = 5 if WRAPPER else 1
WRONG_HUB_KEY = "f" * 42
WRONG_PLATFORM_KEY = "ul_" + "0" * 40


def term_escape(text: str) -> str:
    """hubpredict's escaping of control characters in a stderr line (text.c hp_term_escape)."""
    table = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\x1b": "\\e"}
    return "".join(table.get(ch, ch) for ch in text)


def quoted(path: str) -> str:
    """A path as input errors quote it: in '...', a quote inside shown as \\'."""
    return "'" + term_escape(path).replace("'", "\\'") + "'"


class ErrorE2E(E2E):
    """Helpers shared by the error tests."""

    def timed(self, *args, **kw):
        t0 = time.monotonic()
        r = self.run_hp(*args, **kw)
        return r, time.monotonic() - t0

    def error_lines(self, r):
        """stderr lines but warnings and the batch summary (SPEC 1: -q hides those)."""
        return [ln for ln in r.err.splitlines()
                if not ln.startswith(("hubpredict: warning:", "hubpredict: summary:"))]

    def without_request_id(self, line):
        """line without its " (x-request-id: ID)" ending, which must name the stand-in's last
        answer; line as it is when there is none."""
        m = re.fullmatch(r"(.*) \(x-request-id: ([0-9a-f]{32})\)", line)
        if not m:
            return line
        self.assertIn(m.group(2), [rec.get("request_id") for rec in self.server.log()], line)
        return m.group(1)

    def assertOneError(self, r, start):
        """Exactly one error line on stderr, starting with `start` (which has no prefix)."""
        lines = self.error_lines(r)
        self.assertEqual(len(lines), 1, f"want exactly one error line: {r}")
        self.assertTrue(lines[0].startswith("hubpredict: " + start), f"want {start!r}: {r}")
        return lines[0]

    def expect_usage(self, args, *fragments, key=HUB_KEY, env=None, stdin=None, first=None):
        """Exit 2, one line naming the problem, then the help hint; nothing sent, no stdout."""
        self.server.reset()
        r = self.run_hp(*args, key=key, env=env, stdin=stdin)
        self.assertExit(r, 2)
        self.assertEqual(r.out_bytes, b"", r)
        lines = r.err.splitlines()
        self.assertEqual(len(lines), 2, r)
        self.assertTrue(lines[0].startswith("hubpredict: "), r)
        if first is not None:
            self.assertEqual(lines[0], "hubpredict: " + first, r)
        for frag in fragments:
            self.assertIn(frag, lines[0], r)
        self.assertEqual(lines[1], HELP_LINE, r)
        self.assertTrue(r.err.endswith("\n"), r)
        self.assertEqual(self.server.log(), [], f"a usage error sent a request: {r}")
        return r

    def expect_failure(self, args, code, file, message, *, http_status=None, key=HUB_KEY,
                       env=None, stdin=None, script=(), requests=1, json_too=True,
                       timeout=None, unprivileged=False):
        """One input that fails with `code`.

        `message` is the text after "FILE: " on stderr (for input errors, code 3, the whole
        text after "hubpredict: ") and the error record's message; a str is matched exactly,
        an re.Pattern with fullmatch. The table run must leave stdout empty; with json_too the
        same run in -f json must give exactly one error record. `script` is pushed again before
        each run; `requests` is how many requests the stand-in must see per run.
        """
        runs = [("table", ())] + ([("json", ("-f", "json"))] if json_too else [])
        for fmt, extra in runs:
            self.server.reset()
            if script:
                self.server.push_many(list(script))
            r = self.run_hp(*extra, *args, key=key, env=env, stdin=stdin, timeout=timeout,
                            unprivileged=unprivileged)
            self.assertExit(r, code)
            lines = self.error_lines(r)
            self.assertEqual(len(lines), 1, f"want exactly one stderr line: {r}")
            self.assertTrue(r.err.endswith("\n"), r)
            if code == 3:
                prefix = "hubpredict: "
            else:
                prefix = "hubpredict: " + term_escape(file) + ": "
            self.assertTrue(lines[0].startswith(prefix), f"want prefix {prefix!r}: {r}")
            shown = lines[0][len(prefix):]
            # an answer's x-request-id follows the message (issue 8, item 7): the stand-in's
            shown = self.without_request_id(shown)
            if isinstance(message, re.Pattern):
                self.assertRegex(shown, message)
                self.assertIsNotNone(message.fullmatch(shown), f"{message.pattern!r} vs {shown!r}")
            else:
                self.assertEqual(shown, term_escape(message), r)
            self.assertEqual(len(self.server.log()), requests, f"requests sent: {r}")
            if fmt == "table":
                self.assertEqual(r.out_bytes, b"", f"partial output on stdout: {r}")
            else:
                doc = r.json()
                self.assertEqual(len(doc), 1, r)
                rec = doc[0]
                self.assertEqual(rec["file"], file)
                self.assertNotIn("response", rec)
                self.assertEqual(set(rec["error"]) - {"request_id"}, {"exit", "http_status", "message"}, rec)
                if "request_id" in rec["error"]:
                    self.assertEqual(rec["error"]["request_id"], self.server.log()[-1]["request_id"], rec)
                self.assertEqual(rec["error"]["exit"], code, rec)
                self.assertEqual(rec["error"]["http_status"], http_status, rec)
                got = rec["error"]["message"]
                if isinstance(message, re.Pattern):
                    self.assertIsNotNone(message.fullmatch(got), f"{message.pattern!r} vs {got!r}")
                else:
                    self.assertEqual(got, message, rec)
        return r


# ---------------------------------------------------------------------------------------------
# 2: usage
# ---------------------------------------------------------------------------------------------

class TestUsage(ErrorE2E):

    # (flag, bad value, range endpoints the message must show: the SPEC's ranges only)
    NUMERIC = [
        ("--imgsz", "31", ("32", "1280")), ("--imgsz", "1281", ("32", "1280")),
        ("--imgsz", "-1", ("32", "1280")), ("--imgsz", "abc", ("32", "1280")),
        ("--imgsz", "640px", ("32", "1280")), ("--imgsz", "", ("32", "1280")),
        ("-s", "2000", ("32", "1280")),
        ("--conf", "0", ("0.01", "1.0")), ("--conf", "0.009", ("0.01", "1.0")),
        ("--conf", "1.01", ("0.01", "1.0")), ("--conf", "nan", ("0.01", "1.0")),
        ("-c", "x", ("0.01", "1.0")),
        ("--iou", "-0.01", ("0.0", "0.95")), ("--iou", "0.96", ("0.0", "0.95")),
        ("-i", "inf", ("0.0", "0.95")),
        ("--decimals", "-1", ("0", "10")), ("--decimals", "11", ("0", "10")),
        ("--decimals", "2.5", ("0", "10")),
        ("--jobs", "0", ("1", "64")), ("--jobs", "65", ("1", "64")), ("-j", "1.5", ("1", "64")),
        ("--retries", "-1", ()), ("--retries", "x", ()),
        ("--retry-max-time", "-1", ()), ("--retry-max-time", "soon", ()),
        ("--connect-timeout", "0", ()), ("--connect-timeout", "-1", ()),
        ("--connect-timeout", "x", ()),
        ("--timeout", "-1", ()), ("--timeout", "x", ()),
        ("--rate", "0/s", ()), ("--rate", "-1/m", ()), ("--rate", "5", ()),
        ("--rate", "5/d", ()), ("--rate", "x/h", ()),
    ]

    def test_numeric_values_out_of_range(self):
        for flag, value, bounds in self.NUMERIC:
            with self.subTest(flag=flag, value=value):
                # --decimals is Platform only: give the flavour, so the value is what is wrong
                extra = ("--api", "platform") if flag == "--decimals" else ()
                long_flag = {"-s": "--imgsz", "-c": "--conf", "-i": "--iou", "-j": "--jobs"}.get(flag, flag)
                self.expect_usage(["-u", self.hub_url(), *extra, flag, value, CAT],
                                  long_flag, f"'{value}'", *bounds)

    def test_bad_words_and_unknown_flags(self):
        cases = [
            (["--format", "xml"], ("--format", "'xml'")),
            (["-f", "yaml"], ("--format", "'yaml'")),
            (["--api", "cloud"], ("--api", "'cloud'")),
            (["--bogus"], ("--bogus",)),
            (["--imgsz=640", "--no-such-flag=1"], ("--no-such-flag",)),
            (["-x"], ("-x",)),
        ]
        for extra, frags in cases:
            with self.subTest(args=extra):
                self.expect_usage(["-u", self.hub_url(), *extra, CAT], *frags)

    def test_flag_without_its_value(self):
        self.expect_usage(["-u", self.hub_url(), CAT, "--imgsz"], "--imgsz")
        self.expect_usage(["-u", self.hub_url(), CAT, "-o"], "-o")

    def test_no_input(self):
        self.expect_usage(["-u", self.hub_url()], "INPUT")

    def test_missing_model(self):
        # no -m, no -u; run_hp removes HUBPREDICT_MODEL and HUBPREDICT_URL from the environment
        r = self.expect_usage([CAT], "model")
        self.assertIn("-m", r.err.splitlines()[0])
        # an empty HUBPREDICT_MODEL is no model either
        self.expect_usage([CAT], "model", env={"HUBPREDICT_MODEL": ""})

    def test_bad_model_ids(self):
        for model in ("..", "a b", "own/../x", "x;rm"):
            with self.subTest(model=model):
                self.expect_usage(["-m", model, "--api", "platform", CAT], "--model")

    def test_missing_key(self):
        self.expect_usage(["-u", self.hub_url(), CAT], "key", key=None)
        self.expect_usage(["-u", self.hub_url(), CAT], "key", key=None,
                          env={"ULTRALYTICS_API_KEY": ""})
        empty = self.write("empty.key", b"")
        os.chmod(empty, 0o600)
        self.expect_usage(["-u", self.hub_url(), "--api-key-file", empty, CAT], "--api-key-file",
                          key=None)
        two = self.write("two.key", (HUB_KEY + "\n" + HUB_KEY + "\n").encode())
        os.chmod(two, 0o600)
        self.expect_usage(["-u", self.hub_url(), "--api-key-file", two, CAT], "--api-key-file",
                          key=None)
        self.expect_usage(["-u", self.hub_url(), "--api-key-file", self.path("none.key"), CAT],
                          "--api-key-file", key=None)

    def test_dry_run_needs_no_key(self):
        r = self.run_hp("-u", self.hub_url(), "--dry-run", CAT, key=None)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        self.assertTrue(r.out.startswith("curl "), r)
        self.assertEqual(self.server.log(), [])

    def test_platform_only_things_with_the_hub_flavour(self):
        cases = [
            (["-u", self.hub_url(), "--normalize"], "--normalize"),
            (["-u", self.hub_url(), "--decimals", "3"], "--decimals"),
            (["-u", self.hub_url(), "--api", "hub", "--normalize"], "--normalize"),
            (["-m", "owner/project/model", "--api", "hub"], "owner/project/model"),
            # (-m owner/project/model alone means Platform now, SPEC 6: see test_flavour.py)
        ]
        for extra, frag in cases:
            with self.subTest(args=extra):
                self.expect_usage([*extra, CAT], frag)
        # the same options are fine with the platform flavour (control: the request is sent)
        r = self.run_hp("-u", self.platform_url(), "--normalize", "--decimals", "3", CAT,
                        key=PLATFORM_KEY)
        self.assertExit(r, 0)
        self.assertEqual(len(self.server.log()), 1)


# ---------------------------------------------------------------------------------------------
# 3: input
# ---------------------------------------------------------------------------------------------

class TestInput(ErrorE2E):

    def check_input(self, path, message, **kw):
        return self.expect_failure(["-u", self.hub_url(), path], 3, path, message,
                                   requests=0, **kw)

    def test_missing_file(self):
        p = self.path("missing.jpg")
        self.check_input(p, f"cannot open {quoted(p)}: No such file or directory")

    def test_dangling_symlink(self):
        p = self.path("link.jpg")
        os.symlink(self.path("gone.jpg"), p)
        self.check_input(p, f"cannot open {quoted(p)}: No such file or directory")

    def test_empty_file(self):
        p = self.write("empty.jpg", b"")
        self.check_input(p, f"{quoted(p)} is empty")

    def test_directory_without_images(self):
        d = self.path("docs")
        self.write("docs/notes.txt", b"hello")
        self.write("docs/.hidden.jpg", b"\xff\xd8\xff")
        self.check_input(d, f"{quoted(d)}: no image or video files in this directory")
        os.makedirs(self.path("void"))
        self.check_input(self.path("void"),
                         f"{quoted(self.path('void'))}: no image or video files in this directory")

    def test_fifo_does_not_hang(self):
        p = self.path("pipe.jpg")
        os.mkfifo(p)
        t0 = time.monotonic()
        self.check_input(p, f"{quoted(p)} is not a regular file", timeout=10 * SLOW)
        self.assertLess(time.monotonic() - t0, 4 * SLOW)

    def test_device(self):
        self.check_input("/dev/null", "'/dev/null' is not a regular file")

    def test_empty_stdin(self):
        self.check_input("-", "standard input is empty", stdin=b"")

    def test_strange_name_is_one_line(self):
        name = "we ird 'q' \"d\"\nline\ttab\x1b[31m é中.jpg"
        p = self.path(name)
        r = self.check_input(p, f"cannot open {quoted(p)}: No such file or directory")
        self.assertNotIn("\x1b", r.err)
        self.assertIn("\\n", r.err)
        self.assertIn("é中", r.err)
        # the same name on a file that exists, failing at the server: file unquoted, escaped
        with open(CAT, "rb") as f:
            self.write(name, f.read())
        r = self.expect_failure(["-u", self.hub_url(), p], 4, p, "401 Unauthorized: Invalid API key",
                                http_status=401, key=WRONG_HUB_KEY)
        self.assertEqual(len(self.error_lines(r)), 1)
        self.assertNotIn("\x1b", r.err)

    def test_unreadable_file(self):
        # chmod 000 does not stop root (CI runs as root): the run is then made as nobody
        p = self.write("secret.jpg", b"\xff\xd8\xff\xe0data")
        os.chmod(p, 0)
        self.check_input(p, f"cannot open {quoted(p)}: Permission denied", unprivileged=True)
        # a folder that cannot be searched: its file cannot be reached
        self.write("locked/cat.jpg", b"\xff\xd8\xff\xe0data")
        os.chmod(self.path("locked"), 0o600)
        q = self.path("locked/cat.jpg")
        self.check_input(q, f"cannot open {quoted(q)}: Permission denied", unprivileged=True)


# ---------------------------------------------------------------------------------------------
# 4-8: HTTP statuses
# ---------------------------------------------------------------------------------------------

class TestHttpStatus(ErrorE2E):

    def test_401_wrong_key_hub(self):
        self.expect_failure(["-u", self.hub_url(), CAT], 4, CAT,
                            "401 Unauthorized: Invalid API key", http_status=401,
                            key=WRONG_HUB_KEY)

    def test_401_wrong_key_platform(self):
        self.expect_failure(["-u", self.platform_url(), CAT], 4, CAT,
                            "401 Unauthorized: Invalid API key", http_status=401,
                            key=WRONG_PLATFORM_KEY)

    def test_403(self):
        self.expect_failure(["-u", self.hub_url(), CAT], 4, CAT,
                            "403 Forbidden: Not allowed to use this model", http_status=403,
                            script=[{"status": 403,
                                     "body": {"message": "Not allowed to use this model"}}])
        self.expect_failure(["-u", self.platform_url(), CAT], 4, CAT,
                            "403 Forbidden: Plan does not include this model", http_status=403,
                            key=PLATFORM_KEY,
                            script=[{"status": 403,
                                     "body": {"error": "Plan does not include this model"}}])

    def test_404_model_not_found(self):
        self.expect_failure(["-u", self.hub_url("notfound"), CAT], 5, CAT,
                            "404 Not Found: Model not found", http_status=404)
        self.expect_failure(["-u", self.platform_url("notfound"), CAT], 5, CAT,
                            "404 Not Found: Model not found", http_status=404, key=PLATFORM_KEY)

    def test_429_rate_limited(self):
        self.expect_failure(["-u", self.hub_url("status-429"), "--retries", "0", CAT], 6, CAT,
                            "429 Too Many Requests", http_status=429)
        self.expect_failure(["-u", self.platform_url(), "--retries", "0", CAT], 6, CAT,
                            "429 Too Many Requests: Rate limited", http_status=429,
                            key=PLATFORM_KEY,
                            script=[{"status": 429, "body": FIXTURES["error-platform-429"],
                                     "headers": {"Retry-After": "1"}}])

    def test_400_rejected(self):
        self.expect_failure(["-u", self.hub_url(), CAT], 7, CAT,
                            "400 Bad Request: An image file or URL must be submitted.",
                            http_status=400,
                            script=[{"status": 400, "body": FIXTURES["error-hub-400"]}])
        # the stand-in's own check: bytes that are not an image
        bad = self.write("bad.jpg", b"this is not an image at all")
        self.expect_failure(["-u", self.hub_url(), bad], 7, bad, "400 Bad Request: Invalid image",
                            http_status=400)

    def test_413_html_page(self):
        page = ("<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
                "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx"
                "</center>\r\n</body>\r\n</html>\r\n")
        self.expect_failure(["-u", self.hub_url(), CAT], 7, CAT, "413 Request Entity Too Large",
                            http_status=413,
                            script=[{"status": 413, "body": page, "content_type": "text/html"}])

    def test_415_and_422_and_408(self):
        self.expect_failure(["-u", self.platform_url(), CAT], 7, CAT,
                            "415 Unsupported Media Type: Unsupported file type", http_status=415,
                            key=PLATFORM_KEY,
                            script=[{"status": 415, "body": {"error": "Unsupported file type"}}])
        # an invalid imgsz never reaches the server (usage error), so the 422 is scripted
        self.expect_failure(["-u", self.hub_url(), CAT], 7, CAT,
                            "422 Unprocessable Content: imgsz must be a multiple of 32",
                            http_status=422,
                            script=[{"status": 422,
                                     "body": {"detail": "imgsz must be a multiple of 32"}}])
        # FastAPI's validation error shape
        self.expect_failure(["-u", self.hub_url(), CAT], 7, CAT,
                            "422 Unprocessable Content: conf must be at most 1", http_status=422,
                            script=[{"status": 422, "body": {"detail": [
                                {"loc": ["body", "conf"], "msg": "conf must be at most 1",
                                 "type": "value_error"}]}}])
        self.expect_failure(["-u", self.hub_url(), "--retries", "0", CAT], 7, CAT,
                            "408 Request Timeout: too slow", http_status=408,
                            script=[{"status": 408, "body": {"message": "too slow"}}])

    def test_error_body_becomes_one_safe_line(self):
        self.expect_failure(["-u", self.hub_url(), CAT], 7, CAT,
                            "400 Bad Request: bad thing [31m happened", http_status=400,
                            script=[{"status": 400, "body": "bad\nthing\x1b[31m happened\r\n",
                                     "content_type": "text/plain"}])
        self.expect_failure(["-u", self.hub_url(), CAT], 7, CAT,
                            "400 Bad Request: " + "x" * 120 + "...", http_status=400,
                            script=[{"status": 400, "body": "x" * 5000,
                                     "content_type": "text/plain"}])
        self.expect_failure(["-u", self.hub_url(), CAT], 7, CAT, "400 Bad Request",
                            http_status=400,
                            script=[{"status": 400, "body": "", "content_type": "text/plain"}])

    def test_500_details_message(self):
        self.expect_failure(["-u", self.hub_url(), "--retries", "0", CAT], 8, CAT,
                            "500 Internal Server Error: model failed to load", http_status=500,
                            script=[{"status": 500,
                                     "body": {"details": {"message": "model failed to load"}}}])
        self.expect_failure(["-u", self.hub_url(), "--retries", "0", CAT], 8, CAT,
                            "500 Internal Server Error: model failed to load", http_status=500,
                            script=[{"status": 500, "body": FIXTURES["error-hub-500"]}])

    def test_5xx_html(self):
        for status, text in ((502, "502 Bad Gateway"), (503, "503 Service Unavailable"),
                             (504, "504 Gateway Timeout")):
            with self.subTest(status=status):
                self.expect_failure(["-u", self.hub_url(f"status-{status}"), "--retries", "0", CAT],
                                    8, CAT, text, http_status=status)

    def test_raw_does_not_hide_an_error_status(self):
        r = self.run_hp("-u", self.hub_url("notfound"), "-f", "raw", CAT)
        self.assertExit(r, 5)
        self.assertEqual(r.out_bytes, b"")
        self.assertEqual(self.without_request_id(self.assertOneError(r, "")),
                         f"hubpredict: {CAT}: 404 Not Found: Model not found")


# ---------------------------------------------------------------------------------------------
# 9: network
# ---------------------------------------------------------------------------------------------

class TestNetwork(ErrorE2E):

    def test_connection_refused(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()                            # nothing listens there now
        url = f"http://127.0.0.1:{port}/v1/predict/detect"
        self.expect_failure(["-u", url, "--retries", "0", CAT], 9, CAT,
                            re.compile(r"network error: .*(?i:connect|refused).*"), requests=0)

    def test_connection_reset(self):
        self.expect_failure(["-u", self.hub_url(), "--retries", "0", CAT], 9, CAT,
                            re.compile(r"network error: .*(?i:reset).*"),
                            script=[{"reset": True}])

    def test_body_cut_off(self):
        # the status line came (200), the body did not: a network failure, not a bad response
        self.expect_failure(["-u", self.hub_url(), "--retries", "0", CAT], 9, CAT,
                            re.compile(r"network error: .+"), http_status=200,
                            script=[{"cut": 10}])

    def test_timeout(self):
        for fmt in ((), ("-f", "json")):
            with self.subTest(fmt=fmt):
                self.server.reset()
                self.server.push({"delay": 3})
                r, elapsed = self.timed("-u", self.hub_url(), "--retries", "0", "--timeout", "1",
                                        *fmt, CAT)
                self.assertExit(r, 9)
                self.assertOneError(r, f"{CAT}: network error: ")
                self.assertRegex(r.err, r"(?i)timed? ?out")
                self.assertGreater(elapsed, 0.9)
                self.assertLess(elapsed, 2.8 * SLOW)
                if fmt:
                    rec = r.json()[0]
                    self.assertEqual(rec["error"]["exit"], 9)
                    self.assertIsNone(rec["error"]["http_status"])   # no status line came
                else:
                    self.assertEqual(r.out_bytes, b"")

    def test_stall_limit(self):
        # one body byte every 2 s is "no progress" for a 1 s stall limit: the run must end
        # about 1 s after the last byte, not after the whole body (minutes)
        self.server.push({"drip": 2})
        r, elapsed = self.timed("-u", self.hub_url(), "--retries", "0", CAT,
                                env={"HUBPREDICT_STALL_SECONDS": "1"}, timeout=30)
        self.assertExit(r, 9)
        self.assertEqual(r.out_bytes, b"")
        self.assertOneError(r, f"{CAT}: network error: ")
        self.assertLess(elapsed, 3.5 * SLOW, f"the stall limit took {elapsed:.1f} s: {r}")

    def test_slow_but_steady_is_not_a_stall(self):
        # a byte every 0.15 s is progress: a 1 s stall limit must not end it
        self.server.push({"body": '{"images":[]}', "drip": 0.15})
        r = self.run_hp("-u", self.hub_url(), "--retries", "0", "-f", "raw", CAT,
                        env={"HUBPREDICT_STALL_SECONDS": "1"})
        self.assertExit(r, 0)
        self.assertEqual(r.out_bytes, b'{"images":[]}')


# ---------------------------------------------------------------------------------------------
# 10: bad response
# ---------------------------------------------------------------------------------------------

class TestBadResponse(ErrorE2E):

    def test_not_json(self):
        cases = [
            ("text", {"body": "hello, not json"}, "bad response: not JSON (at byte 0 of 15)"),
            ("html", {"body": "<html><head><title>OK</title></head><body>hi</body></html>",
                      "content_type": "text/html"}, re.compile(r"bad response: not JSON.*")),
            ("trailing", {"body": '{"images": []} {"images": []}'},
             re.compile(r"bad response: not JSON.*")),
            ("empty body", {"body": ""}, re.compile(r"bad response: not JSON.*")),
        ]
        for name, entry, message in cases:
            with self.subTest(name):
                self.expect_failure(["-u", self.hub_url(), CAT], 10, CAT, message,
                                    http_status=200, script=[entry])

    def test_wrong_shape(self):
        box = {"x1": 1, "y1": 2, "x2": 3, "y2": 4}
        cases = [
            ([], "bad response: not a JSON object"),
            ({}, "bad response: no images member"),
            ({"images": {}}, "bad response: images is not an array"),
            ({"images": [{"shape": [1, 2]}]}, "bad response: images[0] has no results"),
            ({"images": [{"results": [{"class": 0, "name": "a", "confidence": 0.5,
                                       "box": {"x1": 1, "y1": 2, "y2": 3}}]}]},
             "bad response: images[0].results[0] has a box without x2"),
            ({"images": [{"results": [{"class": 0, "name": "a", "confidence": "0.5",
                                       "box": box}]}]},
             "bad response: images[0].results[0] has a confidence that is not a number"),
            ({"images": [{"results": [{"class": "zero", "name": "a", "confidence": 0.5}]}]},
             "bad response: images[0].results[0] has a class that is not a number"),
        ]
        for body, message in cases:
            with self.subTest(body=json.dumps(body)[:60]):
                self.expect_failure(["-u", self.hub_url(), CAT], 10, CAT, message,
                                    http_status=200, script=[{"body": body}])

    def test_raw_does_not_parse(self):
        for body in (b"hello, not json\x00\xff", b'{"images": {}}',
                     b"<html><title>x</title></html>"):
            with self.subTest(body=body):
                self.server.reset()
                self.server.push({"body": body, "content_type": "text/plain"})
                r = self.run_hp("-u", self.hub_url(), "-f", "raw", CAT)
                self.assertExit(r, 0)
                self.assertEqual(r.out_bytes, body)
                self.assertEqual(r.err, "")

    def test_huge_body_is_refused_without_download(self):
        size = 600 * 1024 * 1024
        for fmt in ((), ("-f", "json")):
            with self.subTest(fmt=fmt):
                self.server.reset()
                self.server.push({"huge": size})
                r, elapsed = self.timed("-u", self.hub_url(), "--max-answer", "512M", *fmt, CAT)
                self.assertExit(r, 10)
                self.assertEqual(self.without_request_id(self.assertOneError(r, "")),
                                 f"hubpredict: {CAT}: bad response: larger than 512 MiB")
                self.assertLess(elapsed, 3 * SLOW, f"took {elapsed:.1f} s: downloaded it?")
                log = self.server.log()
                self.assertEqual(len(log), 1)
                self.assertIsNone(log[0]["t_end"], "the whole body was sent: it was downloaded")
                if fmt:
                    self.assertEqual(r.json()[0]["error"],
                                     {"exit": 10, "http_status": 200,
                                      "message": "bad response: larger than 512 MiB",
                                      "request_id": log[0]["request_id"]})
                else:
                    self.assertEqual(r.out_bytes, b"")

    def test_max_answer(self):
        # --max-answer SIZE: over it, exit 10 before the rest is read, whether the length is
        # declared or not; at it, the answer is read; 0 is no limit; the config key too
        cases = [(("--max-answer", "64K"), 65537, "larger than 64 KiB"),
                 (("--max-answer", "100000", "-f", "csv"), 100001, "larger than 100000 bytes"),
                 (("--max-answer", "1M", "-f", "raw"), 4 << 20, "larger than 1 MiB")]
        for args, size, words in cases:
            with self.subTest(args=args):
                self.server.reset()
                self.server.push({"huge": size})
                r = self.run_hp("-u", self.hub_url(), *args, CAT)
                self.assertExit(r, 10)
                self.assertEqual(self.without_request_id(self.assertOneError(r, "")),
                                 f"hubpredict: {CAT}: bad response: {words}")
        for args in (("--max-answer", "65536"), ("--max-answer", "0")):
            with self.subTest(args=args):
                self.server.reset()
                self.server.push({"huge": 65536, "content_type": "text/plain"})
                r = self.run_hp("-u", self.hub_url(), *args, "-f", "raw", CAT)
                self.assertExit(r, 0)
                self.assertEqual(len(r.out_bytes), 65536)
        with self.subTest("config"):
            self.server.reset()
            self.server.push({"huge": 65537})
            cfg = self.path("max.conf")
            with open(cfg, "w") as f:
                f.write("max-answer = 64K\n")
            r = self.run_hp("--config", cfg, "-u", self.hub_url(), CAT)
            self.assertExit(r, 10)
            self.assertIn("bad response: larger than 64 KiB", r.err)
        with self.subTest("bad value"):
            r = self.run_hp("-u", self.hub_url(), "--max-answer", "lots", CAT)
            self.assertExit(r, 2)
            self.assertIn("--max-answer must be a size", r.err)

    def test_max_answer_stops_reading(self):
        # a long answer over the limit is cut when the limit is passed, not read to its end
        self.server.push({"huge": 600 * 1024 * 1024})
        r, elapsed = self.timed("-u", self.hub_url(), "--max-answer", "1M", CAT)
        self.assertExit(r, 10)
        self.assertLess(elapsed, 3 * SLOW, f"took {elapsed:.1f} s: downloaded it?")
        self.assertIsNone(self.server.log()[0]["t_end"], "the whole body was sent: it was read")

    def test_redirect_to_another_origin(self):
        other = StandIn().start()
        self.addCleanup(other.stop)
        targets = [
            ("other port", f"{other.url}/v1/predict/detect", 307),
            ("other port 302", f"{other.url}/v1/predict/detect", 302),
            ("other port 308", f"{other.url}/v1/predict/detect", 308),
            ("other host", f"http://localhost:{other.port}/v1/predict/detect", 301),
            ("other scheme", self.server.url.replace("http:", "https:") + "/v1/predict/detect", 307),
        ]
        for name, location, status in targets:
            with self.subTest(name):
                other.reset()
                self.expect_failure(
                    ["-u", self.hub_url(), CAT], 10, CAT,
                    f"{status} redirect to another host refused (the key would go with it): "
                    f"'{location}'",
                    http_status=status, script=[{"redirect": location, "status": status}])
                self.assertEqual(other.log(), [], "the request (and the key) went to the other host")

    def test_redirect_without_location(self):
        self.expect_failure(["-u", self.hub_url(), CAT], 10, CAT, "302 Found without a Location",
                            http_status=302, script=[{"status": 302, "body": {}}])

    def test_same_origin_redirects(self):
        # three are followed (4 requests, each with the key) ...
        self.server.push({"redirect": "/v1/predict/classify", "repeat": 3})
        r = self.run_hp("-u", self.hub_url(), "-f", "json", CAT)
        self.assertExit(r, 0)
        self.assertEqual(r.json()[0]["task"], "classify")
        self.assertEqual(len(self.server.log()), 4)
        # ... the fourth is one too many
        self.expect_failure(["-u", self.hub_url(), CAT], 10, CAT, "more than 3 redirects",
                            http_status=307, requests=4,
                            script=[{"redirect": self.hub_url(), "repeat": 4}])


# ---------------------------------------------------------------------------------------------
# 11: output, and a closed stdout
# ---------------------------------------------------------------------------------------------

class TestOutput(ErrorE2E):

    def run_to(self, stdout, *args, key=HUB_KEY):
        """Run with stdout going to an open file object; returns (rc, stderr text)."""
        r = self.wait_hp(self.popen_hp(*args, key=key, stdout=stdout, stderr=subprocess.PIPE), key)
        return r.rc, r.err

    def test_output_in_missing_directory(self):
        before = sorted(os.listdir(self.tmp.name))
        target = self.path("nodir/out.json")
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", target, CAT)
        self.assertExit(r, 11)
        self.assertEqual(r.out_bytes, b"")
        self.assertEqual(r.err, f"hubpredict: cannot write '{target}': No such file or directory\n")
        self.assertEqual(sorted(os.listdir(self.tmp.name)), before, "something was created")
        self.assertFalse(os.path.exists(self.path("nodir")))

    def test_output_is_a_directory(self):
        d = self.path("results")
        os.makedirs(d)
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", d, CAT)
        # SPEC 10: a directory is refused before anything is sent (it used to
        # send the whole batch, then fail with exit 11)
        self.assertExit(r, 2)
        self.assertEqual(r.out_bytes, b"")
        self.assertEqual(r.err, f"hubpredict: --output '{d}' is a directory; give a file name\n"
                                "try 'hubpredict --help'\n")
        self.assertEqual(self.server.log(), [], "a request was sent")
        self.assertEqual(os.listdir(self.tmp.name), ["results"], "a temporary file was left")
        self.assertEqual(os.listdir(d), [])

    def test_stdout_full(self):
        for fmt in ("table", "json", "jsonl", "csv", "raw"):
            with self.subTest(fmt=fmt):
                with open("/dev/full", "wb") as full:
                    rc, err = self.run_to(full, "-u", self.hub_url(), "-f", fmt, CAT)
                self.assertEqual(rc, 11, err)
                self.assertEqual(err, "hubpredict: cannot write to standard output: "
                                      "No space left on device\n")

    def test_closed_stdout(self):
        # `hubpredict ... | head -c 10`: the reader goes away after a few bytes. hubpredict ends
        # quietly (no message at all) with 141 = 128 + SIGPIPE, the status of a shell filter
        # killed by SIGPIPE, and starts no further input.
        self.server.set_latency(0.05)
        n = 40
        for fmt in ("table", "jsonl", "csv"):
            with self.subTest(fmt=fmt):
                self.server.reset()
                t0 = time.monotonic()
                with self.popen_hp("-u", self.hub_url(), "-j", "2", "-f", fmt, *[CAT] * n,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
                    head = p.stdout.read(10)
                    p.stdout.close()            # the reader goes away
                    try:
                        err = p.stderr.read()
                        rc = p.wait(timeout=10 * SLOW)
                    finally:
                        if p.poll() is None:
                            p.kill()
                            p.wait()
                self.check_run(Result(rc, head, err), HUB_KEY)
                elapsed = time.monotonic() - t0
                self.assertEqual(len(head), 10)
                self.assertEqual(err, b"", "a closed stdout must end the run quietly")
                self.assertEqual(rc, 141)
                self.assertLess(len(self.server.log()), n, "it went on after stdout closed")
                self.assertLess(elapsed, 1.5 * SLOW)


# ---------------------------------------------------------------------------------------------
# Several inputs: the first failure's code, every input tried, records in order
# ---------------------------------------------------------------------------------------------

OK = {"comment": "a normal answer"}


def fail401():
    return {"status": 401, "body": {"message": "Invalid API key"}}


class TestBatch(ErrorE2E):

    def batch(self, fmt, *inputs, script=(), extra=()):
        self.server.reset()
        self.server.push_many(list(script))
        return self.run_hp("-u", self.hub_url(), "-j", "1", "--retries", "0", "-f", fmt, *extra,
                           *inputs)

    def test_partial_failure_json_and_jsonl(self):
        missing = self.path("missing.jpg")
        for fmt in ("json", "jsonl"):
            with self.subTest(fmt=fmt):
                # -j 1: the requests come in input order, so the queue's order is theirs
                r = self.batch(fmt, CAT, missing, CAT, STREET, script=[OK, fail401()])
                self.assertExit(r, 3)                 # the first failing input is the missing one
                self.assertEqual(len(self.server.log()), 3, "every input is tried")
                self.assertEqual([self.without_request_id(ln) for ln in self.error_lines(r)], [
                    f"hubpredict: cannot open {quoted(missing)}: No such file or directory",
                    f"hubpredict: {CAT}: 401 Unauthorized: Invalid API key",
                ])
                recs = r.json() if fmt == "json" else r.jsonl()
                self.assertEqual([rec["file"] for rec in recs], [CAT, missing, CAT, STREET])
                for i in (0, 3):
                    self.assertEqual(recs[i]["http_status"], 200)
                    self.assertEqual(recs[i]["task"], "detect")
                    self.assertIn("images", recs[i]["response"])
                    self.assertNotIn("error", recs[i])
                self.assertEqual(recs[1]["error"], {
                    "exit": 3, "http_status": None,
                    "message": f"cannot open {quoted(missing)}: No such file or directory"})
                self.assertEqual(recs[2]["error"], {
                    "exit": 4, "http_status": 401, "message": "401 Unauthorized: Invalid API key",
                    "request_id": sorted(self.server.log(), key=lambda rec: rec["t_start"])[1]["request_id"]})
                for i in (1, 2):
                    self.assertNotIn("response", recs[i])

    def test_partial_failure_table_and_csv(self):
        missing = self.path("missing.jpg")
        r = self.batch("table", CAT, missing, CAT, STREET, script=[OK, fail401()])
        self.assertExit(r, 3)
        headers = [ln for ln in r.out.splitlines() if ln and not ln.startswith(" ")]
        self.assertEqual(len(headers), 2, r)
        self.assertTrue(headers[0].startswith(CAT + "  detect  "), r)
        self.assertTrue(headers[1].startswith(STREET + "  detect  "), r)
        self.assertNotIn(missing, r.out)
        self.assertEqual(len(self.error_lines(r)), 2)

        r = self.batch("csv", CAT, missing, CAT, STREET, script=[OK, fail401()])
        self.assertExit(r, 3)
        rows = r.csv()
        self.assertEqual(rows[0][0], "file")
        files = [row[0] for row in rows[1:]]
        self.assertEqual(files, [CAT] * 2 + [STREET] * 2, r)
        self.assertEqual(len(self.error_lines(r)), 2)
        self.assertEqual(len(self.server.log()), 3)

    def test_exit_is_the_first_failure_in_input_order(self):
        missing = self.path("missing.jpg")
        cases = [
            ("ok, missing, 404", [CAT, missing, CAT], [OK, {"status": 404}], 3, 2),
            ("404, missing", [CAT, missing], [{"status": 404}], 5, 1),
            ("500, 401", [CAT, CAT], [{"status": 500}, fail401()], 8, 2),
            ("ok, 401, 500", [CAT, CAT, CAT], [OK, fail401(), {"status": 500}], 4, 3),
            ("ok, ok, bad response", [CAT, CAT, CAT], [OK, OK, {"body": "nope"}], 10, 3),
        ]
        for name, inputs, script, code, requests in cases:
            with self.subTest(name):
                r = self.batch("jsonl", *inputs, script=script)
                self.assertExit(r, code)
                self.assertEqual(len(self.server.log()), requests)
                recs = r.jsonl()
                self.assertEqual(len(recs), len(inputs))
                failed = [rec["error"]["exit"] for rec in recs if "error" in rec]
                self.assertEqual(failed[0], code)
                self.assertEqual(len(self.error_lines(r)), len(failed))

    def test_fail_fast(self):
        # -j 1: after input 2 fails, inputs 3 and 4 must not be started
        r = self.batch("jsonl", CAT, CAT, CAT, CAT, script=[OK, fail401()], extra=["--fail-fast"])
        self.assertExit(r, 4)
        self.assertEqual(len(self.server.log()), 2, f"an input was started after the failure: {r}")
        recs = r.jsonl()
        self.assertIn("response", recs[0])
        self.assertEqual(recs[1]["error"]["exit"], 4)
        self.assertFalse(any("response" in rec for rec in recs[2:]), r)
        self.assertEqual(len(self.error_lines(r)), 1)

    def test_fail_fast_after_an_input_error(self):
        missing = self.path("missing.jpg")
        r = self.batch("jsonl", missing, CAT, CAT, extra=["--fail-fast"])
        self.assertExit(r, 3)
        self.assertEqual(len(self.server.log()), 0, f"an input was started after the failure: {r}")
        recs = r.jsonl()
        self.assertEqual(recs[0]["error"]["exit"], 3)
        self.assertFalse(any("response" in rec for rec in recs[1:]), r)
        # control: without --fail-fast both are tried
        r = self.batch("jsonl", missing, CAT, CAT)
        self.assertExit(r, 3)
        self.assertEqual(len(self.server.log()), 2)


# ---------------------------------------------------------------------------------------------
# -o FILE: atomic, complete, no leftovers
# ---------------------------------------------------------------------------------------------

class TestOutputFile(ErrorE2E):

    def test_all_inputs_fail_file_is_still_complete(self):
        out = self.path("out.json")
        with open(out, "w") as f:
            f.write("OLD CONTENT " * 1000)
        missing = self.path("missing.jpg")
        r = self.run_hp("-u", self.hub_url("notfound"), "-f", "json", "-o", out, CAT, missing)
        self.assertExit(r, 5)
        self.assertEqual(r.out_bytes, b"")
        self.assertEqual(len(self.error_lines(r)), 2)
        with open(out) as f:
            doc = json.load(f)                  # complete, valid, the old content gone
        self.assertEqual([rec["file"] for rec in doc], [CAT, missing])
        self.assertEqual(doc[0]["error"], {"exit": 5, "http_status": 404,
                                           "message": "404 Not Found: Model not found",
                                           "request_id": self.server.log()[0]["request_id"]})
        self.assertEqual(doc[1]["error"]["exit"], 3)
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["out.json"], "leftover files")

    def test_all_inputs_fail_csv_file_has_its_header(self):
        out = self.path("out.csv")
        r = self.run_hp("-u", self.hub_url("notfound"), "-f", "csv", "-o", out, CAT)
        self.assertExit(r, 5)
        with open(out) as f:
            self.assertEqual(f.read().splitlines(), [
                "file,frame,task,index,class,name,confidence,x1,y1,x2,y2,x3,y3,x4,y4,points,"
                "keypoints,pixel_ratio"])
        self.assertEqual(os.listdir(self.tmp.name), ["out.csv"])

    def test_existing_file_is_replaced_whole(self):
        out = self.path("out.json")
        with open(out, "w") as f:
            f.write("x" * 100000)               # longer than the new content
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", out, CAT)
        self.assertExit(r, 0)
        self.assertEqual(r.out_bytes, b"")
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual(len(doc), 1)
        self.assertEqual(doc[0]["http_status"], 200)
        self.assertEqual(os.listdir(self.tmp.name), ["out.json"], "leftover files")

    def test_no_temporary_left_on_failure_exit(self):
        out = self.path("out.jsonl")
        for model, code in (("detect", 0), ("status-500", 8), ("notfound", 5)):
            with self.subTest(model=model):
                r = self.run_hp("-u", self.hub_url(model), "--retries", "0", "-f", "jsonl",
                                "-o", out, CAT, CAT)
                self.assertExit(r, code)
                with open(out) as f:
                    self.assertEqual(len([json.loads(ln) for ln in f]), 2)
                self.assertEqual(os.listdir(self.tmp.name), ["out.jsonl"])

    def test_output_error_creates_nothing(self):
        target = self.path("missing-dir/out.json")
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", target, CAT)
        self.assertExit(r, 11)
        self.assertEqual(self.assertOneError(r, ""), f"hubpredict: cannot write '{target}': No such file or directory")
        self.assertEqual(os.listdir(self.tmp.name), [])


if __name__ == "__main__":
    unittest.main()
