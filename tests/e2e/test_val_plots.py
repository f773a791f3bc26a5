"""hubpredict val --plots DIR (issue 21 item 5): the PNGs decoded (pixels.read_png) and read
back. A one-class dataset whose answers make known curves (three labels; answers a hit at
conf 0.9, a miss at 0.8, a hit at 0.7): the PR curve is 1 up to recall 1/3, 2/3 up to 2/3, then
falls straight to 0 at recall 1; the recall curve is 2/3 below conf 0.7. The axes are found by
their frame, the ticks under it, the curve's pixels where the numbers put it and nowhere else
in that column; the confusion matrix's cells are ordered by their counts. DIR's safety: a file,
a FIFO, a planted link, the images' folder, a folder holding them: exit 2, nothing sent."""
import os
import struct
import subprocess
import tempfile
import time
import unittest

from harness import E2E, PLATFORM_KEY, sha256_of
from pixels import read_png
from test_val import Dataset, png

CURVES = ["PR_curve.png", "F1_curve.png", "P_curve.png", "R_curve.png"]
MATRICES = ["confusion_matrix.png", "confusion_matrix_normalized.png"]


def dark(px):
    return max(px) < 90


def blue(px):
    return px[2] > 200 and px[0] < 80 and px[1] < 80


def white(px):
    return min(px) > 245


def png_size(path):
    """A PNG's width and height from its IHDR (the file is checked to start as a PNG)."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    return struct.unpack(">II", head[16:24])


def runs(counts, need):
    """Clusters of consecutive indices whose count is at least need: [(first, last)]."""
    out = []
    for i, c in enumerate(counts):
        if c >= need:
            if out and out[-1][1] == i - 1:
                out[-1] = (out[-1][0], i)
            else:
                out.append((i, i))
    return out


DARK = bytes(1 if v < 90 else 0 for v in range(256))


def dark_map(pic):
    """One byte per pixel, 1 where it is dark (as dark()), in C-speed bytes operations."""
    t = bytes(pic.data).translate(DARK)
    n = pic.w * pic.h
    a, b, c = (int.from_bytes(t[k::3], "big") for k in range(3))
    return (a & b & c).to_bytes(n, "big")


def frame(pic):
    """The box of the longest dark lines: (x0, y0, x1, y1) as pixel boundaries, data (0, 0) at
    (x0, y1) and (1, 1) at (x1, y0); frame lines are centred on the boundary."""
    d = dark_map(pic)
    cols = runs([d[x::pic.w].count(1) for x in range(pic.w)], pic.h // 2)
    rows = runs([d[y * pic.w:(y + 1) * pic.w].count(1) for y in range(pic.h)], pic.w // 3)
    edge = lambda r: (r[0] + r[1] + 1) / 2  # noqa: E731 - the middle of a run of pixels
    return edge(cols[0]), edge(rows[0]), edge(cols[1]), edge(rows[-1])


class PlotsE2E(E2E):
    def val(self, *args):
        return self.run_hp("val", "-u", self.platform_url(), "--api", "platform", "--no-progress", *args,
                           key=PLATFORM_KEY)

    def step_dataset(self):
        """Three images of one class: a hit at 0.9 and a miss at 0.8, a hit at 0.7, a label
        never found."""
        root = self.path("ds")
        W, H = 100, 100
        labels = [(0.3, 0.3, 0.2, 0.2), (0.5, 0.5, 0.2, 0.2), (0.7, 0.7, 0.2, 0.2)]
        answers = [[(labels[0], 0.9), ((0.8, 0.15, 0.1, 0.1), 0.8)], [(labels[1], 0.7)], []]
        self.images = []
        os.makedirs(os.path.join(root, "images", "val"))
        os.makedirs(os.path.join(root, "labels", "val"))
        docs = {}
        for i, (lab, ans) in enumerate(zip(labels, answers)):
            img = os.path.join(root, "images", "val", f"im{i}.png")
            with open(img, "wb") as f:
                f.write(png(7000 + i))
            with open(os.path.join(root, "labels", "val", f"im{i}.txt"), "w") as f:
                f.write("0 %r %r %r %r\n" % lab)
            res = [{"class": 0, "name": "thing", "confidence": c,
                    "box": {"x1": (x - w / 2) * W, "y1": (y - h / 2) * H, "x2": (x + w / 2) * W,
                            "y2": (y + h / 2) * H}} for (x, y, w, h), c in ans]
            docs[sha256_of(img)] = {"images": [{"results": res, "shape": [H, W]}]}
            self.images.append(img)
        with open(os.path.join(root, "data.yaml"), "w") as f:
            f.write("path: .\nval: images/val\nnames:\n  0: thing\n")
        self.server.set_answers(docs)
        return os.path.join(root, "data.yaml")


class TestCurves(PlotsE2E):
    """One run's plots (kept for the class), each PNG decoded once."""
    kept: tempfile.TemporaryDirectory | None = None
    pictures: dict = {}

    @classmethod
    def tearDownClass(cls):
        if cls.kept:
            cls.kept.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if TestCurves.kept is None:
            TestCurves.kept = tempfile.TemporaryDirectory(prefix="hp-plots-")
            r = self.val("--plots", os.path.join(TestCurves.kept.name, "plots"), self.step_dataset())
            self.assertEqual(r.rc, 0, r)
        self.out = os.path.join(TestCurves.kept.name, "plots")

    def png(self, name):
        if name not in self.pictures:
            self.pictures[name] = read_png(os.path.join(self.out, name))
        return self.pictures[name]

    def at(self, pic, box, x, y):
        x0, y0, x1, y1 = box
        return int(x0 + x * (x1 - x0)), int(y1 - y * (y1 - y0))

    def near_blue(self, pic, x, y):
        return any(blue(pic[x + dx, y + dy]) for dx in (-1, 0, 1) for dy in (-1, 0, 1))

    def column_blue(self, pic, box, x, y, what, reach=6):
        """The curve's pixels at (x, y) and nowhere else in that column inside the axes (further
        than reach pixels: the thick line's half width, more where it is steep)."""
        px, py = self.at(pic, box, x, y)
        self.assertTrue(self.near_blue(pic, px, py), f"{what}: no curve at ({x}, {y}) = pixel ({px}, {py})")
        far = [yy for yy in range(int(box[1]) + 2, int(box[3]) - 2) if abs(yy - py) > reach and blue(pic[px, yy])]
        self.assertEqual(far, [], f"{what}: curve pixels away from y={y} in column {px}")

    def test_files_and_nothing_else(self):
        self.assertEqual(sorted(os.listdir(self.out)), sorted(CURVES + MATRICES))

    def test_axes_frame_and_ticks(self):
        pic = self.png("PR_curve.png")
        self.assertEqual((pic.w, pic.h), (1350, 900))  # 9 x 6 inches at 150 dpi
        box = frame(pic)
        x0, y0, x1, y1 = box
        self.assertGreater(x1 - x0, pic.w / 2)
        self.assertGreater(y1 - y0, pic.h / 2)
        for k in range(6):  # ticks 0.0, 0.2, ... 1.0 below the frame and left of it
            x = int(x0 + k / 5 * (x1 - x0))
            self.assertTrue(any(dark(pic[x + d, int(y1) + 4]) for d in (-1, 0)), f"x tick {k / 5}")
            y = int(y1 - k / 5 * (y1 - y0))
            self.assertTrue(any(dark(pic[int(x0) - 5, y + d]) for d in (-1, 0)), f"y tick {k / 5}")
        for k in (1, 3, 5, 7, 9):  # none between
            self.assertFalse(dark(pic[int(x0 + k / 10 * (x1 - x0)), int(y1) + 4]), f"x tick at {k / 10}")
        # tick labels and axis titles are drawn under and left of the axes
        self.assertTrue(any(dark(pic[x, y]) for x in range(int(x0), int(x1)) for y in range(int(y1) + 10, pic.h)))
        self.assertTrue(any(dark(pic[x, y]) for x in range(0, int(x0) - 10) for y in range(int(y0), int(y1))))

    def test_pr_curve_is_the_known_step(self):
        pic = self.png("PR_curve.png")
        box = frame(pic)
        self.column_blue(pic, box, 0.5, 2 / 3, "PR")          # the flat 2/3 between recall 1/3 and 2/3
        self.column_blue(pic, box, 0.15, 1.0 - 0.004, "PR")   # precision 1 below recall 1/3 (at the frame)
        self.column_blue(pic, box, 5 / 6, 1 / 3, "PR", 14)    # halfway down the straight fall to (1, 0)
        # the legend names the class with its AP50 and the mean, right of the axes (text: dark)
        self.assertTrue(any(dark(pic[x, y]) for x in range(int(box[2]) + 40, pic.w)
                            for y in range(int(box[1]), int(box[1]) + 60)))

    def test_recall_and_precision_curves(self):
        pic = self.png("R_curve.png")
        box = frame(pic)
        self.column_blue(pic, box, 0.3, 2 / 3, "R")    # two of three found below conf 0.7
        self.column_blue(pic, box, 0.97, 0.0 + 0.004, "R")  # none above 0.9
        pic = self.png("P_curve.png")
        box = frame(pic)
        self.column_blue(pic, box, 0.3, 2 / 3, "P")    # 2 of 3 answers right below 0.7

    def test_f1_curve_names_the_best_conf(self):
        pic = self.png("F1_curve.png")
        box = frame(pic)
        self.column_blue(pic, box, 0.3, 2 / 3, "F1")   # P = R = 2/3 below conf 0.7

    def cells(self, name, n):
        pic = self.png(name)
        self.assertEqual((pic.w, pic.h), (1800, 1350))  # 12 x 9 inches at 150 dpi
        x0, y0, x1, y1 = frame(pic)
        cw, ch = (x1 - x0) / n, (y1 - y0) / n
        self.assertAlmostEqual(cw, ch, delta=1)
        return [[pic[int(x0 + (j + 0.15) * cw), int(y0 + (i + 0.15) * ch)] for j in range(n)] for i in range(n)]

    def test_confusion_matrix_cells_ordered_by_count(self):
        # rows predicted (thing, background), columns true: [[2, 1], [1, 0]]
        c = self.cells("confusion_matrix.png", 2)
        lum = [[sum(px) for px in row] for row in c]
        self.assertLess(lum[0][0], lum[0][1])
        self.assertEqual(c[0][1], c[1][0])
        self.assertTrue(white(c[1][1]), c[1][1])
        self.assertGreater(c[0][0][2], c[0][0][0])  # Blues
        # normalised by column: [[2/3, 1], [1/3, 0]]
        c = self.cells("confusion_matrix_normalized.png", 2)
        lum = [[sum(px) for px in row] for row in c]
        self.assertLess(lum[0][1], lum[0][0])
        self.assertLess(lum[0][0], lum[1][0])
        self.assertTrue(white(c[1][1]), c[1][1])


class TestTasks(PlotsE2E):
    def test_segment_box_and_mask_files(self):
        ds = Dataset(self.path("seg"), task="segment", n=6, seed=5)
        self.server.set_answers(ds.answers)
        out = self.path("plots")
        r = self.val("--plots", out, os.path.join(ds.root, "data.yaml"))
        self.assertEqual(r.rc, 0, r)
        want = [p + f for p in ("Box", "Mask") for f in CURVES] + MATRICES
        self.assertEqual(sorted(os.listdir(out)), sorted(want))
        for f in want:
            self.assertEqual(png_size(os.path.join(out, f)), (1800, 1350) if f in MATRICES else (1350, 900))

    def test_many_classes(self):
        """1200 names: a 1201 x 1201 matrix of cells under a pixel wide, numbered ticks; curves grey."""
        ds = Dataset(self.path("many"), nc=1200, n=30, seed=9)
        self.server.set_answers(ds.answers)
        out = self.path("plots")
        r = self.val("--plots", out, os.path.join(ds.root, "data.yaml"))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(os.listdir(out)), sorted(CURVES + MATRICES))
        self.assertEqual(png_size(os.path.join(out, "confusion_matrix.png")), (1800, 1350))

    def test_classify_matrix_only(self):
        docs = {}
        for c, name in enumerate(("cat", "dog")):
            for i in range(2):
                img = self.write(f"cls/val/{name}/{i}.png", png(900 + 10 * c + i))
                top = [{"class": k, "name": n, "confidence": 0.9 if k == (c if i == 0 else 1 - c) else 0.1}
                       for k, n in enumerate(("cat", "dog"))]
                docs[sha256_of(img)] = {"images": [{"results": top, "shape": [2, 2]}]}
        self.server.set_answers(docs)
        out = self.path("plots")
        r = self.val("--plots", out, self.path("cls"))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(os.listdir(out)), sorted(MATRICES))


class TestSafety(PlotsE2E):
    def setUp(self):
        super().setUp()
        self.data = self.step_dataset()

    def refused(self, plots, *fragments):
        r = self.val("--plots", plots, self.data)
        self.assertEqual(r.rc, 2, r)
        self.assertOneLineError(r, "--plots", *fragments)
        self.assertEqual(self.server.log(), [], "nothing may be sent")
        return r

    def test_a_file(self):
        p = self.path("notes.txt")
        with open(p, "w") as f:
            f.write("mine\n")
        self.refused(p, "is not a directory")
        with open(p) as f:
            self.assertEqual(f.read(), "mine\n")

    def test_a_fifo(self):
        p = self.path("fifo")
        os.mkfifo(p)
        self.refused(p, "is not a directory")

    def test_a_planted_link_to_an_image(self):
        out = self.path("plots")
        os.makedirs(out)
        with open(self.images[0], "rb") as f:
            before = f.read()
        os.symlink(self.images[0], os.path.join(out, "PR_curve.png"))
        self.refused(out, "PR_curve.png", "is a link")
        with open(self.images[0], "rb") as f:
            self.assertEqual(f.read(), before)

    def test_a_hard_link_to_an_image(self):
        out = self.path("plots")
        os.makedirs(out)
        os.link(self.images[1], os.path.join(out, "confusion_matrix.png"))
        self.refused(out, "confusion_matrix.png", "is one of the images")

    def test_a_directory_in_a_plots_place(self):
        out = self.path("plots")
        os.makedirs(os.path.join(out, "F1_curve.png"))
        self.refused(out, "F1_curve.png", "is a directory")

    def test_the_images_folder_and_around_it(self):
        images = os.path.dirname(self.images[0])
        self.refused(images, "images/val", "pictures would land among the originals")
        self.refused(os.path.join(images, "plots"), "lies inside")
        self.refused(self.path("ds"), "holds")
        os.symlink(images, self.path("link"))
        self.refused(self.path("link"), "pictures would land among the originals")
        self.assertFalse(os.path.exists(os.path.join(images, "plots")))

    def test_an_existing_plot_is_replaced(self):
        out = self.path("plots")
        os.makedirs(out)
        with open(os.path.join(out, "PR_curve.png"), "w") as f:
            f.write("old")
        r = self.val("--plots", out, self.data)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(png_size(os.path.join(out, "PR_curve.png")), (1350, 900))
        self.assertEqual(sorted(os.listdir(out)), sorted(CURVES + MATRICES))

    def test_no_font_is_exit_2_nothing_sent(self):
        conf = self.path("fonts.conf")  # fontconfig with no font directory
        with open(conf, "w") as f:
            f.write(f'<?xml version="1.0"?>\n<fontconfig><cachedir>{self.path("fc")}</cachedir></fontconfig>\n')
        out = self.path("plots")
        r = self.run_hp("val", "-u", self.platform_url(), "--api", "platform", "--no-progress", "--plots", out,
                        self.data, key=PLATFORM_KEY, env={"FONTCONFIG_FILE": conf})
        self.assertEqual(r.rc, 2, r)
        self.assertIn("hubpredict: --plots: no font found", r.err)
        self.assertEqual(self.server.log(), [])
        self.assertFalse(os.path.exists(out))

    def test_plots_that_cannot_be_written_at_the_end_are_exit_11(self):
        """DIR turns into a file while the answers come (-j 1, each held 0.5 s): the metrics are
        printed, then one line naming the plot, exit 11."""
        out = self.path("plots")
        self.server.set_latency(0.5)
        p = self.popen_hp("val", "-u", self.platform_url(), "--api", "platform", "--no-progress", "-j", "1",
                          "--plots", out, self.data, key=PLATFORM_KEY, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not self.server.log() and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.02)
        os.rmdir(out)  # made (empty) before the first request
        with open(out, "w") as f:
            f.write("now a file\n")
        r = self.wait_hp(p, key=PLATFORM_KEY)
        self.assertEqual(r.rc, 11, r)
        self.assertIn("all", r.out)
        lines = [ln for ln in r.err.splitlines() if ln.startswith("hubpredict: --plots")]
        self.assertEqual(len(lines), 1, r)
        self.assertIn("cannot write", lines[0])
        self.assertIn("PR_curve.png", lines[0])
        with open(out) as f:
            self.assertEqual(f.read(), "now a file\n")

    def test_an_unwritable_dir_is_exit_11_nothing_sent(self):
        blocker = self.path("blocker")
        with open(blocker, "w") as f:
            f.write("x")
        r = self.val("--plots", os.path.join(blocker, "sub"), self.data)
        self.assertEqual(r.rc, 11, r)
        self.assertOneLineError(r, "--plots", "cannot create directory")
        self.assertEqual(self.server.log(), [])


class TestHelp(E2E):
    def test_val_help_shows_vals_defaults(self):
        r = self.run_hp("val", "--help")
        self.assertEqual(r.rc, 0, r)
        rows = {}
        for ln in r.out.splitlines():
            names = [w.rstrip(",") for w in ln.split() if w.startswith("--")]
            if ln.startswith("  ") and names:
                rows.setdefault(names[0], ln)
        self.assertIn("(default 0.01", rows["--conf"])
        self.assertNotIn("0.25", rows["--conf"])
        self.assertIn("table (default), json or csv", rows["--format"])
        self.assertNotIn("jsonl", rows["--format"])
        self.assertIn("per check and per class", rows["--junit"])
        self.assertIn("--plots DIR", r.out)
        # predict's own help keeps predict's
        p = self.run_hp("--help")
        self.assertIn("confidence threshold, 0.01-1.0 (default 0.25)", p.out)
        self.assertIn("table (default), json, jsonl, csv or raw", p.out)


if __name__ == "__main__":
    unittest.main()
