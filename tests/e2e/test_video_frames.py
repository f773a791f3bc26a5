"""The video module's frame source and annotated-video writer (src/video/, SPEC §13) on real videos.

The videos are made here by the ffmpeg program: a grey picture whose top 16 rows carry the
frame's own number as ten black/white 16-pixel blocks (bit b at x = 16b), so which frame came
out is read back from its pixels. tests/tools/vidframes ($HUBPREDICT_VIDFRAMES) runs the
source and writes the JPEGs it hands out; they are decoded with TurboJPEG on its own
($HUBPREDICT_IMGTOOL). What --fps should pick is worked out here from ffprobe's frame
timestamps, independently of the C code.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import PEAKRSS, UNDER_TOOL, WRAPPER
from pixels import read_jpeg, read_ppm

VIDFRAMES = os.environ.get("HUBPREDICT_VIDFRAMES", "")
W, H = 160, 96
BITS = "geq=lum='if(lt(Y,16),255*mod(floor(N/pow(2,floor(X/16))),2),128)':cb=128:cr=128"
# 30 frames at 30 fps, then 30 at 10 fps: 4 s, nominally 15 fps
VFR = "setpts='(if(lt(N,30),N/30,1+(N-30)/10))/TB'"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True,
                   timeout=120)


def source(seconds: float = 2) -> list[str]:
    return ["-f", "lavfi", "-i", f"color=c=gray:s={W}x{H}:r=30:d={seconds}"]


def frame_times(path: str) -> tuple[list[float], float]:
    """Each frame's best-effort timestamp (from the first) and the end (last + its duration)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "frame=best_effort_timestamp_time,pkt_duration_time", "-of", "csv=p=0", path],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    rows = [line.split(",") for line in out.split()]
    times = [float(r[0]) for r in rows]
    end = times[-1] + float(rows[-1][1])
    return [t - times[0] for t in times], end - times[0]


def nearest_frames(times: list[float], end: float, fps: float) -> list[int]:
    """For each k/fps before the end, the frame nearest it (ties to the earlier), each once."""
    chosen: list[int] = []
    k = 0
    while k / fps < end - 1e-7:
        target = k / fps
        best = min(range(len(times)), key=lambda i: (round(abs(times[i] - target), 6), i))
        if best not in chosen:
            chosen.append(best)
        k += 1
    return chosen


def number_in(path: str, rotation: int = 0) -> int:
    """The frame number a picture carries (rotation: how it was turned clockwise)."""
    pic = read_jpeg(path) if path.endswith(".jpg") else read_ppm(path)
    n = 0
    for b in range(10):
        c = 16 * b + 8
        x, y = {0: (c, 8), 90: (pic.w - 9, c), 270: (8, pic.h - 1 - c)}[rotation]
        if pic[x, y][0] > 128:
            n |= 1 << b
    return n


class VideoCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not VIDFRAMES:
            raise unittest.SkipTest("a build without video support (HUBPREDICT_VIDEO=OFF)")
        cls.tmp = tempfile.mkdtemp(prefix="hp-video-")
        cls.media = {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def vidframes(self, path: str, *opts: str, out: bool = True) -> tuple[int, list[dict]]:
        """Run the source; (exit status, its JSON lines). JPEGs go to a fresh folder."""
        self.out = tempfile.mkdtemp(dir=self.tmp)
        cmd = WRAPPER + [VIDFRAMES, *opts] + (["--out", self.out] if out else []) + [path]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.stderr, "", cmd)
        return r.returncode, [json.loads(line) for line in r.stdout.splitlines()]

    def frames_of(self, path: str, *opts: str) -> list[dict]:
        rc, lines = self.vidframes(path, *opts)
        self.assertEqual(rc, 0, lines[-1:])
        self.assertEqual(lines[-1], {"end": True})
        return [ln for ln in lines if "frame" in ln]

    def jpeg(self, n: int) -> str:
        return os.path.join(self.out, f"{n}.jpg")


class TestSelection(VideoCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m = cls.media
        m["h264"] = os.path.join(cls.tmp, "cfr.mp4")
        ffmpeg(*source(), "-vf", BITS, "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", m["h264"])
        m["vp9"] = os.path.join(cls.tmp, "cfr.webm")
        ffmpeg(*source(), "-vf", BITS, "-c:v", "libvpx-vp9", "-crf", "20", "-b:v", "0", m["vp9"])
        m["mjpeg"] = os.path.join(cls.tmp, "cfr.avi")
        ffmpeg(*source(), "-vf", BITS, "-c:v", "mjpeg", "-q:v", "3", m["mjpeg"])
        # B-frames in a pyramid (some referred to, some not) and a GOP shorter than the video
        m["bframes"] = os.path.join(cls.tmp, "bframes.mp4")
        ffmpeg(*source(), "-vf", BITS, "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", "-g", "24",
               "-x264-params", "bframes=3:b-pyramid=normal:b-adapt=0", m["bframes"])
        m["vfr"] = os.path.join(cls.tmp, "vfr.mp4")
        ffmpeg(*source(), "-vf", f"{BITS},{VFR}", "-fps_mode", "passthrough", "-c:v", "libx264", "-crf", "18",
               "-pix_fmt", "yuv420p", m["vfr"])

    def check_numbers(self, frames: list[dict]) -> None:
        for f in frames:
            self.assertEqual(number_in(self.jpeg(f["frame"])), f["frame"], f)
            self.assertEqual((f["w"], f["h"]), (W, H))

    def test_stride_every_codec(self):
        for codec in ("h264", "vp9", "mjpeg"):
            with self.subTest(codec=codec):
                frames = self.frames_of(self.media[codec], "--stride", "7")
                self.assertEqual([f["frame"] for f in frames], list(range(0, 60, 7)))
                for f in frames:  # WebM keeps milliseconds
                    self.assertLessEqual(abs(f["time"] - f["frame"] / 30), 0.0005)
                self.check_numbers(frames)

    def test_stride_one_is_every_frame_in_order(self):
        frames = self.frames_of(self.media["h264"], "--stride", "1")
        self.assertEqual([f["frame"] for f in frames], list(range(60)))
        self.check_numbers(frames[::11])

    def test_fps_constant_rate(self):
        times, end = frame_times(self.media["h264"])
        for fps in ("2", "4.5", "30", "45"):
            with self.subTest(fps=fps):
                frames = self.frames_of(self.media["h264"], "--fps", fps)
                want = nearest_frames(times, end, float(fps))
                self.assertEqual([f["frame"] for f in frames], want)
                self.check_numbers(frames)
        self.assertEqual(nearest_frames(times, end, 2), [0, 15, 30, 45])

    def test_fps_variable_rate_by_timestamps(self):
        times, end = frame_times(self.media["vfr"])
        frames = self.frames_of(self.media["vfr"], "--fps", "2")
        want = nearest_frames(times, end, 2)
        self.assertEqual(want, [0, 15, 30, 35, 40, 45, 50, 55])
        self.assertEqual([f["frame"] for f in frames], want)
        for f in frames:
            self.assertAlmostEqual(f["time"], times[f["frame"]], places=4)
        self.check_numbers(frames)
        # by the nominal rate (15 fps) it would have been 0, 8, 15, 22, ...
        self.assertNotEqual(want, [round(k * 7.5) for k in range(8)])

    def test_skipping_chooses_the_same_frames(self):
        # --fps lets the decoder skip frames nothing refers to that cannot be chosen; the frames
        # handed out (numbers, times, JPEG bytes) are those of decoding every frame
        for name, fps, skips in (("bframes", "2", True), ("bframes", "7", True), ("bframes", "0.7", True),
                                 ("vfr", "2", True), ("vfr", "9", True), ("vp9", "3", False),
                                 ("mjpeg", "2", False)):
            with self.subTest(name=name, fps=fps):
                rc, fast = self.vidframes(self.media[name], "--fps", fps, out=False)
                rc_all, every = self.vidframes(self.media[name], "--fps", fps, "--decode-all", out=False)
                self.assertEqual((rc, rc_all), (0, 0))
                self.assertEqual([ln for ln in fast if "frame" in ln], [ln for ln in every if "frame" in ln])
                self.assertEqual(fast[-2]["decoded"], every[-2]["decoded"])
                self.assertEqual(every[-2]["skipped"], 0)
                if skips:
                    self.assertGreater(fast[-2]["skipped"], 0, fast[-2])
        times, end = frame_times(self.media["bframes"])
        frames = self.frames_of(self.media["bframes"], "--fps", "2")
        self.assertEqual([f["frame"] for f in frames], nearest_frames(times, end, 2))
        self.check_numbers(frames)

    def test_colours_by_the_declared_matrix(self):
        # frames in JPEG's own matrix (BT.601, or none declared) are encoded from their planes,
        # BT.709 ones through RGB; both show the colour ffmpeg shows
        for tag in ([], ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]):
            with self.subTest(tag=tag):
                mp4 = self.path(f"colour{len(tag)}.mp4")
                ffmpeg("-f", "lavfi", "-i", f"color=c=0xd02850:s={W}x{H}:r=30:d=0.2", *tag, "-c:v", "libx264",
                       "-crf", "10", "-pix_fmt", "yuv420p", mp4)
                frames = self.frames_of(mp4, "--stride", "100", "--imgsz", "80")
                ppm = self.path(f"colour{len(tag)}.ppm")
                ffmpeg("-i", mp4, "-frames:v", "1", "-vf", "scale=80:48", ppm)
                ours, theirs = read_jpeg(self.jpeg(frames[0]["frame"])), read_ppm(ppm)
                a, b = ours[40, 24], theirs[40, 24]
                self.assertLessEqual(max(abs(x - y) for x, y in zip(a, b)), 6, (a, b))

    def test_memory_source_is_the_same(self):
        a = self.frames_of(self.media["vp9"], "--fps", "3")
        b = self.frames_of(self.media["vp9"], "--fps", "3", "--mem")
        self.assertEqual(a, b)

    def test_info(self):
        rc, lines = self.vidframes(self.media["h264"], "--stride", "100", out=False)
        self.assertEqual(rc, 0)
        info = lines[0]["info"]
        self.assertEqual((info["w"], info["h"], info["rotation"], info["frames"]), (W, H, 0, 60))
        self.assertEqual((info["codec"], info["container"]), ("h264", "mov"))
        self.assertAlmostEqual(info["fps"], 30)
        self.assertAlmostEqual(info["duration"], 2)

    def test_resize_never_upsizes(self):
        frames = self.frames_of(self.media["mjpeg"], "--stride", "30", "--imgsz", "80")
        self.assertEqual([(f["w"], f["h"], f["src_w"], f["src_h"]) for f in frames], [(80, 48, W, H)] * 2)
        self.assertEqual((read_jpeg(self.jpeg(30)).w, read_jpeg(self.jpeg(30)).h), (80, 48))
        frames = self.frames_of(self.media["mjpeg"], "--stride", "30", "--imgsz", "640")
        self.assertEqual([(f["w"], f["h"]) for f in frames], [(W, H)] * 2)


class TestRotation(VideoCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        plain = os.path.join(cls.tmp, "plain.mp4")
        ffmpeg(*source(1), "-vf", BITS, "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", plain)
        # ffmpeg 5.1 writes the display matrix from the rotate tag when copying
        for deg in ("90", "270"):
            cls.media[deg] = os.path.join(cls.tmp, f"rot{deg}.mp4")
            ffmpeg("-i", plain, "-c", "copy", "-metadata:s:v:0", f"rotate={deg}", cls.media[deg])

    def test_turned_as_ffmpeg_shows_it(self):
        # the tag "rotate=90" asks for a quarter turn counterclockwise on display
        for tag, cw in (("90", 270), ("270", 90)):
            with self.subTest(tag=tag):
                rc, lines = self.vidframes(self.media[tag], "--stride", "13")
                self.assertEqual(rc, 0)
                self.assertEqual((lines[0]["info"]["w"], lines[0]["info"]["h"]), (H, W))
                self.assertEqual(lines[0]["info"]["rotation"], cw)
                frames = [ln for ln in lines if "frame" in ln]
                self.assertEqual([f["frame"] for f in frames], [0, 13, 26])
                for f in frames:
                    self.assertEqual((f["w"], f["h"]), (H, W))
                    self.assertEqual(number_in(self.jpeg(f["frame"]), cw), f["frame"])
                # pixel for pixel what ffmpeg's own autorotation shows
                ppm = self.path(f"ff{tag}.ppm")
                ffmpeg("-i", self.media[tag], "-vf", r"select=eq(n\,13)", "-frames:v", "1", ppm)
                theirs, ours = read_ppm(ppm), read_jpeg(self.jpeg(13))
                self.assertEqual((theirs.w, theirs.h), (ours.w, ours.h))
                diff = max(abs(a - b) for a, b in zip(theirs.data, ours.data))
                self.assertLessEqual(diff, 24)

    def test_resize_after_rotation(self):
        frames = self.frames_of(self.media["90"], "--stride", "100", "--imgsz", "80")
        self.assertEqual([(f["w"], f["h"], f["src_w"], f["src_h"]) for f in frames], [(48, 80, H, W)])


class TestBadInput(VideoCase):
    """One error line each, exit 3, nothing handed out that is not a frame."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m, p = cls.media, lambda n: os.path.join(cls.tmp, n)
        # moov (the index) first, then the frames: a cut keeps the index
        fast, slow = p("fast.mp4"), p("slow.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x96:r=30:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
               "-movflags", "+faststart", fast)
        ffmpeg("-i", fast, "-c", "copy", slow)
        with open(fast, "rb") as f:
            data = f.read()
        with open(slow, "rb") as f:
            slow_data = f.read()
        avi = p("ok.avi")
        ffmpeg(*source(0.2), "-c:v", "mjpeg", avi)
        with open(avi, "rb") as f:
            avi_data = f.read()
        y4m = b"YUV4MPEG2 W%d H%d F30:1 C420jpeg\n"
        files = {
            "text.mp4": b"hello, not a video\n",
            "empty.mp4": b"",
            "picture.jpg": b"\xff\xd8\xff\xe0" + bytes(200),
            "moov_cut.mp4": slow_data[:len(slow_data) - 1000],
            "half.mp4": data[:len(data) // 2],
            "index_only.mp4": data[:len(data) // 20],
            "no_frames.y4m": y4m % (W, H),
            "huge.y4m": y4m % (16000, 16000) + b"FRAME\n" + bytes(1000),
            "wide.y4m": y4m % (20000, 16) + b"FRAME\n" + bytes(1000),
            "unknown_codec.avi": avi_data.replace(b"MJPG", b"ZZZZ"),
            "playlist.m3u8": b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
            "list.ffconcat": b"ffconcat version 1.0\nfile /etc/passwd\n",
        }
        for name, content in files.items():
            m[name] = p(name)
            with open(m[name], "wb") as f:
                f.write(content)
        m["audio.mp4"] = p("audio.mp4")
        ffmpeg("-f", "lavfi", "-i", "sine=d=0.2", m["audio.mp4"])

    def refused(self, name: str, message: str, frames: int = 0) -> None:
        for mem in ([], ["--mem"]):
            rc, lines = self.vidframes(self.media[name], "--stride", "1", *mem)
            self.assertEqual(rc, 3, (name, lines[-1:]))
            self.assertEqual(lines[-1], {"error": message, "status": 3}, name)
            self.assertEqual(len([ln for ln in lines if "frame" in ln]), frames, name)
            self.assertEqual(sorted(os.listdir(self.out)), sorted(f"{i}.jpg" for i in range(frames)))

    def test_not_a_video(self):
        for name in ("text.mp4", "empty.mp4", "picture.jpg", "moov_cut.mp4"):
            with self.subTest(name=name):
                self.refused(name, "not a video")

    def test_files_that_name_other_files_are_not_opened(self):
        for name in ("playlist.m3u8", "list.ffconcat"):
            with self.subTest(name=name):
                self.refused(name, "not a video")

    def test_truncated_gives_its_frames_then_the_error(self):
        rc, lines = self.vidframes(self.media["half.mp4"], "--stride", "1")
        self.assertEqual(rc, 3)
        frames = [ln for ln in lines if "frame" in ln]
        self.assertGreater(len(frames), 5)
        self.assertEqual([f["frame"] for f in frames], list(range(len(frames))))
        self.assertRegex(lines[-1]["error"], r"^truncated: \d+ of the 60 frames it declares$")

    def test_truncated_to_its_index(self):
        self.refused("index_only.mp4", "truncated: 0 of the 60 frames it declares")

    def test_no_frames_and_no_video_stream(self):
        self.refused("no_frames.y4m", "no frames")
        self.refused("audio.mp4", "no video stream")

    def test_huge_declared_size(self):
        self.refused("huge.y4m", "declares 16000x16000 pixels, over the 100 megapixel limit")
        self.refused("wide.y4m", "declares 20000x16 pixels, over the limit of 16384 a side")

    def test_codec_not_in_this_ffmpeg(self):
        self.refused("unknown_codec.avi", "no decoder for its codec (none) in this FFmpeg")


class TestMemory(VideoCase):
    def test_flat_for_a_longer_video(self):
        if UNDER_TOOL:
            self.skipTest("memory figures mean nothing under valgrind or a sanitizer")
        rss = {}
        for secs in (2, 40):
            path = self.path(f"long{secs}.mp4")
            ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=640x360:r=30:d={secs}", "-c:v", "libx264", "-preset",
                   "ultrafast", path)
            res = self.path(f"rss{secs}")
            subprocess.run([PEAKRSS, res, VIDFRAMES, "--fps", "2", path], stdout=subprocess.DEVNULL, check=True,
                           timeout=300)
            with open(res) as f:
                code, kib = map(int, f.read().split())
            self.assertEqual(code, 0)
            rss[secs] = kib
        self.assertLess(rss[40], rss[2] * 1.25 + 2048, rss)


if __name__ == "__main__":
    unittest.main()


class TestAnnotatedVideo(VideoCase):
    """The writer behind --annotate on a video: each sent frame (with a red square drawn by
    vidframes) shown until the next one's time, at the source's size and rate."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.media["h264"] = os.path.join(cls.tmp, "cfr.mp4")
        ffmpeg(*source(), "-vf", BITS, "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", cls.media["h264"])
        cls.media["vfr"] = os.path.join(cls.tmp, "vfr.mp4")
        ffmpeg(*source(), "-vf", f"{BITS},{VFR}", "-fps_mode", "passthrough", "-c:v", "libx264", "-crf", "18",
               "-pix_fmt", "yuv420p", cls.media["vfr"])

    def decoded(self, mp4: str) -> list[str]:
        """Every frame of mp4 as a PPM file, decoded by the ffmpeg program."""
        folder = tempfile.mkdtemp(dir=self.tmp)
        ffmpeg("-i", mp4, os.path.join(folder, "%04d.ppm"))
        return [os.path.join(folder, n) for n in sorted(os.listdir(folder))]

    def probe(self, mp4: str) -> str:
        return subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                               "stream=codec_name,width,height,r_frame_rate", "-of", "csv=p=0", mp4],
                              capture_output=True, text=True, check=True).stdout.strip()

    def test_held_until_the_next_at_the_source_rate(self):
        mp4 = self.path("held.mp4")
        rc, lines = self.vidframes(self.media["h264"], "--fps", "2", "--annotate", mp4)
        self.assertEqual((rc, lines[-1]), (0, {"end": True}))
        self.assertEqual(self.probe(mp4), f"h264,{W},{H},30/1")
        frames = self.decoded(mp4)
        self.assertEqual(len(frames), 60)
        for i, ppm in enumerate(frames):
            self.assertEqual(number_in(ppm), 15 * (i // 15), ppm)
        pic = read_ppm(frames[20])
        r, g, b = pic[W - 8, H - 8]
        self.assertTrue(r > 200 and g < 60 and b < 60, (r, g, b))
        self.assertLess(abs(pic[W - 40, H - 8][0] - 128), 12)  # grey left of the square
        self.assertEqual(sorted(os.listdir(self.tmp)).count("held.mp4"), 1)
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(".")], [])

    def test_variable_rate_source_by_time(self):
        mp4 = self.path("vfr-held.mp4")
        rc, lines = self.vidframes(self.media["vfr"], "--fps", "1", "--annotate", mp4)
        self.assertEqual(rc, 0)
        sent = [(ln["frame"], ln["time"]) for ln in lines if "frame" in ln]
        fps = lines[0]["info"]["fps"]
        frames = self.decoded(mp4)
        for i, ppm in enumerate(frames):
            shown = max(n for n, t in sent if t <= i / fps + 1e-6)
            self.assertEqual(number_in(ppm), shown, (i, ppm))

    def test_into_a_fifo_as_fragmented_mp4(self):
        fifo = self.path("out.fifo")
        os.mkfifo(fifo)
        copy = self.path("from-fifo.mp4")
        with open(copy, "wb") as sink:
            reader = subprocess.Popen(["cat", fifo], stdout=sink)
            rc, lines = self.vidframes(self.media["h264"], "--stride", "10", "--annotate", fifo)
            reader.wait(timeout=60)
        self.assertEqual(rc, 0, lines[-1])
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
        frames = self.decoded(copy)
        self.assertEqual(len(frames), 60)
        self.assertEqual([number_in(f) for f in frames[::10]], [0, 10, 20, 30, 40, 50])

    def test_a_failed_video_leaves_nothing(self):
        half = self.path("half.mp4")
        fast = self.path("fast.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x96:r=30:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
               "-movflags", "+faststart", fast)
        with open(fast, "rb") as f:
            data = f.read()
        with open(half, "wb") as f:
            f.write(data[:len(data) // 2])
        folder = tempfile.mkdtemp(dir=self.tmp)
        rc, lines = self.vidframes(half, "--stride", "1", "--annotate", os.path.join(folder, "half.mp4"))
        self.assertEqual(rc, 3)
        self.assertEqual(os.listdir(folder), [])

    def test_unwritable_place_is_one_error(self):
        rc, lines = self.vidframes(self.media["h264"], "--stride", "10", "--annotate",
                                   self.path("missing/dir/x.mp4"))
        self.assertEqual(rc, 11)
        self.assertIn("missing/dir/x.mp4", lines[-1]["error"])
