"""--baseline, --baseline-iou and --baseline-conf against the stand-in: record a baseline with
-f json, run again, and compare.

Scripted answers (self.server.push) give exact coordinates; the stand-in's own answers are
scaled to each image, which is fine for match tests (same image, same answer).
"""

import json
import math
import unittest

from harness import E2E, HUB_KEY, PLATFORM_KEY, image

IMG = image("street.jpg")
CAT = image("cat.png")
TASKS = ["classify", "detect", "obb", "segment", "pose"]
PLATFORM_TASKS = ["semantic", "depth"]


def det(name, cls, conf, x1, y1, x2, y2):
    return {"class": cls, "name": name, "confidence": conf,
            "box": {"x1": x1, "y1": y1, "x2": x2, "y2": y2}}


def body(*results, frames=None):
    if frames is not None:
        return {"images": [{"results": list(f), "shape": [480, 640]} for f in frames]}
    return {"images": [{"results": list(results), "shape": [480, 640]}]}


PERSON = det("person", 0, 0.92, 100, 50, 300, 400)
CAR = det("car", 2, 0.87, 400, 200, 600, 350)
BASE = body(PERSON, CAR)


def obb(angle_deg, cx=200.0, cy=200.0, w=80.0, h=80.0, conf=0.9):
    """An oriented box: a w x h rectangle centred at (cx, cy), turned by angle_deg."""
    a = math.radians(angle_deg)
    pts = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y = dx * w / 2, dy * h / 2
        pts.append((cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a)))
    box = {}
    for i, (x, y) in enumerate(pts, 1):
        box[f"x{i}"] = round(x, 4)
        box[f"y{i}"] = round(y, 4)
    return {"class": 0, "name": "ship", "confidence": conf, "box": box}


def classify(*pairs):
    return body(*[{"class": i, "name": n, "confidence": c} for i, (n, c) in enumerate(pairs)])


class BaselineBase(E2E):

    def hp(self, *args, model="detect"):
        return self.run_hp("-u", self.hub_url(model), *args)

    def record(self, *inputs, model="detect", answers=(), platform=False):
        """Run -f json -o base.json on inputs (answers pushed first); the baseline's path."""
        for a in answers:
            self.server.push({"body": a})
        base = self.path("base.json")
        url = self.platform_url(model) if platform else self.hub_url(model)
        r = self.run_hp("-u", url, "-f", "json", "-o", base, *inputs, key=PLATFORM_KEY if platform else HUB_KEY)
        self.assertExit(r, 0)
        return base

    def errors(self, r):
        return [ln for ln in r.err.splitlines() if not ln.startswith("hubpredict: summary:")]

    def changed(self, new_body, *extra, base_body=BASE, model="detect"):
        """Record base_body as the baseline, then answer new_body: the run's result."""
        base = self.record(IMG, model=model, answers=[base_body])
        self.server.push({"body": new_body})
        return self.hp("--baseline", base, *extra, IMG, model=model)


class TestSameAnswers(BaselineBase):

    def test_every_task_matches_itself(self):
        for task in TASKS:
            with self.subTest(task=task):
                base = self.record(IMG, CAT, model=task)
                r = self.hp("--baseline", base, IMG, CAT, model=task)
                self.assertExit(r, 0)
                self.assertEqual(self.errors(r), [])

    def test_platform_tasks_match_themselves(self):
        for task in PLATFORM_TASKS + ["detect"]:
            with self.subTest(task=task):
                base = self.record(IMG, model=task, platform=True)
                r = self.run_hp("-u", self.platform_url(task), "--baseline", base, IMG, key=PLATFORM_KEY)
                self.assertExit(r, 0)
                self.assertEqual(self.errors(r), [])

    def test_jsonl_baseline(self):
        base = self.path("base.jsonl")
        r = self.hp("-f", "jsonl", "-o", base, IMG, CAT)
        self.assertExit(r, 0)
        r = self.hp("--baseline", base, IMG, CAT)
        self.assertExit(r, 0)
        self.assertEqual(self.errors(r), [])

    def test_video_frames(self):
        frames = [[PERSON], [PERSON, CAR], []]
        r = self.changed(body(frames=frames), base_body=body(frames=frames))
        self.assertExit(r, 0)
        self.assertEqual(self.errors(r), [])

    def test_json_output_unchanged_by_baseline(self):
        plain = self.hp("-f", "json", IMG).json()
        base = self.record(IMG)
        self.server.push({"body": body(PERSON)})
        r = self.hp("-f", "json", "--baseline", base, IMG)
        self.assertExit(r, 1)
        self.assertEqual(r.json()[0]["response"], body(PERSON))
        r = self.hp("-f", "json", "--baseline", base, IMG)
        self.assertExit(r, 0)
        self.assertEqual(r.json()[0]["response"], plain[0]["response"])


class TestDifferences(BaselineBase):

    def test_box_moved(self):
        r = self.changed(body(PERSON, det("car", 2, 0.87, 500, 200, 700, 350)))
        self.assertExit(r, 1)
        self.assertEqual(self.errors(r), [
            f"hubpredict: {IMG}: baseline: car at (400,200,600,350) has no match (best IoU 0.33)",
            f"hubpredict: {IMG}: baseline: car at (500,200,700,350) is new (best IoU 0.33)"])
        # the answer is still shown
        self.assertIn("2 results", r.out)

    def test_count_changed(self):
        r = self.changed(body(PERSON, PERSON | {"box": {"x1": 350, "y1": 50, "x2": 380, "y2": 100}}, CAR))
        self.assertExit(r, 1)
        self.assertEqual(self.errors(r), [
            f"hubpredict: {IMG}: baseline: person 1 -> 2",
            f"hubpredict: {IMG}: baseline: person at (350,50,380,100) is new (best IoU 0.00)"])
        r = self.changed(body(PERSON))
        self.assertExit(r, 1)
        self.assertEqual(self.errors(r)[0], f"hubpredict: {IMG}: baseline: car 1 -> 0")

    def test_confidence_beyond_tolerance(self):
        r = self.changed(body(PERSON | {"confidence": 0.70}, CAR))
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: baseline: person at (100,50,300,400) confidence 0.92 -> 0.7\n")

    def test_thresholds_change_the_verdict(self):
        moved = body(PERSON, det("car", 2, 0.87, 500, 200, 700, 350))   # IoU 1/3
        r = self.changed(moved, "--baseline-iou", "0.3")
        self.assertExit(r, 0)
        self.assertEqual(self.errors(r), [])
        r = self.changed(body(PERSON | {"confidence": 0.70}, CAR), "--baseline-conf", "0.25")
        self.assertExit(r, 0)
        self.assertEqual(self.errors(r), [])
        # a tiny shift fails a strict IoU
        r = self.changed(body(PERSON | {"box": {"x1": 101, "y1": 50, "x2": 301, "y2": 400}}, CAR),
                         "--baseline-iou", "0.999")
        self.assertExit(r, 1)
        self.assertIn("person at (100,50,300,400) has no match (best IoU 0.99)", r.err)
        # a strict confidence tolerance
        r = self.changed(body(PERSON | {"confidence": 0.91}, CAR), "--baseline-conf", "0")
        self.assertExit(r, 1)
        self.assertIn("confidence 0.92 -> 0.91", r.err)

    def test_classify_top1(self):
        base = classify(("cat", 0.95), ("dog", 0.03))
        r = self.changed(classify(("dog", 0.6), ("cat", 0.3)), base_body=base, model="classify")
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: baseline: top-1 cat -> dog\n")
        r = self.changed(classify(("cat", 0.7), ("dog", 0.2)), base_body=base, model="classify")
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: baseline: top-1 cat confidence 0.95 -> 0.7\n")
        # only the top-1 counts
        r = self.changed(classify(("cat", 0.9)), base_body=base, model="classify")
        self.assertExit(r, 0)

    def test_obb_rotated(self):
        base = body(obb(0))
        r = self.changed(body(obb(10)), base_body=base, model="obb")
        self.assertExit(r, 0)      # IoU about 0.84
        # a square turned by 45 degrees: IoU 0.71, enough for the default 0.5 but not for 0.8
        r = self.changed(body(obb(45)), base_body=base, model="obb")
        self.assertExit(r, 0)
        r = self.changed(body(obb(45)), "--baseline-iou", "0.8", base_body=base, model="obb")
        self.assertExit(r, 1)
        self.assertEqual(len(self.errors(r)), 2, r)
        self.assertIn("baseline: ship at (160,160,240,160,240,240,160,240) has no match (best IoU 0.71)", r.err)
        self.assertIn("is new (best IoU 0.71)", r.err)
        # a long thin box turned by 90 degrees: only the 20 x 20 crossing in common
        thin = body(obb(0, w=200, h=20))
        r = self.changed(body(obb(90, w=200, h=20)), base_body=thin, model="obb")
        self.assertExit(r, 1)
        self.assertIn("baseline: ship at (100,190,300,190,300,210,100,210) has no match (best IoU 0.05)", r.err)

    def test_segment_and_pose_compare_boxes(self):
        seg = PERSON | {"segments": {"x": [100, 300, 200], "y": [50, 50, 400]}}
        r = self.changed(body(seg | {"box": {"x1": 200, "y1": 50, "x2": 400, "y2": 400}}), base_body=body(seg),
                         model="segment")
        self.assertExit(r, 1)
        self.assertIn("person at (100,50,300,400) has no match (best IoU 0.33)", r.err)
        pose = PERSON | {"keypoints": {"x": [1, 2], "y": [3, 4], "visible": [0.9, 0.9]}}
        r = self.changed(body(pose | {"confidence": 0.5}), base_body=body(pose), model="pose")
        self.assertExit(r, 1)
        self.assertIn("person at (100,50,300,400) confidence 0.92 -> 0.5", r.err)

    def test_video_frame_count_and_frames(self):
        base = body(frames=[[PERSON], [PERSON, CAR], []])
        r = self.changed(body(frames=[[PERSON], [PERSON]]), base_body=base)
        self.assertExit(r, 1)
        self.assertEqual(self.errors(r), [
            f"hubpredict: {IMG}: baseline: frame count 3 -> 2",
            f"hubpredict: {IMG}: baseline: frame 1: car 1 -> 0",
            f"hubpredict: {IMG}: baseline: frame 1: car at (400,200,600,350) has no match (best IoU 0.00)"])

    def test_filters_apply_to_both_sides(self):
        low_car = body(PERSON, CAR | {"confidence": 0.3})
        # the car is gone now; with --min-conf 0.5 it is dropped from the baseline too
        r = self.changed(body(PERSON), "--min-conf", "0.5", base_body=low_car)
        self.assertExit(r, 0)
        self.assertEqual(self.errors(r), [])
        r = self.changed(body(PERSON), "--classes", "person", base_body=low_car)
        self.assertExit(r, 0)
        r = self.changed(body(PERSON), base_body=low_car)
        self.assertExit(r, 1)

    def test_expectations_first_then_differences(self):
        r = self.changed(body(PERSON), "--expect", "car")
        self.assertExit(r, 1)
        errs = self.errors(r)
        self.assertEqual(errs[0], f"hubpredict: {IMG}: expected car>=1, found 0")
        self.assertEqual(errs[1], f"hubpredict: {IMG}: baseline: car 1 -> 0")

    def test_summary_counts_differences(self):
        base = self.record(IMG, CAT, answers=[BASE, BASE])
        self.server.push({"body": body(PERSON)})
        self.server.push({"body": BASE})
        r = self.hp("-j", "1", "--baseline", base, IMG, CAT)
        self.assertExit(r, 1)
        self.assertRegex(r.err, r"hubpredict: summary: 2 inputs: 2 succeeded, 0 failed in .*"
                                r"\), 2 baseline differences\n")


class TestMissingAndFailed(BaselineBase):

    def test_input_missing_from_baseline(self):
        base = self.record(IMG)
        r = self.hp("-j", "1", "--baseline", base, IMG, CAT)
        self.assertExit(r, 1)
        self.assertEqual(self.errors(r), [f"hubpredict: {CAT}: baseline: not in the baseline"])

    def test_error_in_baseline_answer_now(self):
        self.server.push({"status": 404})
        base = self.path("base.json")
        r = self.hp("-f", "json", "-o", base, IMG)
        self.assertExit(r, 5)
        r = self.hp("--baseline", base, IMG)
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: baseline: failed in the baseline (exit 5), answered now\n")

    def test_failed_now_is_only_its_failure(self):
        base = self.record(IMG)
        self.server.push({"status": 404})
        r = self.hp("--baseline", base, IMG)
        self.assertExit(r, 5)
        self.assertOneLineError(r, "404")
        self.assertNotIn("baseline:", r.err)

    def test_request_failure_wins(self):
        base = self.record(IMG, CAT, answers=[BASE, BASE])
        self.server.push({"body": body(PERSON)})
        self.server.push({"status": 404})
        r = self.hp("-j", "1", "--baseline", base, IMG, CAT)
        self.assertExit(r, 5)
        errs = self.errors(r)
        self.assertEqual(errs[0], f"hubpredict: {IMG}: baseline: car 1 -> 0")
        self.assertTrue(errs[-1].startswith(f"hubpredict: {CAT}: 404"), r)


class TestBadBaseline(BaselineBase):

    def check_bad(self, content, *fragments, name="base.json"):
        path = self.write(name, content) if content is not None else self.path(name)
        r = self.hp("--baseline", path, IMG)
        self.assertExit(r, 2)
        self.assertEqual(r.out, "")
        self.assertEqual(len(r.err.splitlines()), 1, r)
        self.assertTrue(r.err.startswith("hubpredict: --baseline: "), r)
        for f in fragments:
            self.assertIn(f, r.err)
        self.assertEqual(self.server.requests, [], "nothing is sent")

    def test_missing_file(self):
        self.check_bad(None, "cannot open", "No such file or directory")

    def test_not_json(self):
        self.check_bad(b"file,frame,task\n", "is not a hubpredict json output")
        self.check_bad(b"[{\"file\": \"a\"", "is not JSON")
        self.check_bad(b"", "is empty")

    def test_not_an_output_of_hubpredict(self):
        self.check_bad(json.dumps(BASE).encode(), "one object without \"file\"")
        self.check_bad(b"[{\"name\": \"x\"}]", "element 1 has no \"file\"")
        self.check_bad(b"[{\"file\": \"a\"}]", "element 1 has neither")
        self.check_bad(b"[{\"file\": \"a\", \"response\": {\"images\": 3}}]", "element 1: the response is not a prediction")

    def test_usage(self):
        r = self.hp("--baseline-iou", "0.3", IMG)
        self.assertExit(r, 2)
        self.assertIn("--baseline-iou goes with --baseline", r.err)
        r = self.hp("--baseline", "x.json", "--baseline-conf", "2", IMG)
        self.assertExit(r, 2)
        self.assertIn("--baseline-conf must be a number from 0 to 1, not '2'", r.err)
        r = self.hp("--baseline", "x.json", "-f", "raw", IMG)
        self.assertExit(r, 2)
        self.assertIn("--baseline needs a parsed format", r.err)


if __name__ == "__main__":
    unittest.main()
