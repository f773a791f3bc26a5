#!/usr/bin/env python3
"""The measuring half of tests/bench/single.sh (run that script, not this one).

Times whole processes against a running stand-in: hubpredict (-f raw and the default table),
the curl command and the Python `requests` call documented in ../shared/API.md. Each run is one
process started with os.posix_spawnp and reaped with os.wait4, with time.perf_counter() read
just before the spawn and just after the reap; wait4 also gives that one child's CPU time.
Within each iteration every command runs once, in a freshly shuffled order, so slow drift of
the machine spreads over all of them alike. Three start-up-only commands run in the same loop,
to split each wall time into start-up and request.

Then, unless --big is empty, peak memory while uploading a 1 GiB sparse file (hubpredict -f raw
and curl, one run each), checked against the stand-in's log (the server must have received all
of the file). Peak RSS comes from /usr/bin/time, not from wait4/getrusage: on Linux a child's
ru_maxrss also counts the RSS of the process it was forked or vforked from, as it stood at
exec (here the Python interpreter, over 20 MiB), which would swamp a 10 MiB client. Without
/usr/bin/time, /proc/PID/status VmHWM is sampled every 5 ms instead (and marked so).

Python standard library only. Exit status: 0 when every run succeeded (whether or not the
targets are met: this is a benchmark, not a test), 1 when a command failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request

# The Python call of API.md, verbatim apart from where url, KEY and path come from.
PYTHON_SNIPPET = (
    "import sys, requests\n"
    "url, KEY, path = sys.argv[1], sys.argv[2], sys.argv[3]\n"
    'response = requests.post(url, headers={"x-api-key": KEY}, files={"file": open(path, "rb")},\n'
    '                         data={"imgsz": 640, "conf": 0.25, "iou": 0.45})\n'
    "print(response.json())\n"
)

TARGETS = [
    # (label, numerator, denominator, comparison, limit)
    ("raw/curl", "raw", "curl", "<=", 1.00),
    ("table/curl", "table", "curl", "<=", 1.05),
    ("python/raw", "python", "raw", ">=", 8.0),
]
RSS_TARGET_MIB = 16.0


LAST_WINDOW = [0.0, 0.0]  # time.time() at the spawn and at the reap of the last run()


def run(argv: list[str], env: dict[str, str], stdout: str = os.devnull,
        stderr: str = os.devnull) -> tuple[float, int, object]:
    """Run argv to completion; return (wall ms, exit status, rusage of that child)."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    w0 = time.time()
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    t1 = time.perf_counter()
    LAST_WINDOW[:] = [w0, time.time()]
    return (t1 - t0) * 1000.0, os.waitstatus_to_exitcode(status), usage


def peak_rss_run(argv: list[str], env: dict[str, str], tmp: str, stdout: str,
                 stderr: str) -> tuple[float, int, float, str]:
    """Run argv once; return (wall ms, exit status, peak RSS MiB, how it was measured)."""
    time_bin = "/usr/bin/time"
    if os.access(time_bin, os.X_OK):
        rss_file = os.path.join(tmp, "rss")
        ms, code, _ = run([time_bin, "-f", "%M", "-o", rss_file, *argv], env, stdout, stderr)
        with open(rss_file, encoding="utf-8") as f:
            kib = float(f.read().split()[-1])
        return ms, code, kib / 1024.0, "/usr/bin/time"
    # Fallback: sample the child's own high-water mark while it runs.
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        hwm = 0
        while p.poll() is None:
            try:
                with open(f"/proc/{p.pid}/status", encoding="ascii") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            hwm = max(hwm, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.005)
        ms = (time.perf_counter() - t0) * 1000.0
    return ms, p.returncode, hwm / 1024.0, "VmHWM sampled every 5 ms (no /usr/bin/time)"


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def bootstrap_ratio_ci(num: list[float], den: list[float], rng: random.Random,
                       rounds: int = 2000) -> tuple[float, float]:
    """95% interval of median(num)/median(den), resampling whole iterations (the runs of one
    iteration stay paired, as they ran side by side)."""
    n = len(num)
    vals = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        vals.append(statistics.median(num[i] for i in idx) / statistics.median(den[i] for i in idx))
    return quantile(vals, 0.025), quantile(vals, 0.975)


def fmt_ms(v: float) -> str:
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unavailable"


def standin_log(base: str) -> list[dict]:
    with urllib.request.urlopen(base + "/_standin/log", timeout=30) as r:
        return json.load(r)


def standin_reset(base: str) -> None:
    req = urllib.request.Request(base + "/_standin/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()


def client_of(rec: dict) -> str:
    ua = rec.get("headers", {}).get("user-agent", "")
    return ua.split("/")[0] or "?"


def check_run(name: str, argv: list[str], env: dict[str, str], tmp: str, expect: str) -> None:
    """One run with its output kept: it must exit 0 and print what it should."""
    out, err = os.path.join(tmp, "check.out"), os.path.join(tmp, "check.err")
    _, code, _ = run(argv, env, out, err)
    with open(out, encoding="utf-8", errors="replace") as f:
        text = f.read()
    with open(err, encoding="utf-8", errors="replace") as f:
        etext = f.read()
    if code != 0 or expect not in text:
        print(f"bench: {name} failed (exit {code}); stdout starts {text[:200]!r}; "
              f"stderr {etext[:400]!r}", file=sys.stderr)
        sys.exit(1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the hubpredict binary")
    ap.add_argument("--url", required=True, help="the stand-in's predict URL (hub flavour)")
    ap.add_argument("--key", required=True, help="the stand-in's hub key")
    ap.add_argument("--image", required=True)
    ap.add_argument("--iterations", type=int, default=21)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--big", default="", help="a 1 GiB sparse PNG for the memory runs ('' = skip)")
    ap.add_argument("--tmp", required=True, help="a scratch directory")
    ap.add_argument("--seed", type=int, default=None, help="seed of the per-iteration shuffle")
    ap.add_argument("--python", default="python3", help="the interpreter for the requests call")
    ap.add_argument("--json", default="", help="also write all figures to this file")
    a = ap.parse_args()
    if a.iterations < 15:
        ap.error("--iterations must be at least 15")

    base = a.url.split("/v1/")[0]
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    env = dict(os.environ)
    env["ULTRALYTICS_API_KEY"] = a.key
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(var, None)
    env.pop("CURL_HOME", None)

    # -- machine context ---------------------------------------------------------------------
    hp_version = subprocess.run([a.bin, "-V"], capture_output=True, text=True).stdout.strip()
    have_requests = subprocess.run([a.python, "-c", "import requests"],
                                   capture_output=True).returncode == 0
    requests_version = (subprocess.run([a.python, "-c", "import requests; print(requests.__version__)"],
                                       capture_output=True, text=True).stdout.strip()
                        if have_requests else "missing")
    context = {
        "nproc": os.cpu_count(),
        "nproc_usable": len(os.sched_getaffinity(0)),
        "kernel": os.uname().release,
        "curl": first_line(["curl", "--version"]),
        "hubpredict": hp_version.replace("\n", "; "),
        "python": first_line([a.python, "--version"]),
        "requests": requests_version,
        "loadavg": "%.2f %.2f %.2f" % os.getloadavg(),
    }
    print("== machine")
    for k, v in context.items():
        print(f"  {k:13} {v}")
    print(f"  {'image':13} {a.image} ({os.path.getsize(a.image)} bytes)")
    print(f"  {'url':13} {a.url}")
    print(f"  {'iterations':13} {a.iterations} (+{a.warmup} warm-up each), shuffle seed {seed}")

    # -- the commands ------------------------------------------------------------------------
    cmds: dict[str, list[str]] = {
        "raw": [a.bin, "-u", a.url, "-f", "raw", a.image],
        "table": [a.bin, "-u", a.url, a.image],
        "curl": ["curl", "-s", "-X", "POST", a.url, "-H", f"x-api-key: {a.key}",
                 "-F", f"file=@{a.image}", "-F", "imgsz=640", "-F", "conf=0.25", "-F", "iou=0.45"],
        "python": [a.python, "-c", PYTHON_SNIPPET, a.url, a.key, a.image],
        # start-up alone, for the decomposition; not part of the targets:
        # spawning any process; hubpredict loading its libraries and printing versions;
        # hubpredict as far as it goes without the network (options, curl_global_init,
        # opening the image); curl, which runs curl_global_init before it reads --version.
        "true": ["true"],
        "hp -V": [a.bin, "-V"],
        "hp --dry-run": [a.bin, "-u", a.url, "--dry-run", a.image],
        "curl --version": ["curl", "--version"],
    }
    if not have_requests:
        print(f"\nbench: {a.python} cannot import requests: skipping the Python call (d).\n"
              "       install it with: apt-get install python3-requests")
        del cmds["python"]
    expects = {"raw": '"images"', "table": "detect", "curl": '"images"', "python": "'images'",
               "true": "", "hp -V": "hubpredict", "hp --dry-run": "curl -X POST",
               "curl --version": "curl"}
    for name, argv in cmds.items():
        check_run(name, argv, env, a.tmp, expects[name])

    order = list(cmds)
    for _ in range(a.warmup):
        rng.shuffle(order)
        for name in order:
            run(cmds[name], env)
    standin_reset(base)  # so that the log holds the measured requests only

    wall: dict[str, list[float]] = {n: [] for n in cmds}
    cpu: dict[str, list[float]] = {n: [] for n in cmds}
    windows: list[tuple[float, float, str]] = []
    t_loop = time.perf_counter()
    for it in range(a.iterations):
        rng.shuffle(order)
        for name in order:
            ms, code, ru = run(cmds[name], env)
            if code != 0:
                print(f"bench: {name} exited {code} in iteration {it + 1}; re-running it to show why",
                      file=sys.stderr)
                check_run(name, cmds[name], env, a.tmp, expects[name])
                return 1
            wall[name].append(ms)
            cpu[name].append((ru.ru_utime + ru.ru_stime) * 1000.0)
            windows.append((LAST_WINDOW[0], LAST_WINDOW[1], name))
    loop_s = time.perf_counter() - t_loop

    # The stand-in's view: time from the request line to the answer's last byte, per client;
    # and, placing each request in the run whose spawn..reap window holds it (same clock,
    # time.time(), on both sides), each run's wall time split into
    #   before: spawn, exec, loading, library init, connect, until the request line arrived
    #   server: request line read .. last byte of the answer sent (includes the upload)
    #   after:  reading the answer, output, clean-up, exit, reap
    server: dict[str, list[float]] = {}
    expect_hdr: dict[str, set] = {}
    phases: dict[str, list[tuple[float, float, float]]] = {}
    for rec in standin_log(base):
        if not (rec.get("t_end") and rec.get("t_start")):
            continue
        c = client_of(rec)
        server.setdefault(c, []).append((rec["t_end"] - rec["t_start"]) * 1000.0)
        expect_hdr.setdefault(c, set()).add(rec["headers"].get("expect", "-"))
        for w0, w1, name in windows:
            if w0 <= rec["t_start"] <= w1:
                phases.setdefault(name, []).append(((rec["t_start"] - w0) * 1000.0,
                                                    (rec["t_end"] - rec["t_start"]) * 1000.0,
                                                    (w1 - rec["t_end"]) * 1000.0))
                break

    stats = {}
    print(f"\n== single request, {a.iterations} alternating iterations ({loop_s:.1f} s)")
    print(f"  {'command':15} {'median':>8} {'min':>8} {'p90':>8} {'cpu med':>8}   (ms; cpu = user + sys of the process)")
    for name in cmds:
        w = wall[name]
        stats[name] = {"median": statistics.median(w), "min": min(w), "p90": quantile(w, 0.9),
                       "cpu_median": statistics.median(cpu[name]), "runs": w}
        s = stats[name]
        print(f"  {name:15} {fmt_ms(s['median']):>8} {fmt_ms(s['min']):>8} {fmt_ms(s['p90']):>8}"
              f" {fmt_ms(s['cpu_median']):>8}")
    print("  server side (stand-in, request line to last byte of the answer), median ms:")
    for c, v in sorted(server.items()):
        print(f"    {c:16} {statistics.median(v):6.2f}  over {len(v)} requests;"
              f" Expect header: {', '.join(sorted(expect_hdr[c]))}")
    print("  where the wall time goes, medians in ms (clock shared with the stand-in):")
    print(f"    {'command':8} {'before':>7} {'server':>7} {'after':>7}   before = spawn..request line"
          " arrived, after = answer sent..reaped")
    split = {}
    for name in ("raw", "table", "curl", "python"):
        if name in phases and len(phases[name]) == len(wall[name]):
            b, sv, af = (statistics.median(p[i] for p in phases[name]) for i in range(3))
            split[name] = {"before": b, "server": sv, "after": af}
            print(f"    {name:8} {b:7.2f} {sv:7.2f} {af:7.2f}")
        elif name in cmds:
            print(f"    {name:8} (could not match its runs to the stand-in's log)")
    print("    start-up alone (see the rows above): true = spawning any process; hp -V = loading"
          " libcurl's\n    34 libraries; hp --dry-run adds curl_global_init; curl --version also"
          " asks every library\n    for its version (more than a request's start-up)")

    # -- ratios --------------------------------------------------------------------------------
    ratios = {}
    print("\n== targets (ratios of medians)")
    for label, num, den, op, limit in TARGETS:
        if num not in stats or den not in stats:
            ratios[label] = None
            print(f"  {label:11} skipped (no {num if num not in stats else den} figures)")
            continue
        r = stats[num]["median"] / stats[den]["median"]
        ok = r <= limit if op == "<=" else r >= limit
        lo, hi = bootstrap_ratio_ci(wall[num], wall[den], random.Random(seed + 1))
        close = lo <= limit <= hi
        ratios[label] = {"value": r, "target": f"{op} {limit:.2f}", "pass": ok,
                         "ci95": [lo, hi], "within_noise": close}
        print(f"  {label:11} {r:6.3f}   target {op} {limit:.2f}   {'PASS' if ok else 'MISS'}"
              f"   95% CI {lo:.3f}-{hi:.3f}"
              + ("   (the target is inside the interval: within noise at this many iterations)"
                 if close else ""))

    # -- peak memory, 1 GiB upload -------------------------------------------------------------
    mem = {}
    if a.big:
        size = os.path.getsize(a.big)
        print(f"\n== peak memory uploading {a.big} ({size / 2**30:.0f} GiB sparse), one run each")
        # Read it once first: the first reader of a sparse file fills the page cache with
        # zero pages (about 1.7 s per GiB here), which would count against whoever goes first.
        with open(a.big, "rb") as f:
            while f.read(1 << 20):
                pass
        mem_cmds = {
            "raw": [a.bin, "-u", a.url, "-f", "raw", a.big],
            "curl": ["curl", "-s", "-X", "POST", a.url, "-H", f"x-api-key: {a.key}",
                     "-F", f"file=@{a.big}", "-F", "imgsz=640", "-F", "conf=0.25", "-F", "iou=0.45"],
        }
        for name, argv in mem_cmds.items():
            standin_reset(base)
            out = os.path.join(a.tmp, f"big-{name}.out")
            err = os.path.join(a.tmp, f"big-{name}.err")
            ms, code, peak, how = peak_rss_run(argv, env, a.tmp, out, err)
            log = [r for r in standin_log(base) if r.get("file")]
            got = log[-1]["file"]["size"] if log else None
            mem[name] = {"peak_rss_mib": peak, "wall_s": ms / 1000.0, "exit": code,
                         "server_received": got, "method": how}
            ok_upload = code == 0 and got == size
            print(f"  {name:5} peak RSS {peak:6.1f} MiB   wall {ms / 1000:5.2f} s   exit {code}"
                  f"   stand-in received {got} bytes{'' if ok_upload else '  (INCOMPLETE)'}")
            if not ok_upload:
                with open(err, encoding="utf-8", errors="replace") as f:
                    print("  stderr: " + f.read()[:400].strip())
        if "raw" in mem:
            ok = mem["raw"]["peak_rss_mib"] <= RSS_TARGET_MIB and mem["raw"]["exit"] == 0
            mem["pass"] = ok
            print(f"  hubpredict peak RSS target <= {RSS_TARGET_MIB:.0f} MiB   {'PASS' if ok else 'MISS'}"
                  f"   (measured with {mem['raw']['method']})")

    # -- the paste-able summary ------------------------------------------------------------------
    def med(n: str) -> str:
        return f"{fmt_ms(stats[n]['median'])} ms" if n in stats else "skipped"

    parts = [f"single request, median of {a.iterations}: hubpredict raw {med('raw')}, "
             f"table {med('table')}, curl {med('curl')}, python {med('python')}"]
    for label, *_ in TARGETS:
        r = ratios[label]
        parts.append(f"{label} skipped" if r is None else
                     f"{label} {r['value']:.2f} [95% CI {r['ci95'][0]:.2f}-{r['ci95'][1]:.2f}]"
                     f" (target {r['target']}) {'PASS' if r['pass'] else 'MISS'}")
    line1 = "; ".join(parts)
    line2 = ""
    if mem:
        line2 = (f"peak RSS uploading 1 GiB: hubpredict {mem['raw']['peak_rss_mib']:.1f} MiB "
                 f"(target <= {RSS_TARGET_MIB:.0f}) {'PASS' if mem.get('pass') else 'MISS'}, "
                 f"curl {mem['curl']['peak_rss_mib']:.1f} MiB; "
                 f"upload wall hubpredict {mem['raw']['wall_s']:.2f} s, curl {mem['curl']['wall_s']:.2f} s")
    line3 = (f"start-up alone: hubpredict --dry-run {med('hp --dry-run')}, -V {med('hp -V')}, "
             f"curl --version {med('curl --version')}, true {med('true')}; "
             f"machine: nproc {context['nproc']}, {context['curl']}, "
             f"{context['hubpredict'].split(';')[0]}, {context['python']}, requests {context['requests']}")
    print("\n== summary")
    for line in (line1, line2, line3):
        if line:
            print(line)

    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"context": context, "iterations": a.iterations, "seed": seed,
                       "single": stats, "ratios": ratios, "memory": mem,
                       "server_ms_median": {c: statistics.median(v) for c, v in server.items()},
                       "split_ms_median": split},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
