"""The Debian package (README Install): `cpack -G DEB` over the build under test holds the binary,
the man page, the three completion scripts and the docs where Debian puts them, depends on the
libraries dpkg-shlibdeps found (libcurl, cJSON), and its binary, extracted with `dpkg-deb -x` into
a temporary root, runs, sends a request to the stand-in, and finds its image module (--annotate)
in the unpacked tree."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, E2E, HUB_KEY, Result, image

BUILD = os.path.dirname(os.path.abspath(BIN))
CPACK_CONFIG = os.path.join(BUILD, "CPackConfig.cmake")
TOOLS = ("cpack", "dpkg-deb", "dpkg-shlibdeps")

FILES = [
    "./usr/bin/hubpredict",
    "./usr/share/man/man1/hubpredict.1",
    "./usr/share/bash-completion/completions/hubpredict",
    "./usr/share/zsh/vendor-completions/_hubpredict",
    "./usr/share/fish/vendor_completions.d/hubpredict.fish",
    "./usr/share/doc/hubpredict/LICENSE",
    "./usr/share/doc/hubpredict/README.md",
]


@unittest.skipUnless(os.path.exists(CPACK_CONFIG), f"no CPackConfig.cmake beside {BIN}")
@unittest.skipUnless(all(shutil.which(t) for t in TOOLS),
                     "cpack, dpkg-deb or dpkg-shlibdeps missing (tests/run.sh installs dpkg-dev)")
class TestDebianPackage(E2E):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pkgdir = tempfile.TemporaryDirectory(prefix="hp-deb-")
        p = subprocess.run(["cpack", "-G", "DEB", "--config", CPACK_CONFIG, "-B", cls.pkgdir.name],
                           capture_output=True, text=True, timeout=600, cwd=BUILD)
        cls.cpack = p
        debs = glob.glob(os.path.join(cls.pkgdir.name, "*.deb"))
        cls.deb = debs[0] if p.returncode == 0 and len(debs) == 1 else None

    @classmethod
    def tearDownClass(cls):
        cls.pkgdir.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.assertIsNotNone(self.deb, f"cpack failed: {self.cpack.stdout}\n{self.cpack.stderr}")

    def field(self, name: str) -> str:
        return subprocess.run(["dpkg-deb", "-f", self.deb, name], capture_output=True, text=True,
                              check=True).stdout.strip()

    def test_contents(self):
        listing = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True,
                                 check=True).stdout
        paths = {line.split()[-1] for line in listing.splitlines()}
        for f in FILES:
            self.assertIn(f, paths, listing)
        self.assertFalse([p for p in paths if not p.startswith("./usr/")], listing)
        # the image module, in LIBDIR/hubpredict (lib/ or lib/<multiarch>/)
        self.assertTrue([p for p in paths if re.fullmatch(r"\./usr/lib/(\S+/)?hubpredict/hubpredict-image\.so", p)],
                        listing)
        self.assertTrue(os.path.basename(self.deb).startswith("hubpredict_"), self.deb)

    def test_control_fields(self):
        depends = self.field("Depends")
        self.assertRegex(depends, r"(^|, )libcurl\S*", depends)
        self.assertRegex(depends, r"(^|, )libcjson\S*", depends)
        self.assertEqual(self.field("Package"), "hubpredict")
        self.assertEqual(self.field("Section"), "utils")
        self.assertRegex(self.field("Maintainer"), r"^.+ <[^<>@\s]+@[^<>\s]+>$")
        self.assertTrue(self.field("Description"))

    def test_extracted_binary_runs(self):
        root = self.path("root")
        subprocess.run(["dpkg-deb", "-x", self.deb, root], check=True)
        exe = os.path.join(root, "usr", "bin", "hubpredict")
        v = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
        want = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=60)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertEqual(v.stdout, want.stdout)
        self.assertTrue(v.stdout.startswith("hubpredict "), v.stdout)
        r = subprocess.run([exe, "-u", self.hub_url(), "-f", "json", image("cat.png")], capture_output=True,
                           text=True, env=self.hp_env(HUB_KEY), timeout=60)
        self.check_run(Result(r.returncode, r.stdout.encode(), r.stderr.encode()), HUB_KEY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.server.log()), 1)
        self.assertIn('"file"', r.stdout)
        # --annotate finds the image module in the unpacked tree
        pictures = self.path("pictures")
        r = subprocess.run([exe, "-u", self.hub_url(), "-q", "--annotate", pictures, image("cat.png")],
                           capture_output=True, text=True, env=self.hp_env(HUB_KEY), timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(pictures), ["cat.png"])
        # the packaged scripts are what the binary generates
        for shell, rel in (("bash", "share/bash-completion/completions/hubpredict"),
                           ("zsh", "share/zsh/vendor-completions/_hubpredict"),
                           ("fish", "share/fish/vendor_completions.d/hubpredict.fish")):
            with open(os.path.join(root, "usr", rel)) as f:
                self.assertEqual(f.read(), self.run_hp("completion", shell, key=None).out, shell)


if __name__ == "__main__":
    unittest.main()
