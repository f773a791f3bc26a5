"""Interrupted runs (SPEC sections 4 and 5, issue 4 items 2 and 5): SIGINT and SIGTERM end the
run at once with 130 / 143, write every input that had finished (in input order, the unfinished
ones skipped) as a complete document of its format, on stdout or in the -o file, and leave no
temporary file behind; every wait (a retry's backoff, a 429 pause, a slow answer, a slow
standard input) gives way to them. A reader that goes away during a retry wait ends the run
quietly with 141.

The runs are started with Popen and signalled with send_signal, as a shell's Ctrl-C or `kill`
would. Upper time bounds are scaled by SLOW under a wrapper (valgrind).
"""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import threading
import time

from harness import E2E, HUB_KEY, WRAPPER, Result, image

CAT = image("cat.png")
SLOW = 5 if WRAPPER else 1
CSV_HEADER = ("file,frame,task,index,class,name,confidence,x1,y1,x2,y2,x3,y3,x4,y4,points,"
              "keypoints,pixel_ratio")
EXIT = {signal.SIGHUP: 129, signal.SIGINT: 130, signal.SIGTERM: 143}


class Run:
    """A hubpredict process that a test signals, then collects.

    stdout and stderr are drained by threads, so stdin can stay open until the end (closing
    it would end a spool of standard input on its own) and no pipe fills up."""

    def __init__(self, test, args, env=None, stdin=subprocess.DEVNULL, read_stdout=True):
        self.test = test
        self.t0 = time.monotonic()
        self.p = test.popen_hp(*args, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.chunks = {"out": [], "err": []}
        self.readers = [threading.Thread(target=self._drain, args=(self.p.stderr, "err"))]
        if read_stdout:
            self.readers.append(threading.Thread(target=self._drain, args=(self.p.stdout, "out")))
        for t in self.readers:
            t.daemon = True
            t.start()
        test.addCleanup(self.kill)
        self.t_signal = None        # time.time() of the signal, to compare with the server's log
        self.m_signal = None        # time.monotonic() of the same

    def _drain(self, f, name):
        for chunk in iter(lambda: f.read1(65536), b""):
            self.chunks[name].append(chunk)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        for t in self.readers:
            t.join(5)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            if f is not None and not f.closed:
                f.close()

    def signal(self, sig, pause=0.0):
        """Send `sig` after `pause` seconds."""
        time.sleep(pause)
        self.test.assertIsNone(self.p.poll(), "the run ended before the signal")
        self.t_signal = time.time()
        self.p.send_signal(sig)
        self.m_signal = time.monotonic()

    def finish(self, within):
        """Wait for the end, at most `within` seconds after the signal (scaled by SLOW);
        returns (exit status, stdout bytes, stderr text)."""
        try:
            self.p.wait(timeout=within * SLOW + 1)
        except subprocess.TimeoutExpired:
            self.kill()
            self.test.fail(f"still running {within * SLOW + 1:.0f} s after the signal; "
                           f"stderr: {b''.join(self.chunks['err'])[-400:]!r}")
        took = time.monotonic() - self.m_signal
        for t in self.readers:
            t.join(5)
        out, err = b"".join(self.chunks["out"]), b"".join(self.chunks["err"])
        self.test.check_run(Result(self.p.returncode, out, err), HUB_KEY)
        self.test.assertLess(took, within * SLOW, f"ended {took:.2f} s after the signal")
        return self.p.returncode, out, err.decode("utf-8", "replace")


def error_lines(err):
    return [ln for ln in err.splitlines() if not ln.startswith("hubpredict: summary:")]


class SignalE2E(E2E):

    def inputs(self, n):
        d = os.path.join(self.tmp.name, "imgs")
        os.makedirs(d, exist_ok=True)
        paths = []
        for i in range(n):
            paths.append(os.path.join(d, f"img{i:03d}.gif"))
            shutil.copyfile(image("tiny.gif"), paths[-1])
        return paths

    def wait_log(self, what, ready, timeout=10):
        """Wait until ready(request log) holds: the run has reached the state to test."""
        deadline = time.monotonic() + timeout * SLOW
        while not ready(self.server.log()):
            if time.monotonic() > deadline:
                self.fail(f"the run never got to {what}: {self.server.log()}")
            time.sleep(0.02)

    def assertInOrder(self, files, paths):
        """`files` are some of `paths`, each once, in input order."""
        index = [paths.index(f) for f in files]
        self.assertEqual(index, sorted(set(index)), f"not in input order: {files}")


# ---------------------------------------------------------------------------------------------
# A batch interrupted half-way
# ---------------------------------------------------------------------------------------------

class TestInterruptedBatch(SignalE2E):

    def parse(self, fmt, data):
        """The files of the records in one complete output; fails on a partial one."""
        text = data.decode("utf-8")
        if fmt == "json":
            doc = json.loads(text)
            self.assertIsInstance(doc, list)
            for env in doc:
                self.assertIn("response", env, env)     # finished inputs only: no error records
            return [env["file"] for env in doc]
        self.assertTrue(text == "" or text.endswith("\n"), f"a partial last line: {text[-80:]!r}")
        if fmt == "jsonl":
            envs = [json.loads(line) for line in text.splitlines()]
            for env in envs:
                self.assertIn("response", env, env)
            return [env["file"] for env in envs]
        rows = list(csv.reader(io.StringIO(text, newline="")))
        self.assertEqual(",".join(rows[0]), CSV_HEADER)
        for row in rows[1:]:
            self.assertEqual(len(row), 18, row)
        files = []
        for row in rows[1:]:                            # two results per input
            if not files or files[-1] != row[0]:
                files.append(row[0])
        return files

    def interrupt_batch(self, sig, fmt, to_file):
        # -j 2, 0.3 s per answer, but the first request to arrive (input 1 or 2) gets its
        # answer only after 30 s. The signal comes 0.15 s after the other slot has finished
        # two inputs, one of them behind the stuck one: so the finished inputs are not a
        # prefix, and all of them must be written anyway, in order, without the stuck one.
        self.server.reset()
        self.server.set_latency(0.3)
        self.server.push({"delay": 30})
        paths = self.inputs(10)
        outdir = os.path.join(self.tmp.name, "out")
        shutil.rmtree(outdir, ignore_errors=True)
        os.makedirs(outdir)
        target = os.path.join(outdir, f"results.{fmt}")
        run = Run(self, ["-u", self.hub_url(), "-j", "2", "-f", fmt]
                  + (["-o", target] if to_file else []) + paths)
        self.wait_log("two answers", lambda log: sum(r["t_end"] is not None for r in log) >= 2)
        run.signal(sig, pause=0.15)
        rc, out, err = run.finish(within=1.0)
        self.assertEqual(rc, EXIT[sig], err)
        self.assertEqual(error_lines(err), [], "an interruption is not an error per input")
        if to_file:
            self.assertEqual(out, b"")
            self.assertEqual(os.listdir(outdir), [os.path.basename(target)],
                             "the temporary file was left, or the file is missing")
            with open(target, "rb") as f:
                data = f.read()
        else:
            data = out
        files = self.parse(fmt, data)
        self.assertInOrder(files, paths)
        # every input whose answer had gone out well before the signal is there; those whose
        # answer never went out are not; at least one finished, not all did
        log = self.server.log()
        by_name = {os.path.basename(p): p for p in paths}
        answered = {by_name[rec["file"]["filename"]] for rec in log
                    if rec["t_end"] is not None and rec["t_end"] < run.t_signal - 0.1 * SLOW}
        unanswered = {by_name[rec["file"]["filename"]] for rec in log if rec["t_end"] is None}
        self.assertLessEqual(answered, set(files), f"finished inputs missing: {files}")
        self.assertFalse(unanswered & set(files), f"unfinished inputs written: {files}")
        self.assertGreaterEqual(len(files), 1)
        self.assertNotEqual(files, paths[:len(files)], "the stuck input was written?")
        # in-flight requests were ended, and nothing new was started
        late = [rec for rec in log if rec["t_start"] > run.t_signal + 0.05]
        self.assertEqual(late, [], "a request started after the signal")
        self.assertLess(len(log), 10)

    def test_sigint(self):
        for fmt in ("json", "jsonl", "csv"):
            for to_file in (False, True):
                with self.subTest(fmt=fmt, output="-o FILE" if to_file else "stdout"):
                    self.interrupt_batch(signal.SIGINT, fmt, to_file)

    def test_sighup(self):
        """Issue 9 item 5: a closed terminal (SIGHUP) is wound down as SIGTERM, exit 129: the
        finished inputs written, complete and valid, and no temporary file left."""
        for fmt in ("json", "csv"):
            for to_file in (True, False):
                with self.subTest(fmt=fmt, to_file=to_file):
                    self.interrupt_batch(signal.SIGHUP, fmt, to_file)

    def test_sigterm(self):
        for fmt, to_file in (("json", False), ("json", True), ("jsonl", True), ("csv", True)):
            with self.subTest(fmt=fmt, output="-o FILE" if to_file else "stdout"):
                self.interrupt_batch(signal.SIGTERM, fmt, to_file)


# ---------------------------------------------------------------------------------------------
# Every wait gives way
# ---------------------------------------------------------------------------------------------

class TestInterruptibleWaits(SignalE2E):

    def test_retry_wait(self):
        # a 503 asking for 30 s: the input waits for its retry when the signal comes; it has
        # not finished, so the document is empty but complete
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(sig=sig.name):
                self.server.reset()
                self.server.push({"status": 503, "headers": {"Retry-After": "30"}})
                run = Run(self, ["-u", self.hub_url(), "-f", "json", CAT])
                self.wait_log("the 503", lambda log: log and log[0]["t_end"] is not None)
                run.signal(sig, pause=0.2)
                rc, out, err = run.finish(within=1.0)
                self.assertEqual(rc, EXIT[sig], err)
                self.assertEqual(json.loads(out), [])
                self.assertEqual(len(self.server.log()), 1)

    def test_429_pause(self):
        # a 429 holds every job; the inputs that finished before it are still written
        paths = self.inputs(4)
        self.server.push_many([{"comment": "ok"},
                               {"status": 429, "headers": {"Retry-After": "30"}}])
        run = Run(self, ["-u", self.hub_url(), "-j", "1", "-f", "jsonl"] + paths)
        self.wait_log("the 429", lambda log: len(log) == 2 and log[1]["t_end"] is not None)
        run.signal(signal.SIGINT, pause=0.2)
        rc, out, err = run.finish(within=1.0)
        self.assertEqual(rc, 130, err)
        self.assertEqual([json.loads(line)["file"] for line in out.decode().splitlines()],
                         paths[:1])
        self.assertEqual(len(self.server.log()), 2)

    def test_slow_body(self):
        # the answer drips a byte every 0.5 s (minutes in all)
        self.server.push({"drip": 0.5})
        run = Run(self, ["-u", self.hub_url(), "-f", "json", CAT])
        self.wait_log("the answer", lambda log: log and log[0]["status"] == 200)
        run.signal(signal.SIGINT, pause=0.7)
        rc, out, err = run.finish(within=1.0)
        self.assertEqual(rc, 130, err)
        self.assertEqual(json.loads(out), [])

    def test_slow_answer(self):
        self.server.push({"delay": 30})
        run = Run(self, ["-u", self.hub_url(), "-f", "csv", CAT])
        self.wait_log("the request", lambda log: len(log) == 1)
        run.signal(signal.SIGTERM, pause=0.2)
        rc, out, err = run.finish(within=1.0)
        self.assertEqual(rc, 143, err)
        self.assertEqual(out.decode(), CSV_HEADER + "\n")

    def test_slow_standard_input(self):
        # `producer | hubpredict -`, or `hubpredict -` typed at a terminal by mistake: the
        # producer has sent a little and stays open. Ctrl-C (or kill) must end the spooling:
        # exit 130 / 143, nothing sent.
        with open(CAT, "rb") as f:
            head = f.read(100)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(sig=sig.name):
                self.server.reset()
                run = Run(self, ["-u", self.hub_url(), "-f", "json", "-"], stdin=subprocess.PIPE)
                run.p.stdin.write(head)
                run.p.stdin.flush()
                run.signal(sig, pause=0.5 * SLOW)
                rc, out, err = run.finish(within=1.0)     # stdin still open
                run.p.stdin.close()
                self.assertEqual(rc, EXIT[sig], err)
                self.assertEqual(self.server.log(), [])


# ---------------------------------------------------------------------------------------------
# A reader that goes away during a retry wait
# ---------------------------------------------------------------------------------------------

class TestClosedStdout(SignalE2E):

    def test_reader_leaves_during_a_retry_wait(self):
        # test_errors.py covers a reader that leaves while answers stream in. Here it leaves
        # while the run waits 2 s for a retry: hubpredict learns of it at its next write (as
        # any Unix filter), which must end the run then, quietly, with 141 = 128 + SIGPIPE,
        # and without going on through the remaining inputs.
        paths = self.inputs(12)
        self.server.push_many([{"comment": "ok"},
                               {"status": 503, "headers": {"Retry-After": "2"}}])
        run = Run(self, ["-u", self.hub_url(), "-j", "1", "-f", "jsonl"] + paths,
                  read_stdout=False)
        first = run.p.stdout.readline()
        self.assertEqual(json.loads(first)["file"], paths[0])
        self.wait_log("the 503", lambda log: len(log) == 2 and log[1]["t_end"] is not None)
        time.sleep(0.3)
        run.p.stdout.close()                    # the reader goes away during the wait
        run.m_signal = time.monotonic()
        rc, _, err = run.finish(within=2.0 + 1.5)
        self.assertEqual(err, "", "a closed stdout must end the run quietly")
        self.assertEqual(rc, 141)
        self.assertLess(len(self.server.log()), len(paths), "it went on after stdout closed")


# ---------------------------------------------------------------------------------------------
# No temporary file survives an interruption
# ---------------------------------------------------------------------------------------------

class TestTemporaryFiles(SignalE2E):

    def open_files_in(self, pid, directory):
        """Paths under `directory` that process `pid` holds open (Linux /proc), or None."""
        fd_dir = f"/proc/{pid}/fd"
        if not os.path.isdir(fd_dir):
            return None
        names = []
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith(directory + "/"):
                names.append(target)
        return names

    def test_stdin_spool(self):
        tmpdir = os.path.join(self.tmp.name, "tmp")
        os.makedirs(tmpdir)
        self.server.push({"delay": 30})
        with open(CAT, "rb") as f:
            data = f.read()
        run = Run(self, ["-u", self.hub_url(), "-f", "json", "-"], env={"TMPDIR": tmpdir},
                  stdin=subprocess.PIPE)
        run.p.stdin.write(data)
        run.p.stdin.close()
        self.wait_log("the request", lambda log: len(log) == 1)
        held = self.open_files_in(run.p.pid, tmpdir) if not WRAPPER else None
        if held is not None:
            # the spool is in TMPDIR (so the check below means something), already unlinked
            self.assertEqual(len(held), 1, held)
            self.assertTrue(held[0].endswith(" (deleted)"), held)
        self.assertEqual(len(self.server.log()), 1)
        run.signal(signal.SIGINT)
        rc, out, err = run.finish(within=1.0)
        self.assertEqual(rc, 130, err)
        self.assertEqual(json.loads(out), [])
        self.assertEqual(os.listdir(tmpdir), [])

    def test_raw_spill(self):
        # -f raw keeps a body over 1 MiB in a temporary file. Input 2's 5 MB answer is
        # complete and waits behind input 1 (whose answer never comes) when the signal
        # arrives: it is written whole, and its spill file is gone. --rate orders the two
        # requests, so input 1 takes the slow answer.
        tmpdir = os.path.join(self.tmp.name, "tmp")
        os.makedirs(tmpdir)
        size = 5 * 1024 * 1024
        self.server.push_many([{"delay": 30}, {"huge": size}])
        target = os.path.join(self.tmp.name, "out.raw")
        paths = self.inputs(2)
        run = Run(self, ["-u", self.hub_url(), "-j", "2", "--rate", "10/s", "-f", "raw",
                         "-o", target] + paths, env={"TMPDIR": tmpdir})
        self.wait_log("the 5 MB answer", lambda log: len(log) == 2 and log[1]["t_end"] is not None)
        time.sleep(0.3 * SLOW)                  # for the client to take it in
        held = self.open_files_in(run.p.pid, tmpdir) if not WRAPPER else None
        if held is not None:
            self.assertEqual(len(held), 1, f"the spill file is not in TMPDIR: {held}")
            self.assertTrue(held[0].endswith(" (deleted)"), held)
        run.signal(signal.SIGINT)
        rc, out, err = run.finish(within=1.0)
        self.assertEqual(rc, 130, err)
        self.assertEqual(os.listdir(tmpdir), [])
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["imgs", "out.raw", "tmp"])
        self.assertEqual(os.path.getsize(target), size + 1)     # the body and its newline
