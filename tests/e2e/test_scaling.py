"""The recipes of docs/scaling.md, run as far as this machine allows: the GNU parallel block as it
stands (with a stand-in for ssh that runs each "host" here), the Kubernetes Indexed Job's manifest
(parsed by a YAML parser, then its container command run once per index) and the Slurm array
script (run once per task as Slurm would), each against the stand-in playing Platform, with one
shared cache and a resume log per shard. What is checked is what the recipes promise: every input
answered exactly once across the shards' logs, each image sent once, a rerun that sends nothing."""

import collections
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import time
import unittest
import zlib

from harness import BIN, E2E, PLATFORM_KEY, ROOT

DOC = os.path.join(ROOT, "docs", "scaling.md")
MANIFEST = os.path.join(ROOT, "examples", "k8s", "hubpredict-shards.yaml")
SBATCH = os.path.join(ROOT, "examples", "slurm", "hubpredict-array.sbatch")
LOCALSSH = os.path.join(ROOT, "tests", "tools", "localssh")
MODEL = "acme/cams/detect"
# Debian's python3-yaml, for the interpreter Debian ships (tests/run.sh installs it)
SYSTEM_PYTHON = "/usr/bin/python3"


def png(seed: int, width: int = 64, height: int = 48) -> bytes:
    """A small PNG whose pixels depend on seed, so each test image has its own bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = bytes((seed * 7 + x) & 255 for x in range(width * 3))
    raw = b"".join(b"\0" + row for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def tested_blocks(path: str) -> list[str]:
    """The ```sh blocks of a document that follow a `<!-- tested: ... -->` marker, in order."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"<!-- tested:[^>]*-->\n```sh\n(.*?)```", text, re.S)


class ScalingCase(E2E):

    N_IMAGES = 14

    def setUp(self):
        super().setUp()
        self.archive = self.path("archive")
        self.shared = self.path("shared")
        self.files = []
        for i in range(self.N_IMAGES):
            sub = ("day1", "day2/cam-a", "day2/cam-b")[i % 3]
            self.files.append(self.write(f"archive/{sub}/img{i:02d}.png", png(i)))
        key_file = self.write("shared/key", PLATFORM_KEY.encode() + b"\n")
        os.chmod(key_file, 0o600)
        # `hubpredict` on PATH, as the recipes call it
        bindir = self.path("bin")
        os.makedirs(bindir)
        os.symlink(BIN, os.path.join(bindir, "hubpredict"))
        self.env = self.hp_env(PLATFORM_KEY)
        self.env.update(PATH=bindir + os.pathsep + os.environ["PATH"],
                        XDG_CONFIG_HOME=self.path(".config"), ULTRALYTICS_API_KEY=PLATFORM_KEY,
                        ULTRALYTICS_PLATFORM_URL=self.server.url, MODEL=MODEL,
                        ARCHIVE=self.archive, SHARED=self.shared, RATE="100/s",
                        KEY_FILE=key_file)

    def sh(self, script, *, shell="/bin/sh", extra=None, timeout=120):
        env = dict(self.env, **(extra or {}))
        p = subprocess.run([shell, "-c", script], capture_output=True, env=env, timeout=timeout, cwd=self.tmp.name)
        for stream in (p.stdout, p.stderr):
            self.assertNotIn(PLATFORM_KEY.encode(), stream, "key leaked")
        return p

    def logs(self):
        return sorted(os.path.join(self.shared, "logs", n) for n in os.listdir(os.path.join(self.shared, "logs")))

    def answered(self):
        """file -> number of successful envelopes over every shard's resume log."""
        count = collections.Counter()
        for log in self.logs():
            with open(log, encoding="utf-8") as f:
                for line in f:
                    env = json.loads(line)
                    self.assertIn("size", env)
                    self.assertIn("mtime", env)
                    if env.get("http_status") == 200:
                        count[env["file"]] += 1
        return count

    def assertEachOnce(self, n_shards):
        self.assertEqual(len(self.logs()), n_shards, self.logs())
        self.assertEqual(self.answered(), collections.Counter({f: 1 for f in self.files}))
        sent = collections.Counter(r["file"]["sha256"] for r in self.server.log() if r.get("file"))
        self.assertEqual(len(sent), self.N_IMAGES, "every image sent")
        self.assertEqual(set(sent.values()), {1}, f"an image sent twice: {sent}")
        for f in self.files:
            rel = os.path.relpath(f, self.archive)
            self.assertTrue(os.path.exists(os.path.join(self.shared, "labels", rel[:-4] + ".txt")), rel)


@unittest.skipUnless(shutil.which("parallel"), "GNU parallel is not installed (tests/run.sh installs it)")
class TestParallel(ScalingCase):

    def run_parallel(self, block):
        return self.sh(block, shell="/bin/bash", extra={
            "N": "4", "HOSTS": "1/hostA,1/hostB", "PARALLEL_SSH": LOCALSSH,
            "LOCALSSH_LOG": self.path("hosts.log"), "PARALLEL_HOME": self.path(".parallel")})

    def test_the_documented_blocks(self):
        blocks = tested_blocks(DOC)
        self.assertEqual(len(blocks), 3, "docs/scaling.md: the parallel run and two merges")
        run, merge, answers = blocks
        self.assertIn("parallel", run)
        p = self.run_parallel(run)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(self.path("hosts.log")) as f:
            hosts = collections.Counter(f.read().split())
        self.assertEqual(set(hosts), {"hostA", "hostB"}, "both hosts ran shards")
        self.assertEqual(sum(hosts.values()), 4)
        self.assertEachOnce(4)

        # the same line again: every shard resumes, nothing is sent
        self.server.reset()
        p = self.run_parallel(run)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual([r for r in self.server.log() if r.get("file")], [])
        self.assertEqual(self.answered(), collections.Counter({f: 1 for f in self.files}))

        for block, name in ((merge, "all.jsonl"), (answers, "answers.jsonl")):
            p = self.sh(block, shell="/bin/bash")
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            with open(os.path.join(self.shared, name), encoding="utf-8") as f:
                lines = [json.loads(line) for line in f]
            self.assertEqual([e["file"] for e in lines], sorted(self.files), name)

    def test_a_killed_run_is_finished_by_the_same_line(self):
        run = tested_blocks(DOC)[0]
        self.server.set_latency(0.15)
        env = dict(self.env, N="4", HOSTS="1/hostA,1/hostB", PARALLEL_SSH=LOCALSSH,
                   PARALLEL_HOME=self.path(".parallel"))
        proc = subprocess.Popen(["/bin/bash", "-c", run], env=env, cwd=self.tmp.name, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(1 for r in self.server.log() if r.get("status") == 200) < 4:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(0.3)                              # the stand-in finishes what was in flight
        first = collections.Counter(r["file"]["sha256"] for r in self.server.log() if r.get("file"))
        self.assertLess(sum(first.values()), self.N_IMAGES, "killed before the end")
        self.server.set_latency(0)
        p = self.sh(run, shell="/bin/bash", extra={"N": "4", "HOSTS": "1/hostA,1/hostB",
                                                   "PARALLEL_SSH": LOCALSSH, "PARALLEL_HOME": self.path(".parallel")})
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(self.answered(), collections.Counter({f: 1 for f in self.files}))
        sent = collections.Counter(r["file"]["sha256"] for r in self.server.log() if r.get("file"))
        self.assertEqual(len(sent), self.N_IMAGES)
        # Only requests in flight when the shards were killed can go out twice (answered by the
        # server, never received): at most -j (4) per killed shard.
        twice = sum(n - 1 for n in sent.values())
        self.assertLessEqual(twice, 4 * 4, sent)


class TestKubernetes(ScalingCase):

    def manifest(self):
        p = subprocess.run([SYSTEM_PYTHON, "-c", "import json, sys, yaml; "
                            "print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))", MANIFEST],
                           capture_output=True)
        if p.returncode != 0 and b"No module named 'yaml'" in p.stderr:
            self.skipTest("PyYAML (Debian's python3-yaml) is not installed; tests/run.sh installs it")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        docs = json.loads(p.stdout)
        self.assertEqual(len(docs), 1)
        return docs[0]

    def test_the_manifest_is_an_indexed_job(self):
        job = self.manifest()
        self.assertEqual((job["apiVersion"], job["kind"]), ("batch/v1", "Job"))
        spec = job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        self.assertLessEqual(spec["parallelism"], spec["completions"])
        pod = spec["template"]["spec"]
        self.assertEqual(pod["restartPolicy"], "Never")   # required with backoffLimitPerIndex
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        self.assertEqual(int(env["N"]["value"]), spec["completions"], "N agrees with completions")
        self.assertIn("secretKeyRef", env["ULTRALYTICS_API_KEY"]["valueFrom"])
        self.assertNotIn("-k", container["command"][2].split())
        volumes = {v["name"] for v in pod["volumes"]}
        for mount in container["volumeMounts"]:
            self.assertIn(mount["name"], volumes)
        self.assertEqual({m["mountPath"] for m in container["volumeMounts"]},
                         {env["ARCHIVE"]["value"], env["SHARED"]["value"]})

    def test_each_index_answers_its_shard(self):
        job = self.manifest()
        container = job["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(container["command"][:2], ["/bin/sh", "-c"])
        n = job["spec"]["completions"]
        for index in range(n):                    # what the pods run, here one after another
            p = self.sh(container["command"][2], extra={"N": str(n), "JOB_COMPLETION_INDEX": str(index)})
            self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEachOnce(n)
        # a pod restarted after it finished sends nothing
        self.server.reset()
        p = self.sh(container["command"][2], extra={"N": str(n), "JOB_COMPLETION_INDEX": "0"})
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual([r for r in self.server.log() if r.get("file")], [])


class TestSlurm(ScalingCase):

    def test_the_script_parses_and_its_range_matches_n(self):
        p = subprocess.run(["bash", "-n", SBATCH], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(SBATCH, encoding="utf-8") as f:
            text = f.read()
        lo, hi = map(int, re.search(r"^#SBATCH --array=(\d+)-(\d+)", text, re.M).groups())
        default_n = int(re.search(r"SLURM_ARRAY_TASK_COUNT:-(\d+)", text).group(1))
        self.assertEqual((lo, hi), (1, default_n))

    def test_each_task_answers_its_shard(self):
        n = 3
        for task in range(1, n + 1):
            p = subprocess.run(["bash", SBATCH], capture_output=True, timeout=120, cwd=self.tmp.name,
                               env=dict(self.env, SLURM_ARRAY_TASK_ID=str(task), SLURM_ARRAY_TASK_COUNT=str(n)))
            self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEachOnce(n)

    def test_outside_slurm_it_says_so(self):
        env = {k: v for k, v in self.env.items() if not k.startswith("SLURM_")}
        p = subprocess.run(["bash", SBATCH], capture_output=True, env=env, cwd=self.tmp.name)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"SLURM_ARRAY_TASK_ID", p.stderr)
        self.assertEqual(self.server.log(), [])


if __name__ == "__main__":
    unittest.main()
