"""Live sources (src/video/live.c, src/run/stream.c, SPEC §13 "Live sources") against real servers.

tests/tools/vidframes --live ($HUBPREDICT_VIDFRAMES) runs the library's live source and prints
a line per frame taken with the running counts. The servers are real: GStreamer's RTSP server
(tests/tools/rtsp_server.py, run with Debian's python3 for its PyGObject) sending H.264 frames
made in real time, and the stand-in's MJPEG camera (GET /_stream/mjpeg) sending JPEGs made
here by ffmpeg. Every frame carries its number in its top rows (as in test_video_frames.py),
read back from the JPEG the source handed out, so which frame came out is known independently
of the library's own count. The last classes run the binary itself on such streams.
"""

from __future__ import annotations

import glob
import json
import os
import pathlib
import queue
import select
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import re
import signal

from harness import E2E, ROOT, TIMEOUT, UNDER_TOOL, StandIn, wait_for_handler
from test_video_frames import BITS, H, W, ffmpeg, number_in

VIDFRAMES = os.environ.get("HUBPREDICT_VIDFRAMES", "")
GI_PYTHON = os.environ.get("HUBPREDICT_GI_PYTHON", "/usr/bin/python3")
RTSP_SERVER = os.path.join(ROOT, "tests", "tools", "rtsp_server.py")
SLACK = 4 if UNDER_TOOL else 1


def have_rtsp_server() -> bool:
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    try:
        return subprocess.run([GI_PYTHON, "-c", probe], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


class Run:
    def __init__(self, rc: int, out: str, err: str, seconds: float, outdir: str):
        self.rc, self.err, self.seconds = rc, err, seconds
        self.lines = [json.loads(line) for line in out.splitlines()]
        self.frames = [d for d in self.lines if "frame" in d]
        self.last = self.lines[-1] if self.lines else {}
        self.outdir = outdir

    def numbers(self) -> list[int]:
        """The numbers the taken frames carry in their pixels."""
        return [number_in(os.path.join(self.outdir, f"{d['frame']}.jpg")) for d in self.frames]

    def __repr__(self):
        return f"rc={self.rc} in {self.seconds:.2f} s\n{self.lines}\nstderr: {self.err}"


class LiveCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not VIDFRAMES:
            raise unittest.SkipTest("a build without video support (HUBPREDICT_VIDEO=OFF)")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def live(self, url: str, *args: str, timeout: float = 60) -> Run:
        out = tempfile.mkdtemp(dir=self.tmp.name)
        t = time.monotonic()
        p = subprocess.run([VIDFRAMES, "--live", *args, "--out", out, url], capture_output=True, text=True,
                           timeout=timeout * SLACK)
        return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - t, out)

    def assertFailed(self, r: Run, status: int, *fragments: str):
        self.assertEqual(r.rc, status, r)
        self.assertEqual(r.last.get("status"), status, r)
        for f in fragments:
            self.assertIn(f, r.last.get("error", ""), r)


class TestRtsp(LiveCase):
    """GStreamer's RTSP server: 160x96 H.264 at 25 frames a second, a key frame each."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not have_rtsp_server():
            raise unittest.SkipTest(f"{GI_PYTHON} has no GStreamer RTSP server (python3-gi, "
                                    "gir1.2-gst-rtsp-server-1.0); tests/run.sh installs it")

    def server(self, *args: str) -> str:
        p = subprocess.Popen([GI_PYTHON, RTSP_SERVER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)

        def stop():
            p.stdin.close()
            p.terminate()
            p.wait(10)
            p.stdout.close()
            p.stderr.close()
        self.addCleanup(stop)
        ready, _, _ = select.select([p.stdout], [], [], 30)
        self.assertTrue(ready, "the RTSP server did not start")
        url = p.stdout.readline().strip()
        self.assertTrue(url.startswith("rtsp://"), f"{url!r} {p.stderr.read() if p.poll() is not None else ''}")
        return url

    def test_frames_arrive_at_the_rate_asked(self):
        r = self.live(self.server(), "--fps", "5", "--frames", "6")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.lines[0]["info"]["codec"], "h264")
        self.assertEqual((r.lines[0]["info"]["w"], r.lines[0]["info"]["h"]), (W, H))
        self.assertEqual(len(r.frames), 6, r)
        self.assertEqual(r.last, {**r.last, "end": True, "taken": 6})
        numbers = r.numbers()
        self.assertEqual(numbers, sorted(set(numbers)), r)
        times = [d["time"] for d in r.frames]
        # five 1/5 s ticks after the first frame: not faster than asked, whatever the load
        self.assertGreaterEqual(times[-1] - times[1], 4 * 0.2 - 0.05, r)
        # the source gave more than was taken (25 a second), none of it queued
        self.assertGreater(r.last["received"], 6, r)

    def test_newest_frame_when_behind_and_the_skipped_counted(self):
        # the consumer takes 0.6 s over each frame: three 1/5 s ticks pass each time
        r = self.live(self.server(), "--fps", "5", "--frames", "4", "--sleep", "0.6")
        self.assertEqual(r.rc, 0, r)
        numbers = r.numbers()
        for a, b in zip(numbers[1:], numbers[2:]):
            # a queue would hand out the frame of the next tick, 1/5 s (5 frames) on; the
            # newest is 0.6 s (15 frames) on
            self.assertGreaterEqual(b - a, 10, r)
        for d in r.frames[1:]:
            self.assertGreaterEqual(d["frame"], d["received"] - 1 - 5, r)   # the newest, or nearly
        self.assertGreaterEqual(r.last["skipped"], 3, r)                    # 2 or 3 a gap
        self.assertLessEqual(r.last["skipped"], 3 * 3, r)

    def test_a_stream_dropped_midway_is_reconnected(self):
        url = self.server("--drop-after", "40")
        r = self.live(url, "--fps", "5", "--frames", "14", "--reconnects", "3", "--backoff", "0.1")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.last["reconnects"], 1, r)
        self.assertEqual(len(r.frames), 14, r)
        numbers = r.numbers()
        self.assertEqual(numbers, sorted(set(numbers)), r)
        self.assertGreater(numbers[-1], 40, r)                               # after the drop
        self.assertEqual([d["frame"] for d in r.frames], sorted({d["frame"] for d in r.frames}))

    def test_reconnection_gives_up_at_the_limit(self):
        url = self.server("--drop-after", "20", "--exit-after-drop")
        r = self.live(url, "--fps", "5", "--frames", "100", "--reconnects", "2", "--backoff", "0.1")
        self.assertFailed(r, 9, "the stream was lost after", "2 reconnection attempts failed",
                          "Connection refused")
        self.assertGreaterEqual(len(r.frames), 1, r)                         # those before the loss
        self.assertEqual(r.last["reconnects"], 0, r)

    def test_no_reconnection_unless_asked(self):
        url = self.server("--drop-after", "20")
        r = self.live(url, "--fps", "5", "--frames", "100")
        self.assertFailed(r, 9, "the stream was lost after")
        self.assertNotIn("reconnection", r.last["error"], r)

    def test_duration_ends_it(self):
        r = self.live(self.server(), "--fps", "5", "--duration", "1.5")
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(1 <= len(r.frames) <= 8, r)                          # ticks 0, 0.2 ... 1.4 s
        self.assertTrue(r.last.get("end"), r)


class TestMjpeg(LiveCase):
    """The stand-in's MJPEG camera over HTTP (multipart/x-mixed-replace)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = StandIn().start()
        cls.jpegs = make_jpegs()

    @classmethod
    def tearDownClass(cls):
        cls.standin.stop()

    def setUp(self):
        super().setUp()
        self.standin.reset()
        self.standin.set_stream_frames(self.jpegs)

    def url(self, query: str = "") -> str:
        return f"{self.standin.url}/_stream/mjpeg?{query}"

    def test_frames_arrive(self):
        r = self.live(self.url("fps=20"), "--fps", "5", "--frames", "4")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.lines[0]["info"]["codec"], "mjpeg")
        self.assertEqual(len(r.frames), 4, r)
        numbers = r.numbers()
        self.assertEqual(numbers, sorted(set(numbers)), r)
        # what the camera sent, up to the last frame taken (counted from 0 by the stand-in)
        self.assertLess(numbers[-1], self.standin.log()[0]["stream_frames"], r)

    def test_a_camera_that_never_answers_times_out(self):
        r = self.live(self.url("hang=1"), "--timeout", "1", timeout=20)
        self.assertFailed(r, 9, "cannot open it: no answer in 1 s")
        self.assertLess(r.seconds, 10 * SLACK, r)

    def test_a_camera_that_stops_sending_is_lost_after_the_timeout(self):
        # 8 frames, then the connection stays open and silent: no data for the timeout
        self.silent_port = queue.Queue()
        threading.Thread(target=self._silent_camera, daemon=True).start()
        r = self.live(f"http://127.0.0.1:{self.silent_port.get(timeout=10)}/cam", "--fps", "5", "--frames", "50",
                      "--timeout", "1", timeout=30)
        self.assertFailed(r, 9, "no data for 1 s")
        self.assertGreaterEqual(len(r.frames), 1, r)

    def _silent_camera(self):
        srv = socket.create_server(("127.0.0.1", 0))
        self.silent_port.put(srv.getsockname()[1])
        conn, _ = srv.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n")
        for data in self.jpegs[:8]:
            conn.sendall(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                         + data + b"\r\n")
        time.sleep(8 * SLACK)
        conn.close()
        srv.close()

    def test_dropped_after_n_frames_it_reconnects(self):
        r = self.live(self.url("fps=20&drop=10"), "--fps", "5", "--frames", "8", "--reconnects", "2",
                      "--backoff", "0.05")
        self.assertEqual(r.rc, 0, r)
        self.assertGreaterEqual(r.last["reconnects"], 1, r)
        self.assertGreaterEqual(len(self.standin.log()), 2, r)
        numbers = r.numbers()
        self.assertEqual(numbers, sorted(set(numbers)), r)                   # the count goes on

    def test_a_camera_gone_for_good_ends_at_the_limit(self):
        r = self.live(self.url("fps=20&drop=10&serve=1"), "--fps", "5", "--frames", "50", "--reconnects", "3",
                      "--backoff", "0.05")
        self.assertFailed(r, 9, "3 reconnection attempts failed")
        self.assertEqual(len(self.standin.log()), 4, r)                      # the first and 3 more

    def test_not_found_and_not_a_video(self):
        r = self.live(f"{self.standin.url}/_stream/none")
        self.assertFailed(r, 5, "cannot open it")
        r = self.live(f"{self.standin.url}/health")
        self.assertFailed(r, 3, "not a video stream")


class TestRefusals(LiveCase):
    def test_refused_port(self):
        with socket.create_server(("127.0.0.1", 0)) as s:
            port = s.getsockname()[1]
        for url in (f"rtsp://127.0.0.1:{port}/live", f"http://127.0.0.1:{port}/cam"):
            r = self.live(url, "--timeout", "5")
            self.assertFailed(r, 9, "cannot open it: Connection refused")

    def test_not_a_live_source(self):
        for url in ("/etc/hostname", "file:///etc/hostname", "concat:/etc/hostname", "/dev/video0x"):
            r = self.live(url)
            self.assertFailed(r, 3, "not a live source")

    def test_missing_device(self):
        r = self.live("/dev/video977")
        self.assertFailed(r, 3, "cannot open it")


MEMBERS = ["stream", "frame", "time", "at", "task", "http_status", "attempts", "elapsed_ms", "response"]
AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def make_jpegs() -> list[bytes]:
    with tempfile.TemporaryDirectory() as d:
        ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s={W}x{H}:r=30:d=2", "-vf", BITS, "-q:v", "3",
               os.path.join(d, "%03d.jpg"))
        return [pathlib.Path(p).read_bytes() for p in sorted(glob.glob(os.path.join(d, "*.jpg")))]


class TestPredictOnAStream(E2E):
    """hubpredict itself on the stand-in's MJPEG camera: the frames go to the same stand-in."""

    @classmethod
    def setUpClass(cls):
        if not VIDFRAMES:
            raise unittest.SkipTest("a build without video support (HUBPREDICT_VIDEO=OFF)")
        super().setUpClass()
        cls.jpegs = make_jpegs()

    def setUp(self):
        super().setUp()
        self.server.set_stream_frames(self.jpegs)

    def cam(self, query: str = "fps=20") -> str:
        return f"{self.server.url}/_stream/mjpeg?{query}"

    def posts(self) -> list[dict]:
        return [r for r in self.server.log() if r["method"] == "POST"]

    def test_jsonl_a_line_per_frame_with_the_members_spec_names(self):
        cam = self.cam()
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--stream", "--fps", "5", "--frames", "3", cam)
        self.assertExit(r, 0)
        lines = r.jsonl()
        self.assertEqual(len(lines), 3, r)
        for d in lines:
            self.assertEqual(list(d), MEMBERS, d)
            self.assertEqual(d["stream"], cam)
            self.assertRegex(d["at"], AT)
            self.assertEqual((d["task"], d["http_status"], d["attempts"]), ("detect", 200, 1))
            self.assertEqual(d["response"]["images"][0]["shape"], [H, W])
        self.assertEqual(len({d["frame"] for d in lines}), 3, r)
        self.assertEqual(len(self.posts()), 3)
        self.assertIn("stream: 3 frames sent of", r.err)
        self.assertIn("summary: 3 inputs: 3 succeeded", r.err)

    def test_csv_and_table_per_frame(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "csv", "--stream", "--fps", "5", "--frames", "2", self.cam())
        self.assertExit(r, 0)
        head, *body = r.csv()
        rows = [dict(zip(head, row)) for row in body]
        self.assertEqual({row["file"] for row in rows}, {f"mjpeg_{row['frame']}.jpg" for row in rows}, r)
        self.assertEqual(len({row["frame"] for row in rows}), 2, r)
        r = self.run_hp("-u", self.hub_url(), "--stream", "--fps", "5", "--frames", "2", self.cam())
        self.assertExit(r, 0)
        self.assertEqual(len(re.findall(r"^mjpeg_\d+\.jpg  detect", r.out, re.M)), 2, r)

    def test_sigint_ends_it_normally(self):
        p = self.popen_hp("-u", self.hub_url(), "-f", "jsonl", "--stream", "--fps", "5", self.cam(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for_handler(p.pid, signal.SIGINT, TIMEOUT)
        first = p.stdout.readline()                                         # a frame answered
        self.assertTrue(first, "no frame came out")
        p.send_signal(signal.SIGINT)
        r = self.wait_hp(p)
        self.assertExit(r, 0)
        lines = [json.loads(first)] + r.jsonl()
        self.assertEqual(list(lines[0]), MEMBERS)
        self.assertIn("summary:", r.err)
        self.assertIn("stream:", r.err)

    def test_duration_ends_it(self):
        t = time.monotonic()
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--stream", "--fps", "5", "--duration", "1.2",
                        self.cam())
        self.assertExit(r, 0)
        self.assertTrue(1 <= len(r.jsonl()) <= 7, r)
        self.assertLess(time.monotonic() - t, 20 * SLACK)

    def test_expect_each_frame_and_fail_fast(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--stream", "--fps", "5", "--frames", "20",
                        "--expect", "person>=2", "--fail-fast", self.cam())
        self.assertExit(r, 1)
        self.assertIn("expected person>=2, found 1", r.err)
        self.assertLess(len(self.posts()), 20, r)                           # stopped at the first
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--stream", "--fps", "5", "--frames", "2",
                        "--expect", "person>=1", self.cam())
        self.assertExit(r, 0)

    def test_annotate_writes_a_picture_per_frame(self):
        out = self.path("drawn")
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--stream", "--fps", "5", "--frames", "2",
                        "--annotate", out, self.cam())
        self.assertExit(r, 0)
        self.assertEqual(sorted(os.listdir(out)), sorted(f"mjpeg_{d['frame']}.jpg" for d in r.jsonl()), r)

    def test_a_camera_that_never_answers(self):
        r = self.run_hp("-u", self.hub_url(), "--stream", "--connect-timeout", "1", self.cam("hang=1"))
        self.assertExit(r, 9)
        self.assertOneLineError(r, "/_stream/mjpeg?hang=1'", "no answer in 1 s")
        self.assertEqual(self.posts(), [])

    def test_a_stream_lost_for_good_after_its_frames(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--stream", "--fps", "5", "--retries", "1",
                        self.cam("fps=20&drop=10&serve=1"))
        self.assertExit(r, 9)
        self.assertGreaterEqual(len(r.jsonl()), 1, r)                       # those before, written
        self.assertIn("the stream was lost after 10 frames and 1 reconnection attempt failed", r.err)

    def test_resume_keeps_every_frame_and_skips_none(self):
        # --resume LOG on a live stream: each run's frames are new, sent and appended to LOG,
        # and a LOG that holds only frame lines is a log for the next run
        log = self.path("frames.log")
        for run in (1, 2):
            r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--stream", "--fps", "5", "--frames", "3",
                            "--resume", log, self.cam())
            self.assertExit(r, 0)
            self.assertEqual(len(r.jsonl()), 3, r)
            self.assertEqual(len(self.posts()), 3 * run)
        with open(log, encoding="utf-8") as f:
            lines = [json.loads(ln) for ln in f]
        self.assertEqual(len(lines), 6)
        self.assertTrue(all(d["stream"] == self.cam() and d["http_status"] == 200 for d in lines), lines)

    def test_a_live_source_comes_alone(self):
        r = self.run_hp("-u", self.hub_url(), "--stream", self.cam(), self.cam())
        self.assertExit(r, 2)
        self.assertOneLineError(r, "a live source is the only INPUT")
        self.assertEqual(self.server.log(), [])

    def test_dry_run_connects_to_no_stream(self):
        r = self.run_hp("-u", self.hub_url(), "--stream", "--dry-run", self.cam())
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--dry-run connects to no live source")
        self.assertEqual(self.server.log(), [])


class TestPredictOnRtsp(E2E):
    @classmethod
    def setUpClass(cls):
        if not VIDFRAMES:
            raise unittest.SkipTest("a build without video support (HUBPREDICT_VIDEO=OFF)")
        if not have_rtsp_server():
            raise unittest.SkipTest(f"{GI_PYTHON} has no GStreamer RTSP server; tests/run.sh installs it")
        super().setUpClass()

    def test_rtsp_input_without_stream(self):
        url = TestRtsp.server(self)
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--fps", "5", "--frames", "3", url)
        self.assertExit(r, 0)
        lines = r.jsonl()
        self.assertEqual([list(d) for d in lines], [MEMBERS] * 3, r)
        self.assertEqual({d["stream"] for d in lines}, {url})
        self.assertEqual(sum(1 for x in self.server.log() if x["method"] == "POST"), 3)


if __name__ == "__main__":
    unittest.main()
