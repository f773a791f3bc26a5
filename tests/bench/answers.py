#!/usr/bin/env python3
"""Answers of any size (SPEC 11), run by answers.sh: generated segmentation answers served by
nginx from a file, hubpredict to csv, jsonl and table against `curl | jq` to the same csv rows.

    answers.py gen FILE FRAMES POLYGONS POINTS   write an answer (numbers of ~10 bytes)
    answers.py run URL IMG RUNS NAME...          time and measure each NAME (see COMMANDS)

Each command first runs once with its output checked (exit 0; csv rows counted against the
answer), then RUNS times in a shuffled order per round; the figures are the median wall time
and the peak RSS (tests/tools/peakrss, the largest over the runs). Prints one line per command
and, with BENCH_JSON=file, every figure as JSON."""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

JQ_CSV = ('.images | to_entries[] | .key as $f | .value.results | to_entries[] | '
          '[$file, $f, "segment", .key + 1, .value.class, .value.name, .value.confidence, '
          '.value.box.x1, .value.box.y1, .value.box.x2, .value.box.y2, null, null, null, null, '
          '(.value.segments.x | length), null, null] | @csv')


def gen(path, frames, polygons, points):
    """One polygon's bytes repeated: x from 100 to 499.99999, y from 50 (9-10 bytes a number)."""
    xs = ",".join("%.5f" % (100 + (i * 0.37) % 400) for i in range(points))
    ys = ",".join("%.5f" % (50 + (i * 0.53) % 300) for i in range(points))
    result = ('{"class":0,"name":"person","confidence":0.875,"box":{"x1":100,"y1":50,"x2":500,"y2":350},'
              '"segments":{"x":[%s],"y":[%s]}}' % (xs, ys)).encode()
    with open(path, "wb") as f:
        f.write(b'{"images":[')
        for fr in range(frames):
            f.write(b'{"results":[' if fr == 0 else b',{"results":[')
            for k in range(polygons):
                if k:
                    f.write(b",")
                f.write(result)
            f.write(b'],"shape":[1080,1920],"speed":{"preprocess":1.0,"inference":20.0,"postprocess":3.0}}')
        f.write(b'],"metadata":{"model":"yolo11n-seg.pt"}}')


LABELS = tempfile.TemporaryDirectory(prefix="hp-bench-labels.")


def commands(url, img, hp):
    key = os.environ.get("ULTRALYTICS_API_KEY", "")
    jq = f"curl -s -X POST {url} -H 'x-api-key: {key}' -F file=@{img} | jq -r --arg file {img} '{JQ_CSV}'"
    return {
        "hp-csv": [hp, "-q", "-u", url, "-f", "csv", img],
        "hp-jsonl": [hp, "-q", "-u", url, "-f", "jsonl", img],
        "hp-table": [hp, "-q", "-u", url, img],
        # csv and a label file per frame (into a directory that lives as long as the run)
        "hp-csv-txt": [hp, "-q", "-u", url, "-f", "csv", "--save-txt", LABELS.name, img],
        "curl-jq-csv": ["sh", "-c", jq],
    }


def run_once(cmd, peakrss):
    with tempfile.NamedTemporaryFile("r") as res:
        t0 = time.perf_counter()
        subprocess.run([peakrss, res.name] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        rc, kib = res.read().split()
    return int(rc), wall, int(kib)


def main():
    if sys.argv[1] == "gen":
        gen(sys.argv[2], *map(int, sys.argv[3:6]))
        return 0
    url, img, runs, names = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
    hp, peakrss = os.environ["HUBPREDICT_BIN"], os.environ["HUBPREDICT_PEAKRSS"]
    cmds = {n: c for n, c in commands(url, img, hp).items() if n in names}
    for name, cmd in cmds.items():          # once, checked (the output to a file: it may be GBs)
        with tempfile.TemporaryFile() as out:
            p = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE)
            if p.returncode != 0:
                print(f"{name}: exit {p.returncode}: {p.stderr[-300:]!r}")
                return 1
            size, rows = out.tell(), 0
            out.seek(0)
            for block in iter(lambda: out.read(1 << 20), b""):
                rows += block.count(b"\n")
        if name.endswith("csv") or name.endswith("csv-txt"):
            rows -= 1 if name.startswith("hp") else 0
        print(f"  {name}: {rows} lines, {size} bytes")
    figures = {n: {"wall": [], "rss": [], "rc": []} for n in cmds}
    for _ in range(runs):
        order = list(cmds)
        random.shuffle(order)
        for name in order:
            rc, wall, kib = run_once(cmds[name], peakrss)
            figures[name]["wall"].append(wall)
            figures[name]["rss"].append(kib)
            figures[name]["rc"].append(rc)
    base = statistics.median(figures["curl-jq-csv"]["wall"]) if "curl-jq-csv" in figures else None
    for name, f in figures.items():
        med = statistics.median(f["wall"])
        ratio = f"  {med / base:.2f}x curl|jq" if base else ""
        print(f"  {name:12s} wall median {med:6.2f} s (min {min(f['wall']):.2f})  peak RSS "
              f"{max(f['rss']) / 1024:7.1f} MiB  exits {sorted(set(f['rc']))}{ratio}")
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "a") as out:
            json.dump({"url": url, "figures": figures}, out)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
