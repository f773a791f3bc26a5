"""Image support is a module (hubpredict(1), FILES): hubpredict-image.so, loaded when --annotate,
--resize or val --plots is first used, so a run without them never maps TurboJPEG, libpng, libwebp, giflib,
FreeType or fontconfig (issue 20: their loading was most of a single call's start-up over curl's).
The module is found beside the binary (the build tree) or in LIBEXECDIR/hubpredict relative to it (an
install, wherever it was unpacked); when it is missing, or broken, --annotate and --resize are
exit 2 with one line naming the file, before anything is sent."""

import os
import shutil
import subprocess
import unittest

from harness import BIN, E2E, HUB_KEY, TIMEOUT, WRAPPER, Result, image, sha256_of

MODULE = os.path.join(os.path.dirname(os.path.abspath(BIN)), "hubpredict-image.so")
TESTMODULES = os.environ.get("HUBPREDICT_TESTMODULES", "")
# the sonames' stems: libturbojpeg.so.0, libpng16.so.16, libwebp.so.7, libgif.so.7, ...
IMAGE_LIBS = ("libturbojpeg", "libpng", "libwebp", "libgif", "libfreetype", "libfontconfig")


def image_libs(names: set[str]) -> set[str]:
    return {n for n in names if n.startswith(IMAGE_LIBS) or n == "hubpredict-image.so"}


class TestLoadedOnFirstUse(E2E):

    def maps_while_waiting(self, *args, val: str | None = None) -> set[str]:
        """What a run maps while it waits for its answer (harness's mapped_while_waiting), one
        request sent. val: a dataset for `hubpredict val` instead of a predict of street.jpg."""
        cmd = ("val", "-u", self.hub_url(), *args, val) if val else \
            ("-u", self.hub_url(), "-f", "json", *args, image("street.jpg"))
        names = self.mapped_while_waiting(*cmd)
        self.assertEqual(len(self.server.log()), 1)
        return names

    def test_a_plain_run_maps_no_image_library(self):
        names = self.maps_while_waiting()
        self.assertEqual(image_libs(names), set(), sorted(names))

    def test_annotate_maps_them(self):
        out = self.path("pictures")
        names = self.maps_while_waiting("--annotate", out)
        self.assertEqual({n for n in IMAGE_LIBS if any(m.startswith(n) for m in names)}, set(IMAGE_LIBS),
                         sorted(names))
        self.assertIn("hubpredict-image.so", names)
        self.assertEqual(os.listdir(out), ["street.jpg"])

    def val_dataset(self) -> str:
        shutil.copy(image("street.jpg"), self.write("ds/images/street.jpg", b""))
        self.write("ds/labels/street.txt", b"0 0.5 0.5 0.2 0.2\n")
        return self.path("ds")

    def test_val_maps_none_and_val_plots_loads_them(self):
        names = self.maps_while_waiting(val=self.val_dataset())
        self.assertEqual(image_libs(names), set(), sorted(names))
        out = self.path("plots")
        self.server.reset()
        names = self.maps_while_waiting("--plots", out, val=self.val_dataset())
        self.assertIn("hubpredict-image.so", names)      # loaded before anything is sent
        self.assertIn("PR_curve.png", os.listdir(out))

    def test_resize_maps_them(self):
        names = self.maps_while_waiting("--resize")
        self.assertIn("hubpredict-image.so", names)
        self.assertTrue(any(n.startswith("libturbojpeg") for n in names), sorted(names))
        # 810x1080 sent as 480x640: not the file's bytes
        self.assertNotEqual(self.server.log()[0]["file"]["sha256"], sha256_of(image("street.jpg")))

    def test_version_loads_none(self):
        # it exits at once: the dynamic loader's own account of every file it loaded
        p = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=TIMEOUT,
                           env=self.hp_env(None, {"LD_DEBUG": "files"}))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^build: .*, image support yes$")
        loaded = {line.split("file=")[1].split()[0] for line in p.stderr.splitlines()
                  if "file=" in line and ("needed by" in line or "dynamically loaded" in line)}
        self.assertTrue(any(os.path.basename(n).startswith("libcurl") for n in loaded), p.stderr[:3000])
        self.assertEqual(image_libs({os.path.basename(n) for n in loaded}), set(), sorted(loaded))


class TestModuleMissing(E2E):
    """The binary copied into a tree of its own (bin/hubpredict): where it looks for the module,
    and what it says when the module is not there or not one."""

    def setUp(self):
        super().setUp()
        os.makedirs(self.path("tree/bin"))
        self.exe = self.path("tree/bin/hubpredict")
        shutil.copy(BIN, self.exe)

    def run_copy(self, *args):
        p = subprocess.run(WRAPPER + [self.exe, "-u", self.hub_url(), *args], capture_output=True,
                           env=self.hp_env(HUB_KEY), timeout=TIMEOUT)
        r = Result(p.returncode, p.stdout, p.stderr)
        self.check_run(r, HUB_KEY)
        return r

    def refused(self, *fragments) -> list[str]:
        """--annotate and --resize are each exit 2 with one line holding fragments, nothing sent,
        no folder made; the lines."""
        lines = []
        for flag, args in (("--annotate", ("--annotate", self.path("out"))), ("--resize", ("--resize",))):
            r = self.run_copy(*args, image("cat.png"))
            self.assertExit(r, 2)
            self.assertOneLineError(r, f"{flag} needs image support, but ", *fragments)
            self.assertEqual(r.out, "")
            lines.append(r.err.strip())
        self.assertEqual(self.server.log(), [])
        self.assertFalse(os.path.exists(self.path("out")))
        return lines

    def installed_path(self) -> str:
        """Where the copy looks for the module: the file its message names, under its tree."""
        line = self.refused("is missing (No such file or directory)")[0]
        path = line.split("'")[1]
        self.assertTrue(path.startswith(self.path("tree") + "/"), line)
        self.assertTrue(path.endswith("/hubpredict/hubpredict-image.so"), line)
        self.assertNotIn("/../", path)
        return path

    def test_val_plots_without_the_module_is_exit_2_nothing_sent(self):
        shutil.copy(image("cat.png"), self.write("ds/images/cat.png", b""))
        self.write("ds/labels/cat.txt", b"")
        p = subprocess.run(WRAPPER + [self.exe, "val", "-u", self.hub_url(), "--plots", self.path("out"),
                                      self.path("ds")], capture_output=True, env=self.hp_env(HUB_KEY), timeout=TIMEOUT)
        r = Result(p.returncode, p.stdout, p.stderr)
        self.check_run(r, HUB_KEY)
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--plots needs image support, but ", "is missing (No such file or directory)")
        self.assertEqual(self.server.log(), [])
        self.assertFalse(os.path.exists(self.path("out")))

    def test_missing_names_the_file_and_a_plain_run_works(self):
        self.installed_path()
        r = self.run_copy("-f", "json", image("cat.png"))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(self.server.log()), 1)

    def test_installed_beside_the_lib_dir_works(self):
        path = self.installed_path()
        os.makedirs(os.path.dirname(path))
        shutil.copy(MODULE, path)
        r = self.run_copy("-f", "json", "--annotate", self.path("out"), "--resize", image("street.jpg"))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(os.listdir(self.path("out")), ["street.jpg"])

    def put(self, path: str, src: str | None = None, data: bytes = b""):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if src:
            shutil.copy(src, path)
        else:
            with open(path, "wb") as f:
                f.write(data)

    def test_not_a_shared_object(self):
        path = self.installed_path()
        self.put(path, data=b"not ELF\n" * 100)
        self.refused(f"'{path}' cannot be loaded: ", "invalid ELF header")

    def test_a_library_it_needs_is_missing(self):
        # the one beside the binary is tried first: the module, its libwebp renamed to one no
        # system has (same length, so the file stays valid)
        beside = self.path("tree/bin/hubpredict-image.so")
        with open(MODULE, "rb") as f:
            elf = f.read()
        self.assertIn(b"libwebp.so.", elf)
        self.put(beside, data=elf.replace(b"libwebp.so.", b"libwebQ.so."))
        self.refused(f"'{beside}' cannot be loaded: ", "libwebQ.so.")

    def test_no_entry_point(self):
        path = self.installed_path()
        self.put(path, src=os.path.join(TESTMODULES, "hp_noentry.so"))
        self.refused(f"'{path}' is not a module of hubpredict (no hp_image_module)")

    def test_from_another_build(self):
        beside = self.path("tree/bin/hubpredict-image.so")
        self.put(beside, src=os.path.join(TESTMODULES, "hp_otherbuild.so"))
        self.refused(f"'{beside}' is from another build of hubpredict (0.0.0-other, interface 999; this one: ")


if __name__ == "__main__":
    unittest.main()
