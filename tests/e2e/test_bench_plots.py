"""hubpredict bench --plots DIR (issue 23): the PNGs decoded (pixels.read_png) and read back
against the numbers of the same run (-f json). The stand-in's bench model with a 1 s stall
[1 s, 2 s) and an open loop of 40/s for 3 s: over time, the requests scheduled in the stall
make a ridge whose line sits above 700 ms at 1.2 s and whose top is the run's max, while
before and after the line stays low; by percentile, the line is low at the median and high
past p90 (a third of the requests waited). The axes are found by their frame, the ticks under
it where the numbers put them. DIR's safety: val's rules (a file, a FIFO, a planted link, the
inputs' folder, no font): exit 2, nothing sent, nothing made."""
import os
import subprocess
import time

from harness import E2E, image
from pixels import read_png
from test_val_plots import dark_map, frame, png_size

IMG = image("street.jpg")
FILES = ["latency_over_time.png", "latency_percentiles.png"]


def blue(px):   # tab10's first colour, 0x1f77b4, antialiased onto white
    r, g, b = px
    return b > 150 and r < 130 and b - r > 60


def orange(px):  # tab10's second, 0xff7f0e
    r, g, b = px
    return r > 200 and 90 < g < 190 and b < 100


class Chart:
    """A decoded chart with its data limits: data (x, y) to pixels and back."""

    def __init__(self, path, xmax, ymax):
        self.pic = read_png(path)
        self.x0, self.y0, self.x1, self.y1 = frame(self.pic)
        self.xmax, self.ymax = xmax, ymax

    def col(self, x):
        return int(self.x0 + x / self.xmax * (self.x1 - self.x0))

    def value(self, py):
        return (self.y1 - py) / (self.y1 - self.y0) * self.ymax

    def ys(self, x, which=blue):
        """The data y of every pixel of the colour in the column of x (inside the frame)."""
        c = self.col(x)
        return [self.value(py) for py in range(int(self.y0) + 2, int(self.y1) - 1) if which(self.pic[c, py])]

    def tick_at(self, x):
        """A dark tick mark under the frame at data x."""
        d = dark_map(self.pic)
        c = self.col(x)
        below = int(self.y1) + 3
        return any(d[below * self.pic.w + cc] for cc in range(c - 2, c + 3))


class BenchPlotsE2E(E2E):
    def bench(self, *args, **kw):
        return self.run_hp("bench", "-u", self.hub_url("bench"), "--no-progress", *args, **kw)


class TestStall(BenchPlotsE2E):
    def test_the_stall_is_a_ridge_over_time_and_the_tail_by_percentile(self):
        self.server.set_bench(seed=3, median_ms=10.0, sigma=0.3, cap_ms=60.0, stall=(1.0, 2.0))
        out = self.path("plots")
        r = self.bench("-f", "json", "--rate", "40/s", "-n", "120", "--plots", out, IMG)
        self.assertEqual(r.rc, 0, r)
        doc = r.json()
        self.assertEqual(sorted(os.listdir(out)), FILES)
        for f in FILES:
            self.assertEqual(png_size(os.path.join(out, f)), (1350, 900))
        top = doc["latency_ms"]["max"] * 1.05
        self.assertGreater(doc["latency_ms"]["max"], 800, doc)
        # over time: 0 to 3 s (the last start, 2.975 s, rounded up), 0 to the max + 5 %
        t = Chart(os.path.join(out, "latency_over_time.png"), 3.0, top)
        for x in (0, 1, 2, 3):
            self.assertTrue(t.tick_at(x), f"a tick at {x} s")
        self.assertGreater(max(t.ys(1.2)), 700, "inside the stall the line is high")
        self.assertGreater(min(t.ys(1.2)), 600, "inside the stall every request waited")
        self.assertLess(max(t.ys(0.5)), 200, "before the stall it is low")
        self.assertLess(max(t.ys(2.6)), 200, "after the stall it is low")
        ridge = max(max(t.ys(x / 100) or [0]) for x in range(90, 130))
        self.assertAlmostEqual(ridge, doc["latency_ms"]["max"], delta=0.03 * top)
        # by percentile: 0 to 3 nines (120 samples), the same y axis
        p = Chart(os.path.join(out, "latency_percentiles.png"), 3.0, top)
        for x in (0, 0.30103, 1, 2, 3):
            self.assertTrue(p.tick_at(x), f"a tick at {x} nines")
        self.assertLess(max(p.ys(0.15)), 100, "p30 is the service time")
        self.assertGreater(min(p.ys(1.5)), 500, "p97 is in the stall")
        self.assertAlmostEqual(max(p.ys(2.5)), doc["latency_ms"]["max"], delta=0.03 * top)

    def test_a_line_per_endpoint(self):
        self.server.set_bench(seed=5, median_ms=5.0, sigma=0.2, cap_ms=30.0, stall=None)
        out = self.path("plots")
        u = self.hub_url("bench")
        r = self.run_hp("bench", "-u", u, "-u", u, "--no-progress", "-j", "2", "-n", "40", "--plots", out, IMG)
        self.assertEqual(r.rc, 0, r)
        for f in FILES:
            pic = read_png(os.path.join(out, f))
            x0, y0, x1, y1 = frame(pic)
            inside = [pic[x, y] for x in range(int(x0) + 3, int(x1) - 3, 3) for y in range(int(y0) + 3, int(y1) - 3, 3)]
            self.assertTrue(any(blue(px) for px in inside), f)
            self.assertTrue(any(orange(px) for px in inside), f)


class TestSafety(BenchPlotsE2E):
    def refused(self, plots, *fragments, env=None):
        r = self.bench("-n", "3", "--plots", plots, self.img, env=env)
        self.assertEqual(r.rc, 2, r)
        self.assertOneLineError(r, "--plots", *fragments)
        self.assertEqual(self.server.log(), [], "nothing may be sent")
        return r

    def setUp(self):
        super().setUp()
        self.server.set_bench(seed=5, median_ms=5.0, sigma=0.2, cap_ms=30.0, stall=None)
        with open(IMG, "rb") as f:
            self.img = self.write("pics/a.jpg", f.read())

    def test_a_file_and_a_fifo(self):
        p = self.path("notes.txt")
        with open(p, "w") as f:
            f.write("mine\n")
        self.refused(p, "is not a directory")
        with open(p) as f:
            self.assertEqual(f.read(), "mine\n")
        os.mkfifo(self.path("fifo"))
        self.refused(self.path("fifo"), "is not a directory")

    def test_a_planted_link_and_a_hard_link_to_the_input(self):
        out = self.path("plots")
        os.makedirs(out)
        with open(self.img, "rb") as f:
            before = f.read()
        os.symlink(self.img, os.path.join(out, "latency_over_time.png"))
        self.refused(out, "latency_over_time.png", "is a link")
        os.unlink(os.path.join(out, "latency_over_time.png"))
        os.link(self.img, os.path.join(out, "latency_percentiles.png"))
        self.refused(out, "latency_percentiles.png", "is one of the images")
        with open(self.img, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_the_inputs_folder(self):
        self.refused(self.path("pics"), "pictures would land among the originals")
        self.refused(self.path("pics/plots"), "lies inside")
        self.assertFalse(os.path.exists(self.path("pics/plots")))

    def test_no_font_is_exit_2_nothing_sent_nothing_made(self):
        conf = self.path("fonts.conf")  # fontconfig with no font directory
        with open(conf, "w") as f:
            f.write(f'<?xml version="1.0"?>\n<fontconfig><cachedir>{self.path("fc")}</cachedir></fontconfig>\n')
        out = self.path("plots")
        r = self.refused(out, "no font found", env={"FONTCONFIG_FILE": conf})
        self.assertFalse(os.path.exists(out))

    def test_plots_that_cannot_be_written_at_the_end_are_exit_11(self):
        """DIR turns into a file while the requests go (-j 1, 3 of 300 ms): the report is
        printed, then one line naming the chart, exit 11."""
        self.server.set_bench(seed=5, median_ms=300.0, sigma=0.01, cap_ms=400.0, stall=None)
        out = self.path("plots")
        p = self.popen_hp("bench", "-u", self.hub_url("bench"), "--no-progress", "-j", "1", "-n", "3",
                          "--plots", out, self.img, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not self.server.log() and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.02)
        os.rmdir(out)  # made (empty) before the first request
        with open(out, "w") as f:
            f.write("now a file\n")
        r = self.wait_hp(p)
        self.assertEqual(r.rc, 11, r)
        self.assertIn("p99", r.out)
        lines = [ln for ln in r.err.splitlines() if ln.startswith("hubpredict: --plots")]
        self.assertEqual(len(lines), 1, r)
        self.assertIn("latency_percentiles.png", lines[0])
        with open(out) as f:
            self.assertEqual(f.read(), "now a file\n")
