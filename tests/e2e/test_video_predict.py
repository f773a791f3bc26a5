"""Videos through the binary (SPEC §13, hubpredict(1) "Video"): the video module,
hubpredict-video.so, is loaded only by a run that cuts a video: --version and an image run map no
libav* (/proc/PID/maps, the dynamic loader's account)."""

from __future__ import annotations

import os
import subprocess
import time
import unittest

from harness import BIN, E2E, TIMEOUT, image

VIDFRAMES = os.environ.get("HUBPREDICT_VIDFRAMES", "")


def mapped(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as f:
        return {os.path.basename(line.split()[5]) for line in f if len(line.split()) >= 6}


def libav(names: set[str]) -> set[str]:
    return {n for n in names if n.startswith(("libavformat", "libavcodec", "libswscale", "libavutil"))
            or n == "hubpredict-video.so"}


class TestLoadedOnFirstVideo(E2E):
    @classmethod
    def setUpClass(cls):
        if not VIDFRAMES:
            raise unittest.SkipTest("a build without video support (HUBPREDICT_VIDEO=OFF)")
        super().setUpClass()

    def maps_while_waiting(self, *args) -> set[str]:
        """What a run maps while it waits for its first answer (the stand-in holds it 1 s)."""
        self.server.push({"delay": 1})
        p = self.popen_hp("-u", self.hub_url(), "-f", "jsonl", *args, wrapper=False,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        names = set()
        deadline = time.monotonic() + TIMEOUT
        try:
            while time.monotonic() < deadline and p.poll() is None:
                fds = os.listdir(f"/proc/{p.pid}/fd")
                if any(os.readlink(f"/proc/{p.pid}/fd/{fd}").startswith("socket:")
                       for fd in fds if os.path.exists(f"/proc/{p.pid}/fd/{fd}")):
                    names = mapped(p.pid)
                    break
                time.sleep(0.01)
        except FileNotFoundError:
            pass
        r = self.wait_hp(p)
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(any(n.startswith("libcurl") for n in names), f"maps not read while it waited: {names}")
        return names

    def test_an_image_run_maps_no_libav(self):
        self.assertEqual(libav(self.maps_while_waiting(image("street.jpg"))), set())

    def test_version_maps_none_and_says_video(self):
        p = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=TIMEOUT,
                           env=self.hp_env(None, {"LD_DEBUG": "files"}))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^video support yes \(module; FFmpeg libavformat\.so\.\d+ ")
        loaded = {os.path.basename(line.split("file=")[1].split()[0]) for line in p.stderr.splitlines()
                  if "file=" in line and ("needed by" in line or "dynamically loaded" in line)}
        self.assertTrue(any(n.startswith("libcurl") for n in loaded), p.stderr[:2000])
        self.assertEqual(libav(loaded), set())


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
