"""The docs agree with the code: --help, the option table, the man page and the README.

The option table in src/cli/options.c is the single source of truth for the command line; --help
is generated from it. This test checks that the two list the same long options, that each of
them is described in docs/hubpredict.1 (as \\-\\-name, in the order of --help) and mentioned in
README.md (as --name), that every exit status is documented in both, and that every environment
variable the code reads is in the man page's ENVIRONMENT section.

Standard library only. HUBPREDICT_BIN names the binary (default ROOT/build/hubpredict).
"""

import os
import re
import shutil
import subprocess
import unittest

from harness import BIN, ROOT

MAN = os.path.join(ROOT, "docs", "hubpredict.1")
README = os.path.join(ROOT, "README.md")
OPTIONS_C = os.path.join(ROOT, "src", "cli", "options.c")
SRC = os.path.join(ROOT, "src")

EXIT_CODES = list(range(0, 13)) + [129, 130, 141, 143]
MAN_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "EXAMPLES"]


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def help_text() -> subprocess.CompletedProcess:
    return subprocess.run([BIN, "--help"], capture_output=True, timeout=30)


def help_options(text: str) -> list[str]:
    """Long options of --help, in order: lines such as '  -m, --model ID' or '      --api X'."""
    names = []
    for line in text.splitlines():
        m = re.match(r"^\s+(?:-\S,\s+)?--([a-z][a-z0-9-]*)", line)
        if m:
            names.append(m.group(1))
    return names


def table_options(source: str) -> list[str]:
    """The names of the { "name", ... } entries of opt_table[] in src/cli/options.c, in order."""
    m = re.search(r"opt_table\[\]\s*=\s*\{(.*?)\n\};", source, re.S)
    if not m:
        raise AssertionError("opt_table[] not found in src/cli/options.c")
    return re.findall(r'^\s*\{\s*"([a-z0-9-]+)"\s*,', m.group(1), re.M)


def man_sections(man: str) -> dict[str, str]:
    """Section name -> its roff source, from the .SH lines."""
    sections = {}
    name = None
    lines: list[str] = []
    for line in man.splitlines():
        m = re.match(r"^\.SH\s+(.*)$", line)
        if m:
            if name is not None:
                sections[name] = "\n".join(lines)
            name = m.group(1).strip().strip('"')
            lines = []
        elif name is not None:
            lines.append(line)
    if name is not None:
        sections[name] = "\n".join(lines)
    return sections


def tp_tags(section: str) -> list[str]:
    """The tag lines of the .TP entries of a section (the line after each .TP)."""
    lines = section.splitlines()
    return [lines[i + 1] for i, line in enumerate(lines[:-1]) if line.strip() == ".TP"]


def man_option_re(name: str) -> re.Pattern:
    r"""--name as the man page writes it: \-\-name, with each '-' escaped, and not the start
    of a longer option (\-\-api must not match \-\-api\-key)."""
    escaped = re.escape(name.replace("-", "\\-"))
    return re.compile(r"\\-\\-" + escaped + r"(?![a-z0-9]|\\-[a-z0-9])")


def readme_option_re(name: str) -> re.Pattern:
    return re.compile(r"(?<![a-z0-9-])--" + re.escape(name) + r"(?![a-z0-9-])")


def readme_sections(readme: str) -> dict[str, str]:
    """'## Heading' -> its text."""
    parts = re.split(r"^## +(.+)$", readme, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def getenv_names() -> set[str]:
    names = set()
    for top, _dirs, files in sorted(os.walk(SRC)):
        for entry in sorted(files):
            if entry.endswith((".c", ".h")):
                names.update(re.findall(r'getenv\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)', read(os.path.join(top, entry))))
    return names


class TestHelp(unittest.TestCase):

    def test_help_exits_0_on_stdout(self):
        p = help_text()
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(p.stderr, b"", "--help writes nothing on stderr")
        out = p.stdout.decode()
        self.assertTrue(out.startswith("Usage: hubpredict"), out[:200])
        self.assertTrue(help_options(out), "no options found in --help")


class TestOptionsDocumented(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.help = help_options(help_text().stdout.decode())
        cls.table = table_options(read(OPTIONS_C))
        cls.man = read(MAN)
        cls.readme = read(README)

    def test_help_and_table_agree(self):
        self.assertTrue(self.table, "no entries found in opt_table[]")
        self.assertEqual(len(self.help), len(set(self.help)), f"an option twice in --help: {self.help}")
        self.assertEqual(set(self.help), set(self.table),
                         f"--help and src/cli/options.c differ: only in --help {set(self.help) - set(self.table)}, "
                         f"only in the table {set(self.table) - set(self.help)}")

    def test_every_option_in_man_page(self):
        missing = [n for n in self.table if not man_option_re(n).search(self.man)]
        self.assertEqual(missing, [], "long options missing from docs/hubpredict.1 (as \\-\\-name)")

    def test_man_options_section_in_help_order(self):
        tags = tp_tags(man_sections(self.man).get("OPTIONS", ""))
        positions = []
        for name in self.help:
            pat = man_option_re(name)
            found = [i for i, tag in enumerate(tags) if pat.search(tag)]
            self.assertTrue(found, f"--{name} has no .TP entry in the man page's OPTIONS section")
            positions.append((found[0], name))
        self.assertEqual([n for _, n in sorted(positions)], self.help,
                         "the man page's OPTIONS are not in the order of --help")

    def test_every_option_in_readme(self):
        missing = [n for n in self.table if not readme_option_re(n).search(self.readme)]
        self.assertEqual(missing, [], "long options missing from README.md (as --name)")


class TestManPage(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.man = read(MAN)
        cls.sections = man_sections(cls.man)

    def test_sections(self):
        self.assertRegex(self.man, r"(?m)^\.TH HUBPREDICT 1 ")
        for name in MAN_SECTIONS:
            self.assertIn(name, self.sections, f"the man page has no {name} section")
        order = [s for s in self.sections if s in MAN_SECTIONS]
        self.assertEqual(order, MAN_SECTIONS, "the man page's sections are out of the usual order")

    def test_exit_status_lists_every_code(self):
        tags = tp_tags(self.sections.get("EXIT STATUS", ""))
        listed = {int(n) for tag in tags for n in re.findall(r"\b\d+\b", tag)}
        missing = [c for c in EXIT_CODES if c not in listed]
        self.assertEqual(missing, [], "exit codes without an entry in EXIT STATUS")

    def test_environment_lists_every_getenv(self):
        names = getenv_names()
        self.assertTrue({"ULTRALYTICS_API_KEY", "NO_COLOR"} <= names, names)
        env = self.sections.get("ENVIRONMENT", "")
        missing = sorted(n for n in names if not re.search(r"(?<![A-Za-z0-9_])" + re.escape(n) + r"(?![A-Za-z0-9_])", env))
        self.assertEqual(missing, [], "variables read by src/ but missing from ENVIRONMENT")

    @unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_renders_without_warnings(self):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", MAN], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(p.stderr.decode(errors="replace"), "", "groff warnings")

    @unittest.skipUnless(shutil.which("mandoc"), "mandoc is not installed (tests/run.sh installs it)")
    def test_mandoc_lint_clean(self):
        # -T lint implies -W all: style messages (a source line over 80 bytes) count as well
        p = subprocess.run(["mandoc", "-T", "lint", MAN], capture_output=True, timeout=60)
        report = (p.stdout + p.stderr).decode(errors="replace")
        self.assertEqual(report, "", "mandoc -T lint")
        self.assertEqual(p.returncode, 0, report)


class TestReadme(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.readme = read(README)
        cls.sections = readme_sections(cls.readme)

    def test_exit_status_table(self):
        section = next((text for title, text in self.sections.items() if title.lower().startswith("exit")), "")
        self.assertTrue(section, "README.md has no exit status section")
        rows = {int(m) for m in re.findall(r"(?m)^\|\s*`?(\d+)`?\s*\|", section)}
        missing = [c for c in EXIT_CODES if c not in rows]
        self.assertEqual(missing, [], "exit codes without a row in README.md's exit status table")

    def test_set_up_commands(self):
        for command in ("examples/demo.sh", "tests/run.sh"):
            self.assertIn(command, self.readme)
            self.assertTrue(os.access(os.path.join(ROOT, command), os.X_OK), f"{command} is not executable")


if __name__ == "__main__":
    unittest.main()
