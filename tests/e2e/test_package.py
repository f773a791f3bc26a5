"""The Debian package (README Install): `cpack -G DEB` over the build under test holds the binary,
the man page, the three completion scripts and the docs where Debian puts them, depends on the
libraries dpkg-shlibdeps found (libcurl, cJSON), lintian finds no error or warning in it, and its
binary, extracted with `dpkg-deb -x` into a temporary root, runs, sends a request to the stand-in,
and finds its image module (--annotate) in the unpacked tree. `cmake --install` under /usr/local and
/usr puts the zsh completion in a folder of zsh's own $fpath for that prefix."""

import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, E2E, HUB_KEY, ROOT, Result, image

BUILD = os.path.dirname(os.path.abspath(BIN))
CPACK_CONFIG = os.path.join(BUILD, "CPackConfig.cmake")
TOOLS = ("cpack", "dpkg-deb", "dpkg-shlibdeps")


def cache_value(name: str) -> str:
    """NAME's value in the CMakeCache.txt of the build under test ("" when not set)."""
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(re.escape(name) + r"(?::\w+)?=(.*)$", line.rstrip("\n"))
            if m:
                return m.group(1)
    return ""


def fortify_expected() -> bool:
    """Whether the build under test uses _FORTIFY_SOURCE=2: hardened, optimised and without the
    sanitizers (cmake/hardening.cmake). An empty CMAKE_BUILD_TYPE is CMakeLists.txt's default."""
    build_type = cache_value("CMAKE_BUILD_TYPE") or "RelWithDebInfo"
    return cache_value("HUBPREDICT_HARDENING") != "OFF" and cache_value("HUBPREDICT_SANITIZE") != "ON" \
        and build_type in ("Release", "RelWithDebInfo", "MinSizeRel")

FILES = [
    "./usr/bin/hubpredict",
    "./usr/share/man/man1/hubpredict.1.gz",
    "./usr/share/bash-completion/completions/hubpredict",
    "./usr/share/zsh/vendor-completions/_hubpredict",
    "./usr/share/fish/vendor_completions.d/hubpredict.fish",
    "./usr/share/doc/hubpredict/copyright",
    "./usr/share/doc/hubpredict/changelog.gz",
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
        # the image module, in LIBEXECDIR/hubpredict (a private module: in lib/ cpack adds ldconfig calls)
        self.assertTrue([p for p in paths if re.fullmatch(r"\./usr/libexec/hubpredict/hubpredict-image\.so", p)],
                        listing)
        self.assertTrue(os.path.basename(self.deb).startswith("hubpredict_"), self.deb)
        # the licence is in the DEP-5 copyright, not a second time as LICENSE
        self.assertNotIn("./usr/share/doc/hubpredict/LICENSE", paths, listing)
        modes = {line.split()[-1]: line.split()[0] for line in listing.splitlines()}
        for path, mode in modes.items():
            want = "drwxr-xr-x" if path.endswith("/") else \
                "-rwxr-xr-x" if path == "./usr/bin/hubpredict" else "-rw-r--r--"
            self.assertEqual(mode, want, path)

    @unittest.skipUnless(shutil.which("lintian"), "lintian is not installed (tests/run.sh installs it)")
    def test_lintian_clean(self):
        # --fail-on error,warning: a non-zero exit also when lintian cannot read the package;
        # the info and pedantic tags are shown so a failure says everything lintian saw
        p = subprocess.run(["lintian", "--fail-on", "error,warning", "--display-info", "--pedantic",
                            self.deb], capture_output=True, text=True, timeout=600)
        report = p.stdout + p.stderr
        tags = [line for line in p.stdout.splitlines() if line.startswith(("E:", "W:"))]
        self.assertEqual(tags, [], report)
        self.assertEqual(p.returncode, 0, report)
        # lintian's hardening tags are mostly info: none of them either (but no fortified
        # functions where the build leaves _FORTIFY_SOURCE out)
        hardening = re.findall(r"\bhardening-[\w-]+", p.stdout)
        if not fortify_expected():
            hardening = [t for t in hardening if t != "hardening-no-fortify-functions"]
        if cache_value("HUBPREDICT_HARDENING") != "OFF":
            self.assertEqual(hardening, [], report)

    @unittest.skipUnless(shutil.which("readelf"), "readelf (binutils) is not installed")
    def test_hardened_binary(self):
        if cache_value("HUBPREDICT_HARDENING") == "OFF":
            self.skipTest("built with -DHUBPREDICT_HARDENING=OFF")
        root = self.path("root")
        subprocess.run(["dpkg-deb", "-x", self.deb, root], check=True)
        exe = os.path.join(root, "usr", "bin", "hubpredict")

        def readelf(*args: str) -> str:
            return subprocess.run(["readelf", "-W", *args, exe], capture_output=True, text=True,
                                  check=True).stdout
        self.assertRegex(readelf("-h"), r"Type:\s+DYN\b")                # PIE
        self.assertRegex(readelf("-l"), r"\bGNU_RELRO\b")                # -z relro
        self.assertRegex(readelf("-d"), r"\bFLAGS\b.*\bBIND_NOW\b|\bFLAGS_1\b.*\bNOW\b")  # -z now
        syms = readelf("--dyn-syms")
        self.assertRegex(syms, r"\b__stack_chk_fail\b")                  # -fstack-protector-strong
        fortified = re.findall(r"\b__\w+_chk\b", syms.replace("__stack_chk_fail", ""))
        if fortify_expected():
            self.assertTrue(fortified, syms)

    def test_docs_compressed_and_copyright(self):
        root = self.path("root")
        subprocess.run(["dpkg-deb", "-x", self.deb, root], check=True)
        doc = os.path.join(root, "usr", "share", "doc", "hubpredict")
        with open(os.path.join(root, "usr", "share", "man", "man1", "hubpredict.1.gz"), "rb") as f:
            man = f.read()
        with open(os.path.join(ROOT, "docs", "hubpredict.1"), "rb") as f:
            self.assertEqual(gzip.decompress(man), f.read())
        # gzip -9n: no file name, no timestamp (FLG 0, MTIME 0), best compression (XFL 2)
        self.assertEqual((man[3], man[4:8], man[8]), (0, b"\0\0\0\0", 2))
        with gzip.open(os.path.join(doc, "changelog.gz"), "rt") as f:
            self.assertRegex(f.readline(), r"^hubpredict \(" + re.escape(self.field("Version")) + r"\) ")
        with open(os.path.join(doc, "copyright")) as f:
            copyright_ = f.read()
        with open(os.path.join(ROOT, "LICENSE")) as f:
            license_ = f.read()
        self.assertTrue(copyright_.startswith(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"), copyright_)
        self.assertIn("\nLicense: Expat\n", copyright_)
        # the licence text is LICENSE's, word for word
        def words(text: str) -> list[str]:
            return [w for w in text.split() if w != "."]
        body = copyright_.split("\nLicense: Expat\n", 1)[1]
        self.assertEqual(words(body), words("Permission" + license_.split("Permission", 1)[1]))
        notice = re.search(r"^Copyright \(c\) (.+)$", license_, re.M).group(1)
        self.assertIn(f"\nCopyright: {notice}\n", copyright_)

    def test_control_fields(self):
        depends = self.field("Depends")
        self.assertRegex(depends, r"(^|, )libcurl\S*", depends)
        self.assertRegex(depends, r"(^|, )libcjson\S*", depends)
        self.assertEqual(self.field("Package"), "hubpredict")
        self.assertEqual(self.field("Section"), "utils")
        self.assertEqual(self.field("Priority"), "optional")
        self.assertRegex(self.field("Maintainer"), r"^.+ <[^<>@\s]+@[^<>\s]+>$")
        self.assertNotRegex(self.field("Maintainer"), r"\.example>$")
        summary, *extended = self.field("Description").splitlines()
        self.assertTrue(summary)
        self.assertTrue(extended)
        self.assertFalse([line for line in extended if len(line) > 80], extended)

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


def zsh_fpath() -> list[str]:
    """The folders zsh searches for functions and completions, as built into this system's zsh."""
    return subprocess.run(["zsh", "-fc", "print -rl -- $fpath"], capture_output=True, text=True,
                          check=True, timeout=60).stdout.splitlines()


@unittest.skipUnless(os.path.exists(os.path.join(BUILD, "cmake_install.cmake")), f"no cmake_install.cmake beside {BIN}")
@unittest.skipUnless(shutil.which("cmake") and shutil.which("zsh"), "cmake or zsh missing (tests/run.sh installs zsh)")
class TestInstallZsh(unittest.TestCase):
    """`cmake --install` puts _hubpredict in a folder that zsh reads for the prefix: under
    /usr/local, share/zsh/site-functions (share/zsh/vendor-completions there is read by no zsh);
    under /usr, Debian's share/zsh/vendor-completions, as the package does."""

    def install(self, prefix: str, destdir: bool) -> str:
        """Install the build under a temporary root as PREFIX (with DESTDIR=root, or with
        --prefix root/PREFIX); the folder, seen from PREFIX's system, the zsh completion went to."""
        root = tempfile.mkdtemp(prefix="hp-install-")
        self.addCleanup(shutil.rmtree, root)
        env = dict(os.environ)
        env.pop("DESTDIR", None)
        if destdir:
            env["DESTDIR"] = root
        p = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix if destdir else root + prefix],
                           capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        found = [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f == "_hubpredict"]
        self.assertEqual(len(found), 1, found)
        # zsh, with the folders of its $fpath looked up under the root (and its own compinit),
        # loads it; the system's folders are left out, so an installed hubpredict cannot answer
        fpath = zsh_fpath()
        compinit = [d for d in fpath if os.path.exists(os.path.join(d, "compinit"))][:1]
        script = ('fpath=("$@"); autoload -Uz compinit && compinit -u -D;'
                  'print -r -- ${_comps[hubpredict]}; found=(${^fpath}/_hubpredict(N)); print -r -- $found[1]')
        z = subprocess.run(["zsh", "-fc", script, "zsh"] + [root + d for d in fpath] + compinit,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(z.stdout.splitlines(), ["_hubpredict", found[0]], z.stderr)
        folder = os.path.dirname(found[0])[len(root):]
        self.assertIn(folder, fpath)
        return folder

    def test_usr_local(self):
        self.assertEqual(self.install("/usr/local", destdir=True), "/usr/local/share/zsh/site-functions")
        self.assertEqual(self.install("/usr/local", destdir=False), "/usr/local/share/zsh/site-functions")

    def test_usr(self):
        self.assertEqual(self.install("/usr", destdir=True), "/usr/share/zsh/vendor-completions")
        self.assertEqual(self.install("/usr", destdir=False), "/usr/share/zsh/vendor-completions")


if __name__ == "__main__":
    unittest.main()
