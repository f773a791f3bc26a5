#!/usr/bin/env python3
"""The measuring half of tests/bench/pictures.sh (see there). Uses the in-process stand-in."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "standin"))
from standin import HUB_KEY, StandIn  # noqa: E402

BIN = os.environ["HUBPREDICT_BIN"]
IMGTOOL = os.environ["HUBPREDICT_IMGTOOL"]
PEAKRSS = os.environ["HUBPREDICT_PEAKRSS"]
ENV = dict(os.environ, ULTRALYTICS_API_KEY=HUB_KEY)
RATE = 2_000_000          # bytes/s: a 16 Mbit/s uplink


def wall(cmd) -> float:
    t = time.monotonic()
    subprocess.run(cmd, check=True, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t


def alternate(runs: int, commands: dict) -> dict:
    """name -> list of wall times; each round runs every command once, in shuffled order."""
    times = {name: [] for name in commands}
    rng = random.Random(12)
    for _ in range(runs):
        order = list(commands)
        rng.shuffle(order)
        for name in order:
            times[name].append(wall(commands[name]))
    return times


def peak_rss(cmd, tmp) -> int:
    out = os.path.join(tmp, "rss")
    subprocess.run([PEAKRSS, out] + cmd, check=True, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        rc, kib = f.read().split()
    assert rc == "0", rc
    return int(kib)


def main():
    runs = int(sys.argv[1])
    figures = {}
    with tempfile.TemporaryDirectory(prefix="hp-bench-pictures-") as tmp:
        photo = os.path.join(tmp, "photo.jpg")
        subprocess.run([IMGTOOL, "photo", "4000", "3000", photo], check=True)
        # (a) the upload, at 2 MB/s
        with StandIn(read_rate=RATE) as s:
            url = f"{s.url}/v1/predict/detect"
            base = [BIN, "-q", "-u", url, "-f", "json", photo]
            times = alternate(runs, {"original": base, "resized": base[:-1] + ["--resize", photo]})
            sizes = {}
            for rec in s.log():
                sizes.setdefault(rec["file"]["size"], 0)
            small, big = min(sizes), max(sizes)
        med = {k: statistics.median(v) for k, v in times.items()}
        figures["a"] = {"original_bytes": big, "resized_bytes": small, "bytes_ratio": big / small,
                        "original_s": med["original"], "resized_s": med["resized"],
                        "time_ratio": med["original"] / med["resized"], "runs": times}
        print(f"(a) 4000x3000 JPEG, {os.path.getsize(photo)} bytes, stand-in reading at {RATE / 1e6:g} MB/s,"
              f" {runs} runs each, medians:")
        print(f"    without --resize  {big:>9} bytes uploaded  {med['original']:7.3f} s")
        print(f"    with --resize     {small:>9} bytes uploaded  {med['resized']:7.3f} s")
        print(f"    {big / small:.1f}x fewer bytes (target >= 10x), {med['original'] / med['resized']:.1f}x less"
              f" time (target >= 5x)")

        # (b) --annotate on a 1920x1080 answer with 50 boxes, 100 ms latency
        hd = os.path.join(tmp, "hd.jpg")
        subprocess.run([IMGTOOL, "photo", "1920", "1080", hd], check=True)
        rng = random.Random(5)
        results = []
        for i in range(50):
            x, y = rng.uniform(0, 1700), rng.uniform(0, 900)
            results.append({"class": i % 20, "name": f"class{i % 20}", "confidence": round(rng.uniform(0.3, 0.99), 3),
                            "box": {"x1": x, "y1": y, "x2": x + rng.uniform(40, 220), "y2": y + rng.uniform(40, 180)}})
        body = {"images": [{"results": results, "shape": [1080, 1920],
                            "speed": {"preprocess": 1, "inference": 20, "postprocess": 1}}], "metadata": {}}
        with StandIn(latency=0.1) as s:
            s.push({"body": body, "repeat": -1})
            url = f"{s.url}/v1/predict/detect"
            base = [BIN, "-q", "-u", url, hd]
            ann = base[:-1] + ["--annotate", os.path.join(tmp, "ann"), hd]
            times = alternate(runs, {"plain": base, "annotate": ann})
            rss_plain, rss_ann = peak_rss(base, tmp), peak_rss(ann, tmp)
        med = {k: statistics.median(v) for k, v in times.items()}
        added = med["annotate"] - med["plain"]
        decoded = 1920 * 1080 * 3
        figures["b"] = {"plain_s": med["plain"], "annotate_s": med["annotate"], "added_s": added,
                        "rss_plain_kib": rss_plain, "rss_annotate_kib": rss_ann, "decoded_bytes": decoded,
                        "runs": times}
        print(f"(b) 1920x1080 JPEG, 50 boxes, 100 ms latency, {runs} runs each, medians:")
        print(f"    plain call {med['plain'] * 1000:7.1f} ms, with --annotate {med['annotate'] * 1000:7.1f} ms:"
              f" +{added * 1000:.1f} ms = {added / 0.1 * 100:.0f} % of 100 ms (target <= 20 %)")
        print(f"    peak RSS {rss_plain / 1024:.1f} MiB plain, {rss_ann / 1024:.1f} MiB with --annotate"
              f" (+{(rss_ann - rss_plain) / 1024:.1f} MiB); the decoded image is {decoded / 1048576:.1f} MiB:"
              f" {rss_ann * 1024 / decoded:.1f}x in all, {(rss_ann - rss_plain) * 1024 / decoded:.1f}x added"
              f" (target <= 3x)")
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
