"""`hubpredict completion bash|zsh|fish` (man page COMMANDS): each script is loaded into the real
shell, which is asked what a few partial command lines complete to. bash: the completion function
called with COMP_WORDS/COMP_CWORD set; zsh: an interactive zsh on a pseudo-terminal, TAB pressed,
compadd wrapped to record the matches; fish: `complete -C`. tests/run.sh installs zsh and fish."""

import os
import pty
import re
import select
import shutil
import subprocess
import time
import unittest

from harness import BIN, E2E

# (words after "hubpredict", the last one being completed) -> the completions expected, in a
# directory holding bus.jpg, cat.png, conf.yaml, out.txt and outdir/
CASES = [
    (["--for"], {"--format"}),
    (["--format", "j"], {"json", "jsonl"}),
    (["--format=j"], {"json", "jsonl"}),
    (["-f", "c"], {"csv"}),
    (["--api", ""], {"hub", "platform"}),  # auto is the default, not a value
    (["--format", ""], {"table", "json", "jsonl", "csv", "raw"}),
    (["deploy", "list", "--format", ""], {"table", "json", "jsonl"}),
    (["deploy", "list", "-f", "j"], {"json", "jsonl"}),
    (["deploy", "list", "--status", ""], {"creating", "deploying", "ready", "stopping", "stopped", "failed"}),
    (["deploy", "list", "--status", "st"], {"stopping", "stopped"}),
    (["deploy", "create", "x", "--model", ""], set()),
    (["cache", "--"], {"--cache", "--cache-ttl", "--older-than", "--config", "--no-config", "--profile", "--help"}),
    (["cache", "stats", "--c"], {"--cache", "--cache-ttl", "--config"}),
    (["co"], {"config", "completion", "conf.yaml"}),
    (["b"], {"bench", "bus.jpg"}),
    (["bench", "--max-"], {"--max-jobs", "--max-error-rate", "--max-upload"}),
    (["bench", "--war"], {"--warmup"}),
    (["-m", "x", "c"], {"cat.png", "conf.yaml"}),
    (["--model", ""], set()),
    (["predict", "-j", "4", "--no-p"], {"--no-progress"}),
    (["--save-txt", "o"], {"outdir"}),
    (["-o", "o"], {"outdir", "out.txt"}),
    (["config", "--for"], set()),
    (["config", "--ap"], {"--api", "--api-key", "--api-key-file"}),
    (["config", "c"], set()),
    (["completion", ""], {"bash", "zsh", "fish"}),
    (["completion", "bash", ""], set()),
    (["completion", "--"], {"--help"}),
    (["help", "c"], {"cache", "config", "completion"}),
    (["cache", ""], {"stats", "prune"}),
    (["deploy", "s"], {"show", "start", "stop"}),
    (["deploy", "list", "--st"], {"--status"}),
]


def fixture_dir(tmp: str) -> str:
    d = os.path.join(tmp, "cwd")
    os.makedirs(os.path.join(d, "outdir"))
    for name in ("bus.jpg", "cat.png", "conf.yaml", "out.txt"):
        open(os.path.join(d, name), "wb").close()
    return d


def normal(words) -> set:
    """Matches without a directory's trailing slash or a --name= prefix."""
    out = set()
    for w in words:
        w = w.split("\t")[0]
        if w.startswith("--") and "=" in w:
            w = w.split("=", 1)[1]
        out.add(w.rstrip("/"))
    return out


class CompletionScripts(E2E):
    shell = ""

    def script(self) -> str:
        r = self.run_hp("completion", self.shell, key=None)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        p = self.path(f"hubpredict.{self.shell}")
        with open(p, "w") as f:
            f.write(r.out)
        return p

    def check_cases(self, complete):
        cwd = fixture_dir(self.tmp.name)
        got = complete(self.script(), cwd, [words for words, _ in CASES])
        for (words, want), have in zip(CASES, got):
            self.assertEqual(normal(have), want, f"{self.shell}: hubpredict {' '.join(words)}<TAB>")


class TestCommand(E2E):

    def test_help(self):
        for args in (("completion", "--help"), ("help", "completion")):
            r = self.run_hp(*args, key=None)
            self.assertExit(r, 0)
            self.assertTrue(r.out.startswith("Usage: hubpredict completion bash|zsh|fish\n"), r)
        top = self.run_hp("--help", key=None)
        self.assertRegex(top.out, r"(?m)^  hubpredict completion bash\|zsh\|fish ")

    def test_usage_errors_are_one_line_exit_2(self):
        for args, frag in ((("completion",), "needs a shell"), (("completion", "tcsh"), "'tcsh'"),
                           (("completion", "bash", "zsh"), "one shell")):
            r = self.run_hp(*args, key=None)
            self.assertExit(r, 2)
            self.assertEqual(r.out, "")
            self.assertEqual(len(r.err.splitlines()), 1, r)
            self.assertOneLineError(r, frag)

    def test_every_option_of_help_in_every_script(self):
        """The scripts come from the table --help prints: each long option is in each one."""
        names = set(re.findall(r"(?m)^  (?:-\w, )?(--[a-z0-9-]+)", self.run_hp("--help", key=None).out))
        self.assertIn("--format", names)
        for shell in ("bash", "zsh", "fish"):
            out = self.run_hp("completion", shell, key=None).out
            for n in names:
                if shell == "fish":
                    self.assertRegex(out, rf"-l {n[2:]}( |$)", (shell, n))
                else:
                    self.assertRegex(out, rf"(^|[ |(\"]){re.escape(n)}([ |)\"]|$)", (shell, n))

    def test_bash_and_zsh_case_patterns_are_each_given_once(self):
        """No option in two arms of a case (deploy's --model and predict's were: the second arm
        could never be taken), and bash -n / zsh -n find nothing."""
        for shell in ("bash", "zsh"):
            out = self.run_hp("completion", shell, key=None).out
            p = self.path(f"c.{shell}")
            with open(p, "w") as f:
                f.write(out)
            if shell == "bash" or shutil.which("zsh"):
                n = subprocess.run([shell, "-n", p], capture_output=True, text=True, timeout=60)
                self.assertEqual((n.returncode, n.stderr), (0, ""), shell)
            lines = out.splitlines()
            start = lines.index("\tcase $prev in")
            arms = []
            for line in lines[start + 1:]:
                m = re.match(r"^\t\(?([^\s)]+)\)", line)
                if not m or m.group(1) == "*":
                    break
                arms += m.group(1).split("|")
            self.assertIn("--model", arms)
            self.assertEqual(sorted(a for a in arms if arms.count(a) > 1), [], shell)
            scan = next(line for line in lines if "i=$((i + 1)); i=$((i + 1))" in line or "= \"=\" ]" in line)
            words = scan.strip().lstrip("(").split(")")[0].split("|")
            self.assertEqual(sorted(w for w in words if words.count(w) > 1), [], shell)

    def test_full_stdout_is_exit_11(self):
        with open("/dev/full", "wb") as full:
            p = subprocess.run([BIN, "completion", "bash"], stdout=full, stderr=subprocess.PIPE, env=self.hp_env(None))
        self.assertEqual(p.returncode, 11, p.stderr)


class TestBash(CompletionScripts):
    shell = "bash"

    def test_completes(self):
        def complete(script, cwd, cases):
            lines = [f"source {script} || exit 9"]
            for words in cases:
                # bash splits --name=value into --name, =, value (COMP_WORDBREAKS)
                split = []
                for w in words:
                    if w.startswith("--") and "=" in w:
                        a, b = w.split("=", 1)
                        split += [a, "=", b]
                    else:
                        split.append(w)
                arr = " ".join("'" + w + "'" for w in ["hubpredict"] + split)
                lines.append(f"COMP_WORDS=({arr}); COMP_CWORD={len(split)}; COMPREPLY=(); _hubpredict; "
                             "printf '%s\\n' \"${COMPREPLY[@]}\" '@@'")
            p = subprocess.run(["bash", "--norc", "--noprofile", "-c", "\n".join(lines)], cwd=cwd,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr, "")
            blocks = p.stdout.split("@@\n")[:-1]
            self.assertEqual(len(blocks), len(cases), p.stdout)
            return [[w for w in b.split("\n") if w] for b in blocks]
        self.check_cases(complete)


@unittest.skipUnless(shutil.which("zsh"), "zsh is not installed (tests/run.sh installs it)")
class TestZsh(CompletionScripts):
    shell = "zsh"

    def test_completes(self):
        self.check_cases(self.zsh_complete)

    def zsh_complete(self, script, cwd, cases):
        out = self.path("zsh.out")
        ready = self.path("zsh.ready")
        setup = self.path("setup.zsh")
        with open(setup, "w") as f:
            f.write(f"""PS1='' PROMPT='' RPROMPT=''
autoload -Uz compinit && compinit -u -d {self.path('zcompdump')}
source {script}
compadd() {{
  if (( ${{@[(I)-[OAD]]}} )); then builtin compadd "$@"; return; fi
  local -a __hits
  builtin compadd -O __hits "$@"
  (( $#__hits )) && print -rl -- "${{__hits[@]}}" >> {out}
  builtin compadd "$@"
}}
__hp_done() {{ print -r -- __END__ >> {out} }}
__hp_tab() {{ comppostfuncs=( __hp_done ); zle complete-word }}  # comppostfuncs is used up by each completion
zle -N __hp_tab
bindkey '^I' __hp_tab
print -r -- ready > {ready}
""")
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(cwd)
            os.environ["TERM"] = "dumb"
            os.execvp("zsh", ["zsh", "-f", "-i"])
        try:
            return self.drive(fd, setup, ready, out, cases)
        finally:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(fd)

    def drive(self, fd, setup, ready, out, cases):
        def drain_until(cond, what):
            end = time.time() + 20
            while time.time() < end:
                while select.select([fd], [], [], 0.02)[0]:
                    try:
                        os.read(fd, 65536)
                    except OSError:
                        break
                if cond():
                    return
            self.fail(f"zsh: no {what} within 20 s")

        def matches():
            if not os.path.exists(out):
                return None
            with open(out) as f:
                lines = f.read().split("\n")
            return lines if "__END__" in lines else None
        os.write(fd, f"source {setup}\n".encode())
        drain_until(lambda: os.path.exists(ready), "start")
        results = []
        for words in cases:
            if os.path.exists(out):
                os.unlink(out)
            os.write(fd, ("hubpredict " + " ".join(words)).encode() + b"\t")
            drain_until(lambda: matches() is not None, f"completion of {words}")
            results.append([w for w in matches() if w and w != "__END__"])
            os.write(fd, b"\x15")  # ^U: the next line starts empty
        return results


@unittest.skipUnless(shutil.which("fish"), "fish is not installed (tests/run.sh installs it)")
class TestFish(CompletionScripts):
    shell = "fish"

    def test_completes(self):
        def complete(script, cwd, cases):
            lines = [f"source {script}; or exit 9"]
            for words in cases:
                line = "hubpredict " + " ".join(words)
                lines.append(f"complete -C '{line}'; echo @@")
            env = dict(os.environ, HOME=self.tmp.name, XDG_CONFIG_HOME=self.path("cfg"),
                       XDG_DATA_HOME=self.path("data"))
            p = subprocess.run(["fish", "--no-config", "-c", "\n".join(lines)], cwd=cwd, env=env,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            blocks = p.stdout.split("@@\n")[:-1]
            self.assertEqual(len(blocks), len(cases), p.stdout)
            return [[w for w in b.split("\n") if w] for b in blocks]
        self.check_cases(complete)


if __name__ == "__main__":
    unittest.main()
