"""The measuring half of tests/bench/scale.sh (which builds, starts nginx and passes the
arguments). Prints one line per run and a `== summary` block to paste into a note."""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

KEY = "0123456789abcdef0123456789abcdef0123456789"


def main() -> int:
    ap = argparse.ArgumentParser()
    for name in ("bin", "peakrss", "url", "image", "tmp", "nginx-version"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--json")
    a = ap.parse_args()
    env = dict(os.environ, ULTRALYTICS_API_KEY=KEY, XDG_CONFIG_HOME=os.path.join(a.tmp, "config"))
    for k in ("HUBPREDICT_MODEL", "HUBPREDICT_URL", "HUBPREDICT_CONFIG", "HUBPREDICT_PROFILE"):
        env.pop(k, None)
    failed = 0
    figures = {"runs": {}}

    # -- the inputs: hard links of one photo, 1,000 per folder ---------------------------------
    t0 = time.perf_counter()
    with open(a.image, "rb") as f:
        photo = f.read()
    listing = os.path.join(a.tmp, "list")
    with open(listing, "w") as lst:
        for i in range(a.count):
            d = os.path.join(a.tmp, "in", f"{i // 1000:03d}")
            if i % 1000 == 0:
                os.makedirs(d)
            if i % 50000 == 0:                   # ext4 allows 65,000 links to one file
                src = os.path.join(a.tmp, f"photo-{i // 50000}.jpg")
                with open(src, "wb") as g:
                    g.write(photo)
            p = os.path.join(d, f"{i:06d}.jpg")
            os.link(src, p)
            lst.write(p + "\n")
    print(f"== {a.count} inputs (hard links of {os.path.basename(a.image)}, "
          f"{len(photo)} bytes, a new file every 50,000 links) made in {time.perf_counter() - t0:.1f} s")

    def hp(*args, rss_file=None, timeout=3600):
        cmd = [a.bin, "-q", "-u", a.url, "-j", "8", "--files-from", listing, "-f", "jsonl", "-o", "/dev/null", *args]
        if rss_file:
            cmd = [a.peakrss, rss_file] + cmd
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), cmd

    def finish(proc, timeout=3600):
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err.decode(errors="replace")

    cache = os.path.join(a.tmp, "cache")
    logs = [os.path.join(a.tmp, f"shard-{k}.jsonl") for k in range(1, 5)]

    # -- 1. four shards at once, peak RSS -------------------------------------------------------
    t0 = time.perf_counter()
    procs = []
    for k in range(1, 5):
        procs.append(hp("--shard", f"{k}/4", "--resume", logs[k - 1], "--cache", cache,
                        rss_file=os.path.join(a.tmp, f"rss-{k}"))[0])
    rss = []
    for k, p in enumerate(procs, 1):
        rc, err = finish(p)
        with open(os.path.join(a.tmp, f"rss-{k}")) as f:
            child_rc, kib = map(int, f.read().split())
        if rc != 0 or child_rc != 0:
            failed += 1
            print(f"shard {k}/4 FAILED (exit {child_rc}): {err[-500:]}")
        rss.append(kib)
    shard_wall = time.perf_counter() - t0
    seen = {}
    for log in logs:
        with open(log) as f:
            for line in f:
                env_ = json.loads(line)
                if env_.get("http_status") == 200:
                    seen[env_["file"]] = seen.get(env_["file"], 0) + 1
    exact = len(seen) == a.count and set(seen.values()) == {1}
    if not exact:
        failed += 1
    print(f"1. 4 shards at once: {shard_wall:.1f} s ({a.count / shard_wall:.0f} inputs/s in all), "
          f"peak RSS per shard {', '.join(f'{k / 1024:.1f}' for k in rss)} MiB; "
          f"union of the logs: {len(seen)} inputs, {'each once' if exact else 'NOT each once'}")
    figures["shard_rss_kib"] = rss
    figures["shard_wall_s"] = shard_wall

    # -- 2. resume start-up over one 100,000-line LOG ------------------------------------------
    whole = os.path.join(a.tmp, "whole.jsonl")
    with open(whole, "wb") as g:
        for log in logs:
            with open(log, "rb") as f:
                g.write(f.read())
    with open(whole, "rb") as f:
        lines = sum(1 for _ in f)
    walls, resume_rss = [], []
    for i in range(a.runs):
        t0 = time.perf_counter()
        proc, _ = hp("--resume", whole, rss_file=os.path.join(a.tmp, "rss-resume"))
        rc, err = finish(proc)
        wall = time.perf_counter() - t0
        with open(os.path.join(a.tmp, "rss-resume")) as f:
            child_rc, kib = map(int, f.read().split())
        with open(whole, "rb") as f:
            grown = sum(1 for _ in f) - lines
        ok = child_rc == 0 and grown == 0
        failed += not ok
        print(f"2. resume run {i + 1}: {wall * 1000:.0f} ms over a {lines}-line LOG, "
              f"{grown} lines added, peak RSS {kib / 1024:.1f} MiB{'' if ok else '  FAILED ' + err[-300:]}")
        walls.append(wall)
        resume_rss.append(kib)
    resume = statistics.median(walls)
    figures["runs"]["resume_s"] = walls

    # -- 3. cache hits, and the same list sent to nginx without a cache ----------------------------
    hit_rates, sent_rates = [], []
    for i in range(a.runs):
        for what in ("hits", "nginx"):
            extra = ("--cache", cache) if what == "hits" else ()
            t0 = time.perf_counter()
            proc, _ = hp(*extra)
            rc, err = finish(proc)
            wall = time.perf_counter() - t0
            failed += rc != 0
            rate = a.count / wall
            (hit_rates if what == "hits" else sent_rates).append(rate)
            print(f"3. {what:5} run {i + 1}: {wall:.2f} s, {rate:.0f} inputs/s{'' if rc == 0 else '  FAILED ' + err[-300:]}")
    hits = statistics.median(hit_rates)
    sent = statistics.median(sent_rates)
    figures["runs"]["hits_per_s"] = hit_rates
    figures["runs"]["nginx_per_s"] = sent_rates

    def verdict(ok):
        return "PASS" if ok else "MISS"
    print("\n== summary")
    print(f"peak RSS of a shard over {a.count} inputs: {max(rss) / 1024:.1f} MiB (target <= 32: "
          f"{verdict(max(rss) <= 32 * 1024)}); resume run with nothing to send: {max(resume_rss) / 1024:.1f} MiB; "
          f"4 shards covered the list {'exactly once' if exact else 'NOT exactly once'}")
    print(f"resume start-up over a {lines}-line LOG: {resume * 1000:.0f} ms median of {a.runs} "
          f"(target <= 1000: {verdict(resume <= 1.0)})")
    print(f"cache hits: {hits:.0f} inputs/s median of {a.runs} (target >= 5000: {verdict(hits >= 5000)}); "
          f"sent to nginx without a cache: {sent:.0f} inputs/s; hits/sent = {hits / sent:.2f}")
    print(f"machine: nproc {os.cpu_count()}, {platform.platform()}, {a.nginx_version}, load "
          f"{os.getloadavg()[0]:.2f}, hubpredict {subprocess.run([a.bin, '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")
    figures.update(resume_median_s=resume, hits_median_per_s=hits, nginx_median_per_s=sent, failed=failed)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=1)
    if failed:
        print(f"{failed} run(s) FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
