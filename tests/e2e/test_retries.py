"""Retries (SPEC section 5, issue 4 item 1): what is retried and what never is, how long each
wait is, and what the user sees of it.

Every case reads the stand-in's request log: how many requests came, when each started
(`t_start`, the gaps between attempts are the waits chosen) and what each one carried. A
scripted fault is usually followed by nothing, so the next request gets the stand-in's normal
answer: a retry that happens turns the run into a success, one that does not leaves the fault.

Waits: the computed backoff lies in [base/2, base] for a base of 1 s, 2 s, 4 s ... (retry.h);
a Retry-After or X-RateLimit-Reset replaces it. Header dates have a resolution of one second,
so their bounds are wide. Upper time bounds are scaled by SLOW under a wrapper (valgrind);
lower bounds never are.

test_errors.py checks the exit status and message of each failure with `--retries 0`; this
module checks what the retries do on top of that.
"""

import datetime
import email.utils
import hashlib
import os
import re
import shutil
import time

from harness import E2E, WRAPPER, StandIn, image, sha256_of

CAT = image("cat.png")
STREET = image("street.jpg")
SLOW = 5 if WRAPPER else 1
OK = {"comment": "the normal answer"}
HTML_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n")


def after(status, retry_after=None, **extra):
    """A scripted error answer, with a Retry-After header when given."""
    entry = {"status": status, **extra}
    if retry_after is not None:
        entry.setdefault("headers", {})["Retry-After"] = str(retry_after)
    return entry


def gaps(log):
    """Seconds between the starts of consecutive requests."""
    return [b["t_start"] - a["t_start"] for a, b in zip(log, log[1:])]


class RetryE2E(E2E):

    # The tests of the retry mechanism itself turn the cold-start window off, so a 503
    # counts against --retries as any other retried status; TestColdStart (test_coldstart.py)
    # tests the window.
    COLD = ("--cold-start-wait", "0")

    def hp(self, *args, script=(), env=None, stdin=None, timeout=None):
        """Run hubpredict against the hub route with `script` queued. Returns (result,
        request log sorted by start, seconds from the first request's start to the end of
        the process: the run's time without the program's start-up)."""
        self.server.reset()
        self.server.push_many(list(script))
        t0 = time.time()
        r = self.run_hp("-u", self.hub_url(), *self.COLD, *args, env=env, stdin=stdin, timeout=timeout)
        t1 = time.time()
        log = sorted(self.server.log(), key=lambda rec: rec["t_start"])
        return r, log, t1 - (log[0]["t_start"] if log else t0)

    def error_lines(self, r):
        """hubpredict's stderr lines but warnings, the summary and -v's trace."""
        return [ln for ln in r.err.splitlines()
                if ln.startswith("hubpredict: ")
                and not ln.startswith(("hubpredict: warning:", "hubpredict: summary:"))
                and ": attempt " not in ln and " flavour, POST " not in ln]

    def assertSucceededAfter(self, r, log, attempts):
        """Exit 0, `attempts` requests, the envelope says so, stderr has no error."""
        self.assertExit(r, 0)
        self.assertEqual(len(log), attempts, f"requests: {[rec['status'] for rec in log]} {r}")
        self.assertEqual(log[-1]["status"], 200)
        env = r.json()[0]
        self.assertEqual(env["attempts"], attempts, env)
        self.assertEqual(env["http_status"], 200, env)
        self.assertIn("response", env)
        self.assertEqual(self.error_lines(r), [], r)


# ---------------------------------------------------------------------------------------------
# What is retried: 408, 429, 500, 502, 503, 504, resets, cut-off bodies, stalls, timeouts
# ---------------------------------------------------------------------------------------------

class TestRetried(RetryE2E):

    def test_503_that_clears_after_two_with_the_backoff(self):
        # `repeat: 2` answers two requests, the third gets the normal answer. No Retry-After:
        # the waits are the computed backoff, 1 s then 2 s with jitter in [base/2, base].
        r, log, _ = self.hp("-f", "json", "-v", "--retries", "2", CAT,
                            script=[after(503, repeat=2)])
        self.assertSucceededAfter(r, log, 3)
        self.assertEqual([rec["status"] for rec in log], [503, 503, 200])
        g1, g2 = gaps(log)
        self.assertGreaterEqual(g1, 0.45, f"first wait {g1:.2f} s")
        self.assertLessEqual(g1, 1.2 * SLOW, f"first wait {g1:.2f} s")
        self.assertGreaterEqual(g2, 0.95, f"second wait {g2:.2f} s")
        self.assertLessEqual(g2, 2.2 * SLOW, f"second wait {g2:.2f} s")
        # -v shows each attempt, its status and the wait chosen
        self.assertRegex(r.err, rf"(?m)^hubpredict: {re.escape(CAT)}: attempt 1: 503 Service "
                                r"Unavailable.*; retrying in (0\.[5-9]|1\.0) s \(backoff\)$")
        self.assertRegex(r.err, rf"(?m)^hubpredict: {re.escape(CAT)}: attempt 2: 503 Service "
                                r"Unavailable.*; retrying in (1\.\d|2\.0) s \(backoff\)$")
        self.assertRegex(r.err, rf"(?m)^hubpredict: {re.escape(CAT)}: attempt 3: 200 OK")

    def test_other_retried_statuses(self):
        cases = [
            (500, after(500)),
            (502, after(502, body=HTML_502, content_type="text/html")),
            (504, after(504)),
            (408, after(408, body={"message": "too slow"})),
            (429, after(429, 1)),
        ]
        for status, entry in cases:
            with self.subTest(status=status):
                r, log, _ = self.hp("-f", "json", CAT, script=[entry])
                self.assertSucceededAfter(r, log, 2)
                self.assertEqual([rec["status"] for rec in log], [status, 200])

    def test_connection_reset(self):
        # libcurl itself resends a request whose REUSED connection dies before any byte came
        # back, which would hide hubpredict's own retry. So: -j 1 and the run's first request,
        # on a fresh connection. The log shows the reset request (no status sent), then the
        # retry on a new connection, and the envelope counts both attempts.
        r, log, _ = self.hp("-j", "1", "-f", "json", CAT, script=[{"reset": True}])
        self.assertSucceededAfter(r, log, 2)
        self.assertIsNone(log[0]["status"])
        self.assertNotEqual(log[0]["conn_id"], log[1]["conn_id"])

    def test_body_cut_off(self):
        r, log, _ = self.hp("-f", "json", CAT, script=[{"cut": 10}])
        self.assertSucceededAfter(r, log, 2)
        self.assertEqual(r.json()[0]["response"]["images"][0]["shape"], [750, 600])

    def test_stall_then_success(self):
        # a byte every 2 s trips a 1 s stall limit; the retry gets the normal answer
        r, log, elapsed = self.hp("-f", "json", "-v", CAT, script=[{"drip": 2}],
                                  env={"HUBPREDICT_STALL_SECONDS": "1"})
        self.assertSucceededAfter(r, log, 2)
        self.assertIn("stalled", r.err)
        self.assertGreaterEqual(gaps(log)[0], 1.4)     # 1 s of stall, then at least 0.5 s
        self.assertLess(elapsed, 3.5 * SLOW)

    def test_timeout_then_success(self):
        r, log, elapsed = self.hp("-f", "json", "--timeout", "1", CAT, script=[{"delay": 2}])
        self.assertSucceededAfter(r, log, 2)
        self.assertGreaterEqual(gaps(log)[0], 1.4)     # 1 s timeout, then at least 0.5 s
        self.assertLess(elapsed, 3 * SLOW)


# ---------------------------------------------------------------------------------------------
# What never is: other 4xx, bad responses, redirects elsewhere
# ---------------------------------------------------------------------------------------------

class TestNeverRetried(RetryE2E):

    def test_not_retried(self):
        # Each failure is followed by a normal answer in the script: a retry would succeed.
        # So exactly one request, its code, attempts 1, no "retrying" in -v, and no wait.
        other = StandIn().start()
        self.addCleanup(other.stop)
        elsewhere = f"{other.url}/v1/predict/detect"
        cases = [
            ("400", {"status": 400, "body": {"message": "bad"}}, 7, 400),
            ("401", {"status": 401, "body": {"message": "Invalid API key"}}, 4, 401),
            ("403", {"status": 403, "body": {"message": "Forbidden"}}, 4, 403),
            ("404", {"status": 404}, 5, 404),
            ("413", {"status": 413, "body": "<html><title>413 Request Entity Too Large</title>"
                                             "</html>", "content_type": "text/html"}, 7, 413),
            ("422", {"status": 422, "body": {"detail": "imgsz"}}, 7, 422),
            ("200 not JSON", {"body": "<html>busy</html>", "content_type": "text/html"}, 10, 200),
            ("redirect elsewhere", {"redirect": elsewhere}, 10, 307),
        ]
        for name, entry, code, status in cases:
            with self.subTest(name):
                other.reset()
                r, log, elapsed = self.hp("-f", "json", "-v", CAT, script=[entry, OK])
                self.assertExit(r, code)
                self.assertEqual(len(log), 1, f"retried: {r}")
                env = r.json()[0]
                self.assertEqual(env["attempts"], 1, env)
                self.assertEqual(env["error"]["exit"], code, env)
                self.assertEqual(env["error"]["http_status"], status, env)
                self.assertNotIn("retrying", r.err)
                self.assertEqual(len(self.error_lines(r)), 1, r)
                self.assertLess(elapsed, 0.5 * SLOW)
                self.assertEqual(other.log(), [])


# ---------------------------------------------------------------------------------------------
# Retry-After and X-RateLimit-Reset replace the computed wait
# ---------------------------------------------------------------------------------------------

class TestServerWaits(RetryE2E):

    def test_retry_after_seconds_and_verbose(self):
        r, log, _ = self.hp("-f", "json", "-v", CAT, script=[after(503, 1)])
        self.assertSucceededAfter(r, log, 2)
        g = gaps(log)[0]
        self.assertGreaterEqual(g, 0.95)
        self.assertLess(g, 1.6 * SLOW)
        prefix = f"hubpredict: {CAT}: "
        self.assertIn(prefix + "attempt 1: 503 Service Unavailable; retrying in 1.0 s "
                               "(Retry-After)\n", r.err)
        self.assertRegex(r.err, rf"(?m)^{re.escape(prefix)}attempt 2: 200 OK")

    def assertRetriedAt(self, log, target, header):
        """The retry started at the time the header named (whole seconds): not before it,
        and within the second after it; the gap is ~2 s as the header was made 2 s ahead
        (unless a wrapper's slow start-up ate into that)."""
        retry = log[1]["t_start"]
        self.assertGreaterEqual(retry, target - 0.05, f"retried {target - retry:.2f} s early: {header}")
        self.assertLess(retry, target + 1.3 * SLOW, f"retried {retry - target:.2f} s late: {header}")
        if not WRAPPER:
            self.assertGreaterEqual(gaps(log)[0], 0.9, header)
            self.assertLessEqual(gaps(log)[0], 2.6, header)

    def test_retry_after_http_date(self):
        target = int(time.time()) + 2
        when = email.utils.formatdate(target, usegmt=True)
        r, log, _ = self.hp("-f", "json", "-v", CAT, script=[after(503, when)])
        self.assertSucceededAfter(r, log, 2)
        self.assertRetriedAt(log, target, when)
        self.assertIn("(Retry-After)", r.err)

    def test_retry_after_in_the_past(self):
        when = email.utils.formatdate(time.time() - 30, usegmt=True)
        r, log, _ = self.hp("-f", "json", CAT, script=[after(503, when)])
        self.assertSucceededAfter(r, log, 2)
        self.assertLess(gaps(log)[0], 0.5 * SLOW, "a date in the past means at once")

    def test_ratelimit_reset(self):
        def unix(target):
            return str(target)

        def iso(target):
            t = datetime.datetime.fromtimestamp(target, datetime.timezone.utc)
            return t.strftime("%Y-%m-%dT%H:%M:%SZ")

        for name, value in (("unix seconds", unix), ("ISO-8601", iso)):
            with self.subTest(name):
                target = int(time.time()) + 2
                v = value(target)
                r, log, _ = self.hp("-f", "json", "-v", CAT,
                                    script=[{"status": 429, "headers": {"X-RateLimit-Reset": v}}])
                self.assertSucceededAfter(r, log, 2)
                self.assertRetriedAt(log, target, v)
                self.assertIn("(X-RateLimit-Reset)", r.err)


# ---------------------------------------------------------------------------------------------
# --retries, --retry-max-time, and 429s
# ---------------------------------------------------------------------------------------------

class TestLimits(RetryE2E):

    def test_retries_zero_turns_every_retry_off(self):
        cases = [
            ("503", after(503, 0), 8, 503),
            ("429", after(429, 1), 6, 429),
            ("reset", {"reset": True}, 9, None),
        ]
        for name, entry, code, status in cases:
            with self.subTest(name):
                r, log, elapsed = self.hp("-f", "json", "-j", "1", "--retries", "0", CAT,
                                          script=[entry, OK])
                self.assertExit(r, code)
                self.assertEqual(len(log), 1)
                env = r.json()[0]
                self.assertEqual((env["attempts"], env["error"]["http_status"]), (1, status), env)
                self.assertLess(elapsed, 0.5 * SLOW, "it waited")

    def test_retries_one_gives_up_after_two_attempts(self):
        r, log, _ = self.hp("-f", "json", "--retries", "1", CAT,
                            script=[after(503, 0, repeat=3)])
        self.assertExit(r, 8)
        self.assertEqual([rec["status"] for rec in log], [503, 503])
        self.assertOneLineError(r, f"{CAT}: 503 Service Unavailable")
        env = r.json()[0]
        # the error envelope reports the attempts at the top level, as a success does
        self.assertEqual(env["attempts"], 2, env)
        self.assertIsInstance(env["elapsed_ms"], float)
        self.assertEqual(env["error"]["exit"], 8)
        self.assertEqual(env["error"]["http_status"], 503)
        self.assertTrue(env["error"]["message"].startswith("503 Service Unavailable"), env)

    def test_429_waits_do_not_count_against_retries(self):
        r, log, _ = self.hp("-f", "json", "--retries", "1", CAT, script=[after(429, 1, repeat=3)])
        self.assertSucceededAfter(r, log, 4)
        self.assertEqual([rec["status"] for rec in log], [429, 429, 429, 200])
        # mixed: the one 503 uses the one retry, the 429s around it are free
        r, log, _ = self.hp("-f", "json", "--retries", "1", CAT,
                            script=[after(429, 1), after(503, 0), after(429, 1)])
        self.assertSucceededAfter(r, log, 4)
        self.assertEqual([rec["status"] for rec in log], [429, 503, 429, 200])

    def test_retry_max_time_refuses_a_wait_beyond_it(self):
        # a 10 s Retry-After cannot fit in 2 s: give up at once rather than sleep
        r, log, elapsed = self.hp("-f", "json", "--retry-max-time", "2", CAT,
                                  script=[after(429, 10), OK])
        self.assertExit(r, 6)
        self.assertEqual(len(log), 1)
        self.assertLess(elapsed, 1.0 * SLOW, "it slept")
        self.assertOneLineError(r, f"{CAT}: 429 Too Many Requests", "--retry-max-time")
        self.assertIn("--retry-max-time", r.json()[0]["error"]["message"])

    def test_429_waits_count_against_retry_max_time(self):
        # 429s every second; --retries would allow them all, --retry-max-time 2 does not
        r, log, elapsed = self.hp("-f", "json", "--retry-max-time", "2", CAT,
                                  script=[after(429, 1, repeat=-1)])
        self.assertExit(r, 6)
        # 429s at 0, 1 (and 2) s; a slow start under a wrapper may leave room for fewer
        self.assertIn(len(log), (1, 2, 3) if WRAPPER else (2, 3))
        self.assertLessEqual(log[-1]["t_start"] - log[0]["t_start"], 2.1)
        self.assertLess(elapsed, 3 * SLOW)
        self.assertIn("--retry-max-time", r.json()[0]["error"]["message"])

    def test_retry_max_time_ends_an_endless_500(self):
        # --retries 100 so that only the time limit can end it: no attempt starts after 3 s
        r, log, elapsed = self.hp("-f", "json", "--retries", "100", "--retry-max-time", "3", CAT,
                                  script=[after(500, repeat=-1)])
        self.assertExit(r, 8)
        self.assertGreaterEqual(len(log), 2)
        self.assertLessEqual(log[-1]["t_start"] - log[0]["t_start"], 3.1)
        self.assertLess(elapsed, 5 * SLOW)
        env = r.json()[0]
        self.assertEqual(env["attempts"], len(log))
        self.assertIn("--retry-max-time", env["error"]["message"])

    def test_a_429_pauses_every_job(self):
        # -j 4, 8 inputs. The first request to reach the stand-in gets a 429 with
        # Retry-After: 1; the other three of the first wave (all four are started together,
        # before any answer can be seen) get their answer after 0.2 s. Without the pause,
        # inputs 5-7 would start then, at ~0.2 s, in the freed slots. Asserted: until 0.9 s
        # after the 429 went out, no request starts but those four; afterwards every other
        # one does (the 429's own retry and inputs 5-8).
        d = os.path.join(self.tmp.name, "imgs")
        os.makedirs(d)
        paths = []
        for i in range(8):
            paths.append(os.path.join(d, f"img{i}.gif"))
            shutil.copyfile(image("tiny.gif"), paths[-1])
        r, log, _ = self.hp("-j", "4", "-f", "jsonl", *paths,
                            script=[after(429, 1)] + [{"delay": 0.2}] * 3)
        self.assertExit(r, 0)
        envs = r.jsonl()
        self.assertEqual([e["file"] for e in envs], paths)
        self.assertEqual(len(log), 9)
        limited = [rec for rec in log if rec["status"] == 429]
        self.assertEqual(len(limited), 1)
        resume = limited[0]["t_end"] + 0.9
        starts = [round(rec["t_start"] - limited[0]["t_end"], 2) for rec in log]
        self.assertEqual(sum(rec["t_start"] < resume for rec in log), 4,
                         f"starts relative to the 429: {starts}")
        self.assertTrue(all(rec["t_start"] >= resume for rec in log[4:]), starts)
        self.assertLess(log[-1]["t_start"] - limited[0]["t_end"], 1.6 * SLOW, starts)
        retried = os.path.join(d, limited[0]["file"]["filename"])
        self.assertEqual({e["file"]: e["attempts"] for e in envs},
                         {p: 2 if p == retried else 1 for p in paths})

    def test_rate_applies_to_retries(self):
        # Retry-After: 0 asks for an immediate retry; --rate 2/s still spaces the starts
        # (the gap is seen by the stand-in: under a wrapper the first request's slow way out
        # shortens it, so only the plain run checks it)
        r, log, _ = self.hp("-f", "json", "--rate", "2/s", CAT, script=[after(503, 0)])
        self.assertSucceededAfter(r, log, 2)
        if not WRAPPER:
            self.assertGreaterEqual(gaps(log)[0], 0.45)
        # without --rate the same retry goes at once (so --rate was the reason)
        r, log, _ = self.hp("-f", "json", CAT, script=[after(503, 0)])
        self.assertSucceededAfter(r, log, 2)
        self.assertLess(gaps(log)[0], 0.3 * SLOW)


# ---------------------------------------------------------------------------------------------
# The retried request is the same request
# ---------------------------------------------------------------------------------------------

class TestSameBytes(RetryE2E):

    def test_retries_send_the_same_bytes(self):
        # a file, and standard input large enough to be spooled in several reads; the retries
        # come from a reset (the upload started again on a new connection), a cut-off body
        # and a 503
        with open(STREET, "rb") as f:
            data = f.read() + os.urandom(300_000)   # a JPEG with trailing bytes
        big = self.write("big.jpg", data)
        script = [{"reset": True}, {"cut": 5}, after(503, 0)]
        for name, args, stdin, want_sha in (
                ("file", (big,), None, sha256_of(big)),
                ("stdin", ("-",), data, hashlib.sha256(data).hexdigest())):
            with self.subTest(name):
                r, log, _ = self.hp("-f", "json", "-j", "1", *args, stdin=stdin, script=script)
                self.assertSucceededAfter(r, log, 4)
                files = [rec["file"] for rec in log]
                self.assertTrue(all(f is not None for f in files), log)
                self.assertEqual({f["sha256"] for f in files}, {want_sha})
                self.assertEqual({f["size"] for f in files}, {len(data)})
                self.assertEqual(len({f["filename"] for f in files}), 1)
                self.assertEqual(len({tuple(sorted(rec["fields"].items())) for rec in log}), 1)
