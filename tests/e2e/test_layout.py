"""The include rule of src/README.md holds: a stage includes its own headers and those of the
stages below it, never above, and never a sibling's.

    cli -> run -> {check, sink, image} -> api -> util

Each public header (include/hubpredict/X.h) belongs to the stage whose folder holds X.c; a
header without a .c of its own is in HEADER_STAGE, or else in the lowest stage that still sits
above everything it includes (a header of plain types that includes only util/ is util's). Every
`#include "hubpredict/..."` line of src/*/ and of include/hubpredict/ is checked. The few seams
that still run sideways are listed in ALLOWED, each with the reason and what cuts it; a seam
that is cut must leave the list (an entry that no longer matches fails too).

Standard library only; no binary is run.
"""

import glob
import os
import re
import unittest

from harness import ROOT

# lowest first; stages of one tier may not include each other
# bench and val are stages beside check (each works on decoded answers); video cuts frames that
# image/'s encoder makes JPEGs of, and run/ takes them as a source
TIERS = [["util"], ["api"], ["check", "sink", "image", "bench", "val"], ["video"], ["run"], ["cli"]]
RANK = {stage: i for i, tier in enumerate(TIERS) for stage in tier}

# headers without a .c of their own
HEADER_STAGE = {
    "response": "api",  # decode.c fills it
    "image": "image",  # decode.c, transform.c, exif.c of image/
}

# (file, header): why the seam still exists and what cuts it
ALLOWED = {
    ("src/image/annotate.c", "labels"): "hp_labels_check_dir and hp_labels_write_file, the safe writes "
    "below a directory that --save-txt and --annotate share: they belong in util/output.c",
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"hubpredict/(\w+)\.h"', re.M)


def rel(path: str) -> str:
    return os.path.relpath(path, ROOT)


def includes(path: str) -> list:
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def header_stages() -> dict:
    headers = sorted(glob.glob(os.path.join(ROOT, "include", "hubpredict", "*.h")))
    stages = dict(HEADER_STAGE)
    for h in headers:
        name = os.path.basename(h)[:-2]
        found = glob.glob(os.path.join(ROOT, "src", "*", name + ".c"))
        if name not in stages and found:
            stages[name] = os.path.basename(os.path.dirname(found[0]))
    # the rest: just above what they include (repeated until nothing changes)
    changed = True
    while changed:
        changed = False
        for h in headers:
            name = os.path.basename(h)[:-2]
            if name in stages:
                continue
            below = [stages.get(i) for i in includes(h) if i != name]
            if None in below:
                continue
            stages[name] = max(below or ["util"], key=lambda s: RANK[s])
            changed = True
    return stages


def allowed(stage: str, target: str) -> bool:
    return stage == target or RANK[target] < RANK[stage]


class IncludeDirection(unittest.TestCase):
    def setUp(self):
        self.stages = header_stages()
        self.files = []  # (path, stage)
        for path in sorted(glob.glob(os.path.join(ROOT, "src", "*", "*.[ch]"))):
            self.files.append((path, os.path.basename(os.path.dirname(path))))
        for path in sorted(glob.glob(os.path.join(ROOT, "include", "hubpredict", "*.h"))):
            self.files.append((path, self.stages[os.path.basename(path)[:-2]]))

    def test_every_header_has_a_stage(self):
        for path in glob.glob(os.path.join(ROOT, "include", "hubpredict", "*.h")):
            name = os.path.basename(path)[:-2]
            self.assertIn(name, self.stages, f"{rel(path)}: no stage (add it to HEADER_STAGE)")
            self.assertIn(self.stages[name], RANK)

    def test_every_stage_folder_is_known(self):
        for path, stage in self.files:
            self.assertIn(stage, RANK, f"{rel(path)}: a folder src/README.md does not place")

    def test_includes_point_down(self):
        wrong, used = [], set()
        for path, stage in self.files:
            for name in includes(path):
                self.assertIn(name, self.stages, f"{rel(path)} includes hubpredict/{name}.h, which does not exist")
                target = self.stages[name]
                if allowed(stage, target):
                    continue
                if (rel(path), name) in ALLOWED:
                    used.add((rel(path), name))
                    continue
                wrong.append(f"{rel(path)} ({stage}) includes hubpredict/{name}.h ({target})")
        self.assertEqual(wrong, [], "includes that point up or sideways:\n  " + "\n  ".join(wrong))
        stale = sorted(set(ALLOWED) - used)
        self.assertEqual(stale, [], "seams listed in ALLOWED that are gone: remove them")

    def test_the_rule_is_checked(self):
        # the check itself: an include upward and one sideways are caught
        self.assertFalse(allowed("run", "cli"))
        self.assertFalse(allowed("sink", "image"))
        self.assertFalse(allowed("util", "api"))
        self.assertTrue(allowed("sink", "api"))
        self.assertTrue(allowed("cli", "util"))


if __name__ == "__main__":
    unittest.main()
