"""Self-check of the predict API stand-in (standin.py).

Run from the repository root:  python3 -m unittest tests/standin/test_standin_selfcheck.py -v

Every test talks to a real StandIn over loopback HTTP with a hand-built multipart body, except
the few that feed the image sniffer and the multipart parser directly.
"""

import contextlib
import gzip
import hashlib
import http.client
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import standin  # noqa: E402
from standin import HUB_KEY, PLATFORM_KEY, StandIn  # noqa: E402

BOUNDARY = "----standin-selfcheck-7d1f"
HUB = {"x-api-key": HUB_KEY}
PLATFORM = {"Authorization": f"Bearer {PLATFORM_KEY}"}


# -- building request bodies ------------------------------------------------------------------

def png_image(width, height):
    """A valid RGB PNG of the given size."""
    def chunk(kind, data):
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
    rows = b"".join(b"\0" + b"\x80" * (width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg_header(width, height, app_bytes=16):
    """SOI, an APP1 segment of `app_bytes` content, an SOF0 frame header, EOI: enough to size."""
    app1 = b"\xff\xe1" + struct.pack(">H", app_bytes + 2) + b"E" * app_bytes
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app1 + sof0 + b"\xff\xd9"


PNG = png_image(37, 23)      # every answer built from it has shape [23, 37]


def multipart(fields=(), file=None, filename="image.png", content_type="image/png"):
    """(body, Content-Type) of a multipart/form-data body; `file` is bytes or None."""
    out = io.BytesIO()
    for name, value in dict(fields).items():
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                  f'{value}\r\n'.encode())
    if file is not None:
        filename = filename.replace("\\", "\\\\").replace('"', '\\"')   # as curl escapes
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                  f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode())
        out.write(file + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={BOUNDARY}"


class StandInTest(unittest.TestCase):
    """One stand-in for the whole class; each test starts with an empty script and log."""

    @classmethod
    def setUpClass(cls):
        cls.server = StandIn().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.server.reset()
        self.server.set_latency(0)

    def connect(self, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        self.addCleanup(conn.close)
        return conn

    def post(self, path, fields=(), file=PNG, headers=HUB, conn=None, **part):
        """POST a form; returns (status, headers as a dict, body bytes)."""
        body, content_type = multipart(fields, file, **part)
        conn = conn or self.connect()
        conn.request("POST", path, body, {"Content-Type": content_type, **headers})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def post_json(self, path, fields=(), file=PNG, headers=HUB, **part):
        status, _, body = self.post(path, fields, file, headers, **part)
        return status, json.loads(body)


# -- answers ----------------------------------------------------------------------------------

class TaskAnswers(StandInTest):
    def check_image(self, doc, shape=(23, 37), count=1):
        self.assertEqual(doc["metadata"]["imageCount"], count)
        self.assertEqual(len(doc["images"]), count)
        for image in doc["images"]:
            self.assertEqual(image["shape"], list(shape))
            self.assertEqual(set(image["speed"]), {"preprocess", "inference", "postprocess"})
        return doc["images"][0]["results"]

    def test_each_task_has_its_members(self):
        members = {
            "classify": {"class", "name", "confidence"},
            "detect": {"class", "name", "confidence", "box"},
            "obb": {"class", "name", "confidence", "box"},
            "segment": {"class", "name", "confidence", "box", "segments"},
            "pose": {"class", "name", "confidence", "box", "keypoints"},
            "semantic": {"class", "name", "pixel_ratio"},
        }
        for task, expected in members.items():
            with self.subTest(task=task):
                status, doc = self.post_json(f"/v1/predict/my-{task}-model")
                self.assertEqual(status, 200)
                results = self.check_image(doc)
                self.assertTrue(results)
                self.assertEqual(set(results[0]), expected)
                self.assertNotIn("task", doc["metadata"])

    def test_coordinates_follow_the_real_image(self):
        _, doc = self.post_json("/v1/predict/detect")
        box = doc["images"][0]["results"][0]["box"]       # fixture: 1920x1080, x1=100 y1=50
        self.assertEqual(list(box), ["x1", "y1", "x2", "y2"])   # the fixture's key order
        self.assertAlmostEqual(box["x1"], 100 * 37 / 1920)
        self.assertAlmostEqual(box["y1"], 50 * 23 / 1080)
        _, doc = self.post_json("/v1/predict/obb")
        self.assertEqual(len(doc["images"][0]["results"][0]["box"]), 8)
        _, doc = self.post_json("/v1/predict/pose")
        keypoints = doc["images"][0]["results"][0]["keypoints"]
        fixture = standin.FIXTURES["pose"]["images"][0]["results"][0]["keypoints"]
        self.assertEqual(keypoints["visible"], fixture["visible"])
        self.assertAlmostEqual(keypoints["x"][0], fixture["x"][0] * 37 / 600)

    def test_depth_and_default_task(self):
        _, doc = self.post_json("/v1/predict/depth")
        self.assertEqual(self.check_image(doc), [])
        self.assertEqual(doc["images"][0]["depth"], standin.FIXTURES["depth"]["images"][0]["depth"])
        _, doc = self.post_json("/v1/predict/abcdefghij0123456789")   # no task word: detect
        self.assertIn("box", self.check_image(doc)[0])

    def test_empty_and_taskmeta(self):
        _, doc = self.post_json("/v1/predict/empty")
        self.assertEqual(self.check_image(doc), [])
        self.assertNotIn("task", doc["metadata"])
        _, doc = self.post_json("/v1/predict/empty-segment")
        self.assertEqual(self.check_image(doc), [])
        self.assertEqual(doc["metadata"]["task"], "segment")
        _, doc = self.post_json("/v1/predict/taskmeta-pose")
        self.assertIn("keypoints", self.check_image(doc)[0])
        self.assertEqual(doc["metadata"]["task"], "pose")

    def test_jpeg_video_and_source(self):
        _, doc = self.post_json("/v1/predict/detect", file=jpeg_header(321, 123, 300),
                                filename="a.jpg", content_type="image/jpeg")
        self.check_image(doc, shape=(123, 321))
        _, doc = self.post_json("/v1/predict/detect", file=b"not really a video",
                                filename="clip.MP4", content_type="video/mp4")
        self.check_image(doc, shape=(480, 640), count=3)
        _, doc = self.post_json("/api/models/detect/predict", {"source": "https://x.test/bus.jpg"},
                                file=None, headers=PLATFORM)
        self.check_image(doc, shape=(480, 640))

    def test_platform_routes(self):
        for path in ("/api/models/AbC123/predict", "/api/models/mine/proj/segment-v2/predict",
                     "/predict"):
            with self.subTest(path=path):
                status, doc = self.post_json(path, headers=PLATFORM)
                self.assertEqual(status, 200)
                self.check_image(doc)
        _, doc = self.post_json("/api/models/mine/proj/segment-v2/predict", headers=PLATFORM)
        self.assertIn("segments", doc["images"][0]["results"][0])
        _, doc = self.post_json("/dedicated/pose")                    # hub dedicated
        self.assertIn("keypoints", doc["images"][0]["results"][0])

    def test_normalize_and_decimals(self):
        fields = {"normalize": "true", "decimals": "3"}
        status, doc = self.post_json("/api/models/segment/predict", fields, headers=PLATFORM)
        self.assertEqual(status, 200)
        result = doc["images"][0]["results"][0]
        values = list(result["box"].values()) + result["segments"]["x"] + result["segments"]["y"]
        for value in values:
            self.assertTrue(0 <= value <= 1, value)
            self.assertEqual(round(value, 3), value)
        _, doc = self.post_json("/api/models/detect/predict", {"normalize": "1"}, headers=PLATFORM)
        self.assertEqual(doc["images"][0]["results"][0]["box"]["x1"], round(100 / 1920, 5))
        _, doc = self.post_json("/api/models/detect/predict", {"decimals": "0"}, headers=PLATFORM)
        self.assertEqual(doc["images"][0]["results"][0]["box"]["x1"], round(100 * 37 / 1920))

    def test_embedded_fixtures_match_the_shared_ones(self):
        if standin.FIXTURES_DIR is None:
            self.skipTest("no shared/fixtures directory here")
        for name, embedded in standin.EMBEDDED_FIXTURES.items():
            path = standin.FIXTURES_DIR / f"{name}.json"
            with self.subTest(name=name):
                self.assertEqual(json.loads(path.read_text()), embedded)


class Refusals(StandInTest):
    def test_hub_auth(self):
        for headers in ({}, {"x-api-key": "wrong"}, PLATFORM):
            status, doc = self.post_json("/v1/predict/detect", headers=headers)
            self.assertEqual(status, 401)
            self.assertEqual(doc, {"data": {}, "message": "Invalid API key", "success": False})

    def test_platform_auth(self):
        for headers in ({"Authorization": "Bearer ul_wrong"}, {"Authorization": PLATFORM_KEY}):
            status, doc = self.post_json("/api/models/x/predict", headers=headers)
            self.assertEqual((status, doc), (401, {"error": "Invalid API key"}))
        for headers in ({}, HUB):                    # no Authorization at all
            status, doc = self.post_json("/api/models/x/predict", headers=headers)
            self.assertEqual((status, doc), (401, {"error": "Authentication required"}))
        status, _ = self.post_json("/predict", headers={"Authorization": f"bearer {PLATFORM_KEY}"})
        self.assertEqual(status, 200)

    def test_field_validation(self):
        cases = [({"imgsz": "31"}, "imgsz must be between 32 and 1280"),
                 ({"imgsz": "640.5"}, "imgsz must be between 32 and 1280"),
                 ({"conf": "0"}, "conf must be between 0.01 and 1.0"),
                 ({"conf": "nan"}, "conf must be between 0.01 and 1.0"),
                 ({"iou": "0.96"}, "iou must be between 0.0 and 0.95")]
        for fields, message in cases:
            with self.subTest(fields=fields):
                self.assertEqual(self.post_json("/v1/predict/detect", fields),
                                 (422, {"message": message}))
                self.assertEqual(self.post_json("/api/models/d/predict", fields, headers=PLATFORM),
                                 (422, {"error": message}))
        self.assertEqual(self.post_json("/v1/predict/detect", {"imgsz": "1280", "conf": "0.01",
                                                               "iou": "0"})[0], 200)
        self.assertEqual(self.post_json("/v1/predict/detect", {"normalize": "true"}),
                         (400, {"message": "unknown field 'normalize'"}))
        self.assertEqual(self.post_json("/api/models/d/predict", {"decimals": "11"},
                                        headers=PLATFORM)[0], 422)

    def test_bad_uploads(self):
        no_file = {"data": {}, "message": "An image file or URL must be submitted.",
                   "success": False}
        self.assertEqual(self.post_json("/v1/predict/detect", file=None), (400, no_file))
        self.assertEqual(self.post_json("/v1/predict/detect", file=b""), (400, no_file))
        self.assertEqual(self.post_json("/api/models/d/predict", file=b"", headers=PLATFORM),
                         (400, {"error": "Empty file"}))
        self.assertEqual(self.post_json("/v1/predict/detect", file=b"GIF8 but no"),
                         (400, {"data": {}, "message": "Invalid image", "success": False}))
        self.assertEqual(self.post_json("/api/models/d/predict", file=b"\xff\xd8\xff\xe0",
                                        headers=PLATFORM), (400, {"error": "Invalid image"}))

    def test_malformed_multipart_keeps_the_connection(self):
        conn = self.connect()
        body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc'.encode()
        conn.request("POST", "/v1/predict/detect", body,
                     {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **HUB})
        response = conn.getresponse()
        self.assertEqual((response.status, json.loads(response.read())),
                         (400, {"message": "Malformed multipart body"}))
        self.assertEqual(self.post("/v1/predict/detect", conn=conn)[0], 200)
        self.assertEqual(len({r["conn_id"] for r in self.server.log()}), 1)

    def test_model_words(self):
        self.assertEqual(self.post_json("/v1/predict/notfound"),
                         (404, {"message": "Model not found"}))
        self.assertEqual(self.post_json("/api/models/acme/p/notfound/predict", headers=PLATFORM),
                         (404, {"error": "Model not found"}))
        status, headers, body = self.post("/v1/predict/status-503")
        self.assertEqual((status, headers["Content-Type"]), (503, "text/html"))
        self.assertIn(b"<title>503 Service Unavailable</title>", body)
        status, headers, _ = self.post("/v1/predict/status-429")
        self.assertEqual((status, headers["Retry-After"], headers["X-RateLimit-Remaining"]),
                         (429, "1", "0"))
        self.assertAlmostEqual(int(headers["X-RateLimit-Reset"]), time.time() + 1, delta=2)
        self.assertEqual(self.post_json("/api/models/status-418/predict", headers=PLATFORM),
                         (418, {"error": "I'm a Teapot"}))

    def test_unknown_paths_and_methods(self):
        self.assertEqual(self.post_json("/v2/nothing/here"), (404, {"message": "Not found"}))
        conn = self.connect()
        conn.request("GET", "/v1/predict/detect", headers=HUB)
        response = conn.getresponse()
        self.assertEqual((response.status, response.getheader("Allow")), (405, "POST"))
        response.read()
        self.assertEqual(self.server.log()[-1]["method"], "GET")


# -- scripted faults --------------------------------------------------------------------------

class ScriptedFaults(StandInTest):
    def test_status_headers_and_body(self):
        self.server.push({"status": 429, "headers": {"Retry-After": "7"}})
        status, headers, body = self.post("/v1/predict/detect")
        self.assertEqual((status, headers["Retry-After"]), (429, "7"))
        self.assertEqual(json.loads(body), {"message": "Too Many Requests"})
        self.server.push({"status": 500, "body": "<b>down</b>", "content_type": "text/html"})
        status, headers, body = self.post("/api/models/d/predict", headers=PLATFORM)
        self.assertEqual((status, headers["Content-Type"], body),
                         (500, "text/html", b"<b>down</b>"))
        self.server.push({"status": 200, "body": {"images": []}})
        self.assertEqual(self.post_json("/v1/predict/detect"), (200, {"images": []}))

    def test_match_repeat_and_skip_auth(self):
        self.server.push_many([{"match": "pose", "status": 500},
                               {"status": 503, "repeat": 2}])
        self.assertEqual(self.post("/v1/predict/detect")[0], 503)
        self.assertEqual(self.post("/v1/predict/pose")[0], 500)
        self.assertEqual(self.post("/v1/predict/pose")[0], 503)
        self.assertEqual(self.post("/v1/predict/pose")[0], 200)
        self.server.push({"status": 418})
        self.assertEqual(self.post("/v1/predict/d", headers={})[0], 401)   # not for this one
        self.assertEqual(self.post("/v1/predict/d")[0], 418)
        self.server.push({"status": 418, "skip_auth": True})
        self.assertEqual(self.post("/v1/predict/d", headers={})[0], 418)
        with self.assertRaises(ValueError):
            self.server.push({"stauts": 500})

    def test_delay_and_latency(self):
        self.server.push({"delay": 0.3})
        started = time.monotonic()
        self.assertEqual(self.post("/v1/predict/detect")[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.server.set_latency(0.2, 0.25)
        started = time.monotonic()
        self.post("/v1/predict/detect")
        self.assertGreaterEqual(time.monotonic() - started, 0.2)

    def test_drip(self):
        self.server.push({"body": "0123456789", "drip": 0.03})
        started = time.monotonic()
        status, _, body = self.post("/v1/predict/detect")
        self.assertEqual((status, body), (200, b"0123456789"))
        self.assertGreaterEqual(time.monotonic() - started, 9 * 0.03)

    def test_cut(self):
        self.server.push({"cut": 20})
        conn = self.connect()
        body, content_type = multipart({}, PNG)
        conn.request("POST", "/v1/predict/detect", body, {"Content-Type": content_type, **HUB})
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        with self.assertRaises(http.client.IncompleteRead) as caught:
            response.read()
        self.assertEqual(len(caught.exception.partial), 20)

    def test_reset(self):
        self.server.push({"reset": True})
        with self.assertRaises(ConnectionResetError):     # RemoteDisconnected is one too
            self.post("/v1/predict/detect")
        self.assertIsNone(self.server.log()[0]["status"])
        self.assertEqual(self.post("/v1/predict/detect")[0], 200)

    def test_huge_is_streamed(self):
        size = 300 * 1024 * 1024
        self.server.push({"huge": size})
        conn = self.connect()
        body, content_type = multipart({}, PNG)
        conn.request("POST", "/v1/predict/detect", body, {"Content-Type": content_type, **HUB})
        response = conn.getresponse()
        self.assertEqual(int(response.getheader("Content-Length")), size)
        start = response.read(1024 * 1024)
        self.assertTrue(start.startswith(b'{"images":[],"pad":"xxxx'))
        conn.close()                                    # stop early: the server must cope
        self.assertEqual(self.post("/v1/predict/detect")[0], 200)

    def test_redirect(self):
        self.server.push({"redirect": "http://127.0.0.1:9/elsewhere"})
        status, headers, _ = self.post("/v1/predict/detect")
        self.assertEqual((status, headers["Location"]), (307, "http://127.0.0.1:9/elsewhere"))

    def test_mjpeg_camera(self):
        frames = [b"\xff\xd8one\xff\xd9", b"\xff\xd8two\xff\xd9"]
        conn = self.connect()
        conn.request("GET", "/_stream/mjpeg")
        self.assertEqual(conn.getresponse().status, 404)                  # no frames set
        self.server.set_stream_frames(frames)
        conn = self.connect()
        conn.request("GET", "/_stream/mjpeg?fps=50&drop=3")
        response = conn.getresponse()
        self.assertEqual(response.getheader("Content-Type"), "multipart/x-mixed-replace; boundary=frame")
        body = response.read()                                               # closed after 3
        parts = [p for p in body.split(b"--frame\r\n") if p]
        self.assertEqual([p.split(b"\r\n\r\n", 1)[1] for p in parts], [f + b"\r\n" for f in frames + frames[:1]])
        conn = self.connect()
        conn.request("GET", "/_stream/mjpeg?fps=50&drop=1")
        self.assertTrue(conn.getresponse().read().endswith(frames[1] + b"\r\n"))  # the count goes on
        conn = self.connect()
        conn.request("GET", "/_stream/mjpeg?serve=2")
        with self.assertRaises(http.client.RemoteDisconnected):              # the third connection
            conn.getresponse()
        conn = self.connect(timeout=0.5)
        conn.request("GET", "/_stream/mjpeg?hang=1")
        with self.assertRaises(socket.timeout):
            conn.getresponse()
        self.assertEqual([r.get("stream_frames") for r in self.server.log()], [0, 3, 1, 0, 0])

    def test_control_endpoints(self):
        def call(method, path, doc=None):
            conn = self.connect()
            conn.request(method, path, json.dumps(doc) if doc is not None else None)
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        self.assertEqual(call("POST", "/_standin/script", [{"status": 502}, {"status": 504}]),
                         (200, {"queued": 2}))
        self.assertEqual(self.post("/v1/predict/detect")[0], 502)
        status, log = call("GET", "/_standin/log")
        self.assertEqual((status, len(log), log[0]["status"]), (200, 1, 502))
        self.assertEqual(call("POST", "/_standin/latency", {"lo": 0.2, "hi": 0.2})[0], 200)
        started = time.monotonic()
        self.assertEqual(self.post("/v1/predict/detect")[0], 504)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.assertEqual(call("POST", "/_standin/reset")[0], 200)
        self.assertEqual(call("GET", "/_standin/log"), (200, []))
        self.assertEqual(call("POST", "/_standin/script", [{"dealy": 1}])[0], 400)

    def test_internal_error_is_a_500(self):
        original = standin.predict_answer
        standin.predict_answer = lambda route, form: 1 / 0
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                status, doc = self.post_json("/v1/predict/detect")
        finally:
            standin.predict_answer = original
        self.assertEqual(status, 500)
        self.assertTrue(doc["details"]["message"].startswith("standin: "))
        self.assertEqual(self.post("/v1/predict/detect")[0], 200)


# -- the "bench" model: a known latency (issue 23) --------------------------------------------

class BenchLatency(StandInTest):
    def speed_sum(self, doc):
        speed = doc["images"][0]["speed"]
        return speed["preprocess"] + speed["inference"] + speed["postprocess"]

    def test_service_times_are_known_and_equal_the_speed(self):
        self.server.set_bench(seed=7, median_ms=4, sigma=0.4, stall=None)
        expected = standin.bench_service_ms(7, 4, 0.4, 250, 12)
        self.assertEqual(expected, standin.bench_service_ms(7, 4, 0.4, 250, 12))   # seeded
        self.assertEqual(len(set(expected)), 12)
        conn = self.connect()
        for k in range(12):
            started = time.monotonic()
            status, _, body = self.post("/v1/predict/bench", conn=conn)
            took = (time.monotonic() - started) * 1000
            doc = json.loads(body)
            self.assertEqual(status, 200)
            self.assertEqual(doc["images"][0]["results"][0]["name"], "person")     # a detect answer
            self.assertAlmostEqual(self.speed_sum(doc), expected[k], places=6)
            self.assertGreaterEqual(took, expected[k])
        records = self.server.log()
        self.assertEqual([r["bench_index"] for r in records], list(range(12)))
        self.assertEqual([r["service_ms"] for r in records], expected)
        self.assertEqual({r["stall_ms"] for r in records}, {0})

    def test_distribution_median_and_cap(self):
        times = standin.bench_service_ms(23, 20, 0.5, 250, 20001)
        self.assertAlmostEqual(sorted(times)[10000], 20, delta=0.6)
        self.assertLessEqual(max(standin.bench_service_ms(1, 100, 2, 150, 2000)), 150)
        self.assertEqual(standin.bench_speed(12.345),
                         {"preprocess": 1.234, "inference": 9.877, "postprocess": 1.234})

    def test_stall_window_holds_requests_until_its_end(self):
        # a window wide enough that the second request lands in it on a loaded machine too (its
        # first answer and the pause may take far longer than asked), and is held to its end
        self.server.set_bench(seed=1, median_ms=2, sigma=0, stall=(0.3, 1.6))
        conn = self.connect()
        self.post("/v1/predict/bench", conn=conn)           # starts the clock
        time.sleep(0.35)
        started = time.monotonic()
        status, _, body = self.post("/v1/predict/bench", conn=conn)
        took = time.monotonic() - started
        self.assertEqual(status, 200)
        self.assertAlmostEqual(self.speed_sum(json.loads(body)), 2, places=6)   # not the stall
        after = self.server.log()
        held = after[1]["stall_ms"] / 1000
        self.assertGreater(held, 0.6, "arrived in the window: held until its end")
        self.assertLessEqual(held, 1.6 - 0.35 + 0.01)
        self.assertGreaterEqual(took, held - 0.02)
        self.assertEqual(after[0]["stall_ms"], 0)
        time.sleep(max(0.0, held - took) + 0.3)               # past the window: no stall
        started = time.monotonic()
        self.post("/v1/predict/bench", conn=conn)
        self.assertEqual(self.server.log()[2]["stall_ms"], 0)
        self.assertLess(time.monotonic() - started, 1.0)                # no hold (a held one: >= 1 s)

    def test_other_models_are_untouched_and_reset_restarts(self):
        status, doc = self.post_json("/v1/predict/detect")
        self.assertEqual(doc["images"][0]["speed"], {"preprocess": 1.2, "inference": 12.5, "postprocess": 2.3})
        self.assertNotIn("service_ms", self.server.log()[0])
        self.server.set_bench(stall=None)
        self.post("/v1/predict/bench")
        self.server.reset()
        self.server.set_bench(stall=None)
        self.post("/v1/predict/bench")
        self.assertEqual(self.server.log()[0]["bench_index"], 0)

    def test_control_route_and_its_errors(self):
        conn = self.connect()

        def call(doc):
            conn.request("POST", "/_standin/bench", json.dumps(doc))
            response = conn.getresponse()
            return response.status, response.read()
        self.assertEqual(call({"seed": 5, "median_ms": 3, "sigma": 0, "stall": None})[0], 200)
        status, doc = self.post_json("/v1/predict/bench")
        self.assertAlmostEqual(self.speed_sum(doc), 3, places=6)
        for bad in ({"seed": "x"}, {"median_ms": 0}, {"sigma": -1}, {"stall": [3, 2]},
                    {"stall": [1]}, {"cap_ms": 0}, {"speed": 1}, [1]):
            status, body = call(bad)
            self.assertEqual(status, 400, bad)
        with self.assertRaises(ValueError):
            self.server.set_bench(stall=(-1, 2))


# -- the request log and HTTP behaviour -------------------------------------------------------

class RequestLogAndHttp(StandInTest):
    def test_record_contents(self):
        self.post("/v1/predict/detect?trace=1", {"imgsz": "320", "conf": "0.5"},
                  headers={**HUB, "User-Agent": "hubpredict/0.1"})
        (record,) = self.server.log()
        self.assertEqual((record["method"], record["path"], record["query"]),
                         ("POST", "/v1/predict/detect", "trace=1"))
        self.assertEqual(record["fields"], {"imgsz": "320", "conf": "0.5"})
        self.assertEqual(record["file"], {"name": "file", "filename": "image.png",
                                          "content_type": "image/png", "size": len(PNG),
                                          "sha256": hashlib.sha256(PNG).hexdigest()})
        self.assertEqual(record["headers"]["x-api-key"], HUB_KEY)
        self.assertEqual(record["headers"]["user-agent"], "hubpredict/0.1")
        self.assertEqual((record["status"], record["http_version"]), (200, "HTTP/1.1"))
        self.assertLessEqual(record["t_start"], record["t_read"])
        self.assertLessEqual(record["t_read"], record["t_end"])
        self.assertAlmostEqual(record["t_end"], time.time(), delta=5)

    def test_keep_alive(self):
        conn = self.connect()
        self.assertEqual(self.post("/v1/predict/detect", conn=conn)[0], 200)
        self.assertEqual(self.post("/v1/predict/pose", conn=conn)[0], 200)
        self.post("/v1/predict/detect")                          # a connection of its own
        ids = [record["conn_id"] for record in self.server.log()]
        self.assertEqual(ids[0], ids[1])
        self.assertNotEqual(ids[1], ids[2])

    def test_expect_100_continue(self):
        body, content_type = multipart({}, PNG)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as sock:
            sock.sendall(f"POST /v1/predict/detect HTTP/1.1\r\nHost: x\r\nx-api-key: {HUB_KEY}\r\n"
                         f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                         "Expect: 100-continue\r\n\r\n".encode())
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n"))
            sock.sendall(body)
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 200 OK\r\n"))

    def test_chunked_request_body(self):
        body, content_type = multipart({"imgsz": "640"}, PNG)
        pieces = [body[i:i + 7] for i in range(0, len(body), 7)]
        conn = self.connect()
        conn.request("POST", "/v1/predict/detect", iter(pieces),
                     {"Content-Type": content_type, **HUB}, encode_chunked=True)
        response = conn.getresponse()
        self.assertEqual(json.loads(response.read())["images"][0]["shape"], [23, 37])
        record = self.server.log()[0]
        self.assertEqual(record["headers"]["transfer-encoding"], "chunked")
        self.assertEqual(record["file"]["sha256"], hashlib.sha256(PNG).hexdigest())

    def test_parallel_connections(self):
        statuses = []

        def worker():
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            for _ in range(3):
                statuses.append(self.post("/v1/predict/detect", conn=conn)[0])
            conn.close()
        threads = [threading.Thread(target=worker) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(statuses, [200] * 96)
        self.assertEqual(len({r["conn_id"] for r in self.server.log()}), 32)

    def test_big_upload_keeps_memory_small(self):
        def rss_kib():
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
            self.skipTest("no /proc/self/status")
        block = os.urandom(64 * 1024)
        blocks = 800                                                      # 50 MiB
        digest = hashlib.sha256(PNG)
        for _ in range(blocks):
            digest.update(block)
        head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="big.png"\r\nContent-Type: image/png\r\n\r\n').encode() + PNG
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.post("/v1/predict/detect")                                   # warm up
        before = rss_kib()
        conn = self.connect(timeout=60)
        conn.putrequest("POST", "/v1/predict/detect")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        conn.putheader("Content-Length", str(len(head) + blocks * len(block) + len(tail)))
        conn.putheader("x-api-key", HUB_KEY)
        conn.endheaders()
        conn.send(head)
        for _ in range(blocks):
            conn.send(block)
        conn.send(tail)
        response = conn.getresponse()
        self.assertEqual(json.loads(response.read())["images"][0]["shape"], [23, 37])
        growth_mib = (rss_kib() - before) / 1024
        self.assertLess(growth_mib, 20)
        record = self.server.log()[-1]
        self.assertEqual(record["file"]["size"], len(PNG) + blocks * len(block))
        self.assertEqual(record["file"]["sha256"], digest.hexdigest())


# -- pieces on their own ----------------------------------------------------------------------

class Pieces(unittest.TestCase):
    def sniff(self, data, piece=5):
        sniffer = standin.ImageSniffer()
        for i in range(0, len(data), piece):
            sniffer.feed(data[i:i + piece])
        return sniffer.finish()

    def test_image_formats(self):
        bmp = b"BM" + b"\0" * 12 + struct.pack("<Iii", 40, 64, -48) + b"\0" * 30
        vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0" + b"\0\0\0\x9d\x01\x2a" + struct.pack("<HH", 90, 70)
        bits = (90 - 1) | ((70 - 1) << 14)
        vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f" + struct.pack("<I", bits) + b"\0" * 8
        vp8x = (b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0" + b"\0" * 4
                + (90 - 1).to_bytes(3, "little") + (70 - 1).to_bytes(3, "little"))
        cases = [(PNG, (37, 23)), (b"GIF89a" + struct.pack("<HH", 5, 6) + b"\0" * 30, (5, 6)),
                 (bmp, (64, 48)), (vp8, (90, 70)), (vp8l, (90, 70)), (vp8x, (90, 70)),
                 (jpeg_header(640, 480), (640, 480)),
                 (jpeg_header(640, 480, app_bytes=65000), (640, 480)),
                 (b"\xff\xd8\xff\xe1\x00\x10abc", None),           # cut before the frame
                 (b"hello, world", None), (b"", None)]
        for data, size in cases:
            for piece in (1, 7, 1 << 20):
                with self.subTest(data=data[:12], piece=piece):
                    self.assertEqual(self.sniff(data, piece), size)

    def test_multipart_in_any_chunking(self):
        content = b"\r\n--" + BOUNDARY.encode()[:-1] + b"x\r\n" + bytes(range(256)) * 3
        body = (b"preamble\r\n" + multipart({"imgsz": "640", "note": "a\r\nb"}, content,
                                            filename='we"ird.png')[0] + b"epilogue")
        for piece in (1, 2, 3, 5, 64, len(body)):
            with self.subTest(piece=piece):
                form = standin.read_form([body[i:i + piece] for i in range(0, len(body), piece)],
                                         f'multipart/form-data; boundary="{BOUNDARY}"')
                self.assertIsNone(form.malformed)
                self.assertEqual(form.fields, {"imgsz": "640", "note": "a\r\nb"})
                self.assertEqual(form.upload().sha256, hashlib.sha256(content).hexdigest())
                self.assertEqual(form.upload().filename, 'we"ird.png')

    def test_loopback_only(self):
        for host in ("0.0.0.0", "192.168.1.1", "example.com", "::"):
            with self.subTest(host=host), self.assertRaises(ValueError):
                StandIn(host=host)

    def test_stop_is_quick_with_open_connections(self):
        server = StandIn().start()
        body, content_type = multipart({}, PNG)
        headers = {"Content-Type": content_type, **HUB}
        idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        idle.request("POST", "/v1/predict/detect", body, headers)
        idle.getresponse().read()                       # kept alive, now idle
        server.push({"delay": 10})
        waiting = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        waiting.request("POST", "/v1/predict/detect", body, headers)   # answered in 10 s
        time.sleep(0.2)
        started = time.monotonic()
        server.stop()
        self.assertLess(time.monotonic() - started, 1.0)
        with self.assertRaises((http.client.HTTPException, OSError)):
            waiting.getresponse()                       # dropped, not answered
        idle.close()
        waiting.close()

    def test_program_mode(self):
        with tempfile.TemporaryDirectory() as tmp:
            port_file, log_file = Path(tmp, "port"), Path(tmp, "log.jsonl")
            process = subprocess.Popen(
                [sys.executable, str(HERE / "standin.py"), "--port", "0",
                 "--port-file", str(port_file), "--log-file", str(log_file)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.monotonic() + 10
                while not port_file.exists() and time.monotonic() < deadline:
                    time.sleep(0.02)
                port = int(port_file.read_text())
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                body, content_type = multipart({}, PNG)
                conn.request("POST", "/v1/predict/classify", body,
                             {"Content-Type": content_type, **HUB})
                self.assertEqual(conn.getresponse().status, 200)
                conn.close()
                process.send_signal(signal.SIGTERM)
                stdout, _ = process.communicate(timeout=5)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
            self.assertEqual(process.returncode, 0)
            self.assertEqual(stdout, f"standin listening on http://127.0.0.1:{port}\n")
            (line,) = log_file.read_text().splitlines()
            self.assertEqual(json.loads(line)["path"], "/v1/predict/classify")


class AsTheServiceDoes(StandInTest):
    """The strict behaviour of issue 8: today's routes and names, public models, the limiter,
    gzip, chunked answers, x-request-id, 413, cold starts, answer shapes."""

    def test_todays_routes_and_name_rule(self):
        for path in ("/api/models/acme/cars/detect/predict", "/api/deployments/acme/cam/predict",
                     "/api/models/abcDEF/predict", "/predict"):
            with self.subTest(path=path):
                self.assertEqual(self.post_json(path, headers=PLATFORM)[0], 200)
        for path in ("/api/models/Acme/cars/detect/predict", "/api/models/abc/cars/detect/predict",
                     "/api/models/acme/car_s/detect/predict", "/api/models/acme/cars/-x/predict",
                     "/api/models/" + "a" * 33 + "/cars/detect/predict",
                     "/api/deployments/acme/Cam/predict"):
            with self.subTest(path=path):
                status, doc = self.post_json(path, headers=PLATFORM)
                self.assertEqual(status, 404)
                self.assertIn("not a valid name", doc["error"])

    def test_platform_errors_are_error_objects_404_too(self):
        self.assertEqual(self.post_json("/api/nothing", headers=PLATFORM),
                         (404, {"error": "Not found"}))
        self.assertEqual(self.post_json("/api/models/acme/p/notfound/predict", headers=PLATFORM),
                         (404, {"error": "Model not found"}))

    def test_public_models_need_no_key(self):
        status, doc = self.post_json("/api/models/ultralytics/yolo/public-detect/predict", headers={})
        self.assertEqual(status, 200)
        self.assertIn("images", doc)
        self.assertEqual(self.post_json("/api/models/acme/cars/detect/predict", headers={}),
                         (401, {"error": "Authentication required"}))
        # a wrong key is refused even for a public model
        status, _ = self.post_json("/api/models/ultralytics/yolo/public-detect/predict",
                                   headers={"Authorization": "Bearer ul_wrong"})
        self.assertEqual(status, 401)
        # HUB has no public models
        self.assertEqual(self.post_json("/v1/predict/public-detect", headers={})[0], 401)

    def test_request_id_on_every_answer(self):
        ids = set()
        for path, headers in (("/v1/predict/detect", HUB), ("/v1/predict/detect", {}),
                              ("/api/nothing", PLATFORM), ("/predict", PLATFORM)):
            status, answer_headers, _ = self.post(path, headers=headers)
            ids.add(answer_headers["x-request-id"])
        self.assertEqual(len(ids), 4)
        self.assertEqual(self.server.log()[-1]["request_id"], answer_headers["x-request-id"])

    def test_sliding_window_rate_limit(self):
        self.server.set_rate_limit(3, window=2)
        for _ in range(3):
            status, headers, _ = self.post("/api/models/acme/cars/detect/predict", headers=PLATFORM)
            self.assertEqual((status, headers["X-RateLimit-Limit"]), (200, "3"))
        self.assertEqual(headers["X-RateLimit-Remaining"], "0")
        status, headers, body = self.post("/api/models/acme/cars/detect/predict", headers=PLATFORM)
        self.assertEqual(status, 429)
        doc = json.loads(body)
        self.assertEqual(doc["error"], "Rate limit exceeded")
        self.assertEqual(str(doc["retryAfter"]), headers["Retry-After"])
        self.assertIn(int(headers["Retry-After"]), (1, 2))
        self.assertRegex(headers["X-RateLimit-Reset"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(doc["resetAt"], headers["X-RateLimit-Reset"])
        # per key: another key (anonymous on a public model) has its own window
        self.assertEqual(self.post("/api/models/acme/cars/public-detect/predict", headers={})[0], 200)
        # the dedicated endpoint skips Platform's limiter; the window slides
        self.assertEqual(self.post("/predict", headers=PLATFORM)[0], 200)
        time.sleep(2.1)
        self.assertEqual(self.post("/api/models/acme/cars/detect/predict", headers=PLATFORM)[0], 200)
        self.server.reset()                          # back to no limit
        for _ in range(5):
            self.assertEqual(self.post("/api/models/acme/cars/detect/predict", headers=PLATFORM)[0], 200)

    def raw_exchange(self, path, extra_headers=b""):
        body, content_type = multipart({}, PNG)
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
                     f"Authorization: Bearer {PLATFORM_KEY}\r\nConnection: close\r\n"
                     f"Content-Length: {len(body)}\r\n".encode() + extra_headers + b"\r\n" + body)
        data = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
        sock.close()
        head, _, rest = data.partition(b"\r\n\r\n")
        return head.decode("latin-1"), rest

    def test_dedicated_gzip_over_1kb(self):
        big = {"images": [], "pad": "x" * 2000}
        self.server.push({"body": big, "repeat": 4})
        head, rest = self.raw_exchange("/predict", b"Accept-Encoding: gzip\r\n")
        self.assertIn("Content-Encoding: gzip", head)
        doc = json.loads(gzip.decompress(rest))
        self.assertEqual(doc, big)
        head, rest = self.raw_exchange("/predict")             # not asked: not compressed
        self.assertNotIn("Content-Encoding", head)
        head, rest = self.raw_exchange("/api/models/abc/predict", b"Accept-Encoding: gzip\r\n")
        self.assertNotIn("Content-Encoding", head)              # shared routes: only gzip_all
        self.server.gzip_all = True
        head, rest = self.raw_exchange("/api/models/abc/predict", b"Accept-Encoding: gzip\r\n")
        self.assertIn("Content-Encoding: gzip", head)
        self.server.reset()                                     # small answers: never
        head, rest = self.raw_exchange("/predict", b"Accept-Encoding: gzip\r\n")
        self.assertNotIn("Content-Encoding", head)

    def test_chunked_answers(self):
        self.server.chunked = True
        head, rest = self.raw_exchange("/api/models/abc/predict")
        self.assertIn("Transfer-Encoding: chunked", head)
        self.assertNotIn("Content-Length", head)
        self.assertTrue(rest.endswith(b"0\r\n\r\n"))
        self.server.reset()
        self.server.push({"chunked": True})
        status, headers, body = self.post("/v1/predict/detect")  # http.client de-chunks it
        self.assertEqual((status, headers.get("Transfer-Encoding")), (200, "chunked"))
        self.assertIn("images", json.loads(body))

    def test_413_before_the_body_is_read(self):
        for path, limit in (("/api/models/abc/predict", 10 * standin.MB), ("/predict", 100 * standin.MB)):
            with self.subTest(path=path):
                sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
                sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                             f"boundary=b\r\nAuthorization: Bearer {PLATFORM_KEY}\r\n"
                             f"Content-Length: {limit + 1}\r\n\r\n".encode())
                head = sock.recv(65536).decode("latin-1")      # no body byte has been sent
                sock.close()
                self.assertTrue(head.startswith("HTTP/1.1 413 "), head)
                self.assertIn('{"error": "Prediction input too large"}', head)
        # Expect: 100-continue gets the 413 instead of the 100
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        sock.sendall(f"POST /api/models/abc/predict HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     f"Authorization: Bearer {PLATFORM_KEY}\r\nContent-Type: multipart/form-data; "
                     f"boundary=b\r\nContent-Length: {20 * standin.MB}\r\n\r\n".encode())
        head = sock.recv(65536).decode("latin-1")
        sock.close()
        self.assertTrue(head.startswith("HTTP/1.1 413 "), head)
        # under the limit: fine; HUB routes have none by default
        self.assertEqual(self.post("/v1/predict/detect", file=PNG + b"\0" * (11 * standin.MB))[0], 200)
        self.server.upload_limits["hub"] = 100
        self.assertEqual(self.post("/v1/predict/detect")[0], 413)

    def test_cold_start_is_time_based(self):
        self.server.set_cold_start(0.6)
        t0 = time.time()
        status, doc = self.post_json("/predict", headers=PLATFORM)
        self.assertEqual((status, doc), (503, {"error": "Prediction service unavailable"}))
        time.sleep(0.3)
        self.assertEqual(self.post_json("/predict", headers=PLATFORM)[0], 503)
        time.sleep(max(0.0, 0.65 - (time.time() - t0)))
        self.assertEqual(self.post_json("/predict", headers=PLATFORM)[0], 200)

    def test_todays_answers(self):
        _, doc = self.post_json("/api/models/acme/p/classify/predict", headers=PLATFORM)
        results = doc["images"][0]["results"]
        self.assertEqual(len(results), 5)
        confs = [r["confidence"] for r in results]
        self.assertEqual(confs, sorted(confs, reverse=True))
        self.assertEqual(doc["metadata"]["task"], "classify")
        _, doc = self.post_json("/api/models/classify/predict", headers=PLATFORM)   # older route
        self.assertEqual(len(doc["images"][0]["results"]), 2)
        self.assertNotIn("task", doc["metadata"])
        _, doc = self.post_json("/api/models/acme/p/pose-novis/predict", headers=PLATFORM)
        self.assertNotIn("visible", doc["images"][0]["results"][0]["keypoints"])
        _, doc = self.post_json("/api/models/acme/p/pose-visflags/predict", headers=PLATFORM)
        self.assertTrue(set(doc["images"][0]["results"][0]["keypoints"]["visible"]) <= {0, 1, 2})

    def test_older_shapes(self):
        _, doc = self.post_json("/v1/predict/pose-oldshape")
        kpts = doc["images"][0]["results"][0]["keypoints"]
        self.assertIsInstance(kpts, list)
        self.assertEqual(set(kpts[0]), {"x", "y", "conf"})
        _, doc = self.post_json("/v1/predict/obb-oldshape")
        result = doc["images"][0]["results"][0]
        self.assertEqual(set(result["box"]), {"x1", "y1", "x2", "y2"})
        self.assertEqual(set(result["obb"]), {f"{a}{i}" for a in "xy" for i in range(1, 5)})

    def test_bits_for_depth(self):
        _, doc = self.post_json("/api/models/depth/predict", {"bits": "16"}, headers=PLATFORM)
        self.assertEqual(doc["images"][0]["depth"]["bits"], 16)
        for bad in ("9", "32", "x"):
            self.assertEqual(self.post_json("/api/models/depth/predict", {"bits": bad},
                                            headers=PLATFORM)[0], 422)
        self.assertEqual(self.post_json("/v1/predict/depth", {"bits": "8"})[0], 400)

    def test_health_and_status_page(self):
        conn = self.connect()
        for path, want in (("/health", {"status": "healthy"}), ("/", None)):
            conn.request("GET", path)
            response = conn.getresponse()
            doc = json.loads(response.read())
            self.assertEqual(response.status, 200)
            if want:
                self.assertEqual(doc, want)
            else:
                self.assertEqual(doc["status"], "ok")


class OverTLS(unittest.TestCase):
    """The stand-in serves HTTPS with a certificate from a CA made at run time."""

    def test_https_with_a_test_ca(self):
        import ssl
        with tempfile.TemporaryDirectory() as d:
            certs = standin.make_test_certificates(d)
            with StandIn(tls=(certs["cert"], certs["key"])) as server:
                self.assertTrue(server.url.startswith("https://127.0.0.1:"))
                context = ssl.create_default_context(cafile=certs["ca"])
                conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context,
                                                   timeout=10)
                body, content_type = multipart({}, PNG)
                conn.request("POST", "/v1/predict/detect", body, {"Content-Type": content_type, **HUB})
                self.assertEqual(conn.getresponse().status, 200)
                conn.close()
                # without the CA the handshake fails, and the server goes on serving
                with self.assertRaises(ssl.SSLError):
                    bare = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=10,
                                                       context=ssl.create_default_context())
                    bare.request("GET", "/health")
                conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context,
                                                   timeout=10)
                conn.request("GET", "/health")
                self.assertEqual(conn.getresponse().status, 200)


class DedicatedDeployments(StandInTest):
    """Platform's deployments routes: a state machine on the clock, each deployment's own
    serviceUrl on the stand-in, the mutation limit, {"error"} bodies."""

    BASE = "/api/deployments/jane-doe"

    def setUp(self):
        super().setUp()
        self.server.set_deploy_timings(creating=0.2, deploying=0.3, stopping=0.2)

    def call(self, method, path, doc=None, headers=PLATFORM):
        conn = self.connect()
        body = None if doc is None else json.dumps(doc)
        conn.request(method, path, body, {"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    def status(self, name="cam"):
        code, doc = self.call("GET", f"{self.BASE}/{name}")
        self.assertEqual(code, 200, doc)
        return doc["deployment"]["status"]

    def wait_for(self, state, name="cam", limit=5.0):
        seen, deadline = [], time.time() + limit
        while time.time() < deadline:
            now = self.status(name)
            if not seen or seen[-1] != now:
                seen.append(now)
            if now == state:
                return seen
            time.sleep(0.05)
        self.fail(f"{name} never reached {state}: {seen}")

    def test_account_summary(self):
        self.assertEqual(self.call("GET", "/api/account/summary"),
                         (200, standin.DeploymentStore(None).account))
        self.assertEqual(self.call("GET", "/api/account/summary", headers={})[0], 401)

    def test_create_deploys_then_stop_and_start(self):
        code, doc = self.call("POST", self.BASE, {"project": "cams", "model": "yolo11n",
                                                  "deployment": "cam", "name": "Cam",
                                                  "region": "europe-west4"})
        self.assertEqual((code, doc["status"], doc["deployment"]), (201, "creating", "cam"))
        self.assertEqual(self.wait_for("ready"), ["creating", "deploying", "ready"])
        code, doc = self.call("GET", f"{self.BASE}/cam")
        deployment = doc["deployment"]
        self.assertEqual(deployment["serviceUrl"], f"{self.server.url}/_svc/jane-doe/cam")
        for member in ("id", "owner", "deployment", "name", "status", "region", "resources",
                       "createdAt", "updatedAt", "deployedAt", "statusMessage"):
            self.assertIn(member, deployment)
        self.assertEqual(self.call("PATCH", f"{self.BASE}/cam", {"action": "start"})[1]["status"],
                         "ready")                   # already there: 200
        self.assertEqual(self.call("PATCH", f"{self.BASE}/cam", {"action": "stop"})[0], 202)
        self.assertEqual(self.call("PATCH", f"{self.BASE}/cam", {"action": "stop"})[0], 400)
        self.assertEqual(self.wait_for("stopped"), ["stopping", "stopped"])
        self.assertEqual(self.call("PATCH", f"{self.BASE}/cam", {"action": "stop"})[0], 200)
        self.assertEqual(self.call("PATCH", f"{self.BASE}/cam", {"action": "start"})[0], 202)
        code, doc = self.call("PATCH", f"{self.BASE}/cam", {"action": "start"})
        self.assertEqual((code, doc), (400, {"error": "Deployment is already starting (deploying)"}))
        self.assertEqual(self.wait_for("ready"), ["deploying", "ready"])
        self.assertEqual(self.call("DELETE", f"{self.BASE}/cam"), (200, {"success": True}))
        self.assertEqual(self.call("GET", f"{self.BASE}/cam")[0], 404)

    def test_create_refusals_and_failure(self):
        good = {"project": "cams", "model": "yolo11n", "deployment": "cam", "name": "Cam",
                "region": "us-central1"}
        for change, code in (({"region": "mars-1"}, 400), ({"deployment": "Cam"}, 400),
                             ({"model": "notfound"}, 404)):
            self.assertEqual(self.call("POST", self.BASE, {**good, **change})[0], code, change)
        self.assertEqual(self.call("POST", self.BASE, {k: v for k, v in good.items()
                                                       if k != "name"})[0], 400)
        self.assertEqual(self.call("POST", self.BASE, good)[0], 201)
        self.assertEqual(self.call("POST", self.BASE, good)[0], 409)
        self.call("POST", self.BASE, {**good, "deployment": "bad", "model": "failing-model"})
        self.assertEqual(self.wait_for("failed", "bad")[-2:], ["deploying", "failed"])
        code, doc = self.call("GET", f"{self.BASE}/bad")
        self.assertIn("weights", doc["deployment"]["statusMessage"])
        self.assertEqual(self.call("GET", "/api/deployments/someone-else")[0], 403)
        self.assertEqual(self.call("GET", self.BASE, headers={})[0], 401)

    def test_list_filters_and_limits(self):
        self.server.add_deployment("one", status="ready")
        self.server.add_deployment("two", status="stopped", model="yolo11s")
        code, doc = self.call("GET", self.BASE)
        self.assertEqual([d["deployment"] for d in doc["deployments"]], ["one", "two"])
        self.assertEqual(doc["total"], 2)
        code, doc = self.call("GET", f"{self.BASE}?status=stopped&limit=5")
        self.assertEqual([d["deployment"] for d in doc["deployments"]], ["two"])
        code, doc = self.call("GET", f"{self.BASE}?model=cams/yolo11s")
        self.assertEqual([d["deployment"] for d in doc["deployments"]], ["two"])
        code, doc = self.call("GET", f"{self.BASE}?limit=1")
        self.assertEqual((len(doc["deployments"]), doc["total"]), (1, 2))
        for query in ("status=asleep", "limit=0", "limit=101", "model=nope"):
            self.assertEqual(self.call("GET", f"{self.BASE}?{query}")[0], 400, query)

    def test_service_url_answers_503_until_ready(self):
        self.server.add_deployment("cam", status="stopped", model="yolo11n-segment")
        self.server.set_deploy_timings(deploying=0.5)
        path = "/_svc/jane-doe/cam/predict"
        self.assertEqual(self.post(path, headers=PLATFORM)[0], 503)
        self.call("PATCH", f"{self.BASE}/cam", {"action": "start"})
        code, _, body = self.post(path, headers=PLATFORM)
        self.assertEqual((code, json.loads(body)), (503, {"error": "Prediction service unavailable"}))
        self.assertEqual(self.call("GET", f"{self.BASE}/cam/health")[1]["healthy"], False)
        self.wait_for("ready")
        self.assertEqual(self.call("GET", "/_svc/jane-doe/cam/health"), (200, {"status": "healthy"}))
        health = self.call("GET", f"{self.BASE}/cam/health")[1]
        self.assertEqual((health["healthy"], health["status"]), (True, 200))
        code, _, body = self.post(path, headers={**PLATFORM, "Accept-Encoding": "gzip"})
        self.assertEqual((code, json.loads(body)["metadata"]["task"]), (200, "segment"))
        self.server.push({"match": "/_svc/", "body": {"images": [], "pad": "x" * 2000}})
        code, headers, body = self.post(path, headers={**PLATFORM, "Accept-Encoding": "gzip"})
        self.assertEqual((code, headers.get("Content-Encoding")), (200, "gzip"))
        self.assertEqual(len(json.loads(gzip.decompress(body))["pad"]), 2000)
        self.assertEqual(self.post(path, headers={})[0], 401)
        self.server.set_rate_limit(1)               # Platform's limiter: not on serviceUrl
        for _ in range(3):
            self.assertEqual(self.post(path, headers=PLATFORM)[0], 200)
        logs = self.call("GET", f"{self.BASE}/cam/logs?limit=200")[1]["entries"]
        served = [e for e in logs if e.get("httpRequest", {}).get("url", "").endswith("/predict")]
        self.assertEqual([e["httpRequest"]["status"] for e in served], [200] * 4 + [503, 503])
        metrics = self.call("GET", f"{self.BASE}/cam/metrics?range=1h")[1]
        # the pattern's last bucket (0) plus the 4 unscripted 200s
        self.assertEqual(metrics["timeSeries"]["requests"][-1]["value"], 4)

    def test_logs_and_metrics_documents(self):
        self.server.add_deployment("cam", status="ready")
        for _ in range(3):
            self.call("GET", f"{self.BASE}/cam/health")
        code, doc = self.call("GET", f"{self.BASE}/cam/logs?limit=2")
        self.assertEqual(len(doc["entries"]), 2)
        for entry in doc["entries"]:
            self.assertEqual(set(entry) - {"httpRequest"}, {"timestamp", "severity", "message"})
        code, more = self.call("GET", f"{self.BASE}/cam/logs?limit=2&pageToken={doc['nextPageToken']}")
        self.assertEqual(len(more["entries"]), 2)
        self.assertNotIn("nextPageToken", more)
        code, doc = self.call("GET", f"{self.BASE}/cam/logs?severity=ERROR,CRITICAL")
        self.assertEqual((code, doc["entries"]), (200, []))
        for query in ("severity=LOUD", "limit=201", "pageToken=%25%25"):
            self.assertEqual(self.call("GET", f"{self.BASE}/cam/logs?{query}")[0], 400, query)
        code, doc = self.call("GET", f"{self.BASE}/cam/metrics")
        self.assertEqual(set(doc), {"deploymentId", "region", "timeRange", "summary", "timeSeries"})
        self.assertEqual(set(doc["timeSeries"]), {"requests", "errors", "latencyP50", "latencyP95",
                                                  "cpuUtilization", "memoryUtilization",
                                                  "instanceCount"})
        self.assertEqual(doc["summary"]["totalRequests"],
                         sum(p["value"] for p in doc["timeSeries"]["requests"]))
        code, doc = self.call("GET", f"{self.BASE}/cam/metrics?sparkline=true")
        self.assertEqual(set(doc), {"requests24h", "totalRequests", "errorRate", "avgLatencyMs"})
        self.assertEqual(self.call("GET", f"{self.BASE}/cam/metrics?range=2d")[0], 400)

    def test_races_mutation_limit_and_scripts(self):
        self.server.add_deployment("cam", status="stopped")
        self.server.deployments.set_race("cam", "deploying")
        code, doc = self.call("PATCH", f"{self.BASE}/cam", {"action": "start"})
        self.assertEqual(code, 409)
        self.assertIn("error", doc)
        self.assertEqual(self.status(), "deploying")
        self.server.set_mutation_limit(2)
        self.call("PATCH", f"{self.BASE}/cam", {"action": "start"})
        self.assertEqual(self.call("PATCH", f"{self.BASE}/cam", {"action": "start"})[0], 400)
        code, doc = self.call("PATCH", f"{self.BASE}/cam", {"action": "start"})
        self.assertEqual((code, doc["error"]), (429, "Rate limit exceeded"))
        self.assertEqual(self.call("GET", f"{self.BASE}/cam")[0], 200)   # reads are not limited
        self.server.push({"match": "/api/deployments/", "status": 502})
        self.assertEqual(self.call("GET", f"{self.BASE}/cam")[0], 502)
        self.assertEqual(self.call("PATCH", f"{self.BASE}/cam", {"action": "go"})[0], 429)
        self.server.set_mutation_limit(None)
        self.assertEqual(self.call("PATCH", f"{self.BASE}/cam", {"action": "go"})[0], 400)
        records = [r for r in self.server.log() if r["method"] == "PATCH"]
        self.assertEqual(records[0]["json"], {"action": "start"})


if __name__ == "__main__":
    unittest.main()
