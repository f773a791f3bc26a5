"""Issue 9: safe with whatever it is given (SPEC 10).

Output paths: devices, FIFOs and sockets are written in place, a symbolic link's target is
replaced and the link kept, a directory or an input named as an output is refused before
anything is sent, and so is an existing image named as -o (the `-o *.jpg` accident).
Standard input is spooled up to --max-upload; signals during the spool end the run at once.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import threading
import time

from harness import BIN, E2E, HUB_KEY, WRAPPER, image

CAT = image("cat.png")
STREET = image("street.jpg")
SLOW = 5 if WRAPPER else 1


def label_files(labels, src):
    """Where src's label file is: below DIR by SPEC 9's rule (DIR/STEM.txt), or at the mirrored
    input path of the older rule. The tests prepare both, so they hold under either."""
    stem = os.path.splitext(os.path.basename(src))[0] + ".txt"
    return [os.path.join(labels, stem),
            os.path.join(labels, *[c for c in os.path.dirname(src).split("/") if c], stem)]


class SafetyE2E(E2E):

    def copy(self, src, name):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        shutil.copyfile(src, p)
        return p

    def assertUsage(self, r, *fragments):
        self.assertExit(r, 2)
        self.assertOneLineError(r, *fragments)
        self.assertEqual(self.server.log(), [], f"a request was sent: {r}")
        self.assertEqual(r.out_bytes, b"")


class TestSpecialOutputs(SafetyE2E):
    """Item 1: what is at the path decides how it is written."""

    def test_character_device_is_written_in_place(self):
        # As root, a real device node (a copy of /dev/null, major 1 minor 3); otherwise a link
        # to /dev/null, which reaches the same code path: the device is written, not renamed over.
        dev = self.path("null")
        if os.geteuid() == 0:
            os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        else:
            os.symlink("/dev/null", dev)
        for flag in ("-o", "--junit"):
            with self.subTest(flag=flag):
                args = ["-u", self.hub_url(), "-f", "json", flag, dev, CAT]
                if flag == "--junit":
                    args[4:4] = ["-o", self.path("res.json")]
                r = self.run_hp(*args)
                self.assertExit(r, 0)
                self.assertTrue(stat.S_ISCHR(os.stat(dev).st_mode), "the device became a regular file")
                self.assertEqual(sorted(os.listdir(self.tmp.name)),
                                 sorted(["null"] + (["res.json"] if flag == "--junit" else [])),
                                 "a temporary file was left beside the device")
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))

    def test_fifo_reader_gets_the_results(self):
        fifo = self.path("results.fifo")
        os.mkfifo(fifo)
        got = {}

        def reader():
            with open(fifo, "rb") as f:
                got["data"] = f.read()
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", fifo, CAT)
        t.join(10)
        self.assertExit(r, 0)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced")
        doc = json.loads(got["data"])
        self.assertEqual(doc[0]["file"], CAT)
        self.assertEqual(os.listdir(self.tmp.name), ["results.fifo"])

    def test_symlink_target_is_replaced_and_the_link_kept(self):
        os.makedirs(self.path("real"))
        for flag, name in (("-o", "out.json"), ("--junit", "report.xml")):
            with self.subTest(flag=flag):
                target = self.path(f"real/{name}")
                with open(target, "w") as f:
                    f.write("old\n")
                link = self.path(f"link-{name}")
                os.symlink(os.path.join("real", name), link)
                args = ["-u", self.hub_url(), "-f", "json", flag, link, CAT]
                r = self.run_hp(*args)
                self.assertExit(r, 0)
                self.assertTrue(os.path.islink(link), "the link was replaced by a file")
                with open(target) as f:
                    text = f.read()
                self.assertNotEqual(text, "old\n")
                if flag == "-o":
                    self.assertEqual(json.loads(text)[0]["file"], CAT)
                else:
                    self.assertIn("<testsuites", text)
                self.assertEqual(sorted(os.listdir(self.path("real"))),
                                 sorted(n for n in ("out.json", "report.xml") if os.path.exists(self.path("real/" + n))))

    def test_dangling_symlink_creates_its_target(self):
        link = self.path("link.json")
        os.symlink("made.json", link)
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", link, CAT)
        self.assertExit(r, 0)
        self.assertTrue(os.path.islink(link))
        with open(self.path("made.json")) as f:
            self.assertEqual(json.load(f)[0]["file"], CAT)

    def test_label_file_symlink_is_followed(self):
        labels = self.path("labels")
        for i, lf in enumerate(label_files(labels, CAT)):
            os.makedirs(os.path.dirname(lf), exist_ok=True)
            os.symlink(self.path(f"kept{i}.txt"), lf)
        r = self.run_hp("-u", self.hub_url("classify"), "--save-txt", labels, "-f", "json", CAT)
        self.assertExit(r, 0)
        written = [i for i in range(2) if os.path.exists(self.path(f"kept{i}.txt"))]
        self.assertEqual(len(written), 1, "the label file was not written through the link")
        for lf in label_files(labels, CAT):
            self.assertTrue(os.path.islink(lf))
        with open(self.path(f"kept{written[0]}.txt")) as f:
            self.assertRegex(f.readline(), r"^\d\.\d\d \S")


class TestRefusedBeforeSending(SafetyE2E):
    """Items 2 and 4: outputs that cannot be right are refused with exit 2, nothing sent."""

    def test_directory_as_output_or_junit(self):
        d = self.path("results")
        os.makedirs(d)
        inputs = [self.copy(CAT, f"in/c{i}.png") for i in range(3)]
        for flag in ("-o", "--junit"):
            with self.subTest(flag=flag):
                r = self.run_hp("-u", self.hub_url(), "-f", "json", flag, d, *inputs)
                name = "--output" if flag == "-o" else "--junit"
                self.assertUsage(r, f"{name} '{d}' is a directory")
                self.assertEqual(os.listdir(d), [])
                self.assertEqual(sorted(os.listdir(self.tmp.name)), ["in", "results"])
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", d + "/", *inputs)
        self.assertUsage(r, "is a directory")

    def test_label_file_that_is_a_directory(self):
        labels = self.path("labels")
        for lf in label_files(labels, CAT):
            os.makedirs(lf)
        r = self.run_hp("-u", self.hub_url(), "--save-txt", labels, CAT)
        self.assertUsage(r, "--save-txt", "is a directory")

    def test_output_that_is_an_existing_image(self):
        # hubpredict -f json -o *.jpg: the shell gives the first image to -o
        a, b = self.copy(STREET, "a.jpg"), self.copy(STREET, "b.jpg")
        with open(a, "rb") as f:
            before = f.read()
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", a, b)
        self.assertUsage(r, f"--output '{a}' is a JPEG image", "wildcard")
        with open(a, "rb") as f:
            self.assertEqual(f.read(), before, "the image was overwritten")
        r = self.run_hp("-u", self.hub_url(), "--junit", self.copy(CAT, "c.png"), b)
        self.assertUsage(r, "--junit", "is a PNG image")

    def test_output_that_is_an_input(self):
        # by device and inode: another name for the same file (a hard link), bytes that do
        # not look like an image (so the check by first bytes does not catch it first)
        data = self.write("photo.heic", b"not sniffed as media, still an input\n" * 10)
        os.link(data, self.path("alias.heic"))
        for flag in ("-o", "--junit"):
            with self.subTest(flag=flag):
                r = self.run_hp("-u", self.hub_url(), "-f", "json", flag, self.path("alias.heic"),
                                CAT, data)
                name = "--output" if flag == "-o" else "--junit"
                self.assertUsage(r, f"{name} '{self.path('alias.heic')}' is also an input", f"'{data}'")
        # also when the input comes from a directory walk or a --files-from list
        walk = self.path("walk")
        os.makedirs(walk)
        inside = self.copy(CAT, "walk/x.png")
        r = self.run_hp("-u", self.hub_url(), "-o", os.path.join(walk, "x.png"), "--no-progress", walk)
        self.assertUsage(r)   # the image check or the input check: either refuses
        lst = self.write("list.txt", (data + "\n").encode())
        r = self.run_hp("-u", self.hub_url(), "-o", self.path("alias.heic"), "--files-from", lst)
        self.assertUsage(r, "is also an input")
        self.assertTrue(os.path.exists(inside))

    def test_label_file_that_is_an_input(self):
        labels = self.path("labels")
        os.makedirs(labels)
        # x.txt.png's label file is x.txt.txt below DIR: at DIR/x.txt.txt (SPEC 9's rule) or at
        # the mirrored input path (the older rule); both are hard links to the input itself
        src = self.write("x.txt.png", b"junk bytes standing for an image\n")
        for stem_file in label_files(labels, src):
            os.makedirs(os.path.dirname(stem_file), exist_ok=True)
            os.link(src, stem_file)
        r = self.run_hp("-u", self.hub_url(), "--save-txt", labels, src)
        self.assertUsage(r, "--save-txt", "would overwrite that input")
        with open(src, "rb") as f:
            self.assertEqual(f.read(), b"junk bytes standing for an image\n")

    def test_new_and_regular_outputs_still_work(self):
        out = self.write("out.json", b"[]\n")
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-o", out, "--junit", self.path("j.xml"), CAT)
        self.assertExit(r, 0)
        with open(out) as f:
            self.assertEqual(json.load(f)[0]["file"], CAT)
