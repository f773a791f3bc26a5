"""--expect checks and the --min-conf / --classes filters, against the stand-in.

The stand-in's detect answer has person (class 0, confidence 0.92) and car (class 2, 0.87);
its classify answer cat 0.95 and dog 0.03; semantic road and building (no confidence).
"""

import unittest

from harness import E2E, PLATFORM_KEY, image

IMG = image("street.jpg")


def box(x=1):
    return {"x1": x, "y1": x, "x2": x + 10, "y2": x + 10}


def det(cls, name, conf):
    return {"class": cls, "name": name, "confidence": conf, "box": box()}


# A video answer of three frames: only frame 1 has two persons.
VIDEO_BODY = {"images": [
    {"results": [det(0, "person", 0.9)], "shape": [480, 640]},
    {"results": [det(0, "person", 0.9), det(0, "person", 0.4), det(2, "car", 0.8)], "shape": [480, 640]},
    {"results": [], "shape": [480, 640]},
]}


class ExpectBase(E2E):

    def hp(self, *args, model="detect"):
        return self.run_hp("-u", self.hub_url(model), *args)

    def errors(self, r):
        return [ln for ln in r.err.splitlines() if not ln.startswith("hubpredict: summary:")]


class TestExpectations(ExpectBase):

    def test_holding_exit_0_and_quiet(self):
        r = self.hp("--expect", "person", "--expect", "car>=1", "--expect", "person==1",
                    "--expect", "person<=1", "--expect", "person<2", "--expect", "car>0",
                    "--expect", "truck<1", "--expect", "truck==0", IMG)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        self.assertIn("2 results", r.out)

    def test_failing_exit_1_exact_line(self):
        r = self.hp("--expect", "person>=2", IMG)
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: expected person>=2, found 1\n")
        # the answer is still shown
        self.assertIn("2 results", r.out)

    def test_each_operator_failing(self):
        cases = [("person>=2", "person>=2, found 1"), ("person>1", "person>1, found 1"),
                 ("person==0", "person==0, found 1"), ("person<=0", "person<=0, found 1"),
                 ("person<1", "person<1, found 1"), ("truck", "truck>=1, found 0"),
                 ("Person", "Person>=1, found 0")]
        for expr, msg in cases:
            with self.subTest(expr=expr):
                r = self.hp("--expect", expr, IMG)
                self.assertExit(r, 1)
                self.assertEqual(r.err, f"hubpredict: {IMG}: expected {msg}\n")

    def test_class_numbers_and_names(self):
        r = self.hp("--expect", "0", "--expect", "2==1", "--expect", "1==0", IMG)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        r = self.hp("--expect", "2>=2", IMG)
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: expected 2>=2, found 1\n")

    def test_several_expectations_one_line_each_in_order(self):
        r = self.hp("--expect", "car>=3", "--expect", "person", "--expect", "dog", IMG)
        self.assertExit(r, 1)
        self.assertEqual(self.errors(r), [f"hubpredict: {IMG}: expected car>=3, found 1",
                                          f"hubpredict: {IMG}: expected dog>=1, found 0"])

    def test_classify(self):
        r = self.hp("--expect", "cat", "--expect", "dog", IMG, model="classify")
        self.assertExit(r, 0)
        r = self.hp("--expect", "dog", "--min-conf", "0.5", IMG, model="classify")
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: expected dog>=1, found 0\n")

    def test_batch_summary_mentions_unmet(self):
        r = self.hp("-j", "1", "--expect", "person>=2", "--expect", "car", IMG, IMG)
        self.assertExit(r, 1)
        self.assertEqual(self.errors(r), [f"hubpredict: {IMG}: expected person>=2, found 1"] * 2)
        self.assertRegex(r.err, r"hubpredict: summary: 2 inputs: 2 succeeded, 0 failed in .*"
                                r"\), 2 expectations not met\n")
        r = self.hp("--expect", "person", IMG, IMG)
        self.assertExit(r, 0)
        self.assertNotIn("expectation", r.err)

    def test_request_failure_wins_and_both_are_reported(self):
        # input 1 answers normally but fails its check; input 2 gets a 404
        self.server.push({"comment": "normal answer"})
        self.server.push({"status": 404})
        r = self.hp("-j", "1", "--expect", "person>=2", IMG, image("cat.png"))
        self.assertExit(r, 5)
        errs = self.errors(r)
        self.assertEqual(len(errs), 2, r)
        self.assertEqual(errs[0], f"hubpredict: {IMG}: expected person>=2, found 1")
        self.assertTrue(errs[1].startswith(f"hubpredict: {image('cat.png')}: 404"), r)
        self.assertIn("2 inputs: 1 succeeded, 1 failed", r.err)
        self.assertIn("1 expectation not met", r.err)

    def test_failed_request_is_not_checked(self):
        self.server.push({"status": 404})
        r = self.hp("--expect", "person>=5", IMG)
        self.assertExit(r, 5)
        self.assertOneLineError(r, "404")
        self.assertNotIn("expected", r.err)

    def test_json_and_jsonl_are_success_envelopes(self):
        for fmt in ("json", "jsonl"):
            with self.subTest(fmt=fmt):
                r = self.hp("-f", fmt, "--expect", "person>=2", IMG)
                self.assertExit(r, 1)
                env = r.json()[0] if fmt == "json" else r.jsonl()[0]
                self.assertNotIn("error", env)
                self.assertEqual(env["http_status"], 200)
                self.assertEqual(len(env["response"]["images"][0]["results"]), 2)
                self.assertEqual(r.err, f"hubpredict: {IMG}: expected person>=2, found 1\n")

    def test_video_holds_in_one_frame(self):
        for expr in ("person>=2", "person==1", "person==0", "car", "person<1"):
            with self.subTest(expr=expr):
                self.server.push({"body": VIDEO_BODY})
                r = self.hp("--expect", expr, IMG)
                self.assertExit(r, 0)
                self.assertEqual(r.err, "")
        # found: the largest count for >= and >, the smallest for <= and <
        for expr, found in (("person>=3", 2), ("person>2", 2), ("car>=2", 1), ("person==5", 2)):
            with self.subTest(expr=expr):
                self.server.push({"body": VIDEO_BODY})
                r = self.hp("--expect", expr, IMG)
                self.assertExit(r, 1)
                self.assertEqual(r.err, f"hubpredict: {IMG}: expected {expr}, found {found}\n")
        # the filter applies per frame before the check
        self.server.push({"body": VIDEO_BODY})
        r = self.hp("--min-conf", "0.5", "--expect", "person>=2", IMG)
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: expected person>=2, found 1\n")


class TestFilters(ExpectBase):

    def test_table_rows_and_counts(self):
        r = self.hp("--min-conf", "0.9", IMG)
        self.assertExit(r, 0)
        lines = r.out.splitlines()
        self.assertIn("  1 result  ", lines[0])
        self.assertEqual(len(lines), 3, r)
        self.assertIn("person", lines[2])
        r = self.hp("--classes", "car", IMG)
        self.assertIn("  1 result  ", r.out.splitlines()[0])
        self.assertIn(" car ", r.out)
        self.assertNotIn("person", r.out)
        r = self.hp("--classes", "0,2", IMG)
        self.assertIn("  2 results  ", r.out.splitlines()[0])
        # nothing kept: no column header
        r = self.hp("--classes", "truck", IMG)
        self.assertExit(r, 0)
        self.assertEqual(len(r.out.splitlines()), 1)
        self.assertIn("  0 results  ", r.out)

    def test_table_video_frame_counts(self):
        self.server.push({"body": VIDEO_BODY})
        r = self.hp("--classes", "person", "--min-conf", "0.5", IMG)
        self.assertExit(r, 0)
        self.assertIn("  2 results", r.out.splitlines()[0])
        self.assertIn("3 frames", r.out.splitlines()[0])
        frames = [ln for ln in r.out.splitlines() if ln.startswith("frame ")]
        self.assertEqual([f.split("  ")[0:2] for f in frames],
                         [["frame 0", "1 result"], ["frame 1", "1 result"], ["frame 2", "0 results"]])

    def test_csv_rows(self):
        r = self.hp("-f", "csv", "--min-conf", "0.9", IMG)
        rows = r.csv()
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[1][4:6], ["0", "person"])
        r = self.hp("-f", "csv", "--classes", "2", IMG)
        rows = r.csv()
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[1][3:6], ["1", "2", "car"])   # renumbered from 1
        r = self.hp("-f", "csv", "--classes", "person,car", "--min-conf", "0.99", IMG)
        self.assertEqual(len(r.csv()), 1)  # header only

    def test_json_and_jsonl_unchanged(self):
        plain = self.hp("-f", "json", IMG).json()[0]["response"]
        self.assertEqual(len(plain["images"][0]["results"]), 2)
        r = self.hp("-f", "json", "--min-conf", "0.9", "--classes", "car", IMG)
        self.assertExit(r, 0)
        self.assertEqual(r.json()[0]["response"], plain)
        self.assertEqual(r.json()[0]["task"], "detect")
        r = self.hp("-f", "jsonl", "--min-conf", "0.9", "--classes", "car", IMG)
        self.assertEqual(r.jsonl()[0]["response"], plain)

    def test_min_conf_keeps_semantic_results(self):
        url = self.platform_url("semantic")
        r = self.run_hp("-u", url, "--min-conf", "0.99", IMG, key=PLATFORM_KEY)
        self.assertExit(r, 0)
        self.assertIn("  2 results  ", r.out.splitlines()[0])
        r = self.run_hp("-u", url, "-f", "csv", "--min-conf", "0.99", "--expect", "road", IMG,
                        key=PLATFORM_KEY)
        self.assertExit(r, 0)
        self.assertEqual(len(r.csv()), 3)
        r = self.run_hp("-u", url, "--classes", "building", "--expect", "road", IMG, key=PLATFORM_KEY)
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"hubpredict: {IMG}: expected road>=1, found 0\n")


class TestUsage(ExpectBase):

    def assertUsage(self, r, *fragments):
        self.assertExit(r, 2)
        lines = r.err.splitlines()
        self.assertEqual(len(lines), 2, r)
        self.assertTrue(lines[0].startswith("hubpredict: "), r)
        for frag in fragments:
            self.assertIn(frag, lines[0])
        self.assertEqual(lines[1], "try 'hubpredict --help'")
        self.assertEqual(r.out, "")
        self.assertEqual(self.server.log(), [], "nothing may be sent")

    def test_bad_expressions(self):
        for expr in ("", ">=2", "person>=", "person>=x", "person=>2", "person>=-1", "person=2",
                     "person>=2.5", "person<>1"):
            with self.subTest(expr=expr):
                r = self.hp("--expect", expr, IMG)
                self.assertUsage(r, "--expect must be NAME, NAME>=N, NAME>N, NAME==N, NAME<=N or NAME<N",
                                 f"'{expr}'")

    def test_bad_min_conf(self):
        for v in ("1.5", "-0.1", "x", "", "nan"):
            with self.subTest(v=v):
                self.assertUsage(self.hp("--min-conf", v, IMG), "--min-conf", "0 to 1")

    def test_bad_classes(self):
        for v in ("", ",", "a,,b", "a,", ",b"):
            with self.subTest(v=v):
                self.assertUsage(self.hp("--classes", v, IMG), "--classes", f"'{v}'")

    def test_raw_is_refused(self):
        for args in (("--expect", "person"), ("--min-conf", "0.5"), ("--classes", "car")):
            with self.subTest(args=args):
                r = self.hp("-f", "raw", *args, IMG)
                self.assertUsage(r, f"{args[0]} needs a parsed format, not -f raw")

    def test_missing_value(self):
        self.assertUsage(self.hp(IMG, "--expect"), "--expect")


if __name__ == "__main__":
    unittest.main()
