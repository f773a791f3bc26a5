"""Every task x every output format, against the stand-in: what a user sees."""

import json
import os
import re
import unittest
import urllib.request

from harness import E2E, HUB_KEY, PLATFORM_KEY, image

TASKS = ["classify", "detect", "obb", "segment", "pose"]
PLATFORM_TASKS = ["semantic", "depth"]
CSV_HEADER = ["file", "frame", "task", "index", "class", "name", "confidence", "x1", "y1", "x2", "y2",
              "x3", "y3", "x4", "y4", "points", "keypoints", "pixel_ratio"]


class TestEveryTaskEveryFormat(E2E):

    def direct(self, url, path, key=HUB_KEY, platform=False):
        """The server's own body for this request, fetched without hubpredict (for raw)."""
        boundary = "xXxBoundaryxXx"
        with open(path, "rb") as f:
            data = f.read()
        parts = [(b'--' + boundary.encode() + b'\r\nContent-Disposition: form-data; name="file"; filename="'
                  + os.path.basename(path).encode() + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
                  + data + b'\r\n')]
        iou = "0.7" if platform else "0.45"
        for k, v in (("imgsz", "640"), ("conf", "0.25"), ("iou", iou)):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        hdr = {"Authorization": f"Bearer {key}"} if platform else {"x-api-key": key}
        hdr["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        req = urllib.request.Request(url, data=body, headers=hdr, method="POST")
        with urllib.request.urlopen(req) as resp:
            return resp.read()

    def check_all_formats(self, url, task, key, platform=False):
        img = image("street.jpg")
        # table
        r = self.run_hp("-u", url, img, key=key)
        self.assertExit(r, 0)
        first = r.out.splitlines()[0]
        self.assertTrue(first.startswith(img + "  " + task + "  "), r)
        self.assertIn("810x1080", first)
        self.assertRegex(first, r"total \d+ ms$")
        # json
        r = self.run_hp("-u", url, "-f", "json", img, key=key)
        self.assertExit(r, 0)
        doc = r.json()
        self.assertEqual(len(doc), 1)
        env = doc[0]
        self.assertEqual(env["file"], img)
        self.assertEqual(env["task"], task)
        self.assertEqual(env["http_status"], 200)
        self.assertEqual(env["attempts"], 1)
        self.assertIsInstance(env["elapsed_ms"], float)
        self.assertEqual(env["response"]["images"][0]["shape"], [1080, 810])
        # the server's document is carried unchanged: same as a direct request
        direct = json.loads(self.direct(url, img, key, platform))
        self.assertEqual(env["response"], direct)
        # jsonl: one envelope per line, same content
        r = self.run_hp("-u", url, "-f", "jsonl", img, img, key=key)
        self.assertExit(r, 0)
        lines = r.jsonl()
        self.assertEqual(len(lines), 2)
        self.assertEqual(lines[0]["response"], direct)
        # csv
        r = self.run_hp("-u", url, "-f", "csv", img, key=key)
        self.assertExit(r, 0)
        rows = r.csv()
        self.assertEqual(rows[0], CSV_HEADER)
        self.assertNotIn("\r", r.out)
        n_results = len(direct["images"][0]["results"])
        self.assertEqual(len(rows) - 1, n_results)
        for i, row in enumerate(rows[1:], 1):
            self.assertEqual(len(row), len(CSV_HEADER))
            self.assertEqual(row[0:4], [img, "0", task, str(i)])
        # raw: byte for byte
        r = self.run_hp("-u", url, "-f", "raw", img, key=key)
        self.assertExit(r, 0)
        self.assertEqual(r.out_bytes, self.direct(url, img, key, platform))
        return direct

    def test_hub_tasks(self):
        for task in TASKS:
            with self.subTest(task=task):
                self.check_all_formats(self.hub_url(task), task, HUB_KEY)

    def test_platform_tasks(self):
        for task in TASKS + PLATFORM_TASKS:
            with self.subTest(task=task):
                self.check_all_formats(self.platform_url(task), task, PLATFORM_KEY, platform=True)


class TestTableAndCsvContent(E2E):

    def test_detect_table_values(self):
        r = self.run_hp("-u", self.hub_url("detect"), image("street.jpg"))
        lines = r.out.splitlines()
        self.assertEqual(lines[1].split(), ["#", "class", "name", "conf", "x1", "y1", "x2", "y2"])
        self.assertEqual(lines[2].split()[:4], ["1", "0", "person", "0.920"])
        self.assertEqual(lines[3].split()[:4], ["2", "2", "car", "0.870"])
        self.assertIn("inference 12.5 ms", lines[0])
        self.assertIn("2 results", lines[0])

    def test_task_columns(self):
        cases = {
            "classify": ["#", "class", "name", "conf"],
            "obb": ["#", "class", "name", "conf", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"],
            "segment": ["#", "class", "name", "conf", "x1", "y1", "x2", "y2", "points"],
            "pose": ["#", "class", "name", "conf", "x1", "y1", "x2", "y2", "kpts"],
        }
        for task, cols in cases.items():
            with self.subTest(task=task):
                r = self.run_hp("-u", self.hub_url(task), image("cat.png"))
                self.assertEqual(r.out.splitlines()[1].split(), cols)
        r = self.run_hp("-u", self.hub_url("pose"), image("cat.png"))
        self.assertEqual(r.out.splitlines()[2].split()[-1], "3/3")
        r = self.run_hp("-u", self.platform_url("semantic"), image("cat.png"), key=PLATFORM_KEY)
        self.assertEqual(r.out.splitlines()[1].split(), ["#", "class", "name", "ratio"])
        r = self.run_hp("-u", self.platform_url("depth"), image("cat.png"), key=PLATFORM_KEY)
        self.assertRegex(r.out.splitlines()[1], r"^  depth map 2x2  min 0.31  max 79.9  bits 8$")

    def test_csv_cells_by_task(self):
        r = self.run_hp("-u", self.hub_url("pose"), "-f", "csv", image("cat.png"))
        row = dict(zip(r.csv()[0], r.csv()[1]))
        self.assertEqual((row["keypoints"], row["points"], row["x3"], row["pixel_ratio"]), ("3", "", "", ""))
        self.assertEqual((row["x1"], row["y2"], row["confidence"]), ("118", "660", "0.92"))
        r = self.run_hp("-u", self.hub_url("segment"), "-f", "csv", image("cat.png"))
        row = dict(zip(r.csv()[0], r.csv()[1]))
        self.assertEqual((row["points"], row["keypoints"]), ("3", ""))
        r = self.run_hp("-u", self.hub_url("obb"), "-f", "csv", image("cat.png"))
        row = dict(zip(r.csv()[0], r.csv()[1]))
        self.assertEqual(row["y4"], "147.04634")
        r = self.run_hp("-u", self.platform_url("semantic"), "-f", "csv", image("cat.png"), key=PLATFORM_KEY)
        row = dict(zip(r.csv()[0], r.csv()[1]))
        self.assertEqual((row["confidence"], row["pixel_ratio"], row["name"]), ("", "0.42", "road"))
        r = self.run_hp("-u", self.hub_url("classify"), "-f", "csv", image("cat.png"))
        row = dict(zip(r.csv()[0], r.csv()[1]))
        self.assertEqual((row["confidence"], row["x1"]), ("0.95", ""))

    def test_empty_results(self):
        for fmt in ("table", "csv", "json"):
            r = self.run_hp("-u", self.hub_url("empty"), "-f", fmt, image("cat.png"))
            self.assertExit(r, 0)
            if fmt == "table":
                self.assertEqual(len(r.out.splitlines()), 1)
                self.assertIn("  unknown  0 results  600x750", r.out)
            elif fmt == "csv":
                self.assertEqual(len(r.csv()), 1)
            else:
                self.assertEqual(r.json()[0]["task"], "unknown")
        r = self.run_hp("-u", self.hub_url("empty-detect"), "-f", "jsonl", image("cat.png"))
        self.assertEqual(r.jsonl()[0]["task"], "detect")

    def test_video_frames(self):
        r = self.run_hp("-u", self.hub_url("detect"), image("clip.mp4"))
        self.assertExit(r, 0)
        self.assertIn("3 frames  6 results", r.out.splitlines()[0])
        self.assertEqual(re.findall(r"^frame (\d+)  2 results", r.out, re.M), ["0", "1", "2"])
        r = self.run_hp("-u", self.hub_url("detect"), "-f", "csv", image("clip.mp4"))
        self.assertEqual([row[1] for row in r.csv()[1:]], ["0", "0", "1", "1", "2", "2"])


class TestOlderAndTodaysShapes(E2E):
    """API.md: older docs showed keypoints as [{x, y, conf}] and OBB corners in an `obb` object
    beside an axis-aligned `box`; pose visibility comes as 0-1 scores or 0/1/2 flags (>= 0.5
    is visible in both) or not at all; today's classify answers its top 5."""

    def csv_rows(self, model, platform=False):
        url = self.platform_url(model) if platform else self.hub_url(model)
        r = self.run_hp("-u", url, "-f", "csv", image("street.jpg"),
                        key=PLATFORM_KEY if platform else HUB_KEY)
        self.assertExit(r, 0)
        return [dict(zip(CSV_HEADER, row)) for row in r.csv()[1:]]

    def test_keypoints_as_a_list_of_objects(self):
        old = self.csv_rows("pose-oldshape")
        today = self.csv_rows("pose")
        self.assertEqual(len(old), 1)
        self.assertEqual(old[0]["task"], "pose")
        self.assertEqual(old[0]["keypoints"], today[0]["keypoints"])
        self.assertEqual([old[0][k] for k in ("x1", "y1", "x2", "y2")],
                         [today[0][k] for k in ("x1", "y1", "x2", "y2")])
        r = self.run_hp("-u", self.hub_url("pose-oldshape"), image("street.jpg"))
        self.assertExit(r, 0)
        self.assertIn("  pose  ", r.out.splitlines()[0])

    def test_obb_corners_in_their_own_object(self):
        old = self.csv_rows("obb-oldshape")
        today = self.csv_rows("obb")
        self.assertEqual(old[0]["task"], "obb")
        corners = [f"{a}{i}" for i in range(1, 5) for a in "xy"]
        self.assertEqual([old[0][k] for k in corners], [today[0][k] for k in corners])
        self.assertNotEqual(old[0]["x3"], "")

    def test_visibility_scores_flags_or_none(self):
        scores = self.csv_rows("pose")[0]["keypoints"]
        flags = self.csv_rows("pose-visflags")[0]["keypoints"]
        none = self.csv_rows("pose-novis")[0]["keypoints"]
        self.assertEqual(flags, scores)          # flags 1 and 2 are >= 0.5, as scores >= 0.5
        self.assertEqual(none, "3")              # no visibility: all of them

    def test_todays_route_top5_and_metadata_task(self):
        rows = self.csv_rows("acme/p/classify", platform=True)
        self.assertEqual([row["index"] for row in rows], ["1", "2", "3", "4", "5"])
        r = self.run_hp("-u", self.platform_url("acme/p/empty-segment"), "-f", "json", image("street.jpg"),
                        key=PLATFORM_KEY)
        self.assertExit(r, 0)
        self.assertEqual(r.json()[0]["task"], "segment")   # from metadata.task, results empty



class TestHostileNames(E2E):
    """Names with commas, quotes, tabs, newlines, escapes and non-ASCII text, in every format."""

    NAMES = ["a,b", 'say "hi"', "tab\there", "two\nlines", "caf\u00e9 \u4e2d\u6587", "\x1b[31mred", " pad "]

    def body(self):
        results = [{"class": i, "name": n, "confidence": 0.5,
                    "box": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}} for i, n in enumerate(self.NAMES)]
        return {"images": [{"results": results, "shape": [10, 20], "speed": {"inference": 1.0}}]}

    def test_csv_round_trip(self):
        self.server.push({"body": self.body()})
        r = self.run_hp("-u", self.hub_url(), "-f", "csv", image("cat.png"))
        self.assertExit(r, 0)
        # exact, except that a control character (ESC here) becomes U+FFFD: csv is safe to cat
        want = [n.replace("\x1b", "\ufffd") for n in self.NAMES]
        self.assertEqual([row[5] for row in r.csv()[1:]], want)

    def test_json_exact(self):
        self.server.push({"body": self.body()})
        r = self.run_hp("-u", self.hub_url(), "-f", "json", image("cat.png"))
        names = [x["name"] for x in r.json()[0]["response"]["images"][0]["results"]]
        self.assertEqual(names, self.NAMES)
        self.server.push({"body": self.body()})
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", image("cat.png"))
        self.assertEqual(len(r.out.splitlines()), 1)

    def test_table_escaped_and_aligned(self):
        self.server.push({"body": self.body()})
        r = self.run_hp("-u", self.hub_url(), image("cat.png"))
        self.assertExit(r, 0)
        self.assertNotIn("\x1b", r.out)
        self.assertNotIn("\t", r.out)
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 2 + len(self.NAMES))  # header, columns, one row each
        self.assertIn("tab\\there", r.out)
        self.assertIn("two\\nlines", r.out)
        self.assertIn("\\e[31mred", r.out)
        # the conf column ends at the same terminal column on every row (wide CJK counts 2)
        def width(s):
            return sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in s)
        ends = {width(ln[:ln.index("0.500") + 5]) for ln in lines[2:]}
        self.assertEqual(len(ends), 1, lines)

    def test_no_color_in_pipes(self):
        r = self.run_hp("-u", self.hub_url(), image("cat.png"))
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        self.assertNotIn("\x1b", r.out)
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 4, r)
        self.assertRegex(lines[0], r"^\S+/cat\.png  detect  2 results  600x750  inference [\d.]+ ms  total \d+ ms$")
        self.assertEqual(lines[1].split(), ["#", "class", "name", "conf", "x1", "y1", "x2", "y2"])
        self.assertEqual([ln.split()[:4] for ln in lines[2:]], [["1", "0", "person", "0.920"], ["2", "2", "car", "0.870"]])
        # the same run on a terminal is coloured: the test above can tell
        tty = self.run_on_terminal("stdout", "-u", self.hub_url(), image("cat.png"), env={"TERM": "xterm"})
        self.assertExit(tty, 0)
        self.assertIn("\x1b[", tty.out)
        self.assertIn("person", tty.out)


class TestInputsAndOrder(E2E):

    def test_directory_sorted_media_only(self):
        d = os.path.join(self.tmp.name, "dir")
        os.makedirs(d)
        for name in ["b.png", "a.JPG", "notes.txt", "c.mp4", ".hidden.png"]:
            with open(image("cat.png"), "rb") as src, open(os.path.join(d, name), "wb") as dst:
                dst.write(src.read())
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", d)
        self.assertExit(r, 0)
        self.assertEqual([os.path.basename(e["file"]) for e in r.jsonl()], ["a.JPG", "b.png", "c.mp4"])

    def test_several_inputs_in_order(self):
        imgs = [image(n) for n in ("street.jpg", "cat.png", "people.png", "aerial.png", "tiny.gif")]
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", *imgs)
        self.assertEqual([e["file"] for e in r.jsonl()], imgs)
        r = self.run_hp("-u", self.hub_url(), "-f", "raw", *imgs)
        self.assertEqual(len(r.out_bytes.split(b"\n")), len(imgs) + 1)

    def test_stdin(self):
        with open(image("street.jpg"), "rb") as f:
            data = f.read()
        r = self.run_hp("-u", self.hub_url(), "-f", "json", "-", stdin=data)
        self.assertExit(r, 0)
        self.assertEqual(r.json()[0]["file"], "-")
        self.assertEqual(r.json()[0]["response"]["images"][0]["shape"], [1080, 810])
        rec = self.server.log()[-1]["file"]
        self.assertEqual(rec["filename"], "stdin.jpg")
        self.assertEqual(rec["size"], len(data))


if __name__ == "__main__":
    unittest.main()
