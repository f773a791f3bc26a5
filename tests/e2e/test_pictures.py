"""--annotate and --resize (SPEC 8, issue 12): pictures decoded from the files the binary
wrote, answers of known geometry scripted on the stand-in."""

from __future__ import annotations

import json
import os
import time

from harness import E2E, PLATFORM_KEY, image, sha256_of
from pixels import (PALETTE, Picture, blend, jpeg_file, near, png_bomb, png_bytes, read_picture, read_png,
                    turbo, webp_file)

GREY = (128, 128, 128)
WHITE = (255, 255, 255)
DARK_TEXT = (0x11, 0x1F, 0x68)


def doc(results, h, w, **extra):
    entry = {"results": results, "shape": [h, w], "speed": {"preprocess": 1.0, "inference": 2.0,
                                                             "postprocess": 0.5}}
    entry.update(extra)
    return {"images": [entry], "metadata": {"model": "m"}}


def det(cls, conf, x1, y1, x2, y2, name=None, **extra):
    r = {"class": cls, "name": name or f"c{cls}", "confidence": conf,
         "box": {"x1": x1, "y1": y1, "x2": x2, "y2": y2}}
    r.update(extra)
    return r


class Pictures(E2E):
    def png_input(self, name="in.png", w=400, h=300, fill=GREY) -> str:
        return self.write(name, png_bytes(Picture(w, h, fill)))

    def annotate(self, src, body, *extra, url=None, key=None):
        """Run --annotate with a scripted answer; return (result, the picture written or None)."""
        self.server.push({"body": body})
        self.runs = getattr(self, "runs", 0) + 1
        out = self.path(f"ann{self.runs}")
        kw = {"key": key} if key else {}
        r = self.run_hp("-u", url or self.hub_url(), "--annotate", out, *extra, src, **kw)
        files = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs]
        self.assertLessEqual(len(files), 1, files)
        return r, (files[0] if files else None)

    def drawn(self, src, body, *extra, **kw) -> Picture:
        r, f = self.annotate(src, body, *extra, **kw)
        self.assertExit(r, 0)
        self.assertIsNotNone(f, f"no picture written: {r}")
        return read_picture(f)


class TestDetect(Pictures):
    def test_box_edges_label_tab_and_untouched_pixels(self):
        pic = self.drawn(self.png_input(), doc([det(0, 0.92, 100, 80, 300, 200, name="person")], 300, 400))
        self.assertEqual((pic.w, pic.h), (400, 300))
        blue = PALETTE[0]
        # line width max(round((300 + 400) / 2 * 0.003), 2) = 2, centred on the edge
        for xy in [(99, 140), (100, 140), (299, 140), (300, 140), (200, 199), (200, 200)]:
            self.assertEqual(pic[xy], blue, xy)
        for xy in [(97, 140), (102, 140), (200, 150), (20, 280), (399, 0), (200, 203)]:
            self.assertEqual(pic[xy], GREY, xy)
        # the label tab sits above the top-left corner: class colour with white text
        top = 79
        while pic[101, top - 1] != GREY:
            top -= 1
        self.assertTrue(10 <= 80 - top <= 22, f"tab height {80 - top}")
        tab = [pic[x, y] for x in range(100, 170) for y in range(top, 80)]
        self.assertGreater(sum(p == blue for p in tab), len(tab) // 3)
        self.assertGreater(sum(near(p, WHITE, 60) for p in tab), 10, "no white text in the tab")
        self.assertEqual(pic[99, top - 2], GREY)

    def test_tab_goes_inside_at_the_top_and_left_at_the_right_edge(self):
        light = 2  # F3F3F3 takes dark text
        pic = self.drawn(self.png_input(), doc([det(light, 0.8, 50, 3, 150, 100),
                                                det(7, 0.7, 385, 150, 399, 250)], 300, 400))
        # no room above y=3: the tab starts at the box's top, inside
        tab = [pic[x, y] for x in range(52, 100) for y in range(6, 14)]
        self.assertGreater(sum(p == PALETTE[light] for p in tab), len(tab) // 3)
        self.assertGreater(sum(near(p, DARK_TEXT, 60) for p in tab), 5, "no dark text on a light colour")
        # at the right edge the tab is moved left so that it ends at the image's edge
        row = [pic[x, 145] for x in range(330, 385)]
        self.assertGreater(sum(p == PALETTE[7] for p in row), 10, "tab not shifted left")

    def test_highest_confidence_drawn_last(self):
        for order in (1, -1):
            results = [det(0, 0.9, 100, 100, 200, 200), det(6, 0.4, 100, 100, 200, 200)][::order]
            pic = self.drawn(self.png_input(), doc(results, 300, 400))
            self.assertEqual(pic[150, 200], PALETTE[0], f"order {order}")
            self.assertEqual(pic[200, 150], PALETTE[0], f"order {order}")

    def test_min_conf_and_classes_apply(self):
        body = doc([det(0, 0.3, 100, 100, 200, 200), det(5, 0.9, 250, 50, 350, 150)], 300, 400)
        pic = self.drawn(self.png_input(), body, "--min-conf", "0.5")
        self.assertEqual(pic[100, 150], GREY)
        self.assertEqual(pic[250, 100], PALETTE[5])
        pic = self.drawn(self.png_input(), body, "--classes", "0")
        self.assertEqual(pic[100, 150], PALETTE[0])
        self.assertEqual(pic[250, 100], GREY)

    def test_jpeg_in_jpeg_out(self):
        src = jpeg_file(Picture(1600, 1200, GREY), self.path("big.jpg"))
        r, f = self.annotate(src, doc([det(0, 0.9, 400, 300, 1200, 900)], 1200, 1600))
        self.assertExit(r, 0)
        self.assertTrue(f.endswith(".jpg"), f)
        with open(f, "rb") as fh:
            self.assertEqual(fh.read(3), b"\xff\xd8\xff")
        pic = read_picture(f)
        # lw = round(1400 * 0.003) = 4: the line's middle, within JPEG's error
        self.assertTrue(near(pic[400, 600], PALETTE[0], 45), pic[400, 600])
        self.assertTrue(near(pic[800, 600], GREY, 6), pic[800, 600])

    def test_decoded_while_the_server_works(self):
        # with latency the picture is decoded once its upload is out: the same drawing
        self.server.set_latency(0.4)
        srcs = [self.png_input(f"p{i}.png") for i in range(3)]
        for _ in srcs:
            self.server.push({"body": doc([det(0, 0.92, 100, 80, 300, 200)], 300, 400)})
        out = self.path("ahead")
        r = self.run_hp("-u", self.hub_url(), "-v", "-j", "3", "--annotate", out, *srcs)
        self.assertExit(r, 0)
        self.assertIn("picture decoded while the server works", r.err)
        pics = sorted(os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs)
        self.assertEqual(len(pics), 3)
        for f in pics:
            pic = read_png(f)
            self.assertEqual(pic[99, 140], PALETTE[0])
            self.assertEqual(pic[200, 150], GREY)

    def test_webp_bmp_gif_and_stdin_give_png(self):
        import struct
        w, h = 40, 30
        stride = (w * 3 + 3) // 4 * 4
        rows = b"".join(bytes([30, 20, 10] * w) + b"\0" * (stride - w * 3) for _ in range(h))   # BGR
        bmp = b"BM" + struct.pack("<IHHI", 54 + len(rows), 0, 0, 54) + \
            struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(rows), 0, 0, 0, 0) + rows
        inputs = [(webp_file(Picture(w, h, (10, 200, 30)), self.path("x.webp")), (10, 200, 30), 0),
                  (self.write("x.bmp", bmp), (10, 20, 30), 0),
                  (image("tiny.gif"), None, 0)]
        for src, colour, tol in inputs:
            pic = self.drawn(src, doc([], h, w))
            if colour:
                self.assertEqual((pic.w, pic.h), (w, h))
                self.assertEqual(pic[5, 5], colour, src)
            else:
                self.assertEqual((pic.w, pic.h), (32, 32))
        # standard input: DIR/stdin.png
        data = png_bytes(Picture(w, h, (1, 2, 3)))
        self.server.push({"body": doc([det(0, 0.9, 5, 5, 30, 25)], h, w)})
        r = self.run_hp("-u", self.hub_url(), "--annotate", self.path("in"), "-", stdin=data)
        self.assertExit(r, 0)
        pic = read_png(self.path("in/stdin.png"))
        self.assertEqual(pic[15, 25], PALETTE[0])   # the bottom edge
        self.assertEqual(pic[35, 28], (1, 2, 3))

    def test_label_path_follows_the_label_rule(self):
        src = self.png_input("sub/x.png")
        self.server.push({"body": doc([], 300, 400)})
        self.server.push({"body": doc([], 300, 400)})
        r = self.run_hp("-u", self.hub_url(), "--annotate", self.path("ann"), "--save-txt", self.path("lab"), src)
        self.assertExit(r, 0)
        labels = [os.path.relpath(os.path.join(d, f), self.path("lab")) for d, _, fs in os.walk(self.path("lab"))
                  for f in fs]
        pics = [os.path.relpath(os.path.join(d, f), self.path("ann")) for d, _, fs in os.walk(self.path("ann"))
                for f in fs]
        self.assertEqual(len(labels), 1)
        self.assertEqual(pics, [labels[0][:-len(".txt")] + ".png"])


class TestOtherTasks(Pictures):
    def test_segment_fill_at_half_alpha_under_the_box(self):
        poly = {"x": [50, 150, 150, 50], "y": [50, 50, 120, 120]}
        pic = self.drawn(self.png_input(), doc([det(3, 0.9, 50, 50, 150, 120, segments=poly)], 300, 400))
        want = blend(GREY, PALETTE[3], 0.5)
        for xy in [(100, 90), (60, 110), (140, 60)]:
            self.assertTrue(near(pic[xy], want, 1), (xy, pic[xy], want))
        self.assertEqual(pic[160, 130], GREY)
        self.assertEqual(pic[50, 90], PALETTE[3])   # the box's edge on top of the fill

    def test_obb_polygon(self):
        box = {"x1": 100, "y1": 100, "x2": 200, "y2": 100, "x3": 200, "y3": 200, "x4": 100, "y4": 200}
        pic = self.drawn(self.png_input(), doc([{"class": 4, "name": "ship", "confidence": 0.9, "box": box}],
                                               300, 400))
        self.assertEqual(pic[150, 200], PALETTE[4])
        self.assertEqual(pic[200, 150], PALETTE[4])
        self.assertEqual(pic[150, 150], GREY)

    def pose_body(self):
        xs = [20.5 + 20 * i for i in range(17)]
        ys = [30.5] * 17
        vis = [0.9] * 17
        xs[5], ys[5] = 100.5, 200.5      # left shoulder
        xs[7], ys[7] = 200.5, 200.5      # left elbow
        xs[16], ys[16], vis[16] = 380.5, 250.5, 0.1   # right ankle, below 0.25
        kp = {"x": xs, "y": ys, "visible": vis}
        return doc([det(0, 0.9, 10, 10, 390, 290, keypoints=kp)], 300, 400)

    def test_pose_points_and_skeleton(self):
        pic = self.drawn(self.png_input(), self.pose_body())
        arm = (0, 128, 255)     # Ultralytics' pose palette[0] (BGR 255,128,0)
        face = (0, 255, 0)      # palette[16]
        self.assertEqual(pic[150, 200], arm)            # the limb shoulder-elbow
        self.assertEqual(pic[100, 204], arm)            # the shoulder's point, radius 5
        self.assertEqual(pic[20, 34], face)             # the nose's point
        self.assertEqual(pic[380, 250], GREY)           # confidence 0.1: not drawn
        self.assertEqual(pic[150, 180], GREY)

    def test_classify_top5_on_a_translucent_box(self):
        results = [{"class": i, "name": f"class{i}", "confidence": round(0.9 - i * 0.1, 2)} for i in range(7)]
        heights = []
        for n in (2, 5, 7):
            pic = self.drawn(self.png_input(), doc(results[:n], 300, 400))
            x = round(300 * 0.03)
            self.assertEqual(pic[x - 2, x - 2], GREY)
            self.assertTrue(near(pic[x, x + 1], blend(GREY, (64, 64, 64), 128 / 255), 1), pic[x, x + 1])
            y = x
            while y < 300 and pic[x, y] != GREY:
                y += 1
            heights.append(y - x)
            text = [pic[xx, yy] for xx in range(x, x + 60) for yy in range(x, y)]
            self.assertGreater(sum(near(p, WHITE, 60) for p in text), 20)
        self.assertEqual(heights[1], heights[2], "more than 5 lines drawn")
        self.assertAlmostEqual(heights[1] / heights[0], 2.5, delta=0.1)

    def test_semantic_mask_in_class_colours(self):
        mask = bytes(([0] * 20 + [1] * 20) * 30)          # 40x30, left class 0, right class 1
        data = __import__("base64").b64encode(png_bytes(w=40, h=30, color_type=0, raw_rows=mask)).decode()
        results = [{"class": 0, "name": "road", "pixel_ratio": 0.5}, {"class": 1, "name": "sky", "pixel_ratio": 0.5}]
        body = doc(results, 60, 80, semantic_mask={"shape": [30, 40], "encoding": "png", "data": data})
        src = self.png_input(w=80, h=60)
        pic = self.drawn(src, body)
        self.assertTrue(near(pic[10, 30], blend(GREY, PALETTE[0], 0.5), 1))
        self.assertTrue(near(pic[70, 30], blend(GREY, PALETTE[1], 0.5), 1))
        pic = self.drawn(src, body, "--classes", "1")
        self.assertEqual(pic[10, 30], GREY)
        self.assertTrue(near(pic[70, 30], blend(GREY, PALETTE[1], 0.5), 1))

    def test_depth_as_turbo(self):
        depth = png_bytes(w=4, h=1, color_type=0, raw_rows=bytes([10, 60, 110, 210]))
        data = __import__("base64").b64encode(depth).decode()
        body = doc([], 20, 80, depth={"shape": [1, 4], "encoding": "png", "data": data, "min": 0.5, "max": 9.0,
                                      "bits": 8})
        pic = self.drawn(self.png_input(w=80, h=20), body, url=self.platform_url(), key=PLATFORM_KEY)
        self.assertTrue(near(pic[5, 10], turbo(0.0), 1), pic[5, 10])
        self.assertTrue(near(pic[25, 10], turbo(0.25), 1), pic[25, 10])
        self.assertTrue(near(pic[75, 10], turbo(1.0), 1), pic[75, 10])

    def test_utf8_names_are_drawn(self):
        def tab(name):
            return self.drawn(self.png_input(), doc([det(0, 0.9, 100, 80, 300, 200, name=name)], 300, 400))

        # Greek and Cyrillic capitals that DejaVu Sans draws as their Latin look-alikes: the same
        # picture only when each is decoded to its code point and its glyph drawn (a glyph left
        # out, a missing-glyph box or the UTF-8 bytes taken one by one all change it)
        for utf8, latin in (("ΑΒΕ", "ABE"), ("СОРТ", "COPT")):
            with self.subTest(name=utf8):
                self.assertTrue(tab(utf8).data == tab(latin).data, f"{utf8!r} is not drawn as {latin!r}")
        # ñ and ú take the advance of n and u: the pictures differ only where the tilde and the
        # accent are inked, above the first and the last letter of the name
        plain, marked = tab("nandu"), tab("ñandú")
        diff = [(x, y) for y in range(60, 80) for x in range(100, 300) if plain[x, y] != marked[x, y]]
        self.assertTrue(diff, "the diacritics were not drawn")
        xs = sorted(x for x, _ in diff)
        self.assertLess(xs[0], 110, diff[:20])                      # over the ñ
        self.assertGreater(xs[-1], 125, diff[:20])                  # over the ú
        self.assertLess(xs[-1], 140, diff[-20:])                     # not in " 0.90"
        self.assertTrue(all(sum(marked[xy]) > sum(plain[xy]) for xy in diff), "white ink added, none taken")
        # what DejaVu lacks (CJK) is its missing-glyph box: one box per character, all alike, as
        # wide as the characters are many
        one, two, other = tab("電"), tab("電車"), tab("車電")
        self.assertTrue(two.data == other.data, "two missing glyphs are not drawn alike")
        self.assertTrue(one.data != two.data, "a missing glyph takes no room")


ORIENT_INVERSE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def orient(pic: Picture, n: int) -> Picture:
    """What a viewer shows for stored pixels pic with EXIF orientation n (independent of the C code)."""
    rows = [[pic[x, y] for x in range(pic.w)] for y in range(pic.h)]
    mirror = lambda r: [row[::-1] for row in r]               # noqa: E731
    rot_cw = lambda r: [list(c) for c in zip(*r[::-1])]        # noqa: E731
    rot_ccw = lambda r: [list(c) for c in zip(*r)][::-1]      # noqa: E731
    out = {1: lambda r: r, 2: mirror, 3: lambda r: rot_cw(rot_cw(r)), 4: lambda r: r[::-1],
           5: lambda r: rot_ccw(mirror(r)), 6: rot_cw, 7: lambda r: rot_cw(mirror(r)), 8: rot_ccw}[n](rows)
    res = Picture(len(out[0]), len(out))
    res.data = bytearray(b"".join(bytes(v for p in row for v in p) for row in out))
    return res


def quadrants(w=64, h=48) -> Picture:
    return (Picture(w, h).fill(0, 0, w // 2, h // 2, (255, 0, 0)).fill(w // 2, 0, w, h // 2, (0, 255, 0))
            .fill(0, h // 2, w // 2, h, (0, 0, 255)).fill(w // 2, h // 2, w, h, (255, 255, 255)))


class TestExifOrientation(Pictures):
    def test_orientations_1_to_8(self):
        shown = quadrants()
        centres = [(16, 12), (48, 12), (16, 36), (48, 36)]
        for n in range(1, 9):
            stored = orient(shown, ORIENT_INVERSE[n])
            self.assertEqual([orient(stored, n)[c] for c in centres], [shown[c] for c in centres])
            src = jpeg_file(stored, self.path(f"o{n}.jpg"), orientation=n)
            pic = self.drawn(src, doc([], 48, 64))
            self.assertEqual((pic.w, pic.h), (64, 48), f"orientation {n}")
            for c in centres:
                self.assertTrue(near(pic[c], shown[c], 40), (n, c, pic[c], shown[c]))


class TestResize(Pictures):
    def big_png(self, w=1000, h=750) -> str:
        return self.write("big.png", png_bytes(Picture(w, h, GREY)))

    def test_coordinates_map_back_in_every_output(self):
        src = self.big_png()
        k = 1000 / 640
        kp = {"x": [100.0, 320.5], "y": [50.0, 240.25], "visible": [0.9, 0.8]}
        seg = {"x": [10.0, 630.0, 630.0], "y": [5.0, 5.0, 475.0]}
        body = doc([det(0, 0.9, 100, 50, 300, 200, name="person", keypoints=kp)], 480, 640)
        self.server.push({"body": body})
        r = self.run_hp("-u", self.hub_url(), "--resize", "-f", "json", src)
        self.assertExit(r, 0)
        env = r.json()[0]
        self.assertEqual(env["resized"], {"from": [750, 1000], "to": [480, 640]})
        im = env["response"]["images"][0]
        self.assertEqual(im["shape"], [750, 1000])
        box = im["results"][0]["box"]
        for name, v in {"x1": 100, "y1": 50, "x2": 300, "y2": 200}.items():
            self.assertAlmostEqual(box[name], v * k, delta=0.5)
        got = im["results"][0]["keypoints"]
        for a, b in zip(got["x"] + got["y"], kp["x"] + kp["y"]):
            self.assertAlmostEqual(a, b * k, delta=0.5)
        self.assertEqual(got["visible"], kp["visible"])
        self.assertEqual(self.server.log()[0]["file"]["filename"], "big.png")
        self.assertLess(self.server.log()[0]["file"]["size"], os.path.getsize(src))
        # segments and obb corners
        for member, res in (("segments", det(1, 0.8, 10, 5, 630, 475, segments=seg)),
                            ("obb", {"class": 2, "name": "o", "confidence": 0.7,
                                     "box": {"x1": 10, "y1": 20, "x2": 30, "y2": 20, "x3": 30, "y3": 40,
                                             "x4": 10, "y4": 40}})):
            self.server.push({"body": doc([res], 480, 640)})
            r = self.run_hp("-u", self.hub_url(), "--resize", "-f", "json", src)
            got = r.json()[0]["response"]["images"][0]["results"][0]
            if member == "segments":
                for a, b in zip(got["segments"]["x"] + got["segments"]["y"], seg["x"] + seg["y"]):
                    self.assertAlmostEqual(a, b * k, delta=0.5)
            else:
                for name, v in res["box"].items():
                    self.assertAlmostEqual(got["box"][name], v * k, delta=0.5)
        # table and csv in original pixels; label files normalised by the original
        self.server.push({"body": body})
        r = self.run_hp("-u", self.hub_url(), "--resize", "-f", "csv", "--save-txt", self.path("lab"), src)
        row = r.csv()[1]
        self.assertAlmostEqual(float(row[7]), 100 * k, delta=0.5)
        self.assertAlmostEqual(float(row[10]), 200 * k, delta=0.5)
        with open(self.path("lab/" + os.path.basename(src)[:-4] + ".txt")) as f:
            nums = [float(v) for v in f.read().split()]
        self.assertAlmostEqual(nums[1], 200 / 640, places=4)
        self.assertAlmostEqual(nums[2], 125 / 480, places=4)
        self.server.push({"body": body})
        r = self.run_hp("-u", self.hub_url(), "--resize", src)
        self.assertIn("750x1000", r.out.replace("1000x750", "750x1000"))
        self.assertIn(f"{100 * k:.1f}", r.out)

    def test_raw_stays_the_servers_bytes(self):
        src = self.big_png()
        body = json.dumps(doc([det(0, 0.9, 100, 50, 300, 200)], 480, 640))
        self.server.push({"body": body})
        r = self.run_hp("-u", self.hub_url(), "--resize", "-f", "raw", src)
        self.assertExit(r, 0)
        self.assertEqual(r.out, body)
        # unscripted, the stand-in measures what arrived
        r = self.run_hp("-u", self.hub_url(), "--resize", "-f", "raw", src)
        self.assertEqual(json.loads(r.out)["images"][0]["shape"], [480, 640])

    def test_jpeg_with_exif_is_oriented_then_resized(self):
        stored = quadrants(80, 64)
        src = jpeg_file(stored, self.path("rot.jpg"), orientation=6)    # shown as 64 x 80
        r = self.run_hp("-u", self.hub_url(), "--resize", "-s", "40", "-f", "json", src)
        self.assertExit(r, 0)
        env = r.json()[0]
        self.assertEqual(env["resized"], {"from": [80, 64], "to": [40, 32]})
        self.assertEqual(self.server.log()[0]["file"]["content_type"], "image/jpeg")

    def test_retries_resend_the_resized_bytes(self):
        src = self.big_png()
        self.server.push({"status": 503})
        r = self.run_hp("-u", self.hub_url(), "--resize", "--retries", "1", src)
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual(len(log), 2)
        self.assertEqual(log[0]["file"]["sha256"], log[1]["file"]["sha256"])
        self.assertNotEqual(log[0]["file"]["sha256"], sha256_of(src))

    def test_small_images_and_videos_are_sent_as_they_are(self):
        for src in (self.png_input(w=400, h=300), image("clip.mp4")):
            self.server.reset()
            r = self.run_hp("-u", self.hub_url(), "--resize", "-f", "json", src)
            self.assertExit(r, 0)
            self.assertNotIn("resized", r.json()[0])
            self.assertEqual(self.server.log()[0]["file"]["sha256"], sha256_of(src))

    def test_normalized_answers_are_not_mapped(self):
        src = self.big_png()
        body = doc([det(0, 0.9, 0.1, 0.2, 0.3, 0.4)], 480, 640)
        self.server.push({"body": body})
        r = self.run_hp("-u", self.platform_url(), "--resize", "--normalize", "-f", "json", src, key=PLATFORM_KEY)
        self.assertExit(r, 0)
        im = r.json()[0]["response"]["images"][0]
        self.assertEqual(im["results"][0]["box"], {"x1": 0.1, "y1": 0.2, "x2": 0.3, "y2": 0.4})
        self.assertEqual(im["shape"], [750, 1000])

    def test_dry_run_says_what_would_be_resized(self):
        big, small = self.big_png(), self.png_input()
        r = self.run_hp("-m", "abc", "--resize", "--dry-run", big, small, key=None)
        self.assertExit(r, 0)
        self.assertIn(f"# --resize: '{big}' 1000x750 would be sent as 640x480", r.out)
        self.assertIn(f"# --resize: '{small}' 400x300 is not larger than --imgsz 640: sent as it is", r.out)
        self.assertEqual(self.server.log(), [])

    def test_dry_run_says_what_the_run_does_with_a_broken_picture(self):
        # the header promises a large picture the rest of the file does not hold: the run sends the
        # file as it is, and the dry run must say so rather than "would be sent as 640x480"
        jpeg = open(jpeg_file(Picture(1000, 750, GREY), self.path("whole.jpg")), "rb").read()
        png = png_bytes(Picture(1000, 750, GREY))
        for name, data in (("cut.jpg", jpeg[:len(jpeg) // 3]), ("short.png", png[:len(png) // 3])):
            with self.subTest(name=name):
                src = self.write(name, data)
                self.server.reset()
                self.server.push({"body": doc([], 750, 1000)})
                r = self.run_hp("-u", self.hub_url(), "--resize", src)
                self.assertExit(r, 0)
                self.assertEqual(self.server.log()[0]["file"]["sha256"], sha256_of(src))   # unchanged
                self.assertIn("sent as it is", r.err)
                d = self.run_hp("-u", self.hub_url(), "--resize", "--dry-run", src)
                self.assertExit(d, 0)
                comment = d.out.splitlines()[0]
                self.assertTrue(comment.startswith(f"# --resize: '{src}': "), d)
                self.assertTrue(comment.endswith("; sent as it is"), d)
                self.assertNotIn("would be sent as", d.out)

    def test_annotate_after_resize_draws_in_original_pixels(self):
        src = self.big_png(800, 600)
        pic = self.drawn(src, doc([det(0, 0.9, 100, 100, 300, 200)], 480, 640), "--resize")
        self.assertEqual((pic.w, pic.h), (800, 600))
        self.assertEqual(pic[125, 200], PALETTE[0])      # x1 = 100 * 800 / 640
        self.assertEqual(pic[375, 200], PALETTE[0])
        self.assertEqual(pic[250, 200], GREY)


class TestBadInput(Pictures):
    def warnings(self, r):
        return [ln for ln in r.err.splitlines() if ln.startswith("hubpredict: warning:")]

    def test_not_an_image_one_warning_sent_as_it_is(self):
        src = self.write("bad.jpg", b"this is not a picture at all" * 10)
        r, f = self.annotate(src, doc([det(0, 0.9, 1, 1, 5, 5)], 300, 400), "--resize")
        self.assertExit(r, 0)
        self.assertIsNone(f)
        self.assertEqual(len(self.warnings(r)), 1, r)
        self.assertIn("bad.jpg", self.warnings(r)[0])
        self.assertEqual(self.server.log()[0]["file"]["sha256"], sha256_of(src))

    def test_truncated_jpeg(self):
        full = jpeg_file(quadrants(), self.path("full.jpg"))
        with open(full, "rb") as f:
            data = f.read()
        src = self.write("cut.jpg", data[:len(data) // 2])
        r, f = self.annotate(src, doc([], 48, 64))
        self.assertExit(r, 0)
        self.assertIsNone(f)
        self.assertEqual(len(self.warnings(r)), 1, r)

    def test_png_bomb_is_refused_before_allocating(self):
        src = self.write("bomb.png", png_bomb(20000, 20000))
        t = time.monotonic()
        r, f = self.annotate(src, doc([], 20000, 20000), "--resize")
        self.assertLess(time.monotonic() - t, 20)
        self.assertExit(r, 0)
        self.assertIsNone(f)
        self.assertIn("100 megapixel", r.err)
        self.assertEqual(len(self.warnings(r)), 1, r)

    def test_cmyk_jpeg(self):
        src = jpeg_file(quadrants(), self.path("cmyk.jpg"), cmyk=True)
        pic = self.drawn(src, doc([], 48, 64))
        self.assertTrue(near(pic[16, 12], (255, 0, 0), 40), pic[16, 12])
        self.assertTrue(near(pic[48, 36], (255, 255, 255), 40), pic[48, 36])

    def test_16_bit_palette_and_grey_png(self):
        w, h = 8, 4
        rgb16 = bytes([0x12, 0x34, 0x80, 0x00, 0xFE, 0xFF] * (w * h))        # (0x12, 0x80, 0xFE)
        palette = bytes([10, 20, 30, 200, 100, 50])
        cases = [
            (png_bytes(w=w, h=h, color_type=2, depth=16, raw_rows=rgb16), (0x12, 0x80, 0xFE)),
            (png_bytes(w=w, h=h, color_type=3, raw_rows=bytes([1] * (w * h)), palette=palette), (200, 100, 50)),
            (png_bytes(w=w, h=h, color_type=0, raw_rows=bytes([77] * (w * h))), (77, 77, 77)),
        ]
        for data, want in cases:
            src = self.write("p.png", data)
            pic = self.drawn(src, doc([], h, w))
            self.assertEqual(pic[3, 2], want)

    def test_video_is_not_drawn_one_warning(self):
        r, f = self.annotate(image("clip.mp4"), doc([], 48, 64))
        self.assertExit(r, 0)
        self.assertIsNone(f)
        self.assertEqual(len(self.warnings(r)), 1, r)
        self.assertIn("videos are not drawn", r.err)


    def test_hostile_geometry(self):
        # answers far outside the picture, huge, inverted or degenerate: drawn (clipped) quickly
        w, h = 1000, 750
        far = {"x1": -1e300, "y1": -1e300, "x2": 1e300, "y2": 1e300, "x3": 5e9, "y3": -5e9, "x4": 0, "y4": 0}
        results = [{"class": 7 + i, "name": "\u0000\u202e\x1b[31m" * 20, "confidence": 0.5, "box": far}
                   for i in range(300)]
        results.append({"class": 1, "name": "tiny", "confidence": 0.9,
                        "box": {"x1": 3, "y1": 3, "x2": 3, "y2": 3, "x3": 3, "y3": 3, "x4": 3, "y4": 3}})
        t = time.monotonic()
        pic = self.drawn(self.png_input(w=w, h=h), doc(results, h, w))
        self.assertLess(time.monotonic() - t, 30)
        self.assertEqual((pic.w, pic.h), (w, h))


class TestUsage(Pictures):
    def test_annotate_needs_a_parsed_format(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "raw", "--annotate", self.path("a"), self.png_input())
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--annotate")
        self.assertEqual(self.server.log(), [])

    def test_unwritable_directory_is_exit_11_before_sending(self):
        blocker = self.write("file", b"x")
        r = self.run_hp("-u", self.hub_url(), "--annotate", os.path.join(blocker, "sub"), self.png_input())
        self.assertExit(r, 11)
        self.assertOneLineError(r, "--annotate")
        self.assertEqual(self.server.log(), [])

    def test_failed_inputs_draw_nothing(self):
        self.server.push({"status": 500})
        r = self.run_hp("-u", self.hub_url(), "--retries", "0", "--annotate", self.path("ann"), self.png_input())
        self.assertExit(r, 8)
        self.assertEqual([f for _, _, fs in os.walk(self.path("ann")) for f in fs], [])

    def test_quiet_silences_the_picture_warnings(self):
        src = self.write("bad.png", b"not a picture" * 20)
        self.server.push({"body": doc([], 300, 400)})
        r = self.run_hp("-u", self.hub_url(), "-q", "--resize", "--annotate", self.path("ann"), src)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")

    def test_picture_path_that_is_a_directory_is_refused_before_sending(self):
        out = self.path("ann")
        src = self.png_input("x.png")
        os.makedirs(os.path.join(out, "x.png"))      # a directory where the picture goes
        r = self.run_hp("-u", self.hub_url(), "--annotate", out, src)
        self.assertExit(r, 2)
        self.assertIn("--annotate: the file for", r.err)
        self.assertEqual(self.server.log(), [])

    def test_picture_write_failure_is_exit_11(self):
        # the picture's folder cannot be made: a file stands where it goes
        out = self.path("ann")
        self.png_input("photos/a/x.png")
        os.makedirs(out)
        with open(os.path.join(out, "a"), "w") as f:
            f.write("in the way")
        self.server.push({"body": doc([], 300, 400)})
        r = self.run_hp("-u", self.hub_url(), "-r", "--annotate", out, self.path("photos"))
        self.assertExit(r, 11)
        self.assertIn("cannot write picture", r.err)


class TestAnnotateDirApart(Pictures):
    """Issue 19.3: --annotate DIR may not be the folder of an input, nor hold one, nor be, hold or lie
    inside a directory INPUT (exit 2, nothing sent, nothing written): a picture lands at DIR/STEM.jpg
    or .png, which among the originals is another photo. A folder of its own beside the inputs
    (`--annotate out bus.jpg`, as Ultralytics' runs/detect/predict) is the common case and stays."""

    def setUp(self):
        super().setUp()
        self.photos = self.path("photos")
        self.src = self.png_input("photos/b.jpeg")            # a PNG under a JPEG name: picture b.png
        self.other = self.write("photos/b.png", b"an original, not an input")
        self.before = sha256_of(self.other)

    def refused(self, *args, what, cwd=None, stdin=None):
        r = self.run_hp("-u", self.hub_url(), *args, cwd=cwd or self.tmp.name, stdin=stdin)
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--annotate", what, "pictures would land among the originals")
        self.assertEqual(self.server.log(), [])
        self.assertEqual(sha256_of(self.other), self.before)
        return r

    def test_the_folder_of_an_input_is_refused(self):
        self.refused("--annotate", "photos", "photos/b.jpeg", what="is the folder of input 'photos/b.jpeg'")
        self.refused("--annotate", self.photos + "/", self.src, what="is the folder of input")
        # the same folder by another name: compared by device and inode
        os.symlink("photos", self.path("link"))
        self.refused("--annotate", "link", "photos/b.jpeg", what="'link' is the folder of input")
        self.refused("--annotate", "photos/sub/..", "photos/b.jpeg", what="is the folder of input")
        # x.webp's picture would be x.png, another original
        webp_file(Picture(8, 8), self.path("photos/x.webp"))
        self.refused("--annotate", "photos", "photos/x.webp", what="is the folder of input")

    def test_a_folder_holding_an_input_is_refused(self):
        self.refused("--annotate", ".", "photos/b.jpeg", what="'.' holds input 'photos/b.jpeg'")
        self.refused("--annotate", self.tmp.name, self.src, what="holds input")

    def test_a_directory_input_is_refused_as_dir_inside_it_and_around_it(self):
        self.refused("--annotate", "photos", "photos", what="is directory input 'photos'")
        self.refused("-r", "--annotate", "photos/ann", "photos", what="lies inside directory input 'photos'")
        self.assertFalse(os.path.exists(self.path("photos/ann")), "DIR made before it was refused")
        self.refused("--annotate", "photos/new/sub/..", "photos", what="lies inside directory input")
        self.refused("--annotate", ".", "photos", what="holds directory input 'photos'")

    def test_inputs_from_a_list_are_compared_too(self):
        lst = self.write("list.txt", b"photos/b.jpeg\n")
        self.refused("--annotate", "photos", "--files-from", lst, what="is the folder of input 'photos/b.jpeg'")
        # a list on a pipe is checked as each entry is read, before it is sent
        self.refused("--annotate", "photos", "--files-from", "-", stdin=b"photos/b.jpeg\n",
                     what="is the folder of input 'photos/b.jpeg'")

    def test_a_folder_of_its_own_beside_the_inputs_is_fine(self):
        for d in ("out", "photos/ann", "photos/new/../../pics"):
            with self.subTest(d=d):
                self.server.push({"body": doc([], 300, 400)})
                r = self.run_hp("-u", self.hub_url(), "--annotate", d, "photos/b.jpeg", cwd=self.tmp.name)
                self.assertExit(r, 0)
                out = os.path.normpath(os.path.join(self.tmp.name, d))
                self.assertEqual(read_png(os.path.join(out, "b.png")).w, 400)
        self.assertEqual(sha256_of(self.other), self.before)
        # standard input has no folder; a directory INPUT beside DIR is fine
        self.server.push({"body": doc([], 300, 400)})
        r = self.run_hp("-u", self.hub_url(), "--annotate", ".", "-", stdin=png_bytes(Picture(400, 300)),
                        cwd=self.photos)
        self.assertExit(r, 0)
        self.assertEqual(read_png(self.path("photos/stdin.png")).w, 400)
        self.png_input("shots/s.png")
        self.server.push({"body": doc([], 300, 400)})
        r = self.run_hp("-u", self.hub_url(), "-r", "--annotate", "shots-drawn", "shots", cwd=self.tmp.name)
        self.assertExit(r, 0)
        self.assertEqual(read_png(self.path("shots-drawn/s.png")).w, 400)
