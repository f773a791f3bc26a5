"""Answers of any size (hubpredict(1), --max-answer; SPEC 11): a big answer in little memory,
the same rows as a small one, the limit, and out of memory told as such (exit 13)."""

import json
import os
import resource
import unittest

from harness import E2E, UNDER_TOOL, image
from pixels import Picture, png_bytes

GREY = (128, 128, 128)

CAT = image("cat.png")
BUS = image("street.jpg")


def seg_url(e2e):
    return f"{e2e.server.url}/v1/predict/segment"


class TestBigAnswers(E2E):

    def test_spilled_answer_reads_as_one_in_memory(self):
        # past 8 MiB an answer goes to a file and is mapped: every format reads the same
        # document as from memory (3 frames of 60 polygons of 10,000 points: ~17 MB)
        shape = {"images": 3, "polygons": 60, "points": 10000}
        for fmt in ("csv", "jsonl", "table"):
            with self.subTest(fmt=fmt):
                self.server.reset()
                self.server.push({"segments": shape})
                r = self.run_hp("-u", seg_url(self), "-f", fmt, CAT)
                self.assertExit(r, 0)
                self.assertEqual(r.err, "")
                if fmt == "csv":
                    rows = r.out.splitlines()
                    self.assertEqual(len(rows), 1 + 3 * 60)
                    self.assertEqual(rows[1].split(",")[1:], ["0", "segment", "1", "0", "person", "0.875",
                                                               "100", "50", "500", "350", "", "", "", "",
                                                               "10000", "", ""])
                    self.assertEqual(rows[-1].split(",")[1:4], ["2", "segment", "60"])
                elif fmt == "jsonl":
                    doc = json.loads(r.out)["response"]
                    self.assertEqual([len(im["results"]) for im in doc["images"]], [60, 60, 60])
                    self.assertEqual(len(doc["images"][2]["results"][59]["segments"]["x"]), 10000)
                    self.assertEqual(doc["metadata"], {"model": "big-seg.pt"})
                    self.assertNotIn(b" ", r.out_bytes, "minified as today")
                else:
                    self.assertIn("180 results", r.out.splitlines()[0])

    @unittest.skipIf(UNDER_TOOL, "memory is measured in the plain build: valgrind and ASan inflate RSS")
    def test_big_answer_in_little_memory(self):
        # a ~200 MB answer (one image, 1,600 polygons of 7,000 points) under 100 MiB of RSS
        shape = {"images": 1, "polygons": 1600, "points": 7000}
        for fmt in ("csv", "jsonl"):
            with self.subTest(fmt=fmt):
                self.server.reset()
                self.server.push({"segments": shape})
                rc, rss = self.peak_rss("-u", seg_url(self), "-q", "-f", fmt, CAT)
                self.assertEqual(rc, 0)
                self.assertLess(rss, 100 * 1024, f"peak RSS {rss} KiB for a ~200 MB answer to {fmt}")

    @unittest.skipIf(UNDER_TOOL, "memory is measured in the plain build: valgrind and ASan inflate RSS")
    def test_big_answer_labels_in_little_memory(self):
        # --save-txt reads the polygons part by part (item.h's parts), no longer the whole
        # answer's points at once: the same ~200 MB answer stays under the csv's bound
        self.server.push({"segments": {"images": 1, "polygons": 1600, "points": 7000}})
        d = self.path("labels")
        rc, rss = self.peak_rss("-u", seg_url(self), "-q", "-f", "csv", "--save-txt", d, CAT)
        self.assertEqual(rc, 0)
        self.assertLess(rss, 100 * 1024, f"peak RSS {rss} KiB for a ~200 MB answer with --save-txt")
        with open(os.path.join(d, "cat.txt")) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 1600)
        self.assertEqual(len(lines[-1].split()), 1 + 2 * 7000)

    @unittest.skipIf(UNDER_TOOL, "memory is measured in the plain build: valgrind and ASan inflate RSS")
    def test_big_video_answer_with_annotate_in_little_memory(self):
        # --annotate draws pictures, not videos: a video's ~200 MB answer keeps no polygons for it
        self.server.push({"segments": {"images": 40, "polygons": 40, "points": 7000}})
        rc, rss = self.peak_rss("-u", seg_url(self), "-q", "-f", "csv", "--annotate", self.path("pics"),
                                image("clip.mp4"))
        self.assertEqual(rc, 0)
        self.assertLess(rss, 100 * 1024, f"peak RSS {rss} KiB for a video's ~200 MB answer with --annotate")

    @unittest.skipIf(UNDER_TOOL, "memory is measured in the plain build: valgrind and ASan inflate RSS")
    def test_big_answer_cached_in_little_memory(self):
        # the cache stores a mapped answer a piece at a time, letting its pages go behind, and
        # answers from the entry the same way: ~200 MB stored and read back under 100 MiB
        cache = self.path("cache")
        for fresh in (True, False):
            with self.subTest(fresh=fresh):
                if fresh:
                    self.server.push({"segments": {"images": 1, "polygons": 1600, "points": 7000}})
                rc, rss = self.peak_rss("-u", seg_url(self), "-q", "-f", "csv", "--cache", cache, CAT)
                self.assertEqual(rc, 0)
                self.assertLess(rss, 100 * 1024, f"peak RSS {rss} KiB for a ~200 MB answer with --cache")
        self.assertEqual(len(self.server.log()), 1, "the second run was answered from the cache")

    @unittest.skipIf(UNDER_TOOL, "memory is measured in the plain build: valgrind and ASan inflate RSS")
    def test_big_answer_baseline_in_little_memory(self):
        # --baseline compares without the points (the answer decoded light) and reads its file
        # an envelope at a time, each response part by part (no print-and-reparse): a ~200 MB
        # answer against the ~200 MB -f json output recorded from it stays under 100 MiB (400
        # polygons, not 1,600: every box is the same, and matching pairs each with each)
        shape = {"segments": {"images": 1, "polygons": 400, "points": 28000}}
        self.server.push(shape)
        base = self.path("base.json")
        r = self.run_hp("-u", seg_url(self), "-q", "-f", "json", "-o", base, CAT)
        self.assertExit(r, 0)
        self.assertGreater(os.path.getsize(base), 150 << 20)
        self.server.push(shape)
        rc, rss = self.peak_rss("-u", seg_url(self), "-q", "-f", "csv", "--baseline", base, CAT)
        self.assertEqual(rc, 0, "the same answer: no differences")
        self.assertLess(rss, 100 * 1024, f"peak RSS {rss} KiB for a ~200 MB answer with --baseline")
        self.server.push({"segments": {"images": 1, "polygons": 399, "points": 28000}})
        r = self.run_hp("-u", seg_url(self), "-q", "-f", "csv", "--baseline", base, CAT)
        self.assertExit(r, 1)
        self.assertIn(f"{CAT}: baseline: person 400 -> 399", r.err)

    def test_big_answer_labels_part_by_part(self):
        # a spilled answer's label files, written part by part, hold what a small answer's do:
        # one file per frame, one line per polygon, coordinates over the shape (640 x 480);
        # --min-conf and --resize act on the parts as on the response
        shape = {"images": 3, "polygons": 60, "points": 10000}
        self.server.push({"segments": shape})
        d = self.path("labels")
        r = self.run_hp("-u", seg_url(self), "-q", "-f", "csv", "--save-txt", d, "--save-conf", CAT)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        self.assertEqual(sorted(os.listdir(d)), ["cat_1.txt", "cat_2.txt", "cat_3.txt"])
        want = ["0"]
        for i in range(10000):
            want += ["%g" % ((100 + i % 400) * (1 / 640)), "%g" % ((50 + i * 7 % 300) * (1 / 480))]
        want = " ".join(want + ["0.875"])
        for name in ("cat_1.txt", "cat_3.txt"):
            with open(os.path.join(d, name)) as f:
                lines = f.read().splitlines()
            self.assertEqual(len(lines), 60, name)
            self.assertEqual(lines[0], want)
            self.assertEqual(lines[59], want)
        self.server.reset()
        self.server.push({"segments": shape})
        d2 = self.path("none")
        r = self.run_hp("-u", seg_url(self), "-q", "-f", "csv", "--save-txt", d2, "--min-conf", "0.9", CAT)
        self.assertExit(r, 0)
        for name in ("cat_1.txt", "cat_2.txt", "cat_3.txt"):
            with open(os.path.join(d2, name)) as f:
                self.assertEqual(f.read(), "", "every polygon filtered out")

    def test_big_answer_resized_part_by_part(self):
        # --resize maps a spilled answer back part by part into a document of its own: json
        # prints it (shape and every coordinate in the original's pixels, the members beside
        # images kept), and the label files, read from the server's parts, agree
        src = self.path("big.png")
        with open(src, "wb") as f:
            f.write(png_bytes(Picture(1280, 960, GREY)))
        self.server.push({"segments": {"images": 1, "polygons": 200, "points": 10000}})
        d = self.path("labels")
        r = self.run_hp("-u", seg_url(self), "-q", "--resize", "-f", "jsonl", "--save-txt", d, src)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        env = json.loads(r.out)
        self.assertEqual(env["resized"], {"from": [960, 1280], "to": [480, 640]})
        doc = env["response"]
        self.assertEqual(doc["metadata"], {"model": "big-seg.pt"})
        im = doc["images"][0]
        self.assertEqual(im["shape"], [960, 1280])
        self.assertEqual(len(im["results"]), 200)
        for res in (im["results"][0], im["results"][199]):
            self.assertEqual(res["box"], {"x1": 200, "y1": 100, "x2": 1000, "y2": 700})
            self.assertEqual(res["segments"]["x"][:3], [200, 202, 204])
            self.assertEqual(res["segments"]["y"][:3], [100, 114, 128])
            self.assertEqual(len(res["segments"]["x"]), 10000)
        with open(os.path.join(d, "big.txt")) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 200)
        want = ["%g" % (v * (1 / w)) for v, w in ((200, 1280), (100, 960), (202, 1280), (114, 960))]
        self.assertEqual(lines[0].split()[:5], ["0"] + want)

    @unittest.skipIf(UNDER_TOOL, "memory is measured in the plain build: valgrind and ASan inflate RSS")
    def test_big_answer_resized_in_little_memory(self):
        # the mapping back no longer parses the whole document: jsonl of a ~200 MB answer
        # with --resize stays under the bound of one without
        src = self.path("big.png")
        with open(src, "wb") as f:
            f.write(png_bytes(Picture(1280, 960, GREY)))
        self.server.push({"segments": {"images": 1, "polygons": 1600, "points": 7000}})
        rc, rss = self.peak_rss("-u", seg_url(self), "-q", "--resize", "-f", "jsonl", src)
        self.assertEqual(rc, 0)
        self.assertLess(rss, 100 * 1024, f"peak RSS {rss} KiB for a ~200 MB answer with --resize")

    def test_max_answer_over_a_big_answer(self):
        # the declared length is over the limit: exit 10, the body is not read
        self.server.push({"segments": {"images": 1, "polygons": 2000, "points": 7000}})
        r = self.run_hp("-u", seg_url(self), "--max-answer", "100M", "-f", "csv", CAT)
        self.assertExit(r, 10)
        self.assertIn(f"{CAT}: bad response: larger than 100 MiB", r.err)
        self.assertEqual(r.out, "file,frame,task,index,class,name,confidence,x1,y1,x2,y2,x3,y3,x4,y4,"
                                "points,keypoints,pixel_ratio\n")
        self.assertIsNone(self.server.log()[0]["t_end"], "the whole body was sent: it was read")


class TestWindow(E2E):

    def test_window_counts_bytes_not_entries(self):
        # one slow answer holds the head of the input order: the small answers behind it are
        # held in a window of bytes (1 MiB here), no longer of max(32, 8 x jobs) entries, so the
        # other slot keeps sending while the slow one is answered
        d = self.path("many")
        os.makedirs(d)
        paths = []
        for i in range(100):
            p = os.path.join(d, f"{i:03d}.gif")
            os.link(image("tiny.gif"), p)
            paths.append(p)
        self.server.push({"delay": 5})
        r = self.run_hp("-u", self.hub_url(), "-j", "2", "-q", "-f", "csv", *paths)
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual(len(log), 100)
        slow = max(log, key=lambda rec: rec["t_end"] - rec["t_start"])
        during = sum(1 for rec in log if rec is not slow and rec["t_start"] < slow["t_end"])
        self.assertGreater(during, 90, f"only {during} of 99 sent while the slow one was answered")
        files = [row.split(",")[0] for row in r.out.splitlines()[1:]]
        self.assertEqual(sorted(set(files)), paths)
        self.assertEqual(list(dict.fromkeys(files)), paths, "written in input order")


@unittest.skipIf(UNDER_TOOL, "an address-space limit cannot be set under valgrind or ASan")
class TestOutOfMemory(E2E):

    def test_out_of_memory_is_not_bad_json(self):
        # one polygon of 1,000,000 points (~18 MB) cannot be parsed in 100 MiB of address
        # space: "out of memory", exit 13, never "not JSON"; the input before it is written
        self.server.push_many([{"status": 200},
                               {"segments": {"images": 1, "polygons": 1, "points": 1000000}}])

        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (100 << 20, 100 << 20))
        p = self.popen_hp("-u", seg_url(self), "-j", "1", "-f", "csv", BUS, CAT, wrapper=False,
                          stdout=-1, stderr=-1, preexec_fn=limit)
        r = self.wait_hp(p)
        self.assertExit(r, 13)
        self.assertRegex(r.err, rf"^hubpredict: {CAT}: out of memory( \(x-request-id: \w+\))?\n"
                                r"hubpredict: summary: 2 inputs: 1 succeeded, 1 failed in .*\n\Z")
        rows = r.out.splitlines()
        self.assertGreater(len(rows), 1)
        self.assertTrue(all(row.startswith(BUS + ",") for row in rows[1:]), rows)

    def test_baseline_out_of_memory_is_exit_13(self):
        # a --baseline file whose one polygon (1,000,000 points, ~18 MB) cannot be decoded in
        # 100 MiB of address space: "out of memory", exit 13, not a bad option value (exit 2);
        # nothing is sent
        xs = ",".join("%8.3f" % (100 + i % 400) for i in range(1000000))
        text = ('[{"file":"%s","response":{"images":[{"results":[{"class":0,"name":"person",'
                '"confidence":0.9,"box":{"x1":1,"y1":2,"x2":3,"y2":4},"segments":{"x":[%s],"y":[%s]}}],'
                '"shape":[480,640]}]}}]' % (CAT, xs, xs))
        base = self.write("base.json", text.encode())

        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (100 << 20, 100 << 20))
        p = self.popen_hp("-u", seg_url(self), "-f", "csv", "--baseline", base, CAT, wrapper=False,
                          stdout=-1, stderr=-1, preexec_fn=limit)
        r = self.wait_hp(p)
        self.assertExit(r, 13)
        self.assertEqual(r.err, "hubpredict: --baseline: out of memory\n")
        self.assertEqual(self.server.log(), [])


if __name__ == "__main__":
    unittest.main()
