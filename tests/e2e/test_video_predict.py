"""Videos through the binary (SPEC §13, hubpredict(1) "Video"): the video module loaded only by a
run that cuts a video (/proc/PID/maps), its absence exit 2 naming the file, --vid-stride and --fps
sending each chosen frame as a JPEG of its own (the very bytes tests/tools/vidframes gets from the
library), --frames and --duration, a video over the upload limit cut at --fps 1 with a note, and
bad videos one line each.

The videos are made here by the ffmpeg program, as in test_video_frames.py: each frame carries
its number in its top rows. Each frame is uploaded as STEM_F.jpg (F = its number + 1, as
Ultralytics names a video's frames), which is how the stand-in's log says which frame it got.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BIN, E2E, HUB_KEY, TIMEOUT, WRAPPER, Result, image
from pixels import read_ppm
from test_video_frames import BITS, VFR, ffmpeg, nearest_frames, frame_times, source

VIDFRAMES = os.environ.get("HUBPREDICT_VIDFRAMES", "")
MODULE = os.path.join(os.path.dirname(os.path.abspath(BIN)), "hubpredict-video.so")


def libav(names: set[str]) -> set[str]:
    return {n for n in names if n.startswith(("libavformat", "libavcodec", "libswscale", "libavutil"))
            or n == "hubpredict-video.so"}


class VideoE2E(E2E):
    media: dict = {}

    @classmethod
    def setUpClass(cls):
        if not VIDFRAMES:
            raise unittest.SkipTest("a build without video support (HUBPREDICT_VIDEO=OFF)")
        super().setUpClass()
        cls.vtmp = tempfile.mkdtemp(prefix="hp-vpredict-")
        m = cls.media = {}
        m["h264"] = os.path.join(cls.vtmp, "cfr.mp4")
        ffmpeg(*source(), "-vf", BITS, "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", m["h264"])
        m["vfr"] = os.path.join(cls.vtmp, "vfr.mp4")
        ffmpeg(*source(), "-vf", f"{BITS},{VFR}", "-fps_mode", "passthrough", "-c:v", "libx264", "-crf", "18",
               "-pix_fmt", "yuv420p", m["vfr"])
        m["mjpeg"] = os.path.join(cls.vtmp, "cfr.avi")
        ffmpeg(*source(), "-vf", BITS, "-c:v", "mjpeg", "-q:v", "3", m["mjpeg"])
        m["vp9"] = os.path.join(cls.vtmp, "cfr.webm")
        ffmpeg(*source(), "-vf", BITS, "-c:v", "libvpx-vp9", "-crf", "20", "-b:v", "0", "-deadline", "realtime",
               m["vp9"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.vtmp, ignore_errors=True)
        super().tearDownClass()

    def library_frames(self, path: str, *opts: str) -> list[dict]:
        """What the library hands out for path (tests/tools/vidframes): one dict per frame."""
        r = subprocess.run(WRAPPER + [VIDFRAMES, *opts, path], capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines() if '"frame"' in line]

    def sent(self) -> list[tuple[str, str]]:
        """(filename, sha256) of each upload, in frame order."""
        files = [e["file"] for e in self.server.log() if e.get("file")]
        return sorted(((f["filename"], f["sha256"]) for f in files), key=lambda x: int(x[0].rsplit("_", 1)[1][:-4]))


class TestFramesSent(VideoE2E):
    def check_same_as_library(self, video: str, hp_opts: tuple, lib_opts: tuple) -> list[dict]:
        stem = os.path.splitext(os.path.basename(video))[0]
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "-j", "3", *hp_opts, video)
        self.assertEqual(r.rc, 0, r)
        want = self.library_frames(video, *lib_opts)
        self.assertTrue(want)
        self.assertEqual(self.sent(), [(f"{stem}_{f['frame'] + 1}.jpg", f["sha256"]) for f in want])
        self.assertTrue(all(e["file"]["content_type"] == "image/jpeg" for e in self.server.log()))
        return want

    def test_vid_stride_every_codec(self):
        for codec in ("h264", "vp9", "mjpeg"):
            with self.subTest(codec=codec):
                self.server.reset()
                want = self.check_same_as_library(self.media[codec], ("--vid-stride", "7"), ("--stride", "7"))
                self.assertEqual([f["frame"] for f in want], list(range(0, 60, 7)))

    def test_fps_on_a_variable_frame_rate_video(self):
        video = self.media["vfr"]
        want = self.check_same_as_library(video, ("--fps", "3"), ("--fps", "3"))
        times, end = frame_times(video)
        self.assertEqual([f["frame"] for f in want], nearest_frames(times, end, 3))

    def test_frames_and_duration_limit_each_video(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--vid-stride", "5", "--frames", "3",
                        self.media["h264"], self.media["mjpeg"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(n for n, _ in self.sent()),
                         sorted(["cfr_1.jpg", "cfr_6.jpg", "cfr_11.jpg"] * 2))
        self.server.reset()
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--fps", "2", "--duration", "1.2", self.media["h264"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([n for n, _ in self.sent()], ["cfr_1.jpg", "cfr_16.jpg", "cfr_31.jpg"])

    def test_a_rotated_phone_video_is_sent_upright(self):
        rotated = os.path.join(self.vtmp, "portrait.mp4")
        ffmpeg("-i", self.media["h264"], "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--vid-stride", "30", rotated)
        self.assertEqual(r.rc, 0, r)
        want = self.library_frames(rotated, "--stride", "30")
        self.assertEqual([(f["w"], f["h"]) for f in want], [(96, 160)] * 2)
        self.assertEqual(self.sent(), [(f"portrait_{f['frame'] + 1}.jpg", f["sha256"]) for f in want])
        self.assertEqual({e["file"]["sha256"] for e in self.server.log()}, {f["sha256"] for f in want})

    def test_a_failed_frame_is_retried_with_the_same_bytes(self):
        self.server.push({"status": 503})
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "-j", "1", "--cold-start-wait", "0",
                        "--vid-stride", "30", self.media["h264"])
        self.assertEqual(r.rc, 0, r)
        log = [e["file"] for e in self.server.log()]
        self.assertEqual([f["filename"] for f in log], ["cfr_1.jpg", "cfr_1.jpg", "cfr_31.jpg"])
        self.assertEqual(log[0]["sha256"], log[1]["sha256"])
        self.assertEqual([(e["attempts"], e["frames"], "errors" in e) for e in r.jsonl()], [(3, 2, False)])

    def test_dry_run_says_a_video_is_cut(self):
        r = self.run_hp("-u", self.hub_url(), "--dry-run", "--fps", "1", self.media["h264"], image("cat.png"))
        self.assertEqual(r.rc, 0, r)
        lines = r.out.splitlines()
        self.assertEqual(lines[0], f"# '{self.media['h264']}' is a video cut into frames here (hubpredict(1), "
                                   "Video): each frame would be a request of its own, a JPEG in place of the file")
        self.assertTrue(lines[1].startswith("curl ") and "cat.png" in lines[1], lines)
        self.assertEqual(len(lines), 2)
        self.assertEqual(self.server.log(), [])

    def test_images_beside_a_video_are_sent_as_they_are(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--vid-stride", "30", image("cat.png"),
                        self.media["h264"])
        self.assertEqual(r.rc, 0, r)
        names = sorted(e["file"]["filename"] for e in self.server.log())
        self.assertEqual(names, ["cat.png", "cfr_1.jpg", "cfr_31.jpg"])

    def test_resize_maps_boxes_back_to_the_frame(self):
        big = os.path.join(self.vtmp, "big.mp4")
        if not os.path.exists(big):
            ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=1280x720:r=10:d=0.5", "-c:v", "libx264",
                   "-pix_fmt", "yuv420p", big)
        answer = {"images": [{"results": [{"class": 0, "name": "person", "confidence": 0.9,
                                           "box": {"x1": 10, "y1": 20, "x2": 100, "y2": 150}}],
                              "shape": [180, 320], "speed": {"preprocess": 1.0, "inference": 2.0,
                                                             "postprocess": 0.5}}],
                  "metadata": {"model": "m"}}
        self.server.push({"body": answer})
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "--resize", "--imgsz", "320", "--vid-stride", "5", big)
        self.assertEqual(r.rc, 0, r)
        log = self.server.log()
        self.assertEqual(len(log), 1)
        lib = self.library_frames(big, "--stride", "5", "--imgsz", "320")
        self.assertEqual(log[0]["file"]["sha256"], lib[0]["sha256"])
        self.assertEqual((lib[0]["w"], lib[0]["h"], lib[0]["src_w"], lib[0]["src_h"]), (320, 180, 1280, 720))
        env = r.json()[0]
        self.assertEqual(env["resized"], {"from": [720, 1280], "to": [180, 320]})
        im = env["response"]["images"][0]
        self.assertEqual(im["shape"], [720, 1280])
        self.assertEqual({k: round(v) for k, v in im["results"][0]["box"].items()},
                         {"x1": 40, "y1": 80, "x2": 400, "y2": 600})


class TestPulledByTheRun(VideoE2E):
    def test_decoded_only_as_far_as_the_jobs_need(self):
        # the first two answers are held 2 s: meanwhile the run holds the frames in flight (-j 2),
        # each in a memory file of its own, and has decoded no further
        for _ in range(2):
            self.server.push({"delay": 2})
        p = self.popen_hp("-u", self.hub_url(), "-f", "jsonl", "-j", "2", "--vid-stride", "1",
                          self.media["h264"], wrapper=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        counts = []
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline and p.poll() is None:
            n = 0
            for fd in os.listdir(f"/proc/{p.pid}/fd"):
                try:
                    n += os.readlink(f"/proc/{p.pid}/fd/{fd}").startswith("/memfd:hubpredict-frame")
                except FileNotFoundError:
                    pass
            counts.append(n)
            time.sleep(0.05)
        r = self.wait_hp(p)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(r.jsonl()[0]["response"]["images"]), 60)
        self.assertTrue(counts, "the run ended before it was looked at")
        self.assertEqual(max(counts), 2, counts)

    def test_cache_keys_frames_by_their_bytes(self):
        cache = self.path("cache")
        args = ("-u", self.hub_url(), "-f", "jsonl", "--cache", cache, "--vid-stride", "20", self.media["h264"])
        r = self.run_hp(*args)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(self.server.log()), 3)
        self.server.reset()
        r2 = self.run_hp(*args)
        self.assertEqual(r2.rc, 0, r2)
        self.assertEqual(self.server.log(), [])
        self.assertEqual([e["file"] for e in r2.jsonl()], [e["file"] for e in r.jsonl()])

    def test_resume_skips_the_frames_answered(self):
        log = self.path("run.jsonl")
        args = ("-u", self.hub_url(), "-f", "jsonl", "--resume", log, "--vid-stride", "20", self.media["h264"])
        r = self.run_hp(*args, "--frames", "2")
        self.assertEqual(r.rc, 0, r)
        self.server.reset()
        r = self.run_hp(*args)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([e["file"]["filename"] for e in self.server.log()], ["cfr_41.jpg"])


class TestAnnotatedVideo(VideoE2E):
    def answer(self, x1, y1, x2, y2) -> dict:
        return {"body": {"images": [{"results": [{"class": 0, "name": "person", "confidence": 0.9,
                                                  "box": {"x1": x1, "y1": y1, "x2": x2, "y2": y2}}],
                                     "shape": [96, 160], "speed": {"preprocess": 1.0, "inference": 2.0,
                                                                   "postprocess": 0.5}}],
                         "metadata": {"model": "m"}}}

    def frame_at(self, mp4: str, t: float):
        ppm = self.path(f"at{t}.ppm")
        ffmpeg("-ss", str(t), "-i", mp4, "-frames:v", "1", "-c:v", "ppm", "-f", "image2", ppm)
        return read_ppm(ppm)

    def near(self, got, want, tol=48):
        return all(abs(a - b) <= tol for a, b in zip(got, want))

    def bluish(self, px) -> bool:
        """The box's blue after H.264's 4:2:0 has smeared a 2-pixel line: blue well above red."""
        return px[2] - px[0] > 70 and px[2] > 110

    def test_mp4_of_the_drawn_frames_each_held_until_the_next(self):
        out = self.path("pictures")
        # frame 0 (0 s): a box on the left; frame 30 (1 s): one on the right
        self.server.push(self.answer(10, 40, 60, 90))
        self.server.push(self.answer(100, 40, 150, 90))
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "-j", "1", "--vid-stride", "30", "--annotate", out,
                        self.media["h264"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(os.listdir(out), ["cfr.mp4"])
        mp4 = os.path.join(out, "cfr.mp4")
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                                "stream=codec_name,width,height,r_frame_rate,nb_read_frames", "-of", "json", mp4],
                               capture_output=True, text=True, timeout=60, check=True)
        st = json.loads(probe.stdout)["streams"][0]
        self.assertEqual((st["codec_name"], st["width"], st["height"], st["r_frame_rate"]), ("h264", 160, 96, "30/1"))
        self.assertEqual(int(st["nb_read_frames"]), 60)
        first, second = self.frame_at(mp4, 0.5), self.frame_at(mp4, 1.5)
        # the left box's left edge in the first second, the right box's in the next; grey inside
        self.assertTrue(self.bluish(first[10, 70]), first[10, 70])
        self.assertFalse(self.bluish(first[100, 70]), first[100, 70])
        self.assertTrue(self.bluish(second[100, 70]), second[100, 70])
        self.assertFalse(self.bluish(second[10, 70]), second[10, 70])
        self.assertTrue(self.near(first[35, 80], (128, 128, 128), 24), first[35, 80])

    def test_a_planted_directory_at_the_mp4_is_refused_before_sending(self):
        out = self.path("pictures")
        os.makedirs(os.path.join(out, "cfr.mp4"))
        r = self.run_hp("-u", self.hub_url(), "--vid-stride", "30", "--annotate", out, self.media["h264"])
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--annotate: the file for ", "/pictures/cfr.mp4', is a directory")
        self.assertEqual(self.server.log(), [])

    def test_the_mp4_is_no_input(self):
        # DIR is the videos' own folder: the MP4 would overwrite the input
        d = self.path("videos")
        os.makedirs(d)
        video = os.path.join(d, "cfr.mp4")
        shutil.copy(self.media["h264"], video)
        r = self.run_hp("-u", self.hub_url(), "--vid-stride", "30", "--annotate", d, video)
        self.assertExit(r, 2)
        self.assertEqual(self.server.log(), [])
        with open(video, "rb") as a, open(self.media["h264"], "rb") as b:
            self.assertEqual(a.read(), b.read())


class TestOverTheUploadLimit(VideoE2E):
    def test_a_large_video_is_cut_at_one_frame_a_second_with_a_note(self):
        video = self.media["h264"]
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--max-upload", "1K", video, self.media["mjpeg"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(n for n, _ in self.sent()), ["cfr_1.jpg", "cfr_1.jpg", "cfr_31.jpg", "cfr_31.jpg"])
        notes = [ln for ln in r.err.splitlines() if "upload limit" in ln]
        self.assertEqual(len(notes), 1, r.err)
        self.assertIn("--fps 1", notes[0])

    def test_under_the_limit_it_is_uploaded_whole(self):
        video = self.media["h264"]
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", video)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([e["file"]["filename"] for e in self.server.log()], ["cfr.mp4"])
        self.assertNotIn("upload limit", r.err)


class TestBadVideos(VideoE2E):
    def bad(self, name: str, data: bytes, *fragments: str):
        path = self.write(name, data)
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--fps", "1", path)
        self.assertExit(r, 3)
        self.assertOneLineError(r, f"'{path}'", *fragments)
        self.assertEqual(self.server.log(), [])

    def test_not_a_video(self):
        self.bad("notes.mp4", b"these are not the frames you are looking for\n" * 20)

    def test_truncated(self):
        with open(self.media["h264"], "rb") as f:
            data = f.read()
        self.bad("cut.mp4", data[: len(data) // 3])

    def test_zero_frames(self):
        empty = os.path.join(self.vtmp, "empty.mkv")
        ffmpeg(*source(0.5), "-vf", "trim=start_frame=100", "-c:v", "libx264", "-pix_fmt", "yuv420p", empty)
        with open(empty, "rb") as f:
            self.bad("empty.mkv", f.read())


class TestLoadedOnFirstVideo(VideoE2E):
    def maps_while_waiting(self, *args) -> set[str]:
        """What a run maps while it waits for its first answer (the stand-in holds it 1 s)."""
        return self.mapped_while_waiting("-u", self.hub_url(), "-f", "jsonl", *args)

    def test_an_image_run_maps_no_libav(self):
        self.assertEqual(libav(self.maps_while_waiting(image("street.jpg"))), set())

    def test_a_whole_video_upload_maps_no_libav(self):
        self.assertEqual(libav(self.maps_while_waiting(self.media["h264"])), set())

    def test_a_cut_video_maps_the_module_and_libav(self):
        names = libav(self.maps_while_waiting("--vid-stride", "30", self.media["h264"]))
        self.assertIn("hubpredict-video.so", names)
        self.assertTrue(any(n.startswith("libavcodec") for n in names), names)

    def test_version_maps_none_and_says_video(self):
        p = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=TIMEOUT,
                           env=self.hp_env(None, {"LD_DEBUG": "files"}))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^video support yes \(module; FFmpeg libavformat\.so\.\d+ ")
        loaded = {os.path.basename(line.split("file=")[1].split()[0]) for line in p.stderr.splitlines()
                  if "file=" in line and ("needed by" in line or "dynamically loaded" in line)}
        self.assertTrue(any(n.startswith("libcurl") for n in loaded), p.stderr[:2000])
        self.assertEqual(libav(loaded), set())


class TestModuleMissing(VideoE2E):
    """The binary copied into a tree of its own, the image module beside it, no video module."""

    def run_copy(self, *args, module: bytes | None = None):
        os.makedirs(self.path("tree/bin"), exist_ok=True)
        exe = self.path("tree/bin/hubpredict")
        shutil.copy(BIN, exe)
        shutil.copy(os.path.join(os.path.dirname(BIN), "hubpredict-image.so"), self.path("tree/bin"))
        if module is not None:
            with open(self.path("tree/bin/hubpredict-video.so"), "wb") as f:
                f.write(module)
        p = subprocess.run(WRAPPER + [exe, "-u", self.hub_url(), *args], capture_output=True,
                           env=self.hp_env(HUB_KEY), timeout=TIMEOUT)
        r = Result(p.returncode, p.stdout, p.stderr)
        self.check_run(r, HUB_KEY)
        return r

    def test_missing_is_usage_naming_the_file_and_nothing_sent(self):
        for flag in (("--vid-stride", "2"), ("--fps", "1")):
            with self.subTest(flag=flag[0]):
                r = self.run_copy(*flag, self.media["h264"])
                self.assertExit(r, 2)
                self.assertOneLineError(r, f"{flag[0]} needs video support, but '", "/hubpredict/hubpredict-video.so' "
                                        "is missing (No such file or directory)")
                self.assertEqual(self.server.log(), [])
        r = self.run_copy("-f", "json", self.media["h264"])
        self.assertEqual(r.rc, 0, r)

    def test_broken_is_usage_naming_the_file(self):
        r = self.run_copy("--fps", "1", self.media["h264"], module=b"not ELF\n" * 100)
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--fps needs video support, but '", "hubpredict-video.so' cannot be loaded: ",
                                "invalid ELF header")
        self.assertEqual(self.server.log(), [])


class TestOptions(E2E):
    def test_stride_and_fps_together_are_usage(self):
        r = self.run_hp("-u", self.hub_url(), "--fps", "1", "--vid-stride", "2", image("cat.png"))
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--vid-stride and --fps both choose the frames: give one")
        self.assertEqual(self.server.log(), [])

    def test_ranges(self):
        for args, frag in ((("--vid-stride", "0"), "--vid-stride"), (("--fps", "0"), "--fps"),
                           (("--frames", "0"), "--frames"), (("--duration", "-1"), "--duration")):
            with self.subTest(args=args):
                r = self.run_hp("-u", self.hub_url(), *args, image("cat.png"))
                self.assertExit(r, 2)
                self.assertOneLineError(r, frag)
                self.assertNotIn("unrecognized", r.err)
        self.assertEqual(self.server.log(), [])

    def test_in_help(self):
        r = self.run_hp("--help")
        for name in ("--vid-stride N", "--fps X", "--stream", "--frames N", "--duration SEC"):
            self.assertIn(name, r.out)



if __name__ == "__main__":
    unittest.main()


class TestOneEnvelopePerVideo(VideoE2E):
    """SPEC §13: a cut video's answers are one envelope as a dedicated endpoint would answer the
    video: images[] one entry per sent frame with "frame" and "time", failed frames in "errors"."""

    def test_jsonl_one_line_per_video_with_frame_and_time(self):
        video = self.media["h264"]
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "-j", "3", "--vid-stride", "20", video,
                        image("cat.png"))
        self.assertEqual(r.rc, 0, r)
        lines = r.jsonl()
        self.assertEqual([e["file"] for e in lines], [video, image("cat.png")])
        env = lines[0]
        self.assertEqual(env["size"], os.path.getsize(video))
        self.assertIn("mtime", env)
        self.assertEqual((env["task"], env["http_status"], env["frames"], env["attempts"]), ("detect", 200, 3, 3))
        self.assertNotIn("errors", env)
        self.assertNotIn("error", env)
        imgs = env["response"]["images"]
        self.assertEqual([(i["frame"], i["time"]) for i in imgs], [(0, 0.0), (20, 0.667), (40, 1.333)])
        self.assertTrue(all("results" in i and "shape" in i for i in imgs))
        self.assertEqual(set(env["response"]) - {"images"}, set(lines[1]["response"]) - {"images"})

    def test_json_array_holds_one_envelope_per_video(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "--vid-stride", "30", self.media["h264"],
                        self.media["mjpeg"])
        self.assertEqual(r.rc, 0, r)
        doc = r.json()
        self.assertEqual([e["file"] for e in doc], [self.media["h264"], self.media["mjpeg"]])
        self.assertEqual([[i["frame"] for i in e["response"]["images"]] for e in doc], [[0, 30], [0, 30]])

    def test_a_frame_that_stays_failed_is_in_errors_and_sets_the_status(self):
        self.server.push({"status": 422, "body": {"message": "bad frame"}})
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "-j", "1", "--vid-stride", "20", self.media["h264"])
        self.assertEqual(r.rc, 7, r)
        (env,) = r.jsonl()
        self.assertEqual(env["http_status"], 422)
        self.assertEqual([i["frame"] for i in env["response"]["images"]], [20, 40])
        (err,) = env["errors"]
        self.assertEqual((err["frame"], err["time"], err["http_status"], err["exit"]), (0, 0.0, 422, 7))
        self.assertIn("bad frame", err["error"])
        self.assertEqual(env["error"]["exit"], 7)

    def test_table_blocks_headed_by_frame_and_time(self):
        r = self.run_hp("-u", self.hub_url(), "--vid-stride", "20", self.media["h264"])
        self.assertEqual(r.rc, 0, r)
        lines = r.out.splitlines()
        self.assertEqual(lines[0], f"{self.media['h264']}  detect  video")
        heads = [ln for ln in lines if ln.startswith("frame ")]
        self.assertEqual([h.split("  ")[:2] for h in heads], [["frame 0", "0.000 s"], ["frame 20", "0.667 s"],
                                                              ["frame 40", "1.333 s"]])
        self.assertRegex(lines[-1], r"^3 frames  \d+ results?  total \d+ ms$")

    def test_csv_rows_name_the_video_its_frame_and_time(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "csv", "--vid-stride", "20", self.media["h264"], image("cat.png"))
        self.assertEqual(r.rc, 0, r)
        rows = r.csv()
        self.assertEqual(rows[0][-2:], ["pixel_ratio", "time"])
        vid = [row for row in rows[1:] if row[0] == self.media["h264"]]
        self.assertTrue(vid)
        self.assertEqual(sorted({(row[1], row[-1]) for row in vid}), [("0", "0.000"), ("20", "0.667"), ("40", "1.333")])
        self.assertTrue(all(row[-1] == "" for row in rows[1:] if row[0] == image("cat.png")))
        self.assertTrue(all(len(row) == len(rows[0]) for row in rows))

    def test_a_video_that_breaks_after_its_frames_closes_its_envelope_with_the_error(self):
        with open(self.media["mjpeg"], "rb") as f:
            data = f.read()
        path = self.write("cut.avi", data[: len(data) * 2 // 3])
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--vid-stride", "10", path, image("cat.png"))
        self.assertExit(r, 3)
        self.assertOneLineError(r, f"'{path}'", "truncated")
        first, second = r.jsonl()
        self.assertEqual((first["file"], second["file"]), (path, image("cat.png")))
        self.assertTrue(first["response"]["images"])
        self.assertEqual([(e["frame"], e["exit"]) for e in first["errors"]], [(None, 3)])
        self.assertEqual((first["error"]["exit"], first["http_status"]), (3, None))


    def test_the_same_video_named_twice_is_two_envelopes(self):
        video = self.media["h264"]
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--vid-stride", "30", "--expect", "person>=3",
                        video, video)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual([[i["frame"] for i in e["response"]["images"]] for e in r.jsonl()], [[0, 30], [0, 30]])
        self.assertEqual([ln for ln in r.err.splitlines() if "expected" in ln],
                         [f"hubpredict: {video}: expected person>=3, found 1"] * 2)

class TestExpectAcrossFrames(VideoE2E):
    """--expect on a cut video is checked once for the video over its frames, as for a video uploaded
    whole (hubpredict(1), --expect): a check holds when it holds in at least one frame."""

    @staticmethod
    def answer(n_persons: int) -> dict:
        box = {"x1": 1, "y1": 2, "x2": 30, "y2": 40}
        return {"images": [{"results": [{"class": 0, "name": "person", "confidence": 0.9, "box": box}] * n_persons,
                            "shape": [96, 160], "speed": {"preprocess": 1.0, "inference": 2.0, "postprocess": 0.5}}],
                "metadata": {}}

    def run_frames(self, persons: list[int], *expects: str, extra: tuple = ()) -> Result:
        for n in persons:
            self.server.push({"body": self.answer(n)})
        return self.run_hp("-u", self.hub_url(), "-f", "jsonl", "-j", "1", "--vid-stride", "20", *extra,
                           *[a for e in expects for a in ("--expect", e)], self.media["h264"])

    def test_a_person_in_one_frame_is_a_person_in_the_video(self):
        r = self.run_frames([0, 1, 0], "person")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.err, "")
        self.assertEqual(len(self.server.log()), 3)

    def test_unmet_is_one_line_for_the_video_with_the_closest_frame(self):
        r = self.run_frames([0, 1, 0], "person>=2", "person<=3")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.err.splitlines(), [f"hubpredict: {self.media['h264']}: expected person>=2, found 1"])
        self.assertEqual(len(r.jsonl()), 1)

    def test_junit_has_a_testcase_for_the_videos_verdict(self):
        junit = self.path("report.xml")
        video = self.media["h264"]
        r = self.run_frames([0, 1, 0], "person>=2", "person<=3", extra=("--junit", junit))
        self.assertEqual(r.rc, 1, r)
        root = ET.parse(junit).getroot()
        cases = root.findall(".//testcase")
        self.assertEqual(len(cases), 4, "three frames, then the video")
        self.assertTrue(all(c.find("failure") is None and c.find("error") is None for c in cases[:3]))
        self.assertEqual(cases[-1].get("name"), f"{video} (--expect over its frames)")
        failure = cases[-1].find("failure")
        self.assertEqual((failure.get("message"), failure.get("type")), ("expected person>=2, found 1", "expectation"))
        self.assertEqual((root.get("tests"), root.get("failures"), root.get("errors")), ("4", "1", "0"))
        # met in one frame: the video's testcase passes
        r = self.run_frames([0, 1, 0], "person", extra=("--junit", junit))
        self.assertEqual(r.rc, 0, r)
        root = ET.parse(junit).getroot()
        cases = root.findall(".//testcase")
        self.assertEqual(len(cases), 4)
        self.assertEqual(cases[-1].get("name"), f"{video} (--expect over its frames)")
        self.assertIsNone(cases[-1].find("failure"))
        self.assertEqual(root.get("failures"), "0")

    def test_a_failed_frame_counts_nothing_and_keeps_its_status(self):
        self.server.push({"status": 422, "body": {"message": "bad frame"}})
        r = self.run_frames([0, 0], "person")
        self.assertEqual(r.rc, 7, r)
        self.assertIn(f"{self.media['h264']}: expected person>=1, found 0", r.err)


class TestBaselineFrameByFrame(VideoE2E):
    """--baseline on a cut video matches each frame by (video, frame number): against the recorded
    video's envelope, or images[frame] of a video uploaded whole."""

    answer = staticmethod(TestExpectAcrossFrames.answer)

    def run_frames(self, persons: list[int], stride: str, *args: str) -> Result:
        for n in persons:
            self.server.push({"body": self.answer(n)})
        return self.run_hp("-u", self.hub_url(), "-f", "jsonl", "-j", "1", "--vid-stride", stride, *args,
                           self.media["h264"])

    def record(self, persons: list[int], stride: str) -> str:
        r = self.run_frames(persons, stride)
        self.assertEqual(r.rc, 0, r)
        return self.write("base.jsonl", r.out_bytes)

    def test_a_changed_frame_is_named_by_its_number(self):
        base = self.record([1, 1, 1], "20")
        r = self.run_frames([1, 2, 1], "20", "--baseline", base)
        self.assertEqual(r.rc, 1, r)
        lines = r.err.splitlines()
        self.assertEqual(lines[0], f"hubpredict: {self.media['h264']}: baseline: frame 20: person 1 -> 2")
        self.assertTrue(all(ln.startswith(f"hubpredict: {self.media['h264']}: baseline: frame 20: ") for ln in lines), r)

    def test_frames_the_baseline_did_not_send(self):
        base = self.record([1, 1, 1], "20")
        r = self.run_frames([1] * 6, "10", "--baseline", base)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.err.splitlines(), [f"hubpredict: {self.media['h264']}: baseline: frame {f}: not in the baseline"
                                              for f in (10, 30, 50)])

    def test_a_video_uploaded_whole_is_matched_by_index(self):
        images = [self.answer(1 if f == 20 else 0)["images"][0] for f in range(25)]
        base = self.write("whole.json", json.dumps([{"file": self.media["h264"], "response": {"images": images}}])
                          .encode())
        r = self.run_frames([0, 1, 0], "20", "--baseline", base)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.err.splitlines(), [f"hubpredict: {self.media['h264']}: baseline: frame 40: not in the baseline"])


class TestResumeAKilledVideo(VideoE2E):
    """--resume records a cut video's frames as they finish (a line per frame in LOG, whatever -f
    writes): a run killed mid-video resends only the frames it had not recorded."""

    def test_sigkill_mid_video_then_only_the_unsent_frames(self):
        log = self.path("run.jsonl")
        args = ("-u", self.hub_url(), "-f", "jsonl", "-j", "1", "--resume", log, "--vid-stride", "10",
                self.media["h264"])
        self.server.set_latency(0.5)
        p = self.popen_hp(*args, wrapper=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline and p.poll() is None:
                if os.path.exists(log) and open(log, "rb").read().count(b"\n") >= 2:
                    break
                time.sleep(0.02)
            self.assertIsNone(p.poll(), "the run ended before it was killed")
            p.send_signal(signal.SIGKILL)
        finally:
            p.wait()
        with open(log) as f:
            recorded = [json.loads(line) for line in f.read().splitlines(keepends=True) if line.endswith("\n")]
        self.assertGreaterEqual(len(recorded), 2)
        self.assertLess(len(recorded), 6)
        done = {e["file"] for e in recorded}
        self.assertTrue(all(e["file"].endswith(".jpg") and "size" in e and "mtime" in e for e in recorded))
        self.server.set_latency(0)
        self.server.reset()
        r = self.run_hp(*args)
        self.assertEqual(r.rc, 0, r)
        stem = os.path.join(os.path.dirname(self.media["h264"]), "cfr")
        unsent = [f for f in range(0, 60, 10) if f"{stem}_{f + 1}.jpg" not in done]
        self.assertEqual(sorted(e["file"]["filename"] for e in self.server.log()),
                         sorted(f"cfr_{f + 1}.jpg" for f in unsent))
        (env,) = r.jsonl()
        self.assertEqual([i["frame"] for i in env["response"]["images"]], unsent)
