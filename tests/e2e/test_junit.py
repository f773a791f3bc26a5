"""--junit FILE: a JUnit XML report, one testcase per input (issue 5, item 3), against the
stand-in. Every report is parsed with xml.etree.ElementTree: a test that reads one also
checks that it is well-formed XML, with the counts and the testcases CI reporters read.

The stand-in's detect answer has person (class 0, confidence 0.92) and car (class 2, 0.87).
"""

import os
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

from harness import E2E, HUB_KEY, WRAPPER, Result, image

IMG = image("street.jpg")
CAT = image("cat.png")
SLOW = 5 if WRAPPER else 1


class JUnitBase(E2E):

    def hp(self, *args, model="detect"):
        return self.run_hp("-u", self.hub_url(model), *args)

    def report(self, path):
        """Parse the report at path; check its shape and counts; return (suite, testcases)."""
        with open(path, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n'), data[:80])
        root = ET.fromstring(data)
        self.assertEqual(root.tag, "testsuites")
        self.assertEqual(root.get("name"), "hubpredict")
        suites = list(root)
        self.assertEqual(len(suites), 1)
        suite = suites[0]
        self.assertEqual(suite.tag, "testsuite")
        self.assertEqual(suite.get("name"), "hubpredict")
        self.assertEqual(suite.get("skipped"), "0")
        self.assertRegex(suite.get("timestamp"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
        cases = suite.findall("testcase")
        failures = sum(1 for c in cases if c.find("failure") is not None)
        errors = sum(1 for c in cases if c.find("error") is not None)
        for el in (root, suite):
            self.assertEqual(int(el.get("tests")), len(cases))
            self.assertEqual(int(el.get("failures")), failures)
            self.assertEqual(int(el.get("errors")), errors)
            self.assertGreaterEqual(float(el.get("time")), 0.0)
        for c in cases:
            self.assertEqual(c.get("classname"), "hubpredict")
            self.assertGreaterEqual(float(c.get("time")), 0.0)
            self.assertLessEqual(len(list(c)), 1, "at most one failure or error per testcase")
        return suite, cases

    def names(self, cases):
        return [c.get("name") for c in cases]


class TestReport(JUnitBase):

    def test_all_pass(self):
        out = self.path("report.xml")
        r = self.hp("-j", "1", "--expect", "person", "--junit", out, IMG, CAT)
        self.assertExit(r, 0)
        suite, cases = self.report(out)
        self.assertEqual(self.names(cases), [IMG, CAT])
        for c in cases:
            self.assertEqual(list(c), [])
        self.assertIsNone(suite.find("system-err"))
        # the results still go to stdout as usual
        self.assertIn("2 results", r.out)

    def test_unmet_expectation_is_a_failure(self):
        out = self.path("report.xml")
        r = self.hp("--expect", "person>=5", "--expect", "car>=3", "--expect", "car", "--junit", out, IMG)
        self.assertExit(r, 1)
        suite, cases = self.report(out)
        self.assertEqual(suite.get("failures"), "1")
        self.assertEqual(suite.get("errors"), "0")
        failure = cases[0].find("failure")
        self.assertEqual(failure.get("type"), "expectation")
        self.assertEqual(failure.get("message"), "expected person>=5, found 1")
        self.assertEqual(failure.text.splitlines(), ["expected person>=5, found 1", "expected car>=3, found 1"])

    def test_request_errors_with_the_exit_name(self):
        out = self.path("report.xml")
        missing = self.path("missing.jpg")
        self.server.push({"comment": "normal"})
        self.server.push({"status": 404, "headers": {"x-request-id": "req-404"}})
        self.server.push({"status": 401})
        r = self.hp("-j", "1", "--retries", "0", "--expect", "person>=5", "--junit", out,
                    IMG, CAT, missing, IMG)
        self.assertExit(r, 5)        # the first failure in input order
        suite, cases = self.report(out)
        self.assertEqual(self.names(cases), [IMG, CAT, missing, IMG])
        self.assertEqual((suite.get("tests"), suite.get("failures"), suite.get("errors")), ("4", "1", "3"))
        self.assertEqual(cases[0].find("failure").get("type"), "expectation")
        e404, emissing, e401 = (cases[i].find("error") for i in (1, 2, 3))
        self.assertEqual(e404.get("type"), "not found")
        self.assertTrue(e404.get("message").startswith("404"), e404.get("message"))
        self.assertIn("exit status: 5 (not found)", e404.text)
        self.assertIn("HTTP status: 404", e404.text)
        self.assertIn("attempts: 1\nx-request-id: req-404", e404.text)   # the answer's, for support
        self.assertNotIn("x-request-id", emissing.text)                # no answer, no id
        self.assertEqual(emissing.get("type"), "input")
        self.assertIn("missing.jpg", emissing.get("message"))
        self.assertIn("exit status: 3 (input)", emissing.text)
        self.assertIn("attempts: 0", emissing.text)
        self.assertEqual(float(cases[2].get("time")), 0.0)   # never reached the network
        self.assertEqual(e401.get("type"), "auth")
        self.assertIn("HTTP status: 401", e401.text)
        for c in cases:
            self.assertNotIn(HUB_KEY, ET.tostring(c, encoding="unicode"))

    def test_every_format(self):
        for fmt in ("table", "json", "jsonl", "csv", "raw"):
            with self.subTest(fmt=fmt):
                out = self.path(f"report-{fmt}.xml")
                r = self.hp("-f", fmt, "--junit", out, IMG, CAT)
                self.assertExit(r, 0)
                _, cases = self.report(out)
                self.assertEqual(self.names(cases), [IMG, CAT])
                self.assertNotIn("testcase", r.out)

    def test_with_output_file(self):
        out, res = self.path("report.xml"), self.path("results.json")
        r = self.hp("-f", "json", "-o", res, "--junit", out, IMG)
        self.assertExit(r, 0)
        self.assertEqual(r.out, "")
        self.report(out)
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["report.xml", "results.json"])

    def test_replaces_an_old_report(self):
        out = self.write("report.xml", b"old")
        r = self.hp("--junit", out, IMG)
        self.assertExit(r, 0)
        _, cases = self.report(out)
        self.assertEqual(len(cases), 1)


class TestHostileNames(JUnitBase):

    NAMES = ['a b.gif', 'say "hi".gif', "it's.gif", "a & b.gif", "<tag>.gif", "caf\u00e9 \u4e2d\u6587.gif",
             "]]>.gif"]

    def test_names_round_trip(self):
        d = os.path.join(self.tmp.name, "in")
        os.makedirs(d)
        paths = []
        for n in self.NAMES:
            paths.append(os.path.join(d, n))
            shutil.copyfile(image("tiny.gif"), paths[-1])
        out = self.path("report.xml")
        r = self.hp("-j", "2", "--junit", out, *paths)
        self.assertExit(r, 0)
        _, cases = self.report(out)
        self.assertEqual(self.names(cases), paths)

    def test_invalid_utf8_and_control_characters(self):
        # names that are not text: found in a directory, replaced by U+FFFD in the report
        d = os.path.join(self.tmp.name, "in")
        os.makedirs(d)
        for raw in (b"bad\xff.gif", b"ctl\x01\x1b.gif", b"nl\nx.gif"):
            shutil.copyfile(image("tiny.gif"), os.path.join(os.fsencode(d), raw))
        out = self.path("report.xml")
        r = self.hp("-j", "1", "--junit", out, d)
        self.assertExit(r, 0)
        _, cases = self.report(out)
        names = sorted(os.path.basename(n) for n in self.names(cases))
        self.assertEqual(names, sorted(["bad\ufffd.gif", "ctl\ufffd\ufffd.gif", "nl\nx.gif"]))


class TestFileHandling(JUnitBase):

    def test_unwritable_path_is_exit_11_before_sending(self):
        self.write("file", b"x")
        for out in (self.path("file/report.xml"), self.path("nodir/report.xml")):
            with self.subTest(out=out):
                r = self.hp("--junit", out, IMG)
                self.assertExit(r, 11)
                self.assertOneLineError(r, "--junit", out)
                self.assertEqual(self.server.log(), [], "a request was sent")
                self.assertEqual(r.out, "")

    def test_same_file_as_output_is_a_usage_error(self):
        res = self.path("r.xml")
        for junit in (res, os.path.join(self.tmp.name, ".", "r.xml")):
            with self.subTest(junit=junit):
                r = self.hp("-o", res, "--junit", junit, IMG)
                self.assertExit(r, 2)
                self.assertIn("--junit", r.err)
                self.assertIn("try 'hubpredict --help'", r.err)
                self.assertFalse(os.path.exists(res))
        self.assertEqual(self.server.log(), [])

    def test_usage_error_writes_no_report(self):
        out = self.path("report.xml")
        for args in (["--conf", "7"], ["-f", "raw", "--expect", "person"]):
            with self.subTest(args=args):
                r = self.hp(*args, "--junit", out, IMG)
                self.assertExit(r, 2)
                self.assertFalse(os.path.exists(out))
        r = self.hp("--junit", "", IMG)
        self.assertExit(r, 2)
        r = self.hp("--junit", "-", IMG)
        self.assertExit(r, 2)
        self.assertEqual(os.listdir(self.tmp.name), [])

    def test_dry_run_writes_no_report(self):
        out = self.path("report.xml")
        r = self.hp("--dry-run", "--junit", out, IMG)
        self.assertExit(r, 0)
        self.assertFalse(os.path.exists(out))

    def test_closed_stdout(self):
        # the reader goes away after the first line: the run ends quietly, the report is written
        out = self.path("report.xml")
        self.server.set_latency(0.1)
        p = self.popen_hp("-u", self.hub_url(), "-j", "1", "-f", "jsonl", "--junit", out, *[IMG] * 8,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = p.stdout.readline()
        p.stdout.close()
        r = self.wait_hp(p, timeout=30 * SLOW)
        self.check_run(Result(r.rc, first, b""))
        self.assertExit(r, 141)
        self.assertEqual(r.err, "")
        suite, cases = self.report(out)
        self.assertGreaterEqual(len(cases), 1)
        self.assertLess(len(cases), 8)
        self.assertIn("standard output was closed", suite.find("system-err").text)
        self.assertEqual(os.listdir(self.tmp.name), ["report.xml"])


class TestInterrupted(JUnitBase):

    def interrupt(self, sig, code, word):
        self.server.set_latency(0.3)
        d = os.path.join(self.tmp.name, "in")
        os.makedirs(d, exist_ok=True)
        paths = []
        for i in range(8):
            paths.append(os.path.join(d, f"img{i}.gif"))
            shutil.copyfile(image("tiny.gif"), paths[-1])
        outdir = os.path.join(self.tmp.name, f"out-{code}")
        os.makedirs(outdir)
        out = os.path.join(outdir, "report.xml")
        p = self.popen_hp("-u", self.hub_url(), "-j", "1", "-f", "jsonl", "--junit", out, *paths,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(), p.stderr.close()))
        deadline = time.monotonic() + 20 * SLOW
        while sum(rec["t_end"] is not None for rec in self.server.log()) < 2:
            self.assertLess(time.monotonic(), deadline, "the run never finished two inputs")
            self.assertIsNone(p.poll(), "the run ended early")
            time.sleep(0.02)
        time.sleep(0.1)
        p.send_signal(sig)
        r = self.wait_hp(p, timeout=10 * SLOW)
        self.assertExit(r, code)
        # the report is complete, holds only finished inputs in order, and no temporary is left
        self.assertEqual(os.listdir(outdir), ["report.xml"])
        suite, cases = self.report(out)
        names = self.names(cases)
        self.assertGreaterEqual(len(names), 2)
        self.assertLess(len(names), len(paths))
        self.assertEqual(names, paths[:len(names)])
        for c in cases:
            self.assertEqual(list(c), [], "an unfinished input was reported")
        self.assertIn(word, suite.find("system-err").text)

    def test_sigint(self):
        self.interrupt(signal.SIGINT, 130, "SIGINT")

    def test_sigterm(self):
        self.interrupt(signal.SIGTERM, 143, "SIGTERM")

    def test_sighup(self):
        # issue 9 item 5: a closed terminal writes the report too
        self.interrupt(signal.SIGHUP, 129, "SIGHUP")
