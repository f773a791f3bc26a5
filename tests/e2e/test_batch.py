"""Batches: many inputs, parallel requests, input order, lists, recursion, --rate, progress."""

import hashlib
import json
import os
import re
import subprocess
import shutil
import sys
import unittest

from harness import E2E, HUB_KEY, PEAKRSS, UNDER_TOOL, image


def max_concurrency(log):
    """Largest number of requests the server was handling at one time."""
    events = sorted([(r["t_start"], 1) for r in log] + [(r["t_end"], -1) for r in log if r["t_end"]],
                    key=lambda e: (e[0], e[1]))
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


class TestParallelOrder(E2E):

    def make_inputs(self, n):
        d = os.path.join(self.tmp.name, "imgs")
        os.makedirs(d, exist_ok=True)
        src = image("tiny.gif")
        paths = []
        for i in range(n):
            p = os.path.join(d, f"img{i:03d}.gif")
            shutil.copyfile(src, p)
            paths.append(p)
        return paths

    def test_order_under_random_latency(self):
        paths = self.make_inputs(40)
        self.server.set_latency(0.0, 0.06)
        r = self.run_hp("-u", self.hub_url(), "-j", "8", "-f", "jsonl", *paths)
        self.assertExit(r, 0)
        self.assertEqual([e["file"] for e in r.jsonl()], paths)
        log = self.server.log()
        self.assertEqual(len(log), 40)
        conc = max_concurrency(log)
        self.assertGreater(conc, 1, "requests were not in flight together")
        self.assertLessEqual(conc, 8, "more than -j requests in flight")
        # completion order differed from input order, so ordering was really exercised
        ends = [rec["file"]["sha256"] and rec["t_end"] for rec in log]
        self.assertNotEqual(ends, sorted(ends))

    def test_order_in_every_format(self):
        paths = self.make_inputs(12)
        self.server.set_latency(0.0, 0.03)
        r = self.run_hp("-u", self.hub_url(), "-j", "6", "-f", "csv", *paths)
        files = [row[0] for row in r.csv()[1:]]
        self.assertEqual(files, [p for p in paths for _ in range(2)])  # two results each
        r = self.run_hp("-u", self.hub_url(), "-j", "6", *paths)
        heads = [ln.split("  ")[0] for ln in r.out.splitlines() if ln.startswith(self.tmp.name)]
        self.assertEqual(heads, paths)
        r = self.run_hp("-u", self.hub_url(), "-j", "6", "-f", "json", *paths)
        self.assertEqual([e["file"] for e in r.json()], paths)

    def test_jobs_one_is_sequential_and_reuses_the_connection(self):
        paths = self.make_inputs(5)
        r = self.run_hp("-u", self.hub_url(), "-j", "1", "-f", "jsonl", *paths)
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual(max_concurrency(log), 1)
        self.assertEqual(len({rec["conn_id"] for rec in log}), 1, "keep-alive not used")

    def test_connections_reused_with_jobs(self):
        paths = self.make_inputs(30)
        self.server.set_latency(0.005, 0.01)
        r = self.run_hp("-u", self.hub_url(), "-j", "4", "-f", "jsonl", *paths)
        self.assertExit(r, 0)
        self.assertLessEqual(len({rec["conn_id"] for rec in self.server.log()}), 4)

    def test_failure_in_the_middle(self):
        paths = self.make_inputs(10)
        paths.insert(4, os.path.join(self.tmp.name, "missing.gif"))
        # the 8th request to reach the server gets a 404
        self.server.push_many([{"comment": f"ok {i}"} for i in range(7)] + [{"status": 404}])
        self.server.set_latency(0.0, 0.02)
        r = self.run_hp("-u", self.hub_url(), "-j", "1", "-f", "jsonl", *paths)
        recs = r.jsonl()
        self.assertEqual([e["file"] for e in recs], paths)
        self.assertEqual(recs[4]["error"]["exit"], 3)
        self.assertEqual(recs[8]["error"]["exit"], 5)
        self.assertEqual(sum("error" in e for e in recs), 2)
        self.assertExit(r, 3)  # the first failing input in input order
        self.assertEqual(len(self.server.log()), 10)  # every other input was tried
        errors = [ln for ln in r.err.splitlines() if not ln.startswith("hubpredict: summary:")]
        self.assertEqual(len(errors), 2, r)
        self.assertIn("hubpredict: summary: 11 inputs: 9 succeeded, 2 failed", r.err)

    def test_fail_fast(self):
        paths = self.make_inputs(6)
        self.server.push({"status": 500})
        r = self.run_hp("-u", self.hub_url(), "-j", "1", "--retries", "0", "--fail-fast", "-f", "jsonl", *paths)
        self.assertExit(r, 8)
        self.assertEqual(len(self.server.log()), 1)
        self.assertEqual(len(r.jsonl()), 1)


class TestLists(E2E):

    def test_files_from_lines_and_nul(self):
        names = ["plain.png", "with space.png", "quote'd.png", "caf\u00e9.png"]
        paths = []
        for n in names:
            p = self.path(n)
            shutil.copyfile(image("cat.png"), p)
            paths.append(p)
        lst = self.write("list.txt", ("\n".join(paths[:2]) + "\r\n\n" + "\n".join(paths[2:]) + "\n").encode())
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", image("tiny.gif"), "--files-from", lst)
        self.assertExit(r, 0)
        self.assertEqual([e["file"] for e in r.jsonl()], [image("tiny.gif")] + paths)
        # NUL-separated, with a newline inside a name, from stdin
        nl = self.path("new\nline.png")
        shutil.copyfile(image("cat.png"), nl)
        data = b"\0".join(p.encode() for p in paths + [nl]) + b"\0"
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--files-from", "-", "-0", stdin=data)
        self.assertExit(r, 0)
        self.assertEqual([e["file"] for e in r.jsonl()], paths + [nl])

    def test_files_from_missing_list(self):
        r = self.run_hp("-u", self.hub_url(), "--files-from", self.path("nope.txt"))
        self.assertExit(r, 3)
        self.assertOneLineError(r, "--files-from: cannot open")
        self.assertEqual(self.server.log(), [])

    def test_empty_list_is_zero_inputs(self):
        lst = self.write("empty.txt", b"\n\n")
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "--files-from", lst)
        self.assertExit(r, 0)
        self.assertEqual(r.json(), [])

    def test_recursive(self):
        root = self.path("tree")
        layout = ["a/b/deep.png", "a/top.jpg", "a/notes.txt", "c/z.gif", "root.png", ".hidden/x.png",
                  "a/.dot.png", "d/empty.txt"]
        for rel in layout:
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            shutil.copyfile(image("tiny.gif"), p)
        r = self.run_hp("-u", self.hub_url(), "-r", "-f", "jsonl", root)
        self.assertExit(r, 0)
        got = [os.path.relpath(e["file"], root) for e in r.jsonl()]
        self.assertEqual(got, ["a/b/deep.png", "a/top.jpg", "c/z.gif", "root.png"])
        # without -r: only the directory's own files
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", root)
        self.assertEqual([os.path.relpath(e["file"], root) for e in r.jsonl()], ["root.png"])
        # a tree with no images at all is an input error
        r = self.run_hp("-u", self.hub_url(), "-r", os.path.join(root, "d"))
        self.assertExit(r, 3)
        self.assertIn("no image or video files in this directory or below", r.err)


class TestRate(E2E):

    def test_no_window_holds_more_starts_than_allowed(self):
        paths = [image("tiny.gif")] * 12
        r = self.run_hp("-u", self.hub_url(), "-j", "8", "--rate", "10/s", "-f", "jsonl", *paths)
        self.assertExit(r, 0)
        starts = sorted(rec["t_start"] for rec in self.server.log())
        self.assertEqual(len(starts), 12)
        # 10 per second: requests arrive at least 0.1 s apart. The stand-in stamps a request
        # when its handler thread reads the request line; on the first request of a new
        # connection that thread is still starting, which can delay the first stamp by a few
        # tens of ms and shorten the first gap. Later requests reuse the connection.
        # One late stamp (its thread not scheduled at once, on a loaded machine) lengthens one gap and
        # shortens the next by as much, so each start is held to its place on the schedule from the
        # first: k starts after it, at least k tenths of a second later, less 40 ms of stamping slack.
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        for k in range(1, len(starts)):
            self.assertGreaterEqual(starts[k] - starts[0], 0.1 * k - 0.04, gaps)
            self.assertGreaterEqual(starts[k] - starts[k - 1], 0.1 - 0.06, gaps)
        for i, t in enumerate(starts):
            in_window = sum(1 for u in starts[i:] if u < t + 1.0 - 0.04)
            self.assertLessEqual(in_window, 10)
        self.assertGreaterEqual(starts[-1] - starts[0], 1.1 - 0.05)

    def test_rate_per_minute_spacing(self):
        r = self.run_hp("-u", self.hub_url(), "--rate", "120/m", "-f", "jsonl",
                        image("tiny.gif"), image("tiny.gif"), image("tiny.gif"))
        self.assertExit(r, 0)
        starts = sorted(rec["t_start"] for rec in self.server.log())
        self.assertGreaterEqual(starts[2] - starts[0], 1.0 - 0.02)


class TestStatesAndTimings(E2E):
    """-vvv says each move of an input between the engine's states, and each attempt's phases as
    libcurl measured them before its handle was freed."""

    def test_a_retried_input_moves_through_its_states(self):
        self.server.reset()
        self.server.push_many([{"status": 500}])
        r = self.run_hp("-u", self.hub_url(), "-vvv", "--retries", "1", "--cold-start-wait", "0", "-f", "jsonl",
                        image("tiny.gif"))
        self.assertExit(r, 0)
        moves = re.findall(r": (\w[\w ()-]*) -> (\w[\w ()-]*)$", r.err, re.M)
        self.assertEqual(moves, [("queued", "opening"), ("opening", "waiting"), ("waiting", "sending"),
                                 ("sending", "backoff"), ("backoff", "sending"), ("sending", "done"),
                                 ("done", "written")], r.err)

    def test_phases_of_each_attempt(self):
        self.server.reset()
        r = self.run_hp("-u", self.hub_url(), "-vvv", "-f", "raw", image("tiny.gif"))
        self.assertExit(r, 0)
        m = re.search(r"attempt 1: connect ([\d.]+) s, tls ([\d.]+) s, pretransfer ([\d.]+) s, "
                      r"first byte ([\d.]+) s, total ([\d.]+) s; (\d+) bytes sent, (\d+) received", r.err)
        self.assertIsNotNone(m, r.err)
        connect, tls, pre, first, total = (float(x) for x in m.groups()[:5])
        sent, received = int(m.group(6)), int(m.group(7))
        self.assertGreater(total, 0)
        self.assertEqual(tls, 0)  # plain HTTP
        self.assertLessEqual(connect, pre)
        self.assertLessEqual(pre, first)
        self.assertLessEqual(first, total)
        self.assertGreater(sent, os.path.getsize(image("tiny.gif")))  # the file inside its form
        self.assertEqual(received, len(r.out_bytes))  # -f raw: the body as received


SOURCETOOL = os.environ.get("HUBPREDICT_SOURCETOOL",
                            os.path.join(os.path.dirname(os.path.abspath(PEAKRSS)), "sourcetool"))


class TestProducedBytes(E2E):
    """Inputs that are not paths (source.h: a video's frames, a stream) go through the same engine:
    sent, answered, enveloped, cached by their bytes and skipped by --resume under their name,
    size and time. tests/tools/sourcetool.c is the driver: each file's bytes in a memfd, named
    stream#N.EXT, frame N at N seconds."""

    def tool(self, *args):
        self.server.reset()
        r = subprocess.run([SOURCETOOL, self.hub_url(), HUB_KEY, *args], capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def test_frames_are_sent_and_enveloped(self):
        files = [image("tiny.gif"), image("street.jpg")]
        rc, out, err = self.tool(*files)
        self.assertEqual(rc, 0, err)
        envs = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([e["file"] for e in envs], ["stream#000000.gif", "stream#000001.jpg"])
        self.assertEqual([e["size"] for e in envs], [os.path.getsize(f) for f in files])
        self.assertEqual(envs[1]["mtime"], "1970-01-01T00:00:01.000000000Z")  # the frame's time
        log = self.server.log()
        digests = []
        for f in files:
            with open(f, "rb") as fh:
                digests.append(hashlib.sha256(fh.read()).hexdigest())
        self.assertEqual(sorted(rec["file"]["sha256"] for rec in log), sorted(digests))
        self.assertIn("requests 2, cached 0, skipped 0", err)

    def test_cache_and_resume_work_for_frames(self):
        files = [image("tiny.gif"), image("street.jpg")]
        cache, log = self.path("cache"), self.path("run.jsonl")
        rc, _, err = self.tool("--cache", cache, *files)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.tool("--cache", cache, *files)
        self.assertEqual(rc, 0, err)
        self.assertIn("requests 0, cached 2, skipped 0", err)  # keyed by the bytes
        self.assertEqual(len(self.server.log()), 0)
        rc, _, err = self.tool("--resume", log, *files)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.tool("--resume", log, *files)
        self.assertEqual(rc, 0, err)
        self.assertIn("requests 0, cached 0, skipped 2", err)  # keyed by name, size and time
        self.assertEqual(out, "")


@unittest.skipIf(UNDER_TOOL, "memory is measured in the plain build: valgrind and ASan inflate RSS")
class TestMemory(E2E):

    def test_ten_thousand_paths(self):
        d = self.path("many")
        os.makedirs(d)
        src = image("tiny.gif")
        paths = []
        for i in range(10000):
            p = os.path.join(d, f"{i:05d}.gif")
            os.link(src, p)
            paths.append(p)
        lst = self.write("list.txt", ("\n".join(paths) + "\n").encode())
        rc, rss = self.peak_rss("-u", self.hub_url(), "-j", "8", "-q", "-f", "csv", "--files-from", lst)
        self.assertEqual(rc, 0)
        self.assertEqual(len(self.server.log()), 10000)
        self.assertLess(rss, 64 * 1024, f"peak RSS {rss} KiB for 10,000 paths")

    def test_list_is_streamed_not_collected(self):
        # 300,000 missing paths: all fail fast without a request; memory must stay flat
        lst = self.path("missing.txt")
        with open(lst, "w") as f:
            for i in range(300000):
                f.write(f"{self.tmp.name}/nope/{i:07d}.jpg\n")
        rc, rss = self.peak_rss("-u", self.hub_url(), "-q", "-f", "jsonl", "--files-from", lst)
        self.assertEqual(rc, 3)
        self.assertLess(rss, 16 * 1024, f"peak RSS {rss} KiB for 300,000 listed paths")


class TestProgress(E2E):

    def test_forced_progress_goes_to_stderr_only(self):
        paths = [image("tiny.gif")] * 3
        r = self.run_hp("-u", self.hub_url(), "--progress", "-f", "csv", *paths)
        self.assertExit(r, 0)
        self.assertRegex(r.err, r"hubpredict: \[3/3\] 100%")
        self.assertNotIn("[", r.out)
        self.assertEqual(len(r.csv()), 7)

    def tables(self, r, n):
        """r succeeded with n tables of tiny.gif on stdout, in order."""
        self.assertExit(r, 0)
        heads = [ln for ln in r.out.splitlines() if " results " in ln]
        self.assertEqual(len(heads), n, r)
        for h in heads:
            self.assertRegex(h, r"^\S+/tiny\.gif  detect  2 results  32x32  ")
        self.assertEqual(r.out.count("  person  0.920"), n, r)
        self.assertEqual(len(self.server.log()), n)

    def test_quiet_and_no_progress(self):
        paths = [image("tiny.gif")] * 3
        r = self.run_hp("-u", self.hub_url(), "-q", *paths)
        self.assertEqual(r.err, "")
        self.tables(r, 3)
        self.server.reset()
        r = self.run_hp("-u", self.hub_url(), "--no-progress", *paths)
        self.assertNotIn("%", r.err)
        self.assertIn("hubpredict: summary: 3 inputs: 3 succeeded, 0 failed", r.err)
        self.tables(r, 3)

    def test_single_input_has_no_summary(self):
        r = self.run_hp("-u", self.hub_url(), image("tiny.gif"))
        self.assertEqual(r.err, "")
        self.tables(r, 1)

    def test_terminal_redraws_in_place(self):
        """stderr on a pseudo-terminal: the line is redrawn with CR and erased at the end."""
        paths = [image("tiny.gif")] * 20
        self.server.set_latency(0.05)
        # (the plain binary, also in the valgrind selection, as before)
        r = self.run_on_terminal("stderr", "-u", self.hub_url(), "-j", "2", "-f", "csv", *paths, wrapper=False)
        tty_out, out = r.err_bytes, r.out_bytes
        self.assertExit(r, 0)
        self.assertIn(b"\r\x1b[Khubpredict: [", tty_out)
        self.assertIn(b"20/20] 100%", tty_out)
        self.assertNotIn(HUB_KEY.encode(), tty_out)
        self.assertNotIn(b"\x1b", out)
        self.assertEqual(out.count(b"\n"), 41)


if __name__ == "__main__":
    unittest.main()
