"""--save-txt DIR and --save-conf: YOLO label files, against the stand-in.

The stand-in moves its fixtures onto each image's size, so a label's numbers (pixels over the
image's size) are the fixture's pixels over the fixture's shape whatever the image: the
expected lines below are worked out from tests/fixtures/*.json by hand.
"""

import os
import re
import shutil
import unittest

from harness import E2E, PLATFORM_KEY, image, HERE

IMG = image("street.jpg")
CLIP = image("clip.mp4")

# fixture pixels / fixture shape, e.g. detect person 100,50,300,400 in 1920x1080:
# cx 200/1920, cy 225/1080, w 200/1920, h 350/1080
EXPECTED = {
    "detect": ["0 0.104167 0.208333 0.104167 0.324074", "2 0.260417 0.25463 0.104167 0.138889"],
    "segment": ["0 0.443359 0.146875 0.443359 0.151563 0.431641 0.160937"],
    "pose": ["0 0.445 0.514667 0.496667 0.730667 0.527312 0.208561 0.99094 "
             "0.526562 0.19741 0.8163 0.50813 0.193243 0.98721"],
    "obb": ["0 0.624759 0.352543 0.653864 0.35661 0.68803 0.200129 0.658926 0.196062"],
    "classify": ["0.95 cat", "0.03 dog"],
    "empty": [],
}
CONF = {"detect": ["0.92", "0.87"], "segment": ["0.92"], "pose": ["0.92"], "obb": ["0.92"]}
NUMBER = re.compile(r"^-?[0-9.]+(e[-+][0-9]+)?$")


def label_of(path):
    """DIR-relative label path of an input named on the command line: its base name, .txt
    (SPEC 9, "Label and picture paths", as Ultralytics' save_txt)."""
    return os.path.splitext(os.path.basename(path))[0] + ".txt"


def errors(r):
    """stderr lines other than the batch summary."""
    return [ln for ln in r.err.splitlines() if not ln.startswith("hubpredict: summary:")]


def numbers(line):
    return [float(x) for x in line.split()]


class LabelsBase(E2E):

    def setUp(self):
        super().setUp()
        self.dir = self.path("labels")

    def read(self, rel):
        with open(os.path.join(self.dir, rel), encoding="utf-8") as f:
            return f.read()

    def lines(self, rel):
        text = self.read(rel)
        if text:
            self.assertTrue(text.endswith("\n"), repr(text))
        return text.splitlines()

    def files(self):
        out = []
        for root, _dirs, names in os.walk(self.dir):
            out += [os.path.relpath(os.path.join(root, n), self.dir) for n in names]
        return sorted(out)


class TestEveryTask(LabelsBase):

    def test_hub_tasks_image_and_video(self):
        for task, want in EXPECTED.items():
            with self.subTest(task=task):
                shutil.rmtree(self.dir, ignore_errors=True)
                r = self.run_hp("-u", self.hub_url(task), "--save-txt", self.dir, IMG, CLIP)
                self.assertExit(r, 0)
                self.assertEqual(errors(r), [])
                self.assertEqual(self.lines(label_of(IMG)), want)
                # a video: one file per frame, NAME_FRAME.txt with the frame from 1
                stem = label_of(CLIP)[:-4]
                self.assertEqual(self.files(), sorted([label_of(IMG)] + [f"{stem}_{i}.txt" for i in (1, 2, 3)]))
                for i in (1, 2, 3):
                    self.assertEqual(self.lines(f"{stem}_{i}.txt"), want)
                for line in self.lines(label_of(IMG)):
                    if task != "classify":
                        self.assertRegex(line, r"^\d+( -?[0-9.e+-]+)+$")
                        self.assertTrue(all(NUMBER.match(x) for x in line.split()), line)

    def test_save_conf(self):
        for task, conf in CONF.items():
            with self.subTest(task=task):
                shutil.rmtree(self.dir, ignore_errors=True)
                r = self.run_hp("-u", self.hub_url(task), "--save-txt", self.dir, "--save-conf", IMG)
                self.assertExit(r, 0)
                got = self.lines(label_of(IMG))
                self.assertEqual(got, [f"{line} {c}" for line, c in zip(EXPECTED[task], conf)])
        # classify always has its confidence, and nothing more
        r = self.run_hp("-u", self.hub_url("classify"), "--save-txt", self.dir, "--save-conf", IMG)
        self.assertExit(r, 0)
        self.assertEqual(self.lines(label_of(IMG)), EXPECTED["classify"])

    def test_platform_semantic_and_depth_write_nothing_and_warn_once(self):
        for task in ("semantic", "depth"):
            with self.subTest(task=task):
                r = self.run_hp("-u", self.platform_url(task), "--save-txt", self.dir, IMG, IMG, key=PLATFORM_KEY)
                self.assertExit(r, 0)
                warnings = [ln for ln in r.err.splitlines() if "warning" in ln]
                self.assertEqual(len(warnings), 1, r)
                self.assertIn(f"{task} answers have no YOLO text label format", warnings[0])
                self.assertEqual(self.files(), [])
                r = self.run_hp("-q", "-u", self.platform_url(task), "--save-txt", self.dir, IMG, key=PLATFORM_KEY)
                self.assertExit(r, 0)
                self.assertEqual(r.err, "")

    def test_normalize_gives_the_hub_numbers(self):
        hub = self.path("hub")
        r = self.run_hp("-u", self.hub_url("pose"), "--save-txt", hub, IMG)
        self.assertExit(r, 0)
        for decimals in ([], ["--decimals", "6"]):
            with self.subTest(decimals=decimals):
                plat = self.path("plat")
                shutil.rmtree(plat, ignore_errors=True)
                r = self.run_hp("-u", self.platform_url("pose"), "--normalize", *decimals, "--save-txt", plat, IMG,
                                key=PLATFORM_KEY)
                self.assertExit(r, 0)
                with open(os.path.join(hub, label_of(IMG))) as f:
                    want = [numbers(ln) for ln in f.read().splitlines()]
                with open(os.path.join(plat, label_of(IMG))) as f:
                    got = [numbers(ln) for ln in f.read().splitlines()]
                self.assertEqual(len(got), len(want))
                for g, w in zip(got, want):
                    self.assertEqual(len(g), len(w))
                    for a, b in zip(g, w):
                        # the server rounds normalised values (5 decimals by default)
                        self.assertAlmostEqual(a, b, delta=1e-5)

    def test_platform_url_input_and_stdin(self):
        r = self.run_hp("-u", self.platform_url("detect"), "--save-txt", self.dir,
                        "https://example.com/pics/bus%201.jpg?size=large", "-", key=PLATFORM_KEY,
                        stdin=open(IMG, "rb").read())
        self.assertExit(r, 0)
        self.assertEqual(self.files(), ["bus_201.txt", "stdin.txt"])
        self.assertEqual(self.lines("bus_201.txt"), EXPECTED["detect"])
        self.assertEqual(self.lines("stdin.txt"), EXPECTED["detect"])


class TestFiltersAndPaths(LabelsBase):

    def test_filters_drop_lines_and_keep_the_file(self):
        url = self.hub_url("detect")
        r = self.run_hp("-u", url, "--min-conf", "0.9", "--save-txt", self.dir, IMG)
        self.assertExit(r, 0)
        self.assertEqual(self.lines(label_of(IMG)), EXPECTED["detect"][:1])
        r = self.run_hp("-u", url, "--classes", "car", "--save-txt", self.dir, IMG)
        self.assertExit(r, 0)
        self.assertEqual(self.lines(label_of(IMG)), EXPECTED["detect"][1:])
        # nothing kept: an empty file, so labels still line up with images
        r = self.run_hp("-u", url, "--classes", "truck", "--save-txt", self.dir, IMG)
        self.assertExit(r, 0)
        self.assertEqual(self.read(label_of(IMG)), "")
        r = self.run_hp("-u", self.hub_url("classify"), "--classes", "dog", "--save-txt", self.dir, IMG)
        self.assertEqual(self.lines(label_of(IMG)), ["0.03 dog"])

    def test_named_inputs_get_their_base_name(self):
        """SPEC 9: a file named as an INPUT or in --files-from maps to DIR/STEM.txt, wherever
        it is (before: labels/data/cam/x.txt for /data/cam/x.jpg)."""
        with open(IMG, "rb") as f:
            data = f.read()
        a = self.write("data/cam/x.jpg", data)
        rel = os.path.relpath(self.write("data/other/y.jpg", data), HERE)   # "../../../tmp/..."
        self.assertTrue(rel.startswith("../"))
        listed = self.write("data/listed/z.jpg", data)
        lst = self.write("list.txt", (listed + "\n").encode())
        r = self.run_hp("-u", self.hub_url("detect"), "--save-txt", self.dir, a, rel,
                        "--files-from", lst)
        self.assertExit(r, 0)
        self.assertEqual(self.files(), ["x.txt", "y.txt", "z.txt"])
        self.assertEqual(self.lines("x.txt"), EXPECTED["detect"])
        self.assertNotIn("warning", r.err)

    def test_same_name_in_two_folders_warns_and_the_later_wins(self):
        with open(IMG, "rb") as f:
            data = f.read()
        a = self.write("in/a/x.jpg", data)
        b = self.write("in/b/x.jpg", data)
        self.server.push({"body": {"images": [{"results": [], "shape": [10, 10]}]}})  # a's answer
        r = self.run_hp("-u", self.hub_url("detect"), "-j", "1", "--save-txt", self.dir, a, b)
        self.assertExit(r, 0)
        self.assertEqual(self.files(), ["x.txt"])
        self.assertEqual(self.lines("x.txt"), EXPECTED["detect"])      # b's, the later one
        warnings = [ln for ln in r.err.splitlines() if "warning" in ln]
        self.assertEqual(len(warnings), 1, r.err)
        self.assertIn(f"'{a}'", warnings[0])
        self.assertIn(f"'{b}'", warnings[0])
        self.assertIn("x.txt", warnings[0])

    def test_directory_input_keeps_its_tree_below_it(self):
        """SPEC 9: -r photos/ with photos/a/x.jpg gives DIR/a/x.txt (before: the whole path
        of the folder was mirrored under DIR)."""
        with open(IMG, "rb") as f:
            data = f.read()
        self.write("dataset/images/train/one/p.jpg", data)
        self.write("dataset/images/train/two/p.jpg", data)
        self.write("dataset/images/train/top.jpg", data)
        tree = self.path("dataset/images/train")
        for arg in (tree, tree + "/", os.path.relpath(tree, HERE) + "//"):
            with self.subTest(arg=arg):
                shutil.rmtree(self.dir, ignore_errors=True)
                r = self.run_hp("-u", self.hub_url("empty"), "-r", "--save-txt", self.dir, arg)
                self.assertExit(r, 0)
                self.assertEqual(self.files(), ["one/p.txt", "top.txt", "two/p.txt"])
        # without -r: the folder's own files, by name
        shutil.rmtree(self.dir, ignore_errors=True)
        r = self.run_hp("-u", self.hub_url("empty"), "--save-txt", self.dir, tree)
        self.assertExit(r, 0)
        self.assertEqual(self.files(), ["top.txt"])

    def test_stdin_is_stdin_txt(self):
        with open(IMG, "rb") as f:
            data = f.read()
        r = self.run_hp("-u", self.hub_url("detect"), "--save-txt", self.dir, "-", stdin=data)
        self.assertExit(r, 0)
        self.assertEqual(self.files(), ["stdin.txt"])


class TestFailures(LabelsBase):

    def test_failed_inputs_write_nothing(self):
        missing = self.path("missing.jpg")
        empty = self.write("zero.jpg", b"")
        self.server.push({"match": "/v1/predict/detect", "status": 500})
        bad = self.write("bad/x.jpg", open(IMG, "rb").read())
        r = self.run_hp("-u", self.hub_url("detect"), "-j", "1", "--retries", "0", "--save-txt", self.dir,
                        bad, missing, empty, IMG)
        self.assertExit(r, 8)
        self.assertEqual(self.files(), [label_of(IMG)])

    def test_unwritable_dir_exit_11_nothing_sent(self):
        for d in ("/etc/hostname/x", "/etc/hostname"):
            with self.subTest(dir=d):
                self.server.reset()
                r = self.run_hp("-u", self.hub_url("detect"), "--save-txt", d, IMG)
                self.assertExit(r, 11)
                self.assertOneLineError(r, "--save-txt", f"'{d}'")
                self.assertEqual(r.out, "")
                self.assertEqual(self.server.requests, [])

    def test_write_error_later_in_the_run_exit_11(self):
        # DIR is fine, but one input's label directory is blocked by a regular file
        with open(IMG, "rb") as f:
            data = f.read()
        self.write("in/blocked/x.jpg", data)
        blocker = os.path.join(self.dir, "blocked")      # where in/'s tree puts blocked/x.txt
        os.makedirs(os.path.dirname(blocker), exist_ok=True)
        with open(blocker, "w"):
            pass
        r = self.run_hp("-u", self.hub_url("detect"), "-f", "csv", "-r", "--save-txt", self.dir,
                        self.path("in"), IMG)
        self.assertExit(r, 11)
        self.assertOneLineError(r, "cannot write label file", "x.txt", "Not a directory")
        self.assertEqual(len(r.csv()), 1 + 2 * 2)  # the results are still written
        # no temporary files are left behind
        self.assertEqual([f for f in self.files() if "/." in "/" + f], [])

    def test_stdout_unchanged(self):
        for fmt in ("csv", "table"):
            with self.subTest(fmt=fmt):
                plain = self.run_hp("-u", self.hub_url("detect"), "-f", fmt, IMG, CLIP)
                labels = self.run_hp("-u", self.hub_url("detect"), "-f", fmt, "--save-txt", self.dir, IMG, CLIP)
                self.assertExit(labels, 0)
                strip = (lambda s: re.sub(r"total \d+ ms", "", s))
                self.assertEqual(strip(labels.out), strip(plain.out))
                self.assertEqual(errors(labels), errors(plain))

    def test_usage(self):
        r = self.run_hp("-u", self.hub_url("detect"), "--save-conf", IMG)
        self.assertExit(r, 2)
        self.assertIn("--save-conf goes with --save-txt", r.err)
        r = self.run_hp("-u", self.hub_url("detect"), "-f", "raw", "--save-txt", self.dir, IMG)
        self.assertExit(r, 2)
        self.assertIn("--save-txt needs a parsed format", r.err)
        r = self.run_hp("-u", self.hub_url("detect"), "--save-txt", "", IMG)
        self.assertExit(r, 2)
        # --dry-run sends nothing and creates nothing
        r = self.run_hp("-u", self.hub_url("detect"), "--dry-run", "--save-txt", self.dir, IMG)
        self.assertExit(r, 0)
        self.assertFalse(os.path.exists(self.dir))


if __name__ == "__main__":
    unittest.main()
