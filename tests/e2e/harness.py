"""Shared pieces of hubpredict's end-to-end tests.

Each test runs the real binary ($HUBPREDICT_BIN) as a subprocess against the stand-in API
server (tests/standin/standin.py), started once per test class on 127.0.0.1. Every run is
checked for key hygiene: the key given to hubpredict must appear in neither stdout nor stderr.

Environment:
  HUBPREDICT_BIN      the binary under test (ctest sets it)
  HUBPREDICT_WRAPPER  a command to run it under, e.g. "valgrind --error-exitcode=99 -q"
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import pty
import select
import shlex
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "standin"))

from standin import HUB_KEY, PLATFORM_KEY, StandIn  # noqa: E402

BIN = os.environ.get("HUBPREDICT_BIN", os.path.join(ROOT, "build", "hubpredict"))
PEAKRSS = os.environ.get("HUBPREDICT_PEAKRSS", os.path.join(ROOT, "build", "tests", "peakrss"))
WRAPPER = shlex.split(os.environ.get("HUBPREDICT_WRAPPER", ""))
IMAGES = os.path.join(ROOT, "examples", "images")
TIMEOUT = 60 * (5 if WRAPPER else 1)
# Under valgrind or a sanitizer, memory figures and tight timings mean nothing
UNDER_TOOL = bool(WRAPPER) or bool(os.environ.get("HUBPREDICT_SANITIZED"))


def image(name: str) -> str:
    return os.path.join(IMAGES, name)


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Result:
    def __init__(self, rc: int, out: bytes, err: bytes):
        self.rc = rc
        self.out_bytes = out
        self.err_bytes = err
        self.out = out.decode("utf-8", "replace")
        self.err = err.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out)

    def jsonl(self):
        return [json.loads(line) for line in self.out.splitlines()]

    def csv(self):
        return list(csv.reader(io.StringIO(self.out, newline="")))

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out[:400]!r}, err={self.err[:400]!r})"


class E2E(unittest.TestCase):
    """Base class: a stand-in per class, a clean one per test, and run()."""

    server: StandIn

    @classmethod
    def setUpClass(cls):
        cls.server = StandIn().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.server.reset()
        self.server.set_latency(0)
        self.tmp = tempfile.TemporaryDirectory(prefix="hp-e2e-")
        self.addCleanup(self.tmp.cleanup)

    # URLs of the stand-in's routes
    def hub_url(self, model: str = "detect") -> str:
        return f"{self.server.url}/v1/predict/{model}"

    def platform_url(self, model: str = "detect") -> str:
        return f"{self.server.url}/api/models/{model}/predict"

    def path(self, name: str) -> str:
        return os.path.join(self.tmp.name, name)

    def write(self, name: str, data: bytes) -> str:
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def hp_env(self, key: str | None = HUB_KEY, env: dict | None = None) -> dict:
        """The environment run_hp gives hubpredict: the key in ULTRALYTICS_API_KEY unless None."""
        e = {k: v for k, v in os.environ.items()
             if k not in ("ULTRALYTICS_API_KEY", "HUBPREDICT_MODEL", "HUBPREDICT_URL", "NO_COLOR",
                          "HUBPREDICT_CONFIG", "HUBPREDICT_PROFILE", "YOLO_CONFIG_DIR")}
        # no config file and no `yolo login` key of the machine's user
        e["XDG_CONFIG_HOME"] = os.path.join(self.tmp.name, ".config")
        if key is not None:
            e["ULTRALYTICS_API_KEY"] = key
        if env:
            e.update(env)
        return e

    def run_hp(self, *args, key: str | None = HUB_KEY, env: dict | None = None,
               stdin: bytes | None = None, check_key: bool = True, timeout: float | None = None,
               wrapper: bool = True, cwd: str | None = None) -> Result:
        """Run hubpredict with args; the key goes in ULTRALYTICS_API_KEY unless key is None."""
        cmd = (WRAPPER if wrapper else []) + [BIN] + [str(a) for a in args]
        p = subprocess.run(cmd, input=stdin if stdin is not None else b"",
                           capture_output=True, env=self.hp_env(key, env), timeout=timeout or TIMEOUT, cwd=cwd)
        r = Result(p.returncode, p.stdout, p.stderr)
        self.check_run(r, key, check_key)
        return r

    def run_on_terminal(self, stream: str, *args, key: str | None = HUB_KEY, env: dict | None = None,
                        wrapper: bool = True) -> Result:
        """Run hubpredict with `stream` ("stdout" or "stderr") on a pseudo-terminal and the other
        one piped; the Result holds what each got (the terminal's with its \\r\\n)."""
        master, slave = pty.openpty()
        other = "stderr" if stream == "stdout" else "stdout"
        cmd = (WRAPPER if wrapper else []) + [BIN] + [str(a) for a in args]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, env=self.hp_env(key, env),
                             **{stream: slave, other: subprocess.PIPE})
        os.close(slave)
        got = {master: b"", getattr(p, other).fileno(): b""}
        try:
            open_fds = set(got)
            while open_fds:
                ready, _, _ = select.select(list(open_fds), [], [], TIMEOUT)
                if not ready:
                    break                                # a hang: p.wait below reports it
                for fd in ready:
                    try:
                        chunk = os.read(fd, 65536)
                    except OSError:                      # EIO on the pty: the last writer closed
                        chunk = b""
                    if chunk:
                        got[fd] += chunk
                    else:
                        open_fds.discard(fd)
            p.wait(TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(master)
            getattr(p, other).close()
        tty, piped = got[master], got[next(fd for fd in got if fd != master)]
        r = Result(p.returncode, tty if stream == "stdout" else piped, piped if stream == "stdout" else tty)
        self.check_run(r, key)
        return r

    def check_run(self, r: Result, key: str | None = None, check_key: bool = True):
        """What every run must show: no key on stdout or stderr (unless check_key is False), no
        valgrind report."""
        if check_key:
            for k in {key, HUB_KEY, PLATFORM_KEY} - {None}:
                self.assertNotIn(k.encode(), r.out_bytes, f"key leaked to stdout: {r}")
                self.assertNotIn(k.encode(), r.err_bytes, f"key leaked to stderr: {r}")
        if WRAPPER and "valgrind" in WRAPPER[0]:
            # with -q, valgrind only speaks when it found something
            self.assertNotRegex(r.err, r"(?m)^==\d+== ", f"valgrind report: {r.err[:2000]}")

    def peak_rss(self, *args, key: str = HUB_KEY, stdin: bytes = b"") -> tuple[int, int]:
        """(exit status, peak RSS in KiB) of one hubpredict run, measured by tests/tools/peakrss."""
        res = self.path("peakrss.out")
        env = dict(os.environ, ULTRALYTICS_API_KEY=key)
        subprocess.run([PEAKRSS, res, BIN] + [str(a) for a in args], input=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=env, timeout=TIMEOUT * 10, check=True)
        with open(res) as f:
            rc, kib = f.read().split()
        return int(rc), int(kib)

    def assertExit(self, r: Result, code: int):
        self.assertEqual(r.rc, code, f"expected exit {code}: {r}")

    def assertOneLineError(self, r: Result, *fragments: str):
        """stderr holds exactly one hubpredict: line containing each fragment."""
        lines = [ln for ln in r.err.splitlines() if ln.startswith("hubpredict: ")
                 and not ln.startswith("hubpredict: warning:")
                 and not ln.startswith("hubpredict: summary:")]
        self.assertEqual(len(lines), 1, f"want one error line: {r}")
        for frag in fragments:
            self.assertIn(frag, lines[0], r)
