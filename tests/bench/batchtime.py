#!/usr/bin/env python3
"""The measuring half of tests/bench/batch.sh (run that script, not this one).

Times batches of whole processes against a running stand-in (and nginx, when batch.sh could
start one): hubpredict -j 8 over a --files-from list, the curl command of ../shared/API.md run
once per image by a shell loop, and the same curl command under xargs -P 8. Then the peak RSS
of hubpredict over a 10,000-path list (measured by tests/peakrss, whose own 1 MiB forks the
command, rather than by this interpreter: a child's ru_maxrss counts what it was forked from),
and the start-up of hubpredict --version against curl --version.

Each run is one process (bash, xargs or hubpredict) started with posix_spawnp in a process
group of its own and reaped with wait4, timed with time.perf_counter(). wait4 also gives the CPU
time of that process and of the descendants it reaped (xargs's curls, the loop's curls). The
server's CPU time over the run comes from /proc/PID/stat (for nginx, the master and its
workers), which tells whether the server, rather than the client, set the pace. After every run
the server's own log is read back: the stand-in's request log (status, size of the upload,
conn_id per TCP connection), or nginx's access log ($connection): each run must have sent every
image once, answered 200, and the log shows how many connections it took. A run that does not
finish within its time limit is killed (its process group) and counted as failed.

Helpers shared with single.sh come from timeit.py (loaded by path: the name would otherwise
clash with the standard library's timeit). Python standard library only. Exit status: 0 when
every run succeeded (whether or not the targets are met: this is a benchmark, not a test), 1
when a run failed or timed out.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree for timeit.py
_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("hubpredict_bench_timeit", os.path.join(_here, "timeit.py"))
_timeit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_timeit)
run = _timeit.run
quantile = _timeit.quantile
bootstrap_ratio_ci = _timeit.bootstrap_ratio_ci
first_line = _timeit.first_line
standin_log = _timeit.standin_log
standin_reset = _timeit.standin_reset
client_of = _timeit.client_of

JOBS = 8
LOOP_TARGET = 7.0        # curl loop / hubpredict, at least
XARGS_TARGET = 1.0       # hubpredict / xargs curl, at most
RSS_TARGET_MIB = 64.0
STARTUP_TARGET = 2.0     # hubpredict --version / curl --version, at most
SATURATED = 0.70         # server CPU / wall above which a one-process server set the pace
CLIENT_IDLE = 0.50       # ... while hubpredict's own CPU / wall stayed below this
MIN_CPU_WALL_S = 0.25    # summed wall time below which a CPU share is not reported
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- processes -------------------------------------------------------------------------------

def run_limited(argv: list[str], env: dict[str, str], stdout: str, stderr: str,
                stdin: str = os.devnull, limit_s: float = 600.0) -> tuple[float, int, object, bool]:
    """Like timeit.run, but the child leads a process group of its own, which is killed when
    the run takes longer than limit_s. Returns (wall ms, exit status, rusage, timed out)."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    timed_out = False
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions, setpgroup=0)

    def on_alarm(*_):
        nonlocal timed_out
        timed_out = True
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        _, status, usage = os.wait4(pid, 0)
    except BaseException:
        try:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    t1 = time.perf_counter()
    try:  # what the group left behind (xargs's curls, if xargs itself died)
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return (t1 - t0) * 1000.0, os.waitstatus_to_exitcode(status), usage, timed_out


def proc_cpu_s(pid: int) -> float:
    """user + sys seconds of one process, from /proc (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def children_of(pid: int) -> list[int]:
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(name))
        except (OSError, IndexError, ValueError):
            pass
    return kids


# -- the servers -----------------------------------------------------------------------------

class StandInServer:
    kind = "stand-in"

    def __init__(self, url: str, pid: int, image_size: int):
        self.url = url
        self.base = url.split("/v1/")[0]
        self.pid = pid
        self.image_size = image_size

    def label(self) -> str:
        return "stand-in"

    def set_latency(self, seconds: float) -> None:
        req = urllib.request.Request(self.base + "/_standin/latency", method="POST",
                                     data=json.dumps({"lo": seconds}).encode())
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    def before(self) -> None:
        standin_reset(self.base)

    def cpu_s(self) -> float:
        return proc_cpu_s(self.pid)

    def after(self, expect: int) -> dict:
        log = standin_log(self.base)
        ok = [r for r in log if r.get("status") == 200 and (r.get("file") or {}).get("size") == self.image_size]
        server_ms = [(r["t_end"] - r["t_start"]) * 1000.0 for r in log if r.get("t_end") and r.get("t_start")]
        return {"requests": len(log), "ok_requests": len(ok),
                "connections": len({r.get("conn_id") for r in log}),
                "clients": sorted({client_of(r) for r in log}),
                "server_ms_median": statistics.median(server_ms) if server_ms else None}


class NginxServer:
    kind = "nginx"

    def __init__(self, url: str, pid: int, log_path: str, version: str):
        self.url = url
        self.pid = pid
        self.log_path = log_path
        self.version = version
        self.offset = 0

    def label(self) -> str:
        return "nginx"

    def before(self) -> None:
        self.offset = os.path.getsize(self.log_path)

    def cpu_s(self) -> float:
        return proc_cpu_s(self.pid) + sum(proc_cpu_s(p) for p in children_of(self.pid))

    def _lines(self) -> list[list[str]]:
        with open(self.log_path, "rb") as f:
            f.seek(self.offset)
            return [ln.split() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]

    def after(self, expect: int) -> dict:
        # nginx logs a request once its answer went out: the last line may trail the client's exit
        deadline = time.monotonic() + 2.0
        lines = self._lines()
        while len(lines) < expect and time.monotonic() < deadline:
            time.sleep(0.02)
            lines = self._lines()
        ok = [ln for ln in lines if len(ln) >= 4 and ln[3] == "200"]
        return {"requests": len(lines), "ok_requests": len(ok),
                "connections": len({ln[1] for ln in lines if len(ln) > 1}),
                "clients": sorted({ln[4].strip('"').split("/")[0] for ln in lines if len(ln) > 4}),
                "server_ms_median": None}


# -- counting what a client printed ----------------------------------------------------------

def count_jsonl_ok(path: str) -> int:
    n = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                if json.loads(line).get("http_status") == 200:
                    n += 1
            except ValueError:
                pass
    return n


def count_curl_ok(path: str) -> int:
    with open(path, "rb") as f:
        return f.read().count(b'"images"')


# -- the benchmark ---------------------------------------------------------------------------

class Bench:
    def __init__(self, a, env):
        self.a = a
        self.env = env
        self.failures: list[str] = []

    def curl_argv(self, url: str, path: str) -> list[str]:
        """The curl command of API.md, plus -s."""
        return ["curl", "-s", "-X", "POST", url, "-H", f"x-api-key: {self.a.key}",
                "-F", f"file=@{path}", "-F", "imgsz=640", "-F", "conf=0.25", "-F", "iou=0.45"]

    def commands(self, url: str, listfile: str) -> dict[str, tuple[list[str], str, object]]:
        """name -> (argv, stdin, output counter)."""
        loop = ('while IFS= read -r f; do curl -s -X POST "$1" -H "x-api-key: $2" -F "file=@$f"'
                ' -F "imgsz=640" -F "conf=0.25" -F "iou=0.45"; done')
        return {
            "hubpredict": ([self.a.bin, "-j", str(JOBS), "-u", url, "-f", "jsonl", "-q",
                            "--files-from", listfile], os.devnull, count_jsonl_ok),
            "curl loop": (["bash", "-c", loop, "curl-loop", url, self.a.key], listfile, count_curl_ok),
            "xargs curl": (["xargs", "-P", str(JOBS), "-I", "{}", *self.curl_argv(url, "{}")],
                           listfile, count_curl_ok),
        }

    def measure(self, section: str, name: str, spec, server, expect: int, limit_s: float) -> dict:
        argv, stdin, counter = spec
        out = os.path.join(self.a.tmp, "run.out")
        err = os.path.join(self.a.tmp, "run.err")
        server.before()
        c0 = server.cpu_s()
        ms, code, ru, timed_out = run_limited(argv, self.env, out, err, stdin, limit_s)
        c1 = server.cpu_s()
        got = counter(out)
        view = server.after(expect)
        rec = {"wall_s": ms / 1000.0, "exit": code, "timed_out": timed_out,
               "client_cpu_s": ru.ru_utime + ru.ru_stime, "server_cpu_s": c1 - c0,
               "answers_printed": got, **view}
        rec["server_cpu_share"] = rec["server_cpu_s"] / rec["wall_s"] if rec["wall_s"] > 0 else 0.0
        rec["ok"] = (code == 0 and not timed_out and got == expect and view["ok_requests"] == expect
                     and view["requests"] == expect)
        if not rec["ok"]:
            with open(err, encoding="utf-8", errors="replace") as f:
                etext = f.read()[-600:].strip()
            what = (f"timed out after {limit_s:.0f} s (killed)" if timed_out else f"exit {code}")
            msg = (f"{section}: {name}: {what}, {got}/{expect} answers printed, server saw "
                   f"{view['requests']} requests ({view['ok_requests']} answered 200 with the whole "
                   f"upload), wall {ms / 1000:.2f} s; stderr tail: {etext!r}")
            print("  FAILED " + msg, file=sys.stderr)
            self.failures.append(msg)
            # keep the evidence
            keep = os.path.join(self.a.tmp, f"failed-{len(self.failures)}")
            os.makedirs(keep, exist_ok=True)
            shutil.copy(out, keep)
            shutil.copy(err, keep)
            if self.a.keep_dir:
                dest = os.path.join(self.a.keep_dir, os.path.basename(keep))
                shutil.copytree(keep, dest, dirs_exist_ok=True)
        return rec

    def series(self, section: str, cmds: dict, server, expect: int, runs: int,
               limits: dict[str, float], rng: random.Random) -> dict[str, list[dict]]:
        """runs rounds; in each, every command once, in a fresh random order."""
        res: dict[str, list[dict]] = {n: [] for n in cmds}
        order = list(cmds)
        for i in range(runs):
            rng.shuffle(order)
            for name in order:
                rec = self.measure(section, name, cmds[name], server, expect, limits[name])
                res[name].append(rec)
                print(f"  run {i + 1}/{runs} {name:11} {rec['wall_s']:8.3f} s"
                      f"   {expect / rec['wall_s']:7.0f} req/s"
                      f"   client cpu {rec['client_cpu_s']:6.2f} s"
                      f"   {server.label()} cpu {100 * rec['server_cpu_share']:4.0f} % of a core"
                      f"   {rec['connections']:4} connections"
                      + ("" if rec["ok"] else "   FAILED"), flush=True)
        return res


def med(recs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in recs if r["ok"] and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def spread(recs: list[dict], key: str = "wall_s") -> str:
    vals = [r[key] for r in recs if r["ok"]]
    return f"{min(vals):.3f}-{max(vals):.3f}" if vals else "-"


def cpu_share(recs: list[dict]) -> float | None:
    """Server CPU over wall time, summed over the successful runs: /proc counts in 10 ms
    ticks, so a share over less than MIN_CPU_WALL_S of runs says nothing (None)."""
    ok = [r for r in recs if r["ok"]]
    wall = sum(r["wall_s"] for r in ok)
    return sum(r["server_cpu_s"] for r in ok) / wall if wall >= MIN_CPU_WALL_S else None


def client_share(recs: list[dict]) -> float | None:
    """The client's CPU over wall time, summed over the successful runs."""
    ok = [r for r in recs if r["ok"]]
    wall = sum(r["wall_s"] for r in ok)
    return sum(r["client_cpu_s"] for r in ok) / wall if wall >= MIN_CPU_WALL_S else None


def pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.0f} %"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def make_links(src: str, directory: str, count: int) -> str:
    """count hard links of src in directory; returns the list file (one path a line)."""
    os.makedirs(directory, exist_ok=True)
    width = len(str(count))
    paths = []
    for i in range(1, count + 1):
        p = os.path.join(directory, f"img{i:0{width}d}.jpg")
        if not os.path.exists(p):
            os.link(src, p)
        paths.append(p)
    listfile = directory + ".list"
    with open(listfile, "w", encoding="utf-8") as f:
        f.write("\n".join(paths) + "\n")
    return listfile


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the hubpredict binary")
    ap.add_argument("--peakrss", required=True, help="tests/peakrss")
    ap.add_argument("--url", required=True, help="the stand-in's predict URL (hub flavour)")
    ap.add_argument("--key", required=True, help="the stand-in's hub key")
    ap.add_argument("--standin-pid", type=int, required=True)
    ap.add_argument("--latency", type=float, default=0.1, help="the stand-in's latency for part 1")
    ap.add_argument("--image", required=True)
    ap.add_argument("--count", type=int, default=200, help="images in a batch")
    ap.add_argument("--big-count", type=int, default=10000, help="paths in the memory run (0 = skip)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--startup-runs", type=int, default=51)
    ap.add_argument("--nginx-url", default="")
    ap.add_argument("--nginx-pid", type=int, default=0)
    ap.add_argument("--nginx-log", default="")
    ap.add_argument("--nginx-version", default="nginx")
    ap.add_argument("--nginx-note", default="", help="why there is no nginx")
    ap.add_argument("--tmp", required=True, help="a scratch directory")
    ap.add_argument("--keep-dir", default=os.environ.get("BENCH_KEEP", ""),
                    help="copy the output of failed runs here (default $BENCH_KEEP)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    if a.runs < 3:
        ap.error("--runs must be at least 3")
    if a.startup_runs < 50:
        ap.error("--startup-runs must be at least 50")

    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    env = dict(os.environ)
    env["ULTRALYTICS_API_KEY"] = a.key
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                "HUBPREDICT_URL", "HUBPREDICT_MODEL"):
        env.pop(var, None)
    env.pop("CURL_HOME", None)
    bench = Bench(a, env)
    image_size = os.path.getsize(a.image)
    standin = StandInServer(a.url, a.standin_pid, image_size)
    nginx = NginxServer(a.nginx_url, a.nginx_pid, a.nginx_log, a.nginx_version) if a.nginx_url else None

    # -- machine context ---------------------------------------------------------------------
    hp_version = subprocess.run([a.bin, "-V"], capture_output=True, text=True).stdout.strip()
    context = {
        "nproc": os.cpu_count(),
        "nproc_usable": len(os.sched_getaffinity(0)),
        "kernel": os.uname().release,
        "curl": first_line(["curl", "--version"]),
        "hubpredict": hp_version.replace("\n", "; "),
        "python": first_line([sys.executable, "--version"]),
        "nginx": a.nginx_version if nginx else a.nginx_note,
        "loadavg": "%.2f %.2f %.2f" % os.getloadavg(),
    }
    print("== machine")
    for k, v in context.items():
        print(f"  {k:13} {v}")

    # -- the inputs: hard links of one image, on the scratch directory's file system -----------
    src = os.path.join(a.tmp, "src" + os.path.splitext(a.image)[1])
    shutil.copyfile(a.image, src)
    list_small = make_links(src, os.path.join(a.tmp, f"img{a.count}"), a.count)
    print(f"  {'images':13} {a.count} hard links of {a.image} ({image_size} bytes)")
    print(f"  {'stand-in':13} {a.url} (pid {a.standin_pid})")
    print(f"  {'nginx':13} {a.nginx_url or a.nginx_note}")
    print(f"  {'runs':13} {a.runs} per figure (medians), shuffle seed {seed}")
    results: dict = {"context": context, "seed": seed, "runs": a.runs, "count": a.count,
                     "image": a.image, "image_bytes": image_size}

    # -- 1. latency: hubpredict -j 8 vs the curl loop vs xargs -P 8 curl -----------------------
    lat_ms = a.latency * 1000
    print(f"\n== 1. {a.count} images, the stand-in answering after {lat_ms:.0f} ms")
    standin.set_latency(a.latency)
    cmds = bench.commands(a.url, list_small)
    # check (and warm-up) runs: the loop on 5 images only, it takes 0.1 s an image
    few = make_links(src, os.path.join(a.tmp, "img5"), 5)
    for name, spec in bench.commands(a.url, few).items():
        if name == "curl loop":
            bench.measure("check", name, spec, standin, 5, 60)
    for name in ("hubpredict", "xargs curl"):
        bench.measure("check", name, cmds[name], standin, a.count, 120)
    ideal_s = math.ceil(a.count / JOBS) * a.latency
    lat = bench.series("1. latency", cmds, standin, a.count, a.runs,
                       {"hubpredict": 120, "curl loop": 20 * a.count * a.latency + 60,
                        "xargs curl": 120}, rng)
    hp_s, loop_s, xa_s = (med(lat[n], "wall_s") for n in ("hubpredict", "curl loop", "xargs curl"))
    loop_ratio = loop_s / hp_s if hp_s and loop_s else None
    xargs_ratio = hp_s / xa_s if hp_s and xa_s else None
    print(f"  medians: hubpredict {hp_s:.3f} s (range {spread(lat['hubpredict'])}; ideal "
          f"{ideal_s:.2f} s = ceil({a.count}/{JOBS}) x {lat_ms:.0f} ms), curl loop {loop_s:.2f} s, "
          f"xargs curl {xa_s:.3f} s" if hp_s and loop_s and xa_s else "  medians: (failed runs)")
    srv_ms = med(lat["hubpredict"], "server_ms_median")
    if srv_ms is not None:
        print(f"  stand-in, request line to answer sent: median {srv_ms:.1f} ms per request "
              f"(latency {lat_ms:.0f} ms); its CPU during hubpredict "
              f"{pct(cpu_share(lat['hubpredict']))} of a core")
    print(f"  curl loop / hubpredict  {loop_ratio:6.2f}x   target >= {LOOP_TARGET:.0f}x   "
          f"{verdict(loop_ratio >= LOOP_TARGET if loop_ratio else None)}" if loop_ratio else
          "  curl loop / hubpredict  n/a")
    print(f"  hubpredict / xargs curl {xargs_ratio:6.3f}    target <= {XARGS_TARGET:.2f}   "
          f"{verdict(xargs_ratio <= XARGS_TARGET if xargs_ratio else None)}" if xargs_ratio else
          "  hubpredict / xargs curl n/a")
    conns = {n: med(lat[n], "connections") for n in lat}
    print(f"  TCP connections for {a.count} requests (stand-in conn_id): "
          + ", ".join(f"{n} {c:.0f}" if c is not None else f"{n} -" for n, c in conns.items())
          + f"   (hubpredict should use <= {JOBS})")
    results["latency"] = {"latency_s": a.latency, "ideal_s": ideal_s, "runs": lat,
                          "median_s": {"hubpredict": hp_s, "curl loop": loop_s, "xargs curl": xa_s},
                          "loop_over_hp": loop_ratio, "hp_over_xargs": xargs_ratio,
                          "loop_pass": loop_ratio is not None and loop_ratio >= LOOP_TARGET,
                          "xargs_pass": xargs_ratio is not None and xargs_ratio <= XARGS_TARGET}

    # -- 2. no latency: requests/s against the stand-in, then nginx ------------------------------
    def throughput(server, label: str) -> dict:
        print(f"\n== 2. {a.count} images, no added latency, {label}: requests/s")
        c = {n: v for n, v in bench.commands(server.url, list_small).items() if n != "curl loop"}
        for name, spec in c.items():
            bench.measure("check", name, spec, server, a.count, 120)
        res = bench.series(f"2. {label}", c, server, a.count, a.runs,
                           {"hubpredict": 120, "xargs curl": 120}, rng)
        hp, xa = med(res["hubpredict"], "wall_s"), med(res["xargs curl"], "wall_s")
        out = {"runs": res}
        if hp and xa:
            out.update({"hp_rps": a.count / hp, "xargs_rps": a.count / xa, "ratio": xa / hp,
                        "hp_server_cpu": cpu_share(res["hubpredict"]),
                        "xargs_server_cpu": cpu_share(res["xargs curl"]),
                        "hp_client_cpu_s": med(res["hubpredict"], "client_cpu_s"),
                        "xargs_client_cpu_s": med(res["xargs curl"], "client_cpu_s"),
                        "hp_client_cpu": client_share(res["hubpredict"]),
                        "hp_connections": med(res["hubpredict"], "connections")})
            out["pass"] = out["ratio"] >= 1.0
            out["hp_cpu_ms_per_req"] = 1000 * out["hp_client_cpu_s"] / a.count
            out["xargs_cpu_ms_per_req"] = 1000 * out["xargs_client_cpu_s"] / a.count
            print(f"  medians: hubpredict {out['hp_rps']:.0f} req/s ({hp:.3f} s, client cpu "
                  f"{out['hp_client_cpu_s']:.3f} s), xargs curl {out['xargs_rps']:.0f} req/s "
                  f"({xa:.3f} s, client cpu {out['xargs_client_cpu_s']:.2f} s): ratio {out['ratio']:.2f}x")
            print(f"  client CPU per request: hubpredict {out['hp_cpu_ms_per_req']:.2f} ms, xargs curl "
                  f"{out['xargs_cpu_ms_per_req']:.2f} ms (a curl process each)")
            print(f"  {label} CPU: {pct(out['hp_server_cpu'])} of a core during hubpredict "
                  f"(hubpredict itself {pct(out['hp_client_cpu'])}), {pct(out['xargs_server_cpu'])} "
                  f"during xargs curl; hubpredict used {out['hp_connections']:.0f} connections"
                  + (f" (n/a: under {MIN_CPU_WALL_S} s of runs, too short for /proc's 10 ms ticks)"
                     if out["hp_server_cpu"] is None or out["hp_client_cpu"] is None else ""))
        return out

    standin.set_latency(0)
    thr = {"stand-in": throughput(standin, "stand-in")}
    if nginx:
        thr["nginx"] = throughput(nginx, f"nginx ({a.nginx_version.split(': ')[-1]}, static answer)")
    else:
        print(f"\n== 2b. nginx: {a.nginx_note}")
    results["throughput"] = thr

    # -- 3. peak RSS over a 10,000-path list -------------------------------------------------
    # The stand-in runs are the figure; a 10,000-path run against nginx adds the memory with
    # answers arriving as fast as hubpredict can take them, and its steady-state requests/s.
    mem: dict = {}
    plan = [("stand-in", standin, a.count)]
    if a.big_count > 0:
        plan.append(("stand-in", standin, a.big_count))
        if nginx:
            plan.append(("nginx", nginx, a.big_count))
    print(f"\n== 3. peak RSS of hubpredict -j {JOBS} -f jsonl -q --files-from LIST "
          f"(tests/peakrss, no latency), {a.runs} runs each")
    for label, server, n in plan:
        lf = list_small if n == a.count else make_links(src, os.path.join(a.tmp, f"img{n}"), n)
        rss_file = os.path.join(a.tmp, "rss")
        argv = [a.bin, "-j", str(JOBS), "-u", server.url, "-f", "jsonl", "-q", "--files-from", lf]
        spec = ([a.peakrss, rss_file, *argv], os.devnull, count_jsonl_ok)
        recs = []
        for i in range(a.runs):
            if os.path.exists(rss_file):
                os.unlink(rss_file)
            rec = bench.measure("3. memory", f"{n} paths, {label}", spec, server, n, 600 + n * 0.1)
            try:
                with open(rss_file, encoding="ascii") as f:
                    code, kib = f.read().split()
                rec["hp_exit"], rec["peak_rss_mib"] = int(code), int(kib) / 1024.0
                rec["ok"] = rec["ok"] and int(code) == 0
            except (OSError, ValueError):
                rec["ok"], rec["peak_rss_mib"] = False, None
            recs.append(rec)
            print(f"  {n:6} paths, {label:8} run {i + 1}: peak RSS {rec['peak_rss_mib'] or 0:6.2f} MiB"
                  f"   wall {rec['wall_s']:6.2f} s   {n / rec['wall_s']:6.0f} req/s"
                  f"   hubpredict cpu {100 * rec['client_cpu_s'] / rec['wall_s']:3.0f} %"
                  f"   {label} cpu {100 * rec['server_cpu_share']:3.0f} % of a core"
                  f"   {rec['connections']} connections" + ("" if rec["ok"] else "   FAILED"), flush=True)
        wall = med(recs, "wall_s")
        mem[f"{n} {label}"] = {
            "paths": n, "server": label, "runs": recs, "peak_rss_mib": med(recs, "peak_rss_mib"),
            "max_peak_rss_mib": max((r["peak_rss_mib"] or 0) for r in recs),
            "connections": med(recs, "connections"), "rps": n / wall if wall else None,
            "server_cpu": cpu_share(recs), "client_cpu": client_share(recs)}
    small = mem.get(f"{a.count} stand-in")
    big = mem.get(f"{a.big_count} stand-in") if a.big_count > 0 else None
    big_ngx = mem.get(f"{a.big_count} nginx") if a.big_count > 0 else None
    if big and big["peak_rss_mib"] is not None:
        big["pass"] = big["max_peak_rss_mib"] <= RSS_TARGET_MIB
        print(f"  {a.big_count} paths, stand-in: median {big['peak_rss_mib']:.2f} MiB, max "
              f"{big['max_peak_rss_mib']:.2f} MiB   target <= {RSS_TARGET_MIB:.0f} MiB   "
              f"{verdict(big['pass'])}   ({a.count} paths: {small['peak_rss_mib']:.2f} MiB)")
        print(f"  over {a.big_count} paths the stand-in used {pct(big['server_cpu'])} of a core and "
              f"hubpredict {pct(big['client_cpu'])}, for {big['rps']:.0f} req/s")
    if big_ngx and big_ngx["peak_rss_mib"] is not None:
        print(f"  {a.big_count} paths, nginx: median {big_ngx['peak_rss_mib']:.2f} MiB, max "
              f"{big_ngx['max_peak_rss_mib']:.2f} MiB; {big_ngx['rps']:.0f} req/s, hubpredict "
              f"{pct(big_ngx['client_cpu'])} of a core, nginx {pct(big_ngx['server_cpu'])}")
    results["memory"] = mem

    # -- who set the pace with no latency ----------------------------------------------------
    # The 200-image runs last a fraction of a second; the 10,000-path runs of part 3 put the
    # same load on the same server for seconds, so their CPU shares are the better evidence.
    print("\n== who set the pace with no latency (server-bound: the server busy >= "
          f"{100 * SATURATED:.0f} % of a core while hubpredict's own CPU stayed under {100 * CLIENT_IDLE:.0f} %)")
    for label, t in thr.items():
        if "hp_rps" not in t:
            continue
        long = mem.get(f"{a.big_count} {label}")
        srv, cli, basis = t["hp_server_cpu"], t["hp_client_cpu"], f"the {a.count}-image runs"
        if long and long["server_cpu"] is not None and long["client_cpu"] is not None:
            srv, cli, basis = long["server_cpu"], long["client_cpu"], f"the {a.big_count}-path runs"
        t["pace_server_cpu"], t["pace_client_cpu"], t["pace_basis"] = srv, cli, basis
        t["saturated"] = srv is not None and cli is not None and srv >= SATURATED and cli < CLIENT_IDLE
        print(f"  {label}: {pct(srv)} of a core, hubpredict {pct(cli)}, over {basis}: "
              + ("SERVER-BOUND: the requests/s are the server's ceiling, not hubpredict's"
                 if t["saturated"] else "not server-bound by this test"))

    # -- 4. start-up ---------------------------------------------------------------------------
    print(f"\n== 4. start-up, {a.startup_runs} alternating runs (+3 warm-up), shuffled each round")
    scmds = {"hubpredict --version": [a.bin, "--version"], "curl --version": ["curl", "--version"],
             "true": ["true"]}
    for name, argv in scmds.items():
        _, code, _ = run(argv, env)
        if code != 0:
            bench.failures.append(f"4. start-up: {name} exited {code}")
    order = list(scmds)
    for _ in range(3):
        for name in order:
            run(scmds[name], env)
    walls: dict[str, list[float]] = {n: [] for n in scmds}
    for _ in range(a.startup_runs):
        rng.shuffle(order)
        for name in order:
            ms, _, _ = run(scmds[name], env)
            walls[name].append(ms)
    su = {n: {"median_ms": statistics.median(w), "min_ms": min(w), "p90_ms": quantile(w, 0.9),
              "runs_ms": w} for n, w in walls.items()}
    for n, s in su.items():
        print(f"  {n:21} median {s['median_ms']:6.2f} ms   min {s['min_ms']:6.2f}   p90 {s['p90_ms']:6.2f}")
    su_ratio = su["hubpredict --version"]["median_ms"] / su["curl --version"]["median_ms"]
    lo, hi = bootstrap_ratio_ci(walls["hubpredict --version"], walls["curl --version"],
                                random.Random(seed + 1))
    su_pass = su_ratio <= STARTUP_TARGET
    print(f"  hubpredict/curl {su_ratio:.3f}   target <= {STARTUP_TARGET:.2f}   {verdict(su_pass)}"
          f"   95% CI {lo:.3f}-{hi:.3f}")
    results["startup"] = {"runs": su, "ratio": su_ratio, "ci95": [lo, hi], "pass": su_pass}

    # -- connection reuse over every hubpredict batch ----------------------------------------------
    hp_runs = [("1. latency", r) for r in lat["hubpredict"]]
    for label, t in thr.items():
        hp_runs += [(f"2. {label}", r) for r in t["runs"]["hubpredict"]]
    for key, m in mem.items():
        hp_runs += [(f"3. {key}", r) for r in m["runs"]]
    extra = [(where, r) for where, r in hp_runs if r["ok"] and r["connections"] > JOBS]
    max_conns = max((r["connections"] for _, r in hp_runs if r["ok"]), default=0)
    print(f"\n== connections: hubpredict -j {JOBS} opened at most {max_conns} TCP connections per batch "
          f"over {len(hp_runs)} batches; more than {JOBS} in {len(extra)}"
          + (": " + ", ".join(f"{w} ({r['connections']})" for w, r in extra) if extra else ""))
    if extra:
        print("  (libcurl closed an idle connection because its cache was full: by default it holds\n"
              "   4 x the easy handles in the multi handle, 4 when one slow answer is the only transfer\n"
              "   left while finished answers wait for it. A new connection was opened afterwards;\n"
              "   see tests/bench/README.md)")
    results["connections"] = {"max": max_conns, "batches": len(hp_runs), "over_jobs": len(extra)}

    # -- the paste-able summary ----------------------------------------------------------------
    lines = []
    if hp_s and loop_s and xa_s:
        lines.append(
            f"batch of {a.count} x {os.path.basename(a.image)} ({image_size} B, hard links), stand-in "
            f"answering after {lat_ms:.0f} ms, median of {a.runs}: hubpredict -j {JOBS} {hp_s:.2f} s "
            f"(ideal {ideal_s:.2f}), curl loop {loop_s:.2f} s, xargs -P {JOBS} curl {xa_s:.2f} s; "
            f"loop/hubpredict {loop_ratio:.2f}x (target >= {LOOP_TARGET:.0f}x) "
            f"{verdict(loop_ratio >= LOOP_TARGET)}; hubpredict/xargs {xargs_ratio:.2f} "
            f"(target <= {XARGS_TARGET:.2f}) {verdict(xargs_ratio <= XARGS_TARGET)}; TCP connections "
            f"for {a.count} requests: hubpredict {conns['hubpredict']:.0f} (<= {JOBS}), "
            f"curl {conns['xargs curl']:.0f}; over all {len(hp_runs)} hubpredict batches at most "
            f"{max_conns} ({len(extra)} over {JOBS})")
    else:
        lines.append("batch with latency: failed runs, no figures")
    for label, t in thr.items():
        if "hp_rps" not in t:
            lines.append(f"no latency, {label}: failed runs, no figures")
            continue
        sat = (f"; over {t['pace_basis']} {label} used {pct(t['pace_server_cpu'])} of a core and "
               f"hubpredict {pct(t['pace_client_cpu'])}"
               + (": SERVER-BOUND, the server's ceiling, not hubpredict's" if t["saturated"] else ""))
        srv = (f"{label} ({a.nginx_version.split(': ')[-1]}, {os.environ.get('BENCH_NGINX_WORKERS', '1')} "
               f"worker, static answer)" if label == "nginx" else "stand-in (Python)")
        lines.append(
            f"no latency, {srv}, median of {a.runs}: hubpredict -j {JOBS} {t['hp_rps']:.0f} req/s, "
            f"xargs -P {JOBS} curl {t['xargs_rps']:.0f} req/s, ratio {t['ratio']:.2f}x "
            f"(no target in the issue; >= 1x) {verdict(t['pass'])}; client CPU per request "
            f"{t['hp_cpu_ms_per_req']:.2f} ms vs {t['xargs_cpu_ms_per_req']:.2f} ms{sat}")
    if not nginx:
        lines.append(f"no latency, nginx: {a.nginx_note}")
    if big and big["peak_rss_mib"] is not None:
        lines.append(
            f"peak RSS, hubpredict -j {JOBS} over a {a.big_count}-path list, median of {a.runs}: "
            f"{big['peak_rss_mib']:.1f} MiB (max {big['max_peak_rss_mib']:.1f}; target <= "
            f"{RSS_TARGET_MIB:.0f} MiB) {verdict(big['pass'])}; {a.count}-path list "
            f"{small['peak_rss_mib']:.1f} MiB"
            + (f"; {a.big_count} paths against nginx {big_ngx['peak_rss_mib']:.1f} MiB at "
               f"{big_ngx['rps']:.0f} req/s" if big_ngx and big_ngx["peak_rss_mib"] is not None else ""))
    elif a.big_count > 0:
        lines.append(f"peak RSS over {a.big_count} paths: failed runs, no figure")
    else:
        lines.append("peak RSS over 10,000 paths: skipped (BENCH_SKIP_10K=1)")
    lines.append(
        f"start-up, median of {a.startup_runs} alternating: hubpredict --version "
        f"{su['hubpredict --version']['median_ms']:.2f} ms, curl --version "
        f"{su['curl --version']['median_ms']:.2f} ms, ratio {su_ratio:.2f} [95% CI {lo:.2f}-{hi:.2f}] "
        f"(target <= {STARTUP_TARGET:.0f}x) {verdict(su_pass)}; true {su['true']['median_ms']:.2f} ms")
    lines.append(
        f"machine: nproc {context['nproc']}, {context['curl']}; {context['hubpredict']}; "
        f"{context['python']}; {context['nginx']}; load {context['loadavg']}")
    if bench.failures:
        lines.append(f"FAILED runs: {len(bench.failures)} (see above; medians leave them out)")
    print("\n== summary")
    for line in lines:
        print(line)
    results["summary"] = lines
    results["failures"] = bench.failures

    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1, default=str)
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
