"""The dataset loader's refusals, through tests/tools/valcalc.c: every bad
label and bad data.yaml is one line naming FILE:LINE (FILE alone when no line
is at fault), exit 3; a FIFO as a label file is refused without blocking; a
.txt split list loads with its lines taken from the list's folder.
Run: VALCALC=build/tests/valcalc /usr/bin/python3 -m unittest test_dataset_errors"""
import json
import re
import shutil
import os
import subprocess
import tempfile
import unittest

VALCALC = os.environ.get("VALCALC", "valcalc")
PNG = bytes.fromhex("89504e470d0a1a0a")  # the loader never opens images


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


class Errors(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hpvalerr-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.yaml = os.path.join(self.dir, "data.yaml")
        write(self.yaml, "path: .\nval: images/val\nnames: [a, b]\n")
        self.img = os.path.join(self.dir, "images/val/x.png")
        self.lab = os.path.join(self.dir, "labels/val/x.txt")
        write(self.img, PNG)
        self.preds = os.path.join(self.dir, "preds.json")
        write(self.preds, json.dumps({"x.png": {"shape": [100, 100], "preds": []}}))

    def run_calc(self, data=None, split="val", task="detect", timeout=10):
        p = subprocess.run([VALCALC, data or self.yaml, split, task, self.preds],
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stderr

    def refused(self, file, line, reason, **kw):
        """One line: 'FILE':LINE: reason (FILE's tail given; line 0: none)."""
        rc, err = self.run_calc(**kw)
        self.assertEqual(rc, 3, err)
        self.assertEqual(err.count("\n"), 1, err)
        at = f":{line}: " if line else ": "
        self.assertRegex(err, "^valcalc: '[^']*" + re.escape(file) + "'" + re.escape(at + reason))

    def label(self, text, line, reason, **kw):
        write(self.lab, text)
        self.refused("labels/val/x.txt", line, reason, **kw)

    def test_label_not_a_number(self):
        self.label("0 0.5 0.5 0.1 0.1\n1 0.5 abc 0.1 0.1\n", 2, "'abc' is not a number")

    def test_label_infinite(self):
        self.label("0 0.5 inf 0.1 0.1\n", 1, "'inf' is not a number")

    def test_label_negative_class(self):
        self.label("-1 0.5 0.5 0.1 0.1\n", 1, "the class '-1' is not a class number")

    def test_label_fractional_class(self):
        self.label("\n0 0.5 0.5 0.1 0.1\n1.5 0.5 0.5 0.1 0.1\n", 3, "the class '1.5' is not a class number")

    def test_label_class_beyond_names(self):
        self.label("2 0.5 0.5 0.1 0.1\n", 1, "class 2 is beyond the 2 names")

    def test_label_too_few_numbers(self):
        self.label("0 0.5 0.5 0.1\n", 1, "3 numbers after the class, at least 4")

    def test_label_coordinate_out_of_range(self):
        self.label("0 0.5 0.5 0.1 0.1\n0 0.5 1.5 0.1 0.1\n", 2, "coordinate 1.5 is outside")

    def test_label_binary(self):
        write(self.lab, b"0 0.5 0.5 0.1 0.1\n\0\n")
        self.refused("labels/val/x.txt", 0, "not a text file")

    def test_label_fifo_not_opened(self):
        os.makedirs(os.path.dirname(self.lab), exist_ok=True)
        os.mkfifo(self.lab)
        self.refused("labels/val/x.txt", 0, "not a regular file", timeout=5)

    def test_label_folder(self):
        os.makedirs(self.lab)
        self.refused("labels/val/x.txt", 0, "not a regular file")

    def test_missing_split(self):
        self.refused("data.yaml", 0, "no 'test' split", split="test")

    def test_split_path_missing(self):
        write(self.yaml, "path: .\nval: images/nothere\nnames: [a]\n")
        self.refused("data.yaml", 2, "'" + self.dir + "/images/nothere' does not exist")

    def test_split_empty(self):
        os.remove(self.img)
        self.refused("data.yaml", 0, "the 'val' split holds no images")

    def test_names_key_not_a_number(self):
        write(self.yaml, "path: .\nval: images/val\nnames:\n  0: a\n  one: b\n")
        self.refused("data.yaml", 5, "a names key must be a class number")

    def test_nc_not_a_number(self):
        write(self.yaml, "path: .\nval: images/val\nnc: many\n")
        self.refused("data.yaml", 3, "nc must be a number")

    def test_kpt_shape(self):
        write(self.yaml, "path: .\nval: images/val\nnames: [a]\nkpt_shape: [17, 4]\n")
        self.refused("data.yaml", 4, "kpt_shape must be [N, 2] or [N, 3]")

    def test_yaml_syntax(self):
        write(self.yaml, "path: .\nval: [images/val\n")
        rc, err = self.run_calc()
        self.assertEqual(rc, 3, err)
        self.assertRegex(err, r"^valcalc: '[^']*data\.yaml':2: ")

    def test_bare_folder_without_images(self):
        empty = tempfile.mkdtemp(prefix="hpvalerr-")
        self.addCleanup(os.rmdir, empty)
        self.refused(os.path.basename(empty), 0, "no images/ folder and no 'val' split", data=empty)

    def test_txt_split_list(self):
        write(os.path.join(self.dir, "lists/val.txt"), "../images/val/x.png\n\n")
        write(self.yaml, "path: .\nval: lists/val.txt\nnames: [a, b]\n")
        write(self.lab, "1 0.5 0.5 0.2 0.2\n")
        rc, err = self.run_calc()
        self.assertEqual(rc, 0, err)

    def test_txt_split_list_bad_label_named(self):
        write(os.path.join(self.dir, "lists/val.txt"), "../images/val/x.png\n")
        write(self.yaml, "path: .\nval: [lists/val.txt]\nnames: [a, b]\n")
        self.label("0 0.5 0.5 0.1 0.1\n7 0.5 0.5 0.1 0.1\n", 2, "class 7 is beyond")


if __name__ == "__main__":
    unittest.main()
