"""The recipes of docs/scaling.md, run as far as this machine allows: the GNU parallel block as it
stands (over two real OpenSSH servers on 127.0.0.1, each a "host"), the Kubernetes Indexed Job's manifest
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
import socket
import struct
import subprocess
import time
import unittest
import zlib

from harness import BIN, E2E, PLATFORM_KEY, ROOT

DOC = os.path.join(ROOT, "docs", "scaling.md")
MANIFEST = os.path.join(ROOT, "examples", "k8s", "hubpredict-shards.yaml")
SBATCH = os.path.join(ROOT, "examples", "slurm", "hubpredict-array.sbatch")
SSHD = "/usr/sbin/sshd"
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    """A private OpenSSH server on 127.0.0.1: its own host key, config, authorized key and log, the
    session environment of a machine with hubpredict installed (SetEnv). Runs in the foreground
    (-D) as a child of the test; stop() ends it and every session it started."""

    def __init__(self, home: str, name: str, client_pub: str, env: dict):
        self.dir = os.path.join(home, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.log = os.path.join(self.dir, "sshd.log")
        key = os.path.join(self.dir, "host_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        shutil.copy(client_pub, os.path.join(self.dir, "authorized_keys"))
        setenv = " ".join(f"{k}={v}" for k, v in env.items())
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write(f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {key}\n"
                    f"AuthorizedKeysFile {self.dir}/authorized_keys\nPidFile {self.dir}/sshd.pid\n"
                    # the temporary tree is not root's alone; CI runs as root
                    "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                    f"SetEnv {setenv}\nLogLevel VERBOSE\n")
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # its privilege separation directory
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 20
        while b"Server listening" not in self.read_log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {self.read_log().decode()}")
            time.sleep(0.05)

    def read_log(self) -> bytes:
        with open(self.log, "rb") as f:
            return f.read()

    def sessions(self) -> int:
        return self.read_log().count(b"Accepted publickey")

    def stop(self):
        # the listener and its sessions are in their own group (start_new_session)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.wait(10)


def hubpredict_processes(marker: str) -> list[int]:
    """PIDs of live hubpredict processes whose command line holds marker."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state != b"Z" and argv and argv[0].endswith(b"hubpredict") and marker.encode() in b" ".join(argv):
            pids.append(int(pid))
    return pids


@unittest.skipUnless(shutil.which("parallel"), "GNU parallel is not installed (tests/run.sh installs it)")
@unittest.skipUnless(os.access(SSHD, os.X_OK), "OpenSSH's server is not installed (tests/run.sh installs it)")
class TestParallel(ScalingCase):
    """The recipe over a real sshd: two servers on 127.0.0.1 play host A and host B."""

    def setUp(self):
        super().setUp()
        home = self.path("ssh")
        os.makedirs(home)
        client = os.path.join(home, "client_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", client], check=True)
        session_env = {"PATH": self.env["PATH"].split(os.pathsep)[0] + ":/usr/bin:/bin",
                       "ULTRALYTICS_PLATFORM_URL": self.server.url, "XDG_CONFIG_HOME": self.path(".config")}
        self.sshd = {}
        for host in ("hostA", "hostB"):
            self.sshd[host] = Sshd(home, host, client + ".pub", session_env)
            self.addCleanup(self.sshd[host].stop)
        config = os.path.join(home, "ssh_config")
        with open(config, "w") as f:
            for host, d in self.sshd.items():
                f.write(f"Host {host}\n  HostName 127.0.0.1\n  Port {d.port}\n")
            f.write(f"Host *\n  IdentityFile {client}\n  IdentitiesOnly yes\n"
                    f"  UserKnownHostsFile {home}/known_hosts\n  StrictHostKeyChecking no\n  BatchMode yes\n"
                    "  LogLevel ERROR\n")
        self.parallel_env = {"N": "4", "HOSTS": "1/hostA,1/hostB", "PARALLEL_SSH": f"ssh -F {config}",
                             "PARALLEL_HOME": self.path(".parallel")}

    def run_parallel(self, block):
        return self.sh(block, shell="/bin/bash", extra=self.parallel_env)

    def test_the_documented_blocks(self):
        blocks = tested_blocks(DOC)
        self.assertEqual(len(blocks), 3, "docs/scaling.md: the parallel run and two merges")
        run, merge, answers = blocks
        self.assertIn("parallel", run)
        p = self.run_parallel(run)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        hosts = {host: d.sessions() for host, d in self.sshd.items()}
        self.assertTrue(all(hosts.values()), f"both hosts ran shards: {hosts}")
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

    def start(self, run, latency=1.0, answered=True):
        self.server.set_latency(latency)             # each shard has a second of work left at the kill
        proc = subprocess.Popen(["/bin/bash", "-c", run], env=dict(self.env, **self.parallel_env), cwd=self.tmp.name,
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(r.get("status") == 200 for r in self.server.log()):
            if not answered and len(hubpredict_processes(self.shared)) == 2:
                break                                # both hosts' first shards hold their logs
            time.sleep(0.02)
        return proc

    def killed_then_rerun(self, kill):
        run = tested_blocks(DOC)[0]
        proc = self.start(run)
        self.assertTrue(hubpredict_processes(self.shared), "shards running")
        kill(proc)
        proc.wait()
        killed = time.monotonic()
        while hubpredict_processes(self.shared) and time.monotonic() < killed + 3:
            time.sleep(0.05)
        self.assertEqual(hubpredict_processes(self.shared), [], "remote shards outlived the local side")
        # the stand-in finishes what was in flight (its log takes a request when it is answered:
        # a second of latency, more on a loaded machine): wait until the count holds for 1.5 s
        first, since = -1, time.monotonic()
        while time.monotonic() < since + 1.5 and time.monotonic() < killed + 20:
            n = sum(1 for r in self.server.log() if r.get("file"))
            if n != first:
                first, since = n, time.monotonic()
            time.sleep(0.05)
        time.sleep(2.5)                              # what the shards would have sent by now
        self.assertEqual(sum(1 for r in self.server.log() if r.get("file")), first, "requests after the kill")
        self.assertLess(first, self.N_IMAGES, "killed before the end")
        self.server.set_latency(0)
        p = self.run_parallel(run)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(self.answered(), collections.Counter({f: 1 for f in self.files}))
        sent = collections.Counter(r["file"]["sha256"] for r in self.server.log() if r.get("file"))
        self.assertEqual(len(sent), self.N_IMAGES)
        # Only requests in flight when the shards were killed can go out twice (answered by the
        # server, never logged): at most -j (4) per running shard, two of them.
        twice = sum(n - 1 for n in sent.values())
        self.assertLessEqual(twice, 2 * 4, sent)

    def test_a_killed_run_is_finished_by_the_same_line(self):
        # the local side (bash, parallel and its ssh clients) killed at once, as a lost laptop
        # or a SIGKILL'd CI job: the sshd sessions end, parallel's remote wrapper sees its parent
        # gone and ends each remote shard (--termseq's signals); none goes on paying for answers
        self.killed_then_rerun(lambda proc: os.killpg(proc.pid, signal.SIGKILL))

    def test_parallel_alone_killed(self):
        # kill -9 of parallel alone: its ssh clients lose their input and end, and so do the
        # remote shards, as above
        def kill(proc):
            found = [int(p) for p in os.listdir("/proc") if p.isdigit() and self.is_parallel(int(p), proc.pid)]
            # parallel forks itself for a moment before each exec (the child still reads as
            # parallel): the one to kill is the one whose parent is not a parallel
            (pid,) = [p for p in found if self.parent(p) not in found]
            os.kill(pid, signal.SIGKILL)
        self.killed_then_rerun(kill)

    def test_the_same_line_twice_at_once_pays_nothing_twice(self):
        # the block started again while it runs (a second terminal, a retrying CI job): each
        # shard's log is locked by the run that has it, so the other run's shard exits 2 at once
        run = tested_blocks(DOC)[0]
        proc = self.start(run, latency=3.0, answered=False)   # the first two shards are at work
        p = self.run_parallel(run)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"in use by another run (pid ", p.stderr)
        proc.wait(120)
        self.server.set_latency(0)
        p = self.run_parallel(run)                   # what either of them left undone
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEachOnce(4)                       # each image sent once, answered once

    @staticmethod
    def parent(pid):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return None

    @staticmethod
    def is_parallel(pid, pgid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            return os.getpgid(pid) == pgid and b"/usr/bin/parallel" in argv[:2]
        except OSError:
            return False


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
