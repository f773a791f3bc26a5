"""Key hygiene and key sources (SPEC 1 -k/--api-key-file, SPEC 2 headers): the key never leaks."""

import os
import subprocess
import time
import unittest

from harness import E2E, HUB_KEY, PLATFORM_KEY, image

# Keys the stand-in does not accept; all distinct and easy to spot in any output.
WRONG_KEY = "feedfacefeedfacefeedfacefeedfacefeedface77"
FILE_KEY = "f11ef11ef11ef11ef11ef11ef11ef11ef11ef11e42"
ENV_KEY = "e2fe2fe2fe2fe2fe2fe2fe2fe2fe2fe2fe2fe2fe21"
ALL_KEYS = (HUB_KEY, PLATFORM_KEY, WRONG_KEY, FILE_KEY, ENV_KEY)


class KeyCase(E2E):

    def run_keys(self, *args, **kw):
        """run_hp, also checking that none of this module's keys reached stdout or stderr."""
        r = self.run_hp(*args, **kw)
        self.assertNoKey(r)
        return r

    def assertNoKey(self, r, *extra):
        for k in ALL_KEYS + extra:
            self.assertNotIn(k, r.out, f"key {k} leaked to stdout: {r}")
            self.assertNotIn(k, r.err, f"key {k} leaked to stderr: {r}")

    def key_file(self, name, data: bytes, mode=0o600):
        p = self.write(name, data)
        os.chmod(p, mode)
        return p

    def sent_key(self):
        log = self.server.log()
        self.assertEqual(len(log), 1, log)
        return log[0]["headers"].get("x-api-key")

    def assertUsage(self, r, *fragments):
        self.assertExit(r, 2)
        lines = r.err.splitlines()
        self.assertEqual(len(lines), 2, r)
        self.assertTrue(lines[0].startswith("hubpredict: "), r)
        for frag in fragments:
            self.assertIn(frag, lines[0], r)
        self.assertEqual(lines[1], "try 'hubpredict --help'")
        self.assertEqual(r.out, "")
        self.assertEqual(self.server.log(), [])


class TestVerboseAndErrors(KeyCase):

    def test_verbose_success_redacts_auth_header(self):
        for level in ("-v", "-vv"):
            with self.subTest(level=level):
                r = self.run_keys(level, "-u", self.hub_url(), image("cat.png"))
                self.assertExit(r, 0)
                lines = [ln.lower() for ln in r.err.splitlines()]
                self.assertIn("> x-api-key: [redacted]", lines, r)
                r = self.run_keys(level, "-u", self.platform_url(), image("cat.png"), key=PLATFORM_KEY)
                self.assertExit(r, 0)
                lines = [ln.lower() for ln in r.err.splitlines()]
                self.assertIn("> authorization: bearer [redacted]", lines, r)

    def test_verbose_on_401(self):
        r = self.run_keys("-v", "-u", self.hub_url(), image("cat.png"), key=WRONG_KEY)
        self.assertExit(r, 4)
        self.assertIn("> x-api-key: [redacted]", r.err.lower())
        self.assertIn("401", r.err)
        self.assertEqual(self.sent_key(), WRONG_KEY)
        r = self.run_keys("-v", "-k", WRONG_KEY, "-u", self.platform_url(), "--api", "platform",
                          image("cat.png"))
        self.assertExit(r, 4)
        self.assertIn("> authorization: bearer [redacted]", r.err.lower())

    def test_dry_run_never_shows_the_key(self):
        for how in ("env", "-k", "file"):
            with self.subTest(how=how):
                args, key = ["--dry-run", "-u", self.hub_url(), image("cat.png")], None
                if how == "env":
                    key = HUB_KEY
                elif how == "-k":
                    args = ["-k", HUB_KEY] + args
                else:
                    args = ["--api-key-file", self.key_file("k", HUB_KEY.encode() + b"\n")] + args
                r = self.run_keys(*args, key=key)
                self.assertExit(r, 0)
                self.assertIn('"x-api-key: $ULTRALYTICS_API_KEY"', r.out)
                self.assertEqual(self.server.log(), [])
        r = self.run_keys("--dry-run", "-u", self.platform_url(), image("cat.png"), key=PLATFORM_KEY)
        self.assertExit(r, 0)
        self.assertIn('"Authorization: Bearer $ULTRALYTICS_API_KEY"', r.out)
        r = self.run_keys("--dry-run", "-v", "-k", PLATFORM_KEY, "-u", self.platform_url(), image("cat.png"),
                          key=None)
        self.assertExit(r, 0)

    def test_error_body_echoing_the_key_is_redacted(self):
        for fmt in ("table", "json", "jsonl", "csv"):
            with self.subTest(fmt=fmt):
                self.server.reset()
                self.server.push({"status": 401, "body": {"message": f"bad key {HUB_KEY}"}})
                r = self.run_hp("-u", self.hub_url(), "-f", fmt, image("cat.png"), check_key=False)
                self.assertExit(r, 4)
                self.assertOneLineError(r, "cat.png", "401", "bad key [redacted]")
                self.assertNotIn(HUB_KEY, r.err)
                self.assertNotIn(HUB_KEY, r.out, f"key leaked to the {fmt} output")
                if fmt in ("json", "jsonl"):
                    envs = r.json() if fmt == "json" else r.jsonl()
                    self.assertEqual(envs[0]["error"]["http_status"], 401)
                    self.assertNotIn(HUB_KEY, envs[0]["error"]["message"])

    def test_error_body_echoing_the_key_in_output_file(self):
        out = self.path("out.json")
        self.server.push({"status": 401, "body": {"message": f"bad key {HUB_KEY}"}})
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", out, image("cat.png"), check_key=False)
        self.assertExit(r, 4)
        self.assertNotIn(HUB_KEY, r.out + r.err)
        with open(out, encoding="utf-8") as f:
            self.assertNotIn(HUB_KEY, f.read(), "key leaked to the -o file")

    def test_verbose_response_header_echoing_the_key(self):
        self.server.push({"headers": {"X-Echo-Key": HUB_KEY}})
        r = self.run_keys("-v", "-u", self.hub_url(), image("cat.png"))
        self.assertExit(r, 0)
        self.assertIn("< x-echo-key: [redacted]", r.err.lower())

    def test_verbose_through_a_redirect(self):
        self.server.push({"match": "/v1/predict/detect", "redirect": self.hub_url("moved-detect")})
        r = self.run_keys("-vv", "-u", self.hub_url("detect"), image("cat.png"))
        self.assertExit(r, 0)
        self.assertEqual(r.err.lower().count("> x-api-key: [redacted]"), 2, r)

    def test_error_body_echoing_the_key_platform_and_verbose(self):
        self.server.push({"status": 403, "body": {"error": f"key {PLATFORM_KEY} not allowed"}})
        r = self.run_hp("-v", "-u", self.platform_url(), image("cat.png"), key=PLATFORM_KEY, check_key=False)
        self.assertExit(r, 4)
        self.assertNotIn(PLATFORM_KEY, r.out + r.err)
        self.assertIn("[redacted]", r.err)

    def test_error_body_echoing_the_key_as_text(self):
        self.server.push({"status": 500, "body": f"<html><title>oops {HUB_KEY}</title></html>",
                          "content_type": "text/html"})
        r = self.run_hp("--retries", "0", "-u", self.hub_url(), "-f", "jsonl", image("cat.png"),
                        check_key=False)
        self.assertExit(r, 8)
        self.assertNotIn(HUB_KEY, r.err)
        self.assertNotIn(HUB_KEY, r.out, "key leaked to the jsonl output")


class TestArgvWiped(KeyCase):

    def check_cmdline(self, key_args):
        self.server.push({"delay": 1.5})
        p = self.popen_hp(*key_args, "-u", self.hub_url(), image("cat.png"), key=None, wrapper=False,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while not self.server.log() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(self.server.log(), "no request arrived")
            with open(f"/proc/{p.pid}/cmdline", "rb") as f:
                cmdline = f.read()
            self.assertIsNone(p.poll(), "hubpredict ended before its cmdline was read")
        finally:
            r = self.wait_hp(p, HUB_KEY, timeout=30)
        self.assertNotIn(HUB_KEY.encode(), cmdline)
        self.assertIn(b"x" * len(HUB_KEY), cmdline)
        self.assertExit(r, 0)
        self.assertIn("person", r.out)
        self.assertEqual(self.sent_key(), HUB_KEY)

    def test_dash_k(self):
        self.check_cmdline(["-k", HUB_KEY])

    def test_long_option_with_equals(self):
        self.check_cmdline([f"--api-key={HUB_KEY}"])

    def test_attached_short_option(self):
        self.check_cmdline([f"-k{HUB_KEY}"])


class TestKeyFile(KeyCase):

    def test_private_file_no_warning(self):
        p = self.key_file("key", HUB_KEY.encode() + b"\n", 0o600)
        r = self.run_keys("--api-key-file", p, "-u", self.hub_url(), image("cat.png"), key=None)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        self.assertEqual(self.sent_key(), HUB_KEY)

    def test_readable_by_others_warns(self):
        for mode in (0o644, 0o640, 0o604):
            with self.subTest(mode=oct(mode)):
                self.server.reset()
                p = self.key_file(f"key{mode:o}", HUB_KEY.encode() + b"\n", mode)
                r = self.run_keys("--api-key-file", p, "-u", self.hub_url(), image("cat.png"), key=None)
                self.assertExit(r, 0)                   # still works
                self.assertEqual(self.sent_key(), HUB_KEY)
                lines = r.err.splitlines()
                self.assertEqual(len(lines), 1, r)
                self.assertTrue(lines[0].startswith("hubpredict: warning: "), r)
                self.assertIn(p, lines[0])
                self.assertIn("chmod 600", lines[0])

    def test_quiet_silences_the_key_file_warning(self):
        p = self.key_file("key", HUB_KEY.encode() + b"\n", 0o644)
        for args in (["-q", "--api-key-file", p], ["--api-key-file", p, "-q"]):
            with self.subTest(args=args):
                self.server.reset()
                r = self.run_keys(*args, "-u", self.hub_url(), image("cat.png"), key=None)
                self.assertExit(r, 0)
                self.assertEqual(self.sent_key(), HUB_KEY)
                self.assertEqual(r.err, "")

    def test_empty_and_multi_line_files_are_usage_errors(self):
        cases = {
            "empty": b"",
            "just-newline": b"\n",
            "two-lines": f"{FILE_KEY}\n{ENV_KEY}\n".encode(),
            "two-lines-no-final-newline": f"{FILE_KEY}\n{ENV_KEY}".encode(),
        }
        for name, data in cases.items():
            with self.subTest(name=name):
                p = self.key_file(name, data)
                r = self.run_keys("--api-key-file", p, "-u", self.hub_url(), image("cat.png"), key=None)
                self.assertUsage(r, "--api-key-file", name)

    def test_missing_file(self):
        r = self.run_keys("--api-key-file", self.path("nope"), "-u", self.hub_url(), image("cat.png"),
                          key=None)
        self.assertUsage(r, "--api-key-file", "nope")

    def test_line_endings(self):
        for name, data in (("crlf", f"{HUB_KEY}\r\n"), ("no-newline", HUB_KEY), ("lf", f"{HUB_KEY}\n")):
            with self.subTest(name=name):
                self.server.reset()
                p = self.key_file(name, data.encode())
                r = self.run_keys("--api-key-file", p, "-u", self.hub_url(), image("cat.png"), key=None)
                self.assertExit(r, 0)
                self.assertEqual(self.sent_key(), HUB_KEY)

    def test_key_from_stdin(self):
        r = self.run_keys("--api-key-file", "-", "-u", self.hub_url(), image("cat.png"), key=None,
                          stdin=f"{HUB_KEY}\n".encode())
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        self.assertEqual(self.sent_key(), HUB_KEY)
        # Platform key through stdin also picks the flavour
        self.server.reset()
        r = self.run_keys("--api-key-file", "-", "-u", self.platform_url(), image("cat.png"), key=None,
                          stdin=f"{PLATFORM_KEY}\r\n".encode())
        self.assertExit(r, 0)
        self.assertEqual(self.server.log()[0]["headers"].get("authorization"), f"Bearer {PLATFORM_KEY}")

    def test_stdin_cannot_be_key_and_input(self):
        r = self.run_keys("--api-key-file", "-", "-u", self.hub_url(), "-", key=None,
                          stdin=f"{HUB_KEY}\n".encode())
        self.assertUsage(r, "standard input")


class TestPrecedence(KeyCase):

    def test_dash_k_beats_file_beats_env(self):
        good = HUB_KEY.encode() + b"\n"
        wrong = WRONG_KEY.encode() + b"\n"
        cases = [
            # (-k, file contents, env) -> the key sent
            (HUB_KEY, FILE_KEY.encode(), ENV_KEY, HUB_KEY),
            (WRONG_KEY, good, HUB_KEY, WRONG_KEY),
            (None, good, ENV_KEY, HUB_KEY),
            (None, wrong, HUB_KEY, WRONG_KEY),
            (None, None, HUB_KEY, HUB_KEY),
        ]
        for i, (k, data, env, expect) in enumerate(cases):
            with self.subTest(case=i):
                self.server.reset()
                args = []
                if k:
                    args += ["-k", k]
                if data is not None:
                    args += ["--api-key-file", self.key_file(f"key{i}", data)]
                r = self.run_keys(*args, "-u", self.hub_url(), image("cat.png"), key=env)
                self.assertExit(r, 0 if expect == HUB_KEY else 4)
                self.assertEqual(self.sent_key(), expect)

    def test_dash_k_skips_a_bad_key_file(self):
        # -k wins, so the key file is not even read
        p = self.key_file("empty", b"")
        r = self.run_keys("-k", HUB_KEY, "--api-key-file", p, "-u", self.hub_url(), image("cat.png"), key=None)
        self.assertExit(r, 0)
        self.assertEqual(self.sent_key(), HUB_KEY)

    def test_empty_env_is_no_key(self):
        r = self.run_keys("-u", self.hub_url(), image("cat.png"), key=None, env={"ULTRALYTICS_API_KEY": ""})
        self.assertUsage(r, "key")


class TestMalformedKeys(KeyCase):

    BAD = ["SECRETLEFT SECRETRIGHT", "SECRETLEFT\nSECRETRIGHT", "SECRETLEFT\tSECRETRIGHT",
           "SECRET\u00e9NONASCII"]

    def assertNoBadKey(self, r, key):
        for part in key.replace("\n", " ").replace("\t", " ").split(" "):
            self.assertNotIn(part, r.out + r.err, r)
        self.assertNotIn("SECRET", r.err)

    def test_env_key_with_space_or_newline(self):
        for key in self.BAD:
            with self.subTest(key=key):
                r = self.run_keys("-u", self.hub_url(), image("cat.png"), key=key)
                self.assertUsage(r, "key")
                self.assertNoBadKey(r, key)

    def test_dash_k_and_file_with_space(self):
        key = self.BAD[0]
        r = self.run_keys("-k", key, "-u", self.hub_url(), image("cat.png"), key=None)
        self.assertUsage(r, "key")
        self.assertNoBadKey(r, key)
        p = self.key_file("spacey", key.encode() + b"\n")
        r = self.run_keys("--api-key-file", p, "-u", self.hub_url(), image("cat.png"), key=None)
        self.assertUsage(r, "key")
        self.assertNoBadKey(r, key)

    def test_dry_run_checks_the_key_too(self):
        r = self.run_keys("--dry-run", "-u", self.hub_url(), image("cat.png"), key=self.BAD[1])
        self.assertUsage(r, "key")
        self.assertNoBadKey(r, self.BAD[1])


if __name__ == "__main__":
    unittest.main()
