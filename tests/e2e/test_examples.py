"""The examples run against the stand-in: examples/ci-smoke.sh, examples/cron-label.sh,
examples/nightly-dedicated.sh, and demo.sh's val run on the bundled examples/dataset/."""

import json
import os
import shutil
import subprocess
import unittest
import xml.etree.ElementTree as ET

from harness import BIN, E2E, HUB_KEY, PLATFORM_KEY, ROOT, TIMEOUT, image

CI_SMOKE = os.path.join(ROOT, "examples", "ci-smoke.sh")
CRON_LABEL = os.path.join(ROOT, "examples", "cron-label.sh")
NIGHTLY = os.path.join(ROOT, "examples", "nightly-dedicated.sh")
DEMO = os.path.join(ROOT, "examples", "demo.sh")
DATASET = os.path.join(ROOT, "examples", "dataset")


class TestExamples(E2E):

    def env(self, **extra):
        e = self.hp_env(HUB_KEY, {"HUBPREDICT": BIN, "HUBPREDICT_URL": self.hub_url("detect")})
        e.update(extra)
        return e

    def run_script(self, *args, **env):
        p = subprocess.run(["bash"] + [str(a) for a in args], cwd=self.tmp.name, env=self.env(**env),
                           capture_output=True, text=True, timeout=120)
        self.assertNotIn(HUB_KEY, p.stdout + p.stderr)
        self.assertNotIn(PLATFORM_KEY, p.stdout + p.stderr)
        return p

    def images(self):
        d = self.path("smoke")
        os.makedirs(d)
        for n in ("street.jpg", "cat.png", "people.png"):
            shutil.copyfile(image(n), os.path.join(d, n))
        return d

    def junit(self):
        root = ET.parse(self.path("smoke-junit.xml")).getroot()
        return int(root.get("tests")), int(root.get("failures")), int(root.get("errors"))

    def test_ci_smoke(self):
        imgs = self.images()
        base = self.path("baseline.json")
        p = self.run_script(CI_SMOKE, imgs, UPDATE_BASELINE="1", BASELINE=base)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(base) as f:
            self.assertEqual(len(json.load(f)), 3)
        # the same answers: expectations hold, no baseline difference
        p = self.run_script(CI_SMOKE, imgs, BASELINE=base, EXPECT="person car>=1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.junit(), (3, 0, 0))
        # an expectation that does not hold: exit 1, one failure per input
        p = self.run_script(CI_SMOKE, imgs, BASELINE=base, EXPECT="person>=3")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("expected person>=3, found 1", p.stderr)
        self.assertEqual(self.junit(), (3, 3, 0))
        # the model changed: a box moved far away on every answer
        moved = {"images": [{"results": [
            {"class": 0, "name": "person", "confidence": 0.92, "box": {"x1": 500, "y1": 500, "x2": 520, "y2": 520}},
            {"class": 2, "name": "car", "confidence": 0.87, "box": {"x1": 1, "y1": 1, "x2": 2, "y2": 2}}],
            "shape": [1080, 810]}]}
        self.server.push({"body": moved, "repeat": -1})
        p = self.run_script(CI_SMOKE, imgs, BASELINE=base)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("baseline:", p.stderr)
        tests, failures, errors = self.junit()
        self.assertEqual((tests, errors), (3, 0))
        self.assertGreaterEqual(failures, 1)
        # a failed request wins over the checks: exit 4 with a wrong key
        self.server.reset()
        p = self.run_script(CI_SMOKE, imgs, BASELINE=base, ULTRALYTICS_API_KEY="0" * 42)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertEqual(self.junit()[2], 3)

    def test_ci_smoke_needs_a_key(self):
        p = self.run_script(CI_SMOKE, self.images(), ULTRALYTICS_API_KEY="")
        self.assertEqual(p.returncode, 2)
        self.assertIn("ULTRALYTICS_API_KEY", p.stderr)

    def test_cron_label(self):
        day = self.path("cam/2026-11-28")
        os.makedirs(os.path.join(day, "door"))
        shutil.copyfile(image("street.jpg"), os.path.join(day, "a.jpg"))
        shutil.copyfile(image("cat.png"), os.path.join(day, "door", "b.png"))
        with open(os.path.join(day, "notes.txt"), "w") as f:
            f.write("not an image\n")
        dataset = self.path("dataset")
        p = self.run_script(CRON_LABEL, day, dataset, RATE="50/s", MIN_CONF="0.9")
        self.assertEqual(p.returncode, 0, p.stderr)
        labels = os.path.join(dataset, "labels", "2026-11-28")
        with open(os.path.join(labels, "a.txt")) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 1)  # --min-conf 0.9 keeps the person (0.92), not the car (0.87)
        self.assertTrue(lines[0].startswith("0 "))
        self.assertTrue(os.path.exists(os.path.join(labels, "door", "b.txt")))
        self.assertFalse(os.path.exists(os.path.join(labels, "notes.txt")))
        with open(os.path.join(dataset, "logs", "2026-11-28.jsonl")) as f:
            log = [json.loads(line) for line in f]
        self.assertEqual(sorted(e["file"] for e in log), [f"{day}/a.jpg", f"{day}/door/b.png"])
        # a missing day folder: exit 3, nothing written
        p = self.run_script(CRON_LABEL, self.path("cam/nope"), dataset)
        self.assertEqual(p.returncode, 3)

    def nightly(self, images, out, **env):
        return self.run_script(NIGHTLY, images, out, ULTRALYTICS_API_KEY=PLATFORM_KEY,
                               ULTRALYTICS_PLATFORM_URL=self.server.url, HUBPREDICT_URL="", **env)

    def test_nightly_dedicated(self):
        self.server.set_deploy_timings(deploying=1.0, stopping=0.5)
        self.server.add_deployment("cam", status="stopped")
        images = self.images()
        out = self.path("night")
        p = self.nightly(images, out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "results.jsonl")) as f:
            log = [json.loads(line) for line in f]
        self.assertEqual(len(log), 3)
        self.assertEqual(sorted(os.listdir(os.path.join(out, "labels"))), ["cat.txt", "people.txt", "street.txt"])
        self.assertEqual(self.server.deployments.get("cam")["status"], "stopped")
        methods = [(r["method"], (r.get("json") or {}).get("action")) for r in self.server.log()
                   if r["method"] == "PATCH"]
        self.assertEqual(methods, [("PATCH", "start"), ("PATCH", "stop")])
        self.assertEqual(sum("/_svc/" in r["path"] for r in self.server.log()), 3)

    def test_nightly_dedicated_stops_when_the_prediction_failed(self):
        self.server.set_deploy_timings(deploying=0.5, stopping=0.5)
        self.server.add_deployment("cam", status="stopped")
        self.server.push({"match": "/_svc/", "status": 401, "body": {"error": "Invalid API key"},
                          "repeat": -1})
        p = self.nightly(self.images(), self.path("night"))
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertEqual(self.server.deployments.get("cam")["status"], "stopped")
        # a missing folder: exit 3, nothing sent
        p = self.nightly(self.path("nope"), self.path("night2"))
        self.assertEqual(p.returncode, 3)

    def test_demo_val_on_the_bundled_dataset(self):
        """demo.sh's val section, run as the demo runs it (from the repository's root, the key
        in the environment): the table's header, the `all` row over the three images and six
        labelled objects with numbers neither 0 nor perfect, and a row per labelled class."""
        with open(DEMO) as f:
            self.assertIn('"$hubpredict" val -u "$(hub detect)" examples/dataset/data.yaml', f.read())
        r = self.run_hp("val", "-u", self.hub_url("detect"), "examples/dataset/data.yaml", cwd=ROOT)
        self.assertEqual(r.rc, 0, r.err)
        rows = [line.split() for line in r.out.splitlines() if line.strip()]
        self.assertEqual(rows[0], ["Class", "Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)"])
        self.assertEqual(rows[1][:3], ["all", "3", "6"])
        for value in rows[1][3:]:
            self.assertTrue(0 < float(value) < 0.99, rows[1])
        self.assertEqual([row[0] for row in rows[2:]], ["person", "car", "cat"])
        self.assertEqual(len(self.server.log()), 3)
        # the dataset's images are the sample images' bytes: one picture, two copies
        for name in os.listdir(os.path.join(DATASET, "images", "val")):
            with open(os.path.join(DATASET, "images", "val", name), "rb") as a, open(image(name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_demo_video_section(self):
        """demo.sh's video section, its own lines run in a shell against the stand-in: the clip made
        by ffmpeg, cut at --fps 2 (six frames, a table block each under the video's heading) and drawn into an MP4 of its 30
        frames at 540x480."""
        if not os.environ.get("HUBPREDICT_VIDFRAMES"):
            self.skipTest("a build without video support (HUBPREDICT_VIDEO=OFF)")
        with open(DEMO) as f:
            demo = f.read()
        start = demo.index("# ---- a video cut into frames here")
        section = demo[start:demo.index('heading "a whole folder as csv', start)]
        script = ("set -euo pipefail\nheading() { printf '\\n== %s ==\\n' \"$*\"; }\n"
                  f"hub() {{ echo {self.server.url}/v1/predict/$1; }}\n" + section)
        env = self.hp_env(HUB_KEY, {"hubpredict": BIN, "img": "examples/images", "tmp": self.tmp.name,
                                    "pictures": self.path("pictures"), "root": ROOT})
        p = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"{self.path('street.mp4')}  detect  video\n", p.stdout)
        self.assertEqual([line.split("  ")[:2] for line in p.stdout.splitlines() if line.startswith("frame ")],
                         [[f"frame {n}", f"{n / 10:.3f} s"] for n in (0, 5, 10, 15, 20, 25)])
        self.assertIn("street.mp4 (540 480 30 frames", p.stdout)
        self.assertEqual(len(self.server.log()), 12)


    def test_demo_bench_prints_the_table(self):
        """demo.sh's bench section: 5 s at 20/s against the bench model (its 1 s stall at 2 s
        in p90), the table on stdout."""
        with open(DEMO) as f:
            self.assertIn('"$hubpredict" bench -u "$(hub bench)" --rate 20/s --duration 5 "$img/street.jpg"', f.read())
        r = self.run_hp("bench", "-u", self.hub_url("bench"), "--rate", "20/s", "--duration", "5", image("street.jpg"))
        self.assertEqual(r.rc, 0, r.err)
        rows = {line[:16].strip(): line[16:].split() for line in r.out.splitlines()[1:] if line.strip()}
        self.assertEqual(rows["requests"], ["100"])
        self.assertEqual(rows["mode"], ["open", "20/s"])
        self.assertGreater(float(rows["latency p99"][0]), 500, r.out)  # the stall
        self.assertEqual(len(self.server.log()), 100)


if __name__ == "__main__":
    unittest.main()
