#!/usr/bin/env python3
"""Draw docs/pictures/*: one annotated sample image per task, and val's PR curve of the demo's
dataset, made by the real binary.

    python3 docs/pictures/make_pictures.py [HUBPREDICT_BIN]   (default build-test/hubpredict)

Runs `hubpredict --annotate` against the in-process stand-in (tests/standin), with answers
scripted from the geometry that examples/images/make_samples.py draws, so the boxes, polygons
and keypoints sit on the people, cars and the cat of the sample images. The pictures are the
binary's own output, copied here unchanged.
"""

from __future__ import annotations

import base64
import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "standin"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from pixels import png_bytes  # noqa: E402
from standin import HUB_KEY, PLATFORM_KEY, StandIn  # noqa: E402

IMAGES = os.path.join(ROOT, "examples", "images")


def person_parts(x, feet, height):
    u = height / 8.0
    head_y = feet - 7.5 * u
    top, hip = head_y + 0.7 * u, feet - 3.8 * u
    return u, head_y, top, hip


def person_box(x, feet, height):
    u, head_y, _, _ = person_parts(x, feet, height)
    return {"x1": x - 1.5 * u, "y1": head_y - 0.6 * u, "x2": x + 1.5 * u, "y2": feet}


def person_polygon(x, feet, height):
    u, head_y, top, hip = person_parts(x, feet, height)
    pts = [(x - 0.45 * u, head_y - 0.5 * u), (x + 0.45 * u, head_y - 0.5 * u), (x + 0.5 * u, head_y + 0.5 * u),
           (x + 0.95 * u, top), (x + 1.45 * u, hip + 0.6 * u), (x + 1.05 * u, hip + 0.6 * u),
           (x + 0.85 * u, feet), (x + 0.1 * u, feet), (x, hip + 0.8 * u), (x - 0.1 * u, feet),
           (x - 0.85 * u, feet), (x - 1.05 * u, hip + 0.6 * u), (x - 1.45 * u, hip + 0.6 * u),
           (x - 0.95 * u, top), (x - 0.5 * u, head_y + 0.5 * u)]
    return {"x": [p[0] for p in pts], "y": [p[1] for p in pts]}


def person_keypoints(x, feet, height):
    """COCO order; "left" is the person's left, on the image's right (they face us)."""
    u, head_y, top, hip = person_parts(x, feet, height)
    knee = (hip + feet) / 2 + 0.3 * u
    pairs = [(0, head_y + 0.15 * u), (0.15, head_y), (0.4, head_y + 0.05 * u), (0.9, top + 0.1 * u),
             (1.1, (top + hip) / 2), (1.27, hip + 0.45 * u), (0.5, hip + 0.3 * u), (0.48, knee),
             (0.5, feet - 0.2 * u)]
    xs, ys = [x], [pairs[0][1]]
    for dx, y in pairs[1:]:
        xs += [x + dx * u, x - dx * u]
        ys += [y, y]
    return {"x": xs, "y": ys, "visible": [0.98, 0.95, 0.95, 0.7, 0.7] + [0.9] * 12}


def side_car_box(x, ground, length):
    h = length * 0.36
    return {"x1": x, "y1": ground - h, "x2": x + length, "y2": ground}


def rotated_corners(cx, cy, w, h, degrees):
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    box = {}
    for i, (u, v) in enumerate(corners, 1):
        box[f"x{i}"] = round(cx + u * c - v * s, 2)
        box[f"y{i}"] = round(cy + u * s + v * c, 2)
    return box


def res(cls, name, conf, **members):
    r = {"class": cls, "name": name, "confidence": conf}
    r.update(members)
    return r


def doc(results, h, w, **extra):
    entry = {"results": results, "shape": [h, w], "speed": {"preprocess": 1.2, "inference": 21.3,
                                                             "postprocess": 0.9}}
    entry.update(extra)
    return {"images": [entry], "metadata": {"model": "sample"}}


STREET_PEOPLE = [(110, 1050, 500, 0.91), (290, 1030, 470, 0.88), (560, 1040, 485, 0.86), (800, 1060, 510, 0.52)]
PARK_PEOPLE = [(180, 420, 250, 0.93), (300, 450, 280, 0.95), (380, 300, 120, 0.81)]


def answers():
    street = [res(0, "person", c, box=person_box(x, f, hh)) for x, f, hh, c in STREET_PEOPLE]
    street.append(res(5, "bus", 0.94, box={"x1": 16, "y1": 304, "x2": 800, "y2": 862}))
    for r in street:
        r["box"]["x2"] = min(r["box"]["x2"], 809)
    park_seg = [res(0, "person", c, box=person_box(x, f, hh), segments=person_polygon(x, f, hh))
                for x, f, hh, c in PARK_PEOPLE]
    car = side_car_box(440, 330, 190)
    park_seg.append(res(2, "car", 0.9, box=car, segments={
        "x": [car["x1"], car["x1"] + 0.32 * 190, car["x1"] + 0.68 * 190, car["x1"] + 0.8 * 190, car["x2"],
              car["x2"], car["x1"]],
        "y": [car["y2"] - 0.6 * 68.4, car["y1"], car["y1"], car["y2"] - 0.55 * 68.4, car["y2"] - 0.6 * 68.4,
              car["y2"], car["y2"]]}))
    park_pose = [res(0, "person", c, box=person_box(x, f, hh), keypoints=person_keypoints(x, f, hh))
                 for x, f, hh, c in PARK_PEOPLE]
    cars = [(x + 35, 145, 90) for x in range(100, 590, 70)][:7]
    cars += [(x + 155, 620, 90 + (x // 70) % 3 * 4 - 4) for x in range(100, 590, 140)]
    cars += [(250, 470, -20), (470, 390, -20), (690, 310, 160), (850, 250, -20)]
    cars += [(880, 560, 35), (820, 620, 35), (150, 330, 62)]
    aerial = [res(9 if i % 5 == 4 else 10, "large vehicle" if i % 5 == 4 else "small vehicle",
                  round(0.95 - (i % 7) * 0.04, 2), box=rotated_corners(cx, cy, 92, 44, a))
              for i, (cx, cy, a) in enumerate(cars)]
    cat = [res(i, n, c) for i, (n, c) in enumerate([("tabby cat", 0.81), ("tiger cat", 0.11), ("Egyptian cat", 0.04),
                                                      ("lynx", 0.02), ("red fox", 0.01), ("dog", 0.004)])]
    # semantic: a class-index mask at quarter size (160 x 120) of people.png
    w, h = 160, 120
    mask = bytearray(w * h)
    for y in range(h):
        for x in range(w):
            Y, X = (y + 0.5) * 4, (x + 0.5) * 4
            c = 0 if Y < 220 else 1                                   # sky, grass
            if Y >= 220 and (250 + (Y - 480) * (250 - 320) / (480 - 220)) < X < \
                    (470 + (Y - 480) * (470 - 350) / (480 - 220)):
                c = 2                                                 # path
            if 440 <= X <= 630 and 262 <= Y <= 330:
                c = 3                                                 # car
            for px, f, hh, _ in PARK_PEOPLE:
                b = person_box(px, f, hh)
                if b["x1"] + 8 <= X <= b["x2"] - 8 and b["y1"] <= Y <= b["y2"]:
                    c = 4                                             # person
            if (X - 78) ** 2 + (Y - 130) ** 2 < 60 ** 2 and Y < 250:
                c = 5                                                 # tree
            mask[y * w + x] = c
    names = ["sky", "grass", "path", "car", "person", "tree"]
    counts = [mask.count(i) for i in range(6)]
    semantic = [{"class": i, "name": n, "pixel_ratio": round(counts[i] / (w * h), 4)} for i, n in enumerate(names)]
    semantic_doc = doc(semantic, 480, 640, semantic_mask={"shape": [h, w], "encoding": "png",
                                                          "data": base64.b64encode(png_bytes(
                                                              w=w, h=h, color_type=0, raw_rows=bytes(mask))).decode()})
    # depth: far at the horizon, near at the bottom; a person, the car or the tree as far as the
    # ground they stand on
    def ground(Y):
        return 255 if Y < 220 else int(235 * (1 - (Y - 220) / 260))
    standing = {4: [(person_box(px, f, hh), f) for px, f, hh, _ in PARK_PEOPLE], 3: [(car, 330)], 5: [(None, 250)]}
    depth = bytearray(w * h)
    for y in range(h):
        for x in range(w):
            Y, X = (y + 0.5) * 4, (x + 0.5) * 4
            c = mask[y * w + x]
            v = ground(Y)
            for b, feet in standing.get(c, []):
                if b is None or b["x1"] <= X <= b["x2"]:
                    v = ground(feet)
            depth[y * w + x] = v
    depth_doc = doc([], 480, 640, depth={"shape": [h, w], "encoding": "png", "min": 1.2, "max": 80.0, "bits": 8,
                                         "data": base64.b64encode(png_bytes(w=w, h=h, color_type=0,
                                                                            raw_rows=bytes(depth))).decode()})
    return [
        ("detect", "street.jpg", doc(street, 1080, 810), False),
        ("segment", "people.png", doc(park_seg, 480, 640), False),
        ("pose", "people.png", doc(park_pose, 480, 640), False),
        ("obb", "aerial.png", doc(aerial, 768, 1024), False),
        ("classify", "cat.png", doc(cat, 750, 600), False),
        ("semantic", "people.png", semantic_doc, True),
        ("depth", "people.png", depth_doc, True),
    ]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-test", "hubpredict")
    with StandIn() as server, tempfile.TemporaryDirectory() as tmp:
        for task, name, body, platform in answers():
            server.push({"body": body})
            url = f"{server.url}/api/models/m/predict" if platform else f"{server.url}/v1/predict/m"
            env = dict(os.environ, ULTRALYTICS_API_KEY=PLATFORM_KEY if platform else HUB_KEY)
            out = os.path.join(tmp, task)
            subprocess.run([binary, "-q", "-u", url, "--annotate", out, os.path.join(IMAGES, name)],
                           check=True, env=env, stdout=subprocess.DEVNULL)
            (picture,) = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs]
            dest = os.path.join(HERE, task + os.path.splitext(picture)[1])
            shutil.copyfile(picture, dest)
            print(os.path.relpath(dest, ROOT))
        # val --plots on the demo's dataset, the stand-in's own detect answers (as examples/demo.sh)
        out = os.path.join(tmp, "val")
        subprocess.run([binary, "val", "-q", "-u", f"{server.url}/v1/predict/detect", "--plots", out,
                        os.path.join(ROOT, "examples", "dataset", "data.yaml")],
                       check=True, env=dict(os.environ, ULTRALYTICS_API_KEY=HUB_KEY), stdout=subprocess.DEVNULL)
        dest = os.path.join(HERE, "val_PR_curve.png")
        shutil.copyfile(os.path.join(out, "PR_curve.png"), dest)
        print(os.path.relpath(dest, ROOT))


if __name__ == "__main__":
    main()
