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
import shutil
import stat
import subprocess
import sys
import tempfile
import time
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
NOBODY = 65534  # the uid and gid of an unprivileged run when the tests run as root
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


def hp_cmd(*args, wrapper: bool = True) -> list[str]:
    """The command line that runs hubpredict with args (under $HUBPREDICT_WRAPPER unless not)."""
    return (WRAPPER if wrapper else []) + [BIN] + [str(a) for a in args]


def wait_for_handler(pid, sig, limit):
    """Wait until process PID catches SIG (its SigCgt mask in /proc), at most LIMIT seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return
        if caught >> (int(sig) - 1) & 1:
            return
        time.sleep(0.01)


def mapped(pid: int) -> set[str]:
    """The file names of what process pid has mapped (/proc/PID/maps)."""
    with open(f"/proc/{pid}/maps") as f:
        return {os.path.basename(line.split()[5]) for line in f if len(line.split()) >= 6}


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
        """The environment run_hp gives hubpredict: the key in ULTRALYTICS_API_KEY unless None.
        Every run that starts the binary takes it (through run_hp, run_on_terminal or popen_hp):
        none of the developer's HUBPREDICT_*/ULTRALYTICS_* variables, NO_COLOR or
        YOLO_CONFIG_DIR, and HOME and XDG_CONFIG_HOME in the test's empty temporary directory, so
        their config file and `yolo login` settings.json never leak in."""
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("HUBPREDICT_", "ULTRALYTICS_")) and k not in ("NO_COLOR", "YOLO_CONFIG_DIR")}
        e["HOME"] = self.tmp.name
        e["XDG_CONFIG_HOME"] = os.path.join(self.tmp.name, ".config")
        if key is not None:
            e["ULTRALYTICS_API_KEY"] = key
        if env:
            e.update(env)
        return e

    def unprivileged(self) -> dict:
        """subprocess arguments that run hubpredict as nobody when the tests run as root (CI
        does), for a test of what permission bits refuse: root's CAP_DAC_OVERRIDE and
        CAP_DAC_READ_SEARCH read a mode-000 file and search a mode-000 directory. The test's
        temporary directory becomes traversable by others, and the binary is copied into it when
        nobody cannot run it where it is. {} for any other user: the bits already apply."""
        if os.geteuid() != 0:
            return {}
        os.chmod(self.tmp.name, 0o711)
        kw = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
        exe, ok = os.path.realpath(BIN), True
        d = exe
        while ok and d != "/":
            st = os.stat(d)
            ok = bool(st.st_mode & stat.S_IXOTH) and (d != exe or bool(st.st_mode & stat.S_IROTH))
            d = os.path.dirname(d)
        if not ok:
            kw["exe"] = os.path.join(self.tmp.name, "hubpredict")
            shutil.copy(exe, kw["exe"])
            os.chmod(kw["exe"], 0o755)
        return kw

    def run_hp(self, *args, key: str | None = HUB_KEY, env: dict | None = None,
               stdin: bytes | None = None, check_key: bool = True, timeout: float | None = None,
               wrapper: bool = True, cwd: str | None = None, unprivileged: bool = False) -> Result:
        """Run hubpredict with args; the key goes in ULTRALYTICS_API_KEY unless key is None; as
        nobody when unprivileged and the tests run as root (see unprivileged())."""
        cmd, kw = hp_cmd(*args, wrapper=wrapper), self.unprivileged() if unprivileged else {}
        if "exe" in kw:
            cmd[len(WRAPPER) if wrapper else 0] = kw.pop("exe")
        p = subprocess.run(cmd, input=stdin if stdin is not None else b"", capture_output=True,
                           env=self.hp_env(key, env), timeout=timeout or TIMEOUT, cwd=cwd, **kw)
        r = Result(p.returncode, p.stdout, p.stderr)
        self.check_run(r, key, check_key)
        return r

    def popen_hp(self, *args, key: str | None = HUB_KEY, env: dict | None = None, wrapper: bool = True,
                 **kw) -> subprocess.Popen:
        """Start hubpredict as run_hp would (its environment, under the wrapper) for a test that
        must talk to it while it runs; kw go to Popen. Give what it printed to check_run."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.Popen(hp_cmd(*args, wrapper=wrapper), env=self.hp_env(key, env), **kw)

    def wait_hp(self, p: subprocess.Popen, key: str | None = HUB_KEY, timeout: float | None = None) -> Result:
        """The Result of a popen_hp run once it ends (killed if it outlives the timeout: the test
        errs), with run_hp's checks; a stream the test did not pipe counts as empty."""
        try:
            out, err = p.communicate(timeout=timeout or TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        r = Result(p.returncode, out or b"", err or b"")
        self.check_run(r, key)
        return r

    def mapped_while_waiting(self, *args) -> set[str]:
        """What hubpredict args maps while it waits for its first answer (the stand-in holds it
        1 s): read once it has a socket, which it opens after everything it loads at start. The
        run must end with 0 and libcurl be among the names (the maps were read)."""
        self.server.push({"delay": 1})
        p = self.popen_hp(*args, wrapper=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        names = set()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and p.poll() is None:
            try:
                fds = os.listdir(f"/proc/{p.pid}/fd")
                if any(os.readlink(f"/proc/{p.pid}/fd/{fd}").startswith("socket:")
                       for fd in fds if os.path.exists(f"/proc/{p.pid}/fd/{fd}")):
                    names = mapped(p.pid)
                    break
            except FileNotFoundError:
                pass                                      # an fd closed as it was read: look again
            time.sleep(0.01)
        r = self.wait_hp(p)
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(any(n.startswith("libcurl") for n in names), f"maps not read while it waited: {names}")
        return names

    def run_on_terminal(self, stream: str, *args, key: str | None = HUB_KEY, env: dict | None = None,
                        wrapper: bool = True) -> Result:
        """Run hubpredict with `stream` ("stdout" or "stderr") on a pseudo-terminal and the other
        one piped; the Result holds what each got (the terminal's with its \\r\\n)."""
        master, slave = pty.openpty()
        other = "stderr" if stream == "stdout" else "stdout"
        p = subprocess.Popen(hp_cmd(*args, wrapper=wrapper), stdin=subprocess.DEVNULL, env=self.hp_env(key, env),
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
        subprocess.run([PEAKRSS, res] + hp_cmd(*args, wrapper=False), input=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=self.hp_env(key), timeout=TIMEOUT * 10, check=True)
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
