"""hubpredict val end to end: a generated dataset (tiny PNGs, each of other bytes; labels;
the answer for each image stored in the stand-in by the upload's SHA-256), the real
binary, and its -f json compared with the numpy reference (tests/val/reference.py, run by
Debian's /usr/bin/python3 with python3-numpy) to 1e-6; the metric gates, --junit, failed
images and --allow-failed, --skip-bad-labels, and a bad dataset."""
import json
import math
import os
import random
import struct
import subprocess
import unittest
import xml.etree.ElementTree as ET
import zlib

from harness import BIN, E2E, PLATFORM_KEY, ROOT, sha256_of

VALDIR = os.path.join(ROOT, "tests", "val")
REFERENCE_PY = "/usr/bin/python3"


def png(seed: int) -> bytes:
    """A 2x2 RGB PNG whose pixels (and so bytes) depend on seed."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rng = random.Random(seed)
    raw = b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(6)) for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def reference(data, split, task, preds_path):
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import reference; "
            "print(json.dumps(reference.evaluate(sys.argv[2], sys.argv[3], sys.argv[4], "
            "json.load(open(sys.argv[5])))))")
    p = subprocess.run([REFERENCE_PY, "-c", code, VALDIR, data, split, task, preds_path],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"the numpy reference failed (python3-numpy installed?): {p.stderr}")
    return json.loads(p.stdout)


class Dataset:
    """n images of a detect (or obb) set with nc classes, answers made near the labels."""

    def __init__(self, root, task="detect", nc=3, n=16, seed=1):
        self.root, self.task, self.nc, self.rng = root, task, nc, random.Random(seed)
        self.preds, self.answers, self.images = {}, {}, []
        names = "".join(f"  {i}: class {i}\n" for i in range(nc))
        kpt = "kpt_shape: [4, 3]\n" if task == "pose" else ""
        self.write("data.yaml", f"path: .\nval: images/val\n{kpt}names:\n{names}")
        for i in range(n):
            self.add(i, seed)
        self.write("preds.json", json.dumps(self.preds))

    def write(self, rel, data):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return p

    def obj(self):
        r = self.rng
        xc, yc, w, h = r.uniform(0.25, 0.75), r.uniform(0.25, 0.75), r.uniform(0.1, 0.3), r.uniform(0.1, 0.3)
        return [r.randrange(self.nc), xc, yc, w, h]

    def label_line(self, lab):
        """The label file's line of an object (class, xc, yc, w, h) for the task."""
        c, xc, yc, w, h = lab
        if self.task == "obb":
            return [c, xc - w / 2, yc - h / 2, xc + w / 2, yc - h / 2, xc + w / 2, yc + h / 2, xc - w / 2, yc + h / 2]
        if self.task == "segment":
            return [c] + [v for k in range(6) for v in (xc + w / 2 * math.cos(k * math.pi / 3),
                                                        yc + h / 2 * math.sin(k * math.pi / 3))]
        if self.task == "pose":
            return lab + [v for k in range(4) for v in (xc - w / 4 + w / 6 * k, yc, 2)]
        return lab

    def answer(self, lab, W, H, cls, conf):
        """The stand-in's result and the reference's prediction for an object."""
        _, xc, yc, w, h = lab
        d = self.rng.uniform(-0.02, 0.02)
        box = [(xc - w / 2 + d) * W, (yc - h / 2) * H, (xc + w / 2) * W, (yc + h / 2 + d) * H]
        res = {"class": cls, "name": f"class {cls}", "confidence": conf,
               "box": dict(zip(("x1", "y1", "x2", "y2"), box))}
        pred = {"cls": cls, "conf": conf, "box": box}
        line = self.label_line(lab)
        if self.task == "obb":
            corners = [(v + d) * (W if k % 2 == 0 else H) for k, v in enumerate(line[1:])]
            res["box"] = {f"{a}{k + 1}": corners[2 * k + (a == "y")] for k in range(4) for a in "xy"}
            pred = {"cls": cls, "conf": conf, "obb": corners}
        elif self.task == "segment":
            xs = [(v + d) * W for v in line[1::2]]
            ys = [v * H for v in line[2::2]]
            res["segments"] = {"x": xs, "y": ys}
            pred["poly"] = [[x, y] for x, y in zip(xs, ys)]
        elif self.task == "pose":
            xs = [(v + d) * W for v in line[5::3]]
            ys = [v * H for v in line[6::3]]
            res["keypoints"] = {"x": xs, "y": ys, "visible": [0.9] * len(xs)}
            pred["kpts"] = [[x, y] for x, y in zip(xs, ys)]
        return res, pred

    def add(self, i, seed):
        r, W, H = self.rng, 64, 48
        name = f"im{i:03d}.png"
        img = self.write(f"images/val/{name}", png(seed * 1000 + i))
        self.images.append(img)
        labs = [self.obj() for _ in range(r.choice([0, 1, 2, 3]))]
        self.write(f"labels/val/im{i:03d}.txt",
                   "".join(" ".join(repr(v) for v in self.label_line(ln)) + "\n" for ln in labs))
        preds, results = [], []
        for lab in labs + ([self.obj()] if r.random() < 0.3 else []):
            if r.random() < 0.15:
                continue
            cls = lab[0] if r.random() < 0.85 else (lab[0] + 1) % self.nc
            res, pred = self.answer(lab, W, H, cls, round(r.uniform(0.05, 1), 4))
            preds.append(pred)
            results.append(res)
        self.preds[name] = {"shape": [H, W], "preds": preds}
        self.answers[sha256_of(img)] = {"images": [{"results": results, "shape": [H, W]}]}


class ValE2E(E2E):
    def val(self, *args, **kw):
        return self.run_hp("val", "-u", self.platform_url(), "--api", "platform", "--no-progress", *args,
                           key=PLATFORM_KEY, **kw)

    def same(self, got, ref, what):
        self.assertLessEqual(abs(got - ref), 1e-6, f"{what}: {got} != {ref}")

    def compare_detect(self, doc, ref, other=None):
        self.assertEqual(doc["images"], ref["images"])
        self.assertEqual(doc["instances"], ref["instances"])
        for k in ("precision", "recall", "map50", "map75", "map50_95", "fitness"):
            self.same(doc["metrics"]["box"][k], ref["box"][k], f"box.{k}")
            if other:
                self.same(doc["metrics"][other][k], ref["other"][k], f"{other}.{k}")
        self.assertEqual([c["class"] for c in doc["classes"]], [c["class"] for c in ref["classes"]])
        for c, rc in zip(doc["classes"], ref["classes"]):
            self.assertEqual((c["images"], c["instances"]), (rc["images"], rc["instances"]))
            for j, k in enumerate(("precision", "recall", "map50", "map50_95")):
                self.same(c["box"][k], rc["box"][j], f"class {c['class']} box.{k}")


class TestMetrics(ValE2E):
    def test_detect_json_equals_reference(self):
        ds = Dataset(self.path("ds"), n=24, seed=3)
        self.server.set_answers(ds.answers)
        data = os.path.join(ds.root, "data.yaml")
        r = self.val("-f", "json", "-j", "3", data)
        self.assertEqual(r.rc, 0, r)
        doc = r.json()
        self.assertEqual((doc["task"], doc["split"], doc["conf"], doc["failed"]), ("detect", "val", 0.01, []))
        self.assertEqual(doc["data"], data)
        self.compare_detect(doc, reference(data, "val", "detect", os.path.join(ds.root, "preds.json")))
        self.assertEqual(doc["classes"][0]["name"], "class 0")
        self.assertIn("cut at conf 0.01", r.err)
        # conf 0.01 was sent with every image, none other
        confs = {rec["fields"].get("conf") for rec in self.server.log() if rec["path"].endswith("/predict")}
        self.assertEqual(confs, {"0.01"})

    def test_segment_pose_obb_equal_reference(self):
        for task, other in (("segment", "mask"), ("pose", "pose"), ("obb", None)):
            with self.subTest(task=task):
                ds = Dataset(self.path(task), task=task, n=16, seed=21)
                self.server.set_answers(ds.answers)
                data = os.path.join(ds.root, "data.yaml")
                r = self.val("-f", "json", data)
                self.assertEqual(r.rc, 0, r)
                doc = r.json()
                self.assertEqual(doc["task"], task)
                ref = reference(data, "val", task, os.path.join(ds.root, "preds.json"))
                self.compare_detect(doc, ref, other)
                if other:
                    t = self.val(data).out.splitlines()[0]
                    self.assertTrue(t.endswith(f"{other.capitalize()}(P          R      mAP50  mAP50-95)"), t)

    def test_conf_given_is_sent_and_stated(self):
        ds = Dataset(self.path("ds"), n=4, seed=4)
        self.server.set_answers(ds.answers)
        r = self.val("-f", "json", "-c", "0.3", os.path.join(ds.root, "data.yaml"))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["conf"], 0.3)
        confs = {rec["fields"].get("conf") for rec in self.server.log() if rec["path"].endswith("/predict")}
        self.assertEqual(confs, {"0.3"})

    def test_table_and_csv(self):
        ds = Dataset(self.path("ds"), n=8, seed=5)
        self.server.set_answers(ds.answers)
        data = os.path.join(ds.root, "data.yaml")
        r = self.val(data)
        self.assertEqual(r.rc, 0, r)
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split(), ["Class", "Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)"])
        self.assertEqual(lines[1].split()[0:2], ["all", "8"])
        self.assertEqual(len(lines[0]), 22 + 11 * 6)
        c = self.val("-f", "csv", data)
        rows = c.csv()
        self.assertEqual(rows[0], ["class", "images", "instances", "box_p", "box_r", "box_map50", "box_map50_95"])
        j = self.val("-f", "json", data).json()
        self.assertEqual(float(rows[1][5]), j["metrics"]["box"]["map50"])
        self.assertEqual(len(rows), 2 + len(j["classes"]))

    def test_classify_top1_top5(self):
        names = ["cat", "dog", "fox", "owl", "yak", "zebu"]
        rng, preds, answers = random.Random(7), {}, {}
        for c, name in enumerate(names):
            for i in range(rng.randint(1, 4)):
                f = f"{name}{i}.png"
                img = self.write(f"cls/val/{name}/{f}", png(100 * c + i))
                top = rng.sample(range(len(names)), 5)
                if rng.random() < 0.5:
                    top[0] = c
                preds[f] = {"top": top}
                answers[sha256_of(img)] = {"images": [{"shape": [2, 2], "results": [
                    {"class": k, "name": names[k], "confidence": round(0.9 - 0.1 * j, 2)}
                    for j, k in enumerate(top)]}]}
        self.write("cls/preds.json", json.dumps(preds).encode())
        self.server.set_answers(answers)
        r = self.val("-f", "json", self.path("cls"))
        self.assertEqual(r.rc, 0, r)
        ref = reference(self.path("cls"), "val", "classify", self.path("cls/preds.json"))
        doc = r.json()
        self.assertEqual(doc["task"], "classify")
        self.same(doc["metrics"]["top1"], ref["top1"], "top1")
        self.same(doc["metrics"]["top5"], ref["top5"], "top5")
        t = self.val(self.path("cls"))
        self.assertEqual(t.out.splitlines()[0].split(), ["Class", "Images", "Instances", "top1_acc", "top5_acc"])


class TestGates(ValE2E):
    def setUp(self):
        super().setUp()
        self.ds = Dataset(self.path("ds"), n=12, seed=9)
        self.server.set_answers(self.ds.answers)
        self.data = os.path.join(self.ds.root, "data.yaml")

    def test_met_and_unmet(self):
        m = self.val("-f", "json", self.data).json()["metrics"]["box"]["map50"]
        ok = self.val("--expect", f"map50>={m - 0.01}", "--expect", "recall>0", self.data)
        self.assertEqual(ok.rc, 0, ok)
        bad = self.val("--expect", f"map50>={m + 0.01}", "--expect", "recall>0",
                       "--expect", "class 1:map50_95>1", "--expect", "mask.map50>0.1", self.data)
        self.assertEqual(bad.rc, 1, bad)
        self.assertIn(f"expected map50>={m + 0.01}, found", bad.err)
        self.assertIn("expected class 1:map50_95>1, found", bad.err)
        self.assertIn("expected mask.map50>0.1, but the model's answers have no mask metrics", bad.err)
        self.assertNotIn("recall>0", bad.err)

    def test_bad_gate_is_usage(self):
        for g in ("map50", "map51>=0.5", "map50>=x", "person:fitness>0.5", "mask.top1>0.1", ":map50>0"):
            r = self.val("--expect", g, self.data)
            self.assertEqual(r.rc, 2, (g, r))
            self.assertIn(f"--expect '{g}'", r.err)
            self.assertEqual(self.server.log(), [])

    def test_junit_one_case_per_gate_and_class(self):
        xml = self.path("val.xml")
        r = self.val("--junit", xml, "--expect", "map50>=2", "--expect", "precision>=0", self.data)
        self.assertEqual(r.rc, 1, r)
        suite = ET.parse(xml).getroot().find("testsuite")
        cases = suite.findall("testcase")
        n_classes = len(self.val("-f", "json", self.data).json()["classes"])
        self.assertEqual(len(cases), 2 + n_classes)
        self.assertEqual(suite.get("failures"), "1")
        self.assertEqual(cases[0].get("name"), "map50>=2")
        self.assertIsNotNone(cases[0].find("failure"))
        self.assertIsNone(cases[1].find("failure"))
        self.assertTrue(cases[2].get("name").startswith("class "))


    def test_example_ci_val(self):
        m = self.val("-f", "json", self.data).json()["metrics"]["box"]["map50"]
        env = self.hp_env(PLATFORM_KEY, {"HUBPREDICT": BIN, "HUBPREDICT_URL": self.platform_url(),
                                         "EXPECT": f"map50>={m} recall>1"})
        p = subprocess.run([os.path.join(ROOT, "examples", "ci-val.sh"), self.data], cwd=self.tmp.name,
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("expected recall>1, found", p.stderr)
        with open(self.path("val.json")) as f:
            self.assertEqual(json.load(f)["metrics"]["box"]["map50"], m)
        cases = ET.parse(self.path("val-junit.xml")).getroot().find("testsuite").findall("testcase")
        self.assertEqual([c.find("failure") is None for c in cases[:2]], [True, False])


    def test_resume_skipped_images_are_named(self):
        log = self.path("val.jsonl")
        first = self.val("-f", "json", "--resume", log, self.data)
        self.assertEqual(first.rc, 0, first)
        self.assertEqual(first.json()["images"], 12)
        again = self.val("-f", "json", "--resume", log, self.data)
        self.assertEqual(again.rc, 0, again)
        self.assertEqual(again.json()["images"], 0)
        self.assertIn("val: --resume: 12 images answered in the log are not in the metrics", again.err)


class TestFailures(ValE2E):
    def setUp(self):
        super().setUp()
        self.ds = Dataset(self.path("ds"), n=6, seed=11)
        bad = sha256_of(self.ds.images[2])
        self.ds.answers[bad] = {"_status": 500}
        self.server.set_answers(self.ds.answers)
        self.data = os.path.join(self.ds.root, "data.yaml")

    def test_failed_image_listed_and_its_code(self):
        r = self.val("-f", "json", "--retries", "0", self.data)
        self.assertEqual(r.rc, 8, r)
        doc = r.json()
        self.assertEqual(doc["failed"], [self.ds.images[2]])
        self.assertEqual(doc["images"], 5)
        self.assertIn("failed: '" + self.ds.images[2] + "'", r.err)

    def test_allow_failed(self):
        r = self.val("-f", "json", "--retries", "0", "--allow-failed", "1", self.data)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["failed"], [self.ds.images[2]])
        self.assertIn("1 failed image left out of the metrics (--allow-failed 1)", r.err)


class TestDataset(ValE2E):
    def setUp(self):
        super().setUp()
        self.ds = Dataset(self.path("ds"), n=5, seed=13)
        self.server.set_answers(self.ds.answers)
        self.data = os.path.join(self.ds.root, "data.yaml")
        self.bad = self.ds.write("labels/val/im003.txt", "0 0.5 0.5 0.1 0.1\n7 0.5 0.5 0.1 0.1\n")

    def test_bad_label_exit_3_nothing_sent(self):
        r = self.val(self.data)
        self.assertEqual(r.rc, 3, r)
        self.assertIn(":2: class 7 is beyond the 3 names", r.err)
        self.assertIn("im003.txt'", r.err)
        self.assertEqual(self.server.log(), [])

    def test_skip_bad_labels(self):
        r = self.val("-f", "json", "--skip-bad-labels", self.data)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("warning: ", r.err)
        self.assertIn("left out (--skip-bad-labels)", r.err)
        self.assertEqual(r.json()["images"], 4)
        sent = {rec["file"]["sha256"] for rec in self.server.log() if rec["file"]}
        self.assertNotIn(sha256_of(self.ds.images[3]), sent)
        self.assertEqual(len(sent), 4)

    def test_missing_split(self):
        r = self.val("--split", "test", self.data)
        self.assertEqual(r.rc, 3, r)
        self.assertIn("no 'test' split", r.err)

    def test_one_data_only(self):
        self.assertEqual(self.val().rc, 2)
        self.assertEqual(self.val(self.data, self.data).rc, 2)
        r = self.val("-f", "jsonl", self.data)
        self.assertEqual(r.rc, 2, r)


if __name__ == "__main__":
    unittest.main()
