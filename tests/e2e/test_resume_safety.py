"""SPEC 10, --resume LOG (issue 19, items 2, 4, 5 and 6): the log is a destination like any other.

- A LOG that is an input, an image or a video, a file that is no hubpredict log, a FIFO, a
  directory, a link to nothing or a file of another user is refused (exit 2): nothing sent, and
  LOG's bytes and mtime unchanged. A symlink is followed; its target passes the same checks.
- LOG is locked for the whole run: a second run on it is exit 2 at once, naming the holder's PID;
  a line counts only when it parses whole.
- Lines are keyed by the request (URL, flavour, fields): another model, -c or --imgsz is sent
  again; an old line without the key is too.
- A LOG that cannot be appended (a full disk: here RLIMIT_FSIZE, so write() fails with EFBIG)
  stops the run, exit 11, before another request.
"""

import fcntl
import json
import os
import resource
import signal
import subprocess
import time

from harness import BIN, E2E, WRAPPER, Result, image

with open(image("cat.png"), "rb") as _f:
    CAT = _f.read()


class ResumeCase(E2E):

    def inputs(self, n, prefix="img"):
        return [self.write(f"in/{prefix}{i:03d}.png", CAT + b"\0tail %s %d" % (prefix.encode(), i))
                for i in range(n)]

    def hp(self, *args, url=None, **kw):
        return self.run_hp("-u", url or self.hub_url(), *args, **kw)

    def sent(self):
        return [rec["file"]["filename"] for rec in self.server.log() if rec.get("file")]

    def lines(self, log):
        with open(log, "rb") as f:
            return f.read().splitlines()

    def successes(self, log):
        out = []
        for line in self.lines(log):
            env = json.loads(line)
            if "response" in env:
                out.append(env["file"])
        return out

    def snapshot(self, path):
        st = os.lstat(path)
        with open(path, "rb") as f:
            return f.read(), st.st_mtime_ns

    def assertRefused(self, r, log, before, *fragments):
        """exit 2, one error line, nothing sent, LOG as it was."""
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--resume", *fragments)
        self.assertEqual(self.sent(), [], "nothing sent")
        if before is not None:
            self.assertEqual(self.snapshot(log), before, "LOG untouched")


class TestWhatLogMayBe(ResumeCase):

    def test_an_image_forgotten_by_the_shell_is_refused(self):
        # `--resume *.jpg`: the shell hands the first image to --resume
        with open(image("street.jpg"), "rb") as f:
            first = self.write("pics/a.jpg", f.read())
        second = self.write("pics/b.png", CAT)
        before = self.snapshot(first)
        r = self.hp("--resume", first, second)
        self.assertRefused(r, first, before, "a.jpg")

    def test_a_video_is_refused(self):
        with open(image("clip.mp4"), "rb") as f:
            clip = self.write("clip.mp4", f.read())
        a, = self.inputs(1)
        before = self.snapshot(clip)
        self.assertRefused(self.hp("--resume", clip, a), clip, before, "clip.mp4")

    def test_an_input_is_refused(self):
        # an earlier log that is named as an input too (`--resume a a`): refused whatever it holds
        a, = self.inputs(1)
        log = self.path("run.jsonl")
        self.assertExit(self.hp("--resume", log, a), 0)
        self.server.reset()
        before = self.snapshot(log)
        r = self.hp("--resume", log, a, log)
        self.assertRefused(r, log, before, "input")

    def test_a_file_that_is_no_log_is_refused_and_not_cut(self):
        # its last line has no newline: the old code cut it off and appended JSON
        a, = self.inputs(1)
        for name, data in (("notes.txt", b"shopping list\nmilk\nbread"), ("one.txt", b"no newline at all"),
                           ("data.json", b'{"a": 1}\n{"b": 2}\n'), ("bin.dat", bytes(range(256)) * 10)):
            log = self.write(name, data)
            before = self.snapshot(log)
            r = self.hp("--resume", log, a)
            self.assertRefused(r, log, before, name, "not a hubpredict log")

    def test_an_empty_file_is_a_new_log(self):
        a, = self.inputs(1)
        log = self.write("empty.jsonl", b"")
        self.assertExit(self.hp("--resume", log, a), 0)
        self.assertEqual(self.successes(log), [a])

    def test_a_torn_first_line_of_a_log_is_cut(self):
        # a run killed while writing its very first line
        a, = self.inputs(1)
        log = self.path("run.jsonl")
        self.assertExit(self.hp("--resume", log, a), 0)
        with open(log, "rb") as f:
            data = f.read()
        with open(log, "wb") as f:
            f.write(data[:60])
        self.server.reset()
        r = self.hp("--resume", log, a)
        self.assertExit(r, 0)
        self.assertIn("torn line", r.err)
        self.assertEqual(self.sent(), ["img000.png"])
        self.assertEqual(self.successes(log), [a])

    def test_a_planted_symlink_cannot_truncate_another_file(self):
        a, = self.inputs(1)
        victim = self.write("victim/thesis.txt", b"chapter one\nchapter two, unfinished")
        log = self.path("run.jsonl")
        os.symlink(victim, log)
        before = self.snapshot(victim)
        r = self.hp("--resume", log, a)
        self.assertRefused(r, victim, before, "not a hubpredict log")
        self.assertTrue(os.path.islink(log))

    def test_a_symlink_to_a_log_is_followed(self):
        a, b = self.inputs(2)
        real = self.path("logs/real.jsonl")
        os.makedirs(os.path.dirname(real))
        self.assertExit(self.hp("--resume", real, a), 0)
        link = self.path("run.jsonl")
        os.symlink(real, link)
        self.server.reset()
        self.assertExit(self.hp("--resume", link, a, b), 0)
        self.assertEqual(self.sent(), ["img001.png"])
        self.assertTrue(os.path.islink(link), "the link stays")
        self.assertEqual(self.successes(real), [a, b])

    def test_a_symlink_to_nothing_creates_nothing(self):
        a, = self.inputs(1)
        target = self.path("elsewhere/made.jsonl")
        os.makedirs(os.path.dirname(target))
        log = self.path("run.jsonl")
        os.symlink(target, log)
        r = self.hp("--resume", log, a)
        self.assertRefused(r, log, None, "symlink")
        self.assertFalse(os.path.exists(target))

    def test_fifo_and_directory_are_refused_without_a_hang(self):
        a, = self.inputs(1)
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        t0 = time.monotonic()
        r = self.hp("--resume", fifo, a, timeout=20)
        self.assertRefused(r, fifo, None, "FIFO")
        self.assertLess(time.monotonic() - t0, 10)
        self.assertRefused(self.hp("--resume", self.tmp.name, a), None, None, "directory")
        self.assertRefused(self.hp("--resume", "/dev/null", a), None, None, "character device")

    def test_a_log_of_another_user_is_refused(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to give a file to another user (CI runs as root)")
        a, = self.inputs(1)
        log = self.path("run.jsonl")
        self.assertExit(self.hp("--resume", log, a), 0)
        os.chown(log, 4321, 4321)
        self.server.reset()
        before = self.snapshot(log)
        r = self.hp("--resume", log, self.write("in/new.png", CAT + b"new"))
        self.assertRefused(r, log, before, "another user", "4321")


class TestOneRunAtATime(ResumeCase):

    def test_a_second_run_is_refused_naming_the_holder(self):
        a, = self.inputs(1)
        log = self.path("run.jsonl")
        self.assertExit(self.hp("--resume", log, a), 0)
        self.server.reset()
        before = self.snapshot(log)
        with open(log, "r+b") as holder:
            fcntl.lockf(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)   # fcntl(F_SETLK), as a run holds it
            t0 = time.monotonic()
            r = self.hp("--resume", log, self.write("in/new.png", CAT + b"new"))
            self.assertLess(time.monotonic() - t0, 10, "at once, not waiting")
            self.assertRefused(r, log, before, "in use", f"pid {os.getpid()}")

    def test_two_real_runs(self):
        files = self.inputs(6)
        log = self.path("run.jsonl")
        self.server.set_latency(0.3)
        env = self.hp_env()
        first = subprocess.Popen(WRAPPER + [BIN, "-u", self.hub_url(), "-q", "-j", "1", "--resume", log, *files],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 30
        while not self.server.log() and time.monotonic() < deadline:
            time.sleep(0.02)
        r = self.hp("-j", "4", "--resume", log, *files)
        self.assertExit(r, 2)
        self.assertOneLineError(r, "in use", f"pid {first.pid}")
        _, err = first.communicate(timeout=60)
        self.assertEqual(first.returncode, 0, err)
        self.assertEqual(sorted(self.sent()), sorted(os.path.basename(f) for f in files), "each sent once")
        self.assertEqual(self.successes(log), files)

    def test_a_line_counts_only_when_it_parses_whole(self):
        # two runs that wrote at once left lines whose head is whole and whose tail is another's
        a, b = self.inputs(2)
        log = self.path("run.jsonl")
        self.assertExit(self.hp("--resume", log, a, b), 0)
        la, lb = self.lines(log)
        mixed = la[:len(la) // 2] + lb                       # b's line written into a's
        self.assertTrue(mixed.startswith(b'{"file":'))
        with open(log, "wb") as f:
            f.write(mixed + b"\n" + lb + b"\n")
        self.server.reset()
        self.assertExit(self.hp("--resume", log, a, b), 0)
        self.assertEqual(self.sent(), ["img000.png"], "the corrupt line does not count")
        self.assertEqual(json.loads(self.lines(log)[-1])["file"], a)


class TestKeyedByRequest(ResumeCase):

    def test_another_question_is_asked_again(self):
        a, = self.inputs(1)
        log = self.path("run.jsonl")
        self.assertExit(self.hp("--resume", log, a), 0)
        for args in (["-c", "0.5"], ["--imgsz", "320"], ["--field", "half=true"], []):
            self.assertExit(self.hp("--resume", log, *args, a, url=self.hub_url("segment")), 0)
        self.assertExit(self.hp("--resume", log, "-c", "0.5", a), 0)
        # the first run, then each other question once; the same questions again send nothing
        self.assertEqual(len(self.sent()), 6)
        for args in (["-c", "0.5"], ["--imgsz", "320"], []):
            self.assertExit(self.hp("--resume", log, *args, a, url=self.hub_url("segment")), 0)
        self.assertExit(self.hp("--resume", log, a), 0)
        self.assertEqual(len(self.sent()), 6)
        keys = [json.loads(line)["request"] for line in self.lines(log)]
        self.assertEqual(len(set(keys)), 6)
        for k in keys:
            self.assertRegex(k, r"^[0-9a-f]{32}$")

    def test_a_line_without_the_key_is_sent_again(self):
        # a log of an older hubpredict matches no request
        a, = self.inputs(1)
        log = self.path("run.jsonl")
        self.assertExit(self.hp("--resume", log, a), 0)
        env = json.loads(self.lines(log)[0])
        del env["request"]
        with open(log, "wb") as f:
            f.write(json.dumps(env, separators=(",", ":")).encode() + b"\n")
        self.server.reset()
        self.assertExit(self.hp("--resume", log, a), 0)
        self.assertEqual(self.sent(), ["img000.png"])

    def test_jsonl_carries_the_key_and_json_does_not(self):
        a, = self.inputs(1)
        log = self.path("run.jsonl")
        r = self.hp("-f", "jsonl", "--resume", log, a)
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.out)["request"], json.loads(self.lines(log)[0])["request"])
        r = self.hp("-f", "json", a)
        self.assertNotIn("request", json.loads(r.out)[0])
        # a -f jsonl output is a log: a run with it as LOG sends nothing
        out = self.write("out.jsonl", self.hp("-f", "jsonl", a).out_bytes)
        self.server.reset()
        self.assertExit(self.hp("--resume", out, a), 0)
        self.assertEqual(self.sent(), [])


class TestFullDisk(ResumeCase):

    def run_limited(self, limit, *args):
        """hubpredict with files limited to `limit` bytes (RLIMIT_FSIZE; SIGXFSZ ignored, so a
        write past it fails with EFBIG, as on a full disk)."""
        def preexec():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        p = subprocess.run(WRAPPER + [BIN, "-u", self.hub_url(), "-q", *args], capture_output=True,
                           env=self.hp_env(), preexec_fn=preexec, timeout=120)
        r = Result(p.returncode, p.stdout, p.stderr)
        self.check_run(r)
        return r

    def test_a_log_that_cannot_grow_stops_the_run(self):
        files = self.inputs(20)
        log = self.path("run.jsonl")
        self.assertExit(self.hp("--resume", log, files[0]), 0)
        one_line = os.path.getsize(log)
        self.server.reset()
        # room for two more lines and a bit
        r = self.run_limited(one_line * 3 + one_line // 2, "-j", "1", "--resume", log, *files)
        self.assertExit(r, 11)
        self.assertIn("cannot append", r.err)
        with open(log, "rb") as f:
            whole = f.read().split(b"\n")[:-1]
        self.assertEqual(len(whole), 3)
        # the two lines kept, and the one answer that could not be: no request after it
        self.assertEqual(len(self.sent()), 3, self.sent())
        # the rerun (room again) cuts the torn line and sends the rest, each once
        self.server.reset()
        r = self.hp("--resume", log, *files)
        self.assertExit(r, 0)
        self.assertEqual(len(self.sent()), 17)
        self.assertEqual(sorted(self.successes(log)), files)


if __name__ == "__main__":
    import unittest
    unittest.main()
