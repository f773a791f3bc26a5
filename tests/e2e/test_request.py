"""The request itself (SPEC 2): what the stand-in received, byte for byte and header by header."""

import os
import re
import subprocess
import time
import unittest

from harness import E2E, HUB_KEY, PLATFORM_KEY, UNDER_TOOL, image, sha256_of

HUB_DEFAULTS = {"imgsz": "640", "conf": "0.25", "iou": "0.45"}
PLATFORM_DEFAULTS = {"imgsz": "640", "conf": "0.25", "iou": "0.7"}
PNG_HEAD = 33           # signature (8) + IHDR chunk (25): enough for the stand-in to size it


class RequestCase(E2E):
    """Helpers shared by the request tests."""

    def only_request(self):
        log = self.server.log()
        self.assertEqual(len(log), 1, log)
        return log[0]

    def assertFile(self, rec, path, filename=None, content_type=None):
        f = rec["file"]
        self.assertIsNotNone(f, rec)
        self.assertEqual(f["name"], "file")
        self.assertEqual(f["filename"], filename or os.path.basename(path))
        if content_type:
            self.assertEqual(f["content_type"], content_type)
        self.assertEqual(f["size"], os.path.getsize(path))
        self.assertEqual(f["sha256"], sha256_of(path))

    def assertHubAuth(self, rec, key=HUB_KEY):
        self.assertEqual(rec["headers"].get("x-api-key"), key)
        self.assertNotIn("authorization", rec["headers"])

    def assertPlatformAuth(self, rec, key=PLATFORM_KEY):
        self.assertEqual(rec["headers"].get("authorization"), f"Bearer {key}")
        self.assertNotIn("x-api-key", rec["headers"])

    def version(self):
        r = self.run_hp("-V", key=None)
        self.assertExit(r, 0)
        m = re.fullmatch(r"hubpredict (\d+\.\d+\.\d+\S*)", r.out.splitlines()[0])
        self.assertTrue(m, r)
        return m.group(1)


class TestHubFlavour(RequestCase):

    def test_request_shape(self):
        img = image("cat.png")
        r = self.run_hp("-u", self.hub_url("detect"), img)
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertEqual(rec["method"], "POST")
        self.assertEqual(rec["path"], "/v1/predict/detect")
        self.assertEqual(rec["query"], "")
        self.assertHubAuth(rec)
        # imgsz, conf and iou always sent, nothing Platform-only
        self.assertEqual(rec["fields"], HUB_DEFAULTS)
        for name in ("normalize", "decimals", "source"):
            self.assertNotIn(name, rec["fields"])
        self.assertFile(rec, img, content_type="image/png")
        self.assertEqual(rec["headers"].get("user-agent"), "hubpredict/" + self.version())
        self.assertRegex(rec["headers"].get("content-type", ""),
                         r"^multipart/form-data; boundary=\S+$")
        self.assertEqual(rec["status"], 200)
        # streamed with a Content-Length, not chunked
        self.assertNotIn("transfer-encoding", rec["headers"])
        self.assertGreater(int(rec["headers"].get("content-length", "0")), os.path.getsize(img))

    def test_content_types(self):
        cases = [("street.jpg", "image/jpeg"), ("cat.png", "image/png"), ("clip.mp4", "video/mp4"),
                 ("tiny.gif", "image/gif")]
        r = self.run_hp("-u", self.hub_url(), "-j", "1", *[image(n) for n in dict(cases)])
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual(len(log), len(cases))
        for rec, (name, ctype) in zip(log, cases):
            with self.subTest(name=name):
                self.assertFile(rec, image(name), content_type=ctype)
                self.assertEqual(rec["fields"], HUB_DEFAULTS)

    def test_explicit_values_sent_exactly(self):
        r = self.run_hp("-u", self.hub_url(), "-s", "320", "-c", "0.5", "-i", "0.3", image("cat.png"))
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["fields"], {"imgsz": "320", "conf": "0.5", "iou": "0.3"})

    def test_range_edges_sent_exactly(self):
        r = self.run_hp("-u", self.hub_url(), "-s", "1280", "-c", "1", "-i", "0", image("cat.png"))
        self.assertExit(r, 0)
        fields = self.only_request()["fields"]
        self.assertEqual(fields["imgsz"], "1280")
        self.assertEqual(float(fields["conf"]), 1.0)
        self.assertEqual(float(fields["iou"]), 0.0)

    def test_api_hub_with_ul_key_uses_x_api_key(self):
        self.server.push({"skip_auth": True})
        r = self.run_hp("--api", "hub", "-u", self.hub_url(), image("cat.png"), key=PLATFORM_KEY)
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertHubAuth(rec, PLATFORM_KEY)
        self.assertEqual(rec["fields"], HUB_DEFAULTS)


class TestPlatformFlavour(RequestCase):

    def test_ul_key_chooses_platform(self):
        img = image("street.jpg")
        r = self.run_hp("-u", self.platform_url("detect"), img, key=PLATFORM_KEY)
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertEqual(rec["method"], "POST")
        self.assertEqual(rec["path"], "/api/models/detect/predict")
        self.assertPlatformAuth(rec)
        self.assertEqual(rec["fields"], PLATFORM_DEFAULTS)
        self.assertFile(rec, img, content_type="image/jpeg")
        self.assertEqual(rec["headers"].get("user-agent"), "hubpredict/" + self.version())
        self.assertRegex(rec["headers"].get("content-type", ""), r"^multipart/form-data; boundary=\S+$")

    def test_normalize_and_decimals(self):
        r = self.run_hp("-u", self.platform_url(), "--normalize", "--decimals", "3", "-f", "json",
                        image("cat.png"), key=PLATFORM_KEY)
        self.assertExit(r, 0)
        fields = self.only_request()["fields"]
        self.assertEqual(fields, dict(PLATFORM_DEFAULTS, normalize="true", decimals="3"))
        box = r.json()[0]["response"]["images"][0]["results"][0]["box"]
        self.assertTrue(all(0 <= v <= 1 for v in box.values()), box)
        # each alone
        self.server.reset()
        self.assertExit(self.run_hp("-u", self.platform_url(), "--decimals", "0", image("cat.png"),
                                    key=PLATFORM_KEY), 0)
        self.assertEqual(self.only_request()["fields"], dict(PLATFORM_DEFAULTS, decimals="0"))
        self.server.reset()
        self.assertExit(self.run_hp("-u", self.platform_url(), "--normalize", image("cat.png"),
                                    key=PLATFORM_KEY), 0)
        self.assertEqual(self.only_request()["fields"], dict(PLATFORM_DEFAULTS, normalize="true"))

    def test_owner_project_model_route(self):
        url = f"{self.server.url}/api/models/acme/cars/detect/predict"
        r = self.run_hp("-u", url, image("cat.png"), key=PLATFORM_KEY)
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertEqual(rec["path"], "/api/models/acme/cars/detect/predict")
        self.assertPlatformAuth(rec)
        # -m owner/project/model builds the shared Platform URL for it
        r = self.run_hp("--dry-run", "-m", "acme/cars/yolo11n", image("cat.png"), key=PLATFORM_KEY)
        self.assertExit(r, 0)
        self.assertIn("'https://platform.ultralytics.com/api/models/acme/cars/yolo11n/predict'", r.out)

    def test_api_platform_with_hub_looking_key(self):
        self.server.push({"skip_auth": True})
        r = self.run_hp("--api", "platform", "-u", self.platform_url(), image("cat.png"), key=HUB_KEY)
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertPlatformAuth(rec, HUB_KEY)
        self.assertEqual(rec["fields"], PLATFORM_DEFAULTS)

    def test_explicit_values_sent_exactly(self):
        r = self.run_hp("-u", self.platform_url(), "-s", "320", "-c", "0.5", "-i", "0.3", image("cat.png"),
                        key=PLATFORM_KEY)
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["fields"], {"imgsz": "320", "conf": "0.5", "iou": "0.3"})


class TestUrlInput(RequestCase):
    """SPEC 1: with --api platform an http(s) INPUT goes as the `source` field, not a file."""

    def test_platform_url_input_sent_as_source(self):
        src = "https://example.com/images/bus.jpg"
        r = self.run_hp("-u", self.platform_url(), src, key=PLATFORM_KEY)
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertIsNone(rec["file"])
        self.assertEqual(rec["fields"], dict(PLATFORM_DEFAULTS, source=src))

    def test_hub_url_input_is_usage_error(self):
        r = self.run_hp("-u", self.hub_url(), "https://example.com/images/bus.jpg")
        self.assertExit(r, 2)
        self.assertIn("try 'hubpredict --help'", r.err)
        self.assertEqual(self.server.log(), [])


class TestUrls(RequestCase):

    def test_platform_empty_path_gets_predict(self):
        for url in (self.server.url, self.server.url + "/"):
            with self.subTest(url=url):
                self.server.reset()
                r = self.run_hp("-u", url, image("cat.png"), key=PLATFORM_KEY)
                self.assertExit(r, 0)
                rec = self.only_request()
                self.assertEqual(rec["path"], "/predict")
                self.assertPlatformAuth(rec)

    def test_hub_empty_path_posted_as_given(self):
        r = self.run_hp("-u", self.server.url, image("cat.png"))
        self.assertExit(r, 5)       # the stand-in has nothing at /
        rec = self.only_request()
        self.assertEqual(rec["method"], "POST")
        self.assertEqual(rec["path"], "/")
        self.assertHubAuth(rec)
        self.assertOneLineError(r, "cat.png", "404")

    def test_hub_dedicated(self):
        r = self.run_hp("-u", f"{self.server.url}/dedicated/detect", image("cat.png"))
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertEqual(rec["path"], "/dedicated/detect")
        self.assertHubAuth(rec)
        self.assertEqual(rec["fields"], HUB_DEFAULTS)

    def test_env_url(self):
        r = self.run_hp(image("cat.png"), env={"HUBPREDICT_URL": self.hub_url("classify")})
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["path"], "/v1/predict/classify")
        # -u wins over the environment
        self.server.reset()
        r = self.run_hp("-u", self.hub_url("segment"), image("cat.png"),
                        env={"HUBPREDICT_URL": self.hub_url("classify")})
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["path"], "/v1/predict/segment")

    def test_env_model(self):
        r = self.run_hp("--dry-run", image("cat.png"), env={"HUBPREDICT_MODEL": "abcDEF123"})
        self.assertExit(r, 0)
        self.assertTrue(r.out.startswith("curl -X POST 'https://api.ultralytics.com/v1/predict/abcDEF123' "), r)
        r = self.run_hp("--dry-run", image("cat.png"), key=PLATFORM_KEY, env={"HUBPREDICT_MODEL": "abcDEF123"})
        self.assertExit(r, 0)
        self.assertIn("'https://platform.ultralytics.com/api/models/abcDEF123/predict'", r.out)
        # -m wins over the environment; -u makes the model unnecessary
        r = self.run_hp("--dry-run", "-m", "other", image("cat.png"), env={"HUBPREDICT_MODEL": "abcDEF123"})
        self.assertIn("/v1/predict/other'", r.out)
        r = self.run_hp("--dry-run", "-u", self.hub_url("xyz"), image("cat.png"),
                        env={"HUBPREDICT_MODEL": "abcDEF123"})
        self.assertIn(f"'{self.hub_url('xyz')}'", r.out)
        self.assertEqual(self.server.log(), [])


class TestBytes(RequestCase):

    def test_large_file_arrives_whole(self):
        with open(image("cat.png"), "rb") as f:
            head = f.read(PNG_HEAD)
        self.assertEqual(head[12:16], b"IHDR")
        big = self.write("big.png", head + os.urandom(40 * 1024 * 1024 - PNG_HEAD))
        r = self.run_hp("-u", self.hub_url(), big)
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertFile(rec, big, content_type="image/png")
        self.assertEqual(rec["file"]["size"], 40 * 1024 * 1024)
        self.assertEqual(rec["fields"], HUB_DEFAULTS)

    def test_stdin_png_and_jpeg(self):
        for name, sent_as in (("cat.png", "stdin.png"), ("street.jpg", "stdin.jpg")):
            with self.subTest(name=name):
                self.server.reset()
                with open(image(name), "rb") as f:
                    data = f.read()
                r = self.run_hp("-u", self.hub_url(), "-", stdin=data)
                self.assertExit(r, 0)
                rec = self.only_request()
                self.assertFile(rec, image(name), filename=sent_as,
                                content_type="image/png" if sent_as.endswith("png") else "image/jpeg")
                self.assertEqual(rec["fields"], HUB_DEFAULTS)

    def test_large_upload_memory_stays_flat(self):
        """SPEC 2: streamed from disk, so memory does not grow with the file (stdin too)."""
        if UNDER_TOOL:
            self.skipTest("memory is measured in the plain build: valgrind and ASan inflate RSS")
        with open(image("cat.png"), "rb") as f:
            data = f.read(PNG_HEAD) + os.urandom(40 * 1024 * 1024 - PNG_HEAD)
        big = self.write("big.png", data)
        for args in ([big], ["-"]):
            with self.subTest(args=args):
                self.server.reset()
                self.server.push({"delay": 0.3})     # keeps it alive after the upload
                with open(big, "rb") as stdin:
                    p = self.popen_hp("-u", self.hub_url(), *args, stdin=stdin, wrapper=False,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    peak_kib = 0
                    while p.poll() is None:
                        try:
                            with open(f"/proc/{p.pid}/status") as f:
                                for ln in f:
                                    if ln.startswith("VmHWM:"):
                                        peak_kib = max(peak_kib, int(ln.split()[1]))
                        except OSError:
                            pass
                        time.sleep(0.01)
                    r = self.wait_hp(p, timeout=30)
                self.assertExit(r, 0)
                self.assertEqual(self.only_request()["file"]["sha256"], sha256_of(big))
                self.assertGreater(peak_kib, 0)
                self.assertLess(peak_kib, 32 * 1024, f"peak RSS {peak_kib} KiB for a 40 MiB upload")

    def test_retry_resends_the_same_bytes(self):
        with open(image("cat.png"), "rb") as f:
            data = f.read(PNG_HEAD) + os.urandom(2 * 1024 * 1024)
        path = self.write("retry.png", data)
        for args, stdin in (([path], None), (["-"], data)):
            with self.subTest(args=args):
                self.server.reset()
                self.server.push({"status": 503, "headers": {"Retry-After": "0"}})
                r = self.run_hp("-u", self.hub_url(), *args, stdin=stdin)
                self.assertExit(r, 0)
                log = self.server.log()
                self.assertEqual([rec["status"] for rec in log], [503, 200])
                for rec in log:
                    self.assertEqual(rec["file"]["sha256"], sha256_of(path))
                    self.assertEqual(rec["file"]["size"], len(data))
                    self.assertEqual(rec["fields"], HUB_DEFAULTS)
                    self.assertHubAuth(rec)

    def test_stdin_large_random(self):
        with open(image("cat.png"), "rb") as f:
            data = f.read(PNG_HEAD) + os.urandom(3 * 1024 * 1024)
        path = self.write("stdin-copy.png", data)
        r = self.run_hp("-u", self.hub_url(), "-", stdin=data)
        self.assertExit(r, 0)
        self.assertFile(self.only_request(), path, filename="stdin.png")


class TestRedirect(RequestCase):

    def test_same_origin_redirect_followed(self):
        img = image("street.jpg")
        self.server.push({"match": "/v1/predict/detect", "redirect": self.hub_url("moved-detect")})
        r = self.run_hp("-u", self.hub_url("detect"), "-f", "json", img)
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual([rec["path"] for rec in log], ["/v1/predict/detect", "/v1/predict/moved-detect"])
        self.assertEqual([rec["status"] for rec in log], [307, 200])
        for rec in log:
            self.assertEqual(rec["method"], "POST")
            self.assertHubAuth(rec)
            self.assertFile(rec, img)
            self.assertEqual(rec["fields"], HUB_DEFAULTS)
        env = r.json()[0]
        self.assertEqual(env["http_status"], 200)
        self.assertEqual(env["task"], "detect")

    def test_relative_and_308_redirects(self):
        self.server.push({"redirect": "/v1/predict/moved-segment", "status": 308})
        r = self.run_hp("-u", self.hub_url("detect"), image("cat.png"))
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual([rec["path"] for rec in log], ["/v1/predict/detect", "/v1/predict/moved-segment"])
        for rec in log:
            self.assertEqual(rec["file"]["sha256"], sha256_of(image("cat.png")))
            self.assertHubAuth(rec)
        self.assertIn("segment", r.out.splitlines()[0])

    def test_at_most_three_redirects(self):
        hops = [self.hub_url(f"hop{i}-detect") for i in range(1, 5)]
        self.server.push_many([{"match": "/v1/predict/detect", "redirect": hops[0]},
                               {"match": "hop1", "redirect": hops[1]},
                               {"match": "hop2", "redirect": hops[2]}])
        r = self.run_hp("-u", self.hub_url("detect"), image("cat.png"))
        self.assertExit(r, 0)
        self.assertEqual(len(self.server.log()), 4)
        self.server.reset()
        self.server.push_many([{"match": "/v1/predict/detect", "redirect": hops[0]},
                               {"match": "hop1", "redirect": hops[1]},
                               {"match": "hop2", "redirect": hops[2]},
                               {"match": "hop3", "redirect": hops[3]}])
        r = self.run_hp("-u", self.hub_url("detect"), image("cat.png"))
        self.assertExit(r, 10)
        self.assertEqual(len(self.server.log()), 4)      # the fourth redirect is not followed
        self.assertOneLineError(r, "cat.png", "redirect")

    def test_other_origin_redirect_refused(self):
        other = self.hub_url("detect").replace("127.0.0.1", "localhost")
        self.server.push({"redirect": other})
        r = self.run_hp("-u", self.hub_url("detect"), image("cat.png"))
        self.assertExit(r, 10)
        self.assertEqual(len(self.server.log()), 1)
        self.assertOneLineError(r, "cat.png", "localhost")
        # another port or another scheme on the same host is another origin too
        for other in (f"http://127.0.0.1:{self.server.port + 1}/v1/predict/detect",
                      f"https://127.0.0.1:{self.server.port}/v1/predict/detect"):
            with self.subTest(location=other):
                self.server.reset()
                self.server.push({"redirect": other})
                r = self.run_hp("-u", self.hub_url("detect"), image("cat.png"))
                self.assertExit(r, 10)
                self.assertEqual(len(self.server.log()), 1)
                self.assertOneLineError(r, "cat.png", other)


class TestSeveralInputs(RequestCase):

    IMGS = ["street.jpg", "cat.png", "people.png", "aerial.png", "tiny.gif", "clip.mp4"]

    def test_one_request_each_in_order_with_one_job(self):
        paths = [image(n) for n in self.IMGS]
        r = self.run_hp("-u", self.hub_url(), "-j", "1", "-f", "jsonl", *paths)
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual([rec["file"]["filename"] for rec in log], self.IMGS)
        for rec, p in zip(log, paths):
            self.assertFile(rec, p)
        self.assertEqual([e["file"] for e in r.jsonl()], paths)

    def test_output_in_input_order_whatever_finishes_first(self):
        self.server.set_latency(0.0, 0.05)
        paths = [image(n) for n in self.IMGS]
        for fmt in ("jsonl", "json"):
            with self.subTest(fmt=fmt):
                self.server.reset()
                r = self.run_hp("-u", self.hub_url(), "-f", fmt, *paths)
                self.assertExit(r, 0)
                envs = r.jsonl() if fmt == "jsonl" else r.json()
                self.assertEqual([e["file"] for e in envs], paths)
                self.assertEqual(sorted(rec["file"]["filename"] for rec in self.server.log()),
                                 sorted(self.IMGS))
        r = self.run_hp("-u", self.hub_url(), *paths)
        headers = [ln.split("  ")[0] for ln in r.out.splitlines() if ln.startswith(os.sep)]
        self.assertEqual(headers, paths)

    def test_keep_alive_with_one_job(self):
        r = self.run_hp("-u", self.hub_url(), "-j", "1", image("cat.png"), image("people.png"),
                        image("street.jpg"))
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual(len(log), 3)
        self.assertEqual(len({rec["conn_id"] for rec in log}), 1, [rec["conn_id"] for rec in log])


class TestDryRun(RequestCase):

    def odd_file(self):
        """A copy of cat.png whose name has a space, a single quote, a semicolon and a comma."""
        with open(image("cat.png"), "rb") as f:
            return self.write("my cat's; best, photo.png", f.read())

    def test_prints_curl_sends_nothing_needs_no_key(self):
        imgs = [image("cat.png"), image("street.jpg")]
        r = self.run_hp("--dry-run", "-u", self.hub_url(), *imgs, key=None)
        self.assertExit(r, 0)
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 2, r)
        for ln in lines:
            self.assertTrue(ln.startswith("curl "), ln)
            self.assertIn('"x-api-key: $ULTRALYTICS_API_KEY"', ln)
            self.assertNotIn("Authorization", ln)
            for f in ("-F imgsz=640", "-F conf=0.25", "-F iou=0.45"):
                self.assertIn(f, ln)
            self.assertIn(f"'{self.hub_url()}'", ln)
        self.assertEqual(self.server.log(), [])

    def test_platform_header(self):
        r = self.run_hp("--dry-run", "-u", self.platform_url(), "--normalize", "--decimals", "3",
                        image("cat.png"), key=None, env={"ULTRALYTICS_API_KEY": ""})
        self.assertExit(r, 2)       # hub by default without a key: --normalize is Platform only
        r = self.run_hp("--dry-run", "--api", "platform", "-u", self.platform_url(), "--normalize",
                        "--decimals", "3", image("cat.png"), key=None)
        self.assertExit(r, 0)
        self.assertNotIn("Authorization", r.out)     # no key: none sent (public models), none printed
        r = self.run_hp("--dry-run", "-u", self.platform_url(), "--normalize", "--decimals", "3",
                        image("cat.png"), key=PLATFORM_KEY)
        self.assertExit(r, 0)
        ln = r.out.strip()
        self.assertIn('"Authorization: Bearer $ULTRALYTICS_API_KEY"', ln)
        self.assertNotIn("x-api-key", ln)
        for f in ("-F imgsz=640", "-F conf=0.25", "-F iou=0.7", "-F normalize=true", "-F decimals=3"):
            self.assertIn(f, ln)
        self.assertEqual(self.server.log(), [])

    def test_missing_input_exits_3(self):
        r = self.run_hp("--dry-run", "-u", self.hub_url(), image("cat.png"), self.path("missing.jpg"), key=None)
        self.assertExit(r, 3)
        self.assertEqual(len(r.out.splitlines()), 1)     # the good input still gets its command
        self.assertOneLineError(r, "missing.jpg")
        self.assertEqual(self.server.log(), [])

    def test_checks_inputs_like_a_real_run(self):
        d = os.path.join(self.tmp.name, "dir")
        os.makedirs(d)
        with open(image("cat.png"), "rb") as f:
            data = f.read()
        for name in ("b.png", "a.jpg", "notes.txt"):
            self.write(os.path.join("dir", name), data)
        empty = self.write("empty.png", b"")
        r = self.run_hp("--dry-run", "-u", self.hub_url(), d, key=None)
        self.assertExit(r, 0)
        self.assertEqual(len(r.out.splitlines()), 2, r)
        self.assertIn("a.jpg", r.out.splitlines()[0])
        self.assertIn("b.png", r.out.splitlines()[1])
        r = self.run_hp("--dry-run", "-u", self.hub_url(), empty, key=None)
        self.assertExit(r, 3)
        self.assertEqual(r.out, "")
        self.assertOneLineError(r, "empty.png", "empty")
        self.assertEqual(self.server.log(), [])

    def run_printed(self, cmd, key, stdin=b""):
        # curl's environment as hubpredict's: no ~/.curlrc nor the developer's variables
        p = subprocess.run(["bash", "-c", cmd], input=stdin, capture_output=True, env=self.hp_env(key), timeout=30)
        self.assertEqual(p.returncode, 0, p)
        return p.stdout

    def assertSameRequest(self, a, b):
        self.assertEqual(a["method"], b["method"])
        self.assertEqual(a["path"], b["path"])
        self.assertEqual(a["fields"], b["fields"])
        for name in ("x-api-key", "authorization", "user-agent"):
            self.assertEqual(a["headers"].get(name), b["headers"].get(name), name)
        for name in ("name", "filename", "size", "sha256"):
            self.assertEqual(a["file"][name], b["file"][name], name)

    def check_honest(self, key, args, path, stdin=b""):
        """hubpredict's request and its --dry-run command's request are the same."""
        self.server.reset()
        r = self.run_hp(*args, "-f", "raw", path, key=key, stdin=stdin)
        self.assertExit(r, 0)
        real = self.only_request()
        d = self.run_hp("--dry-run", *args, path, key=key)
        self.assertExit(d, 0)
        cmds = d.out.splitlines()
        self.assertEqual(len(cmds), 1, d)
        self.assertEqual(len(self.server.log()), 1)      # the dry run sent nothing
        self.assertIn("$ULTRALYTICS_API_KEY", cmds[0])
        self.assertNotIn(key, cmds[0])
        self.server.reset()
        body = self.run_printed(cmds[0], key, stdin=stdin)
        curl = self.only_request()
        self.assertEqual(curl["status"], 200, curl)
        self.assertSameRequest(real, curl)
        self.assertEqual(body, r.out_bytes)              # same request, same answer
        return real, curl

    def test_printed_command_is_honest_hub(self):
        odd = self.odd_file()
        real, _ = self.check_honest(HUB_KEY, ["-u", self.hub_url()], odd)
        self.assertEqual(real["file"]["filename"], "my cat's; best, photo.png")
        self.assertFile(real, odd)
        self.check_honest(HUB_KEY, ["-u", self.hub_url(), "-s", "320", "-c", "0.5", "-i", "0.3"],
                          image("street.jpg"))

    def test_printed_command_is_honest_platform(self):
        odd = self.odd_file()
        real, _ = self.check_honest(PLATFORM_KEY, ["-u", self.platform_url(), "--normalize", "--decimals", "3"],
                                    odd)
        self.assertPlatformAuth(real)
        self.assertEqual(real["fields"], dict(PLATFORM_DEFAULTS, normalize="true", decimals="3"))

    def test_printed_command_is_honest_relative_odd_names(self):
        # names with a double quote and a backslash too, given relative to the current directory
        with open(image("cat.png"), "rb") as f:
            data = f.read()
        for name in ('say "cheese".png', "back\\slash.png", "-dash.png", "$HOME.png"):
            with self.subTest(name=name):
                self.write(name, data)
                self.server.reset()
                old = os.getcwd()
                os.chdir(self.tmp.name)
                try:
                    real, curl = self.check_honest(HUB_KEY, ["-u", self.hub_url()], "./" + name)
                finally:
                    os.chdir(old)
                self.assertEqual(real["file"]["sha256"], sha256_of(self.path(name)))

    def test_printed_command_stdin(self):
        with open(image("cat.png"), "rb") as f:
            data = f.read()
        d = self.run_hp("--dry-run", "-u", self.hub_url(), "-", key=None, stdin=data)
        self.assertExit(d, 0)
        self.assertIn("file=@-;filename=\"stdin.png\";type=image/png", d.out)   # read for its name, as the run
        self.server.reset()
        self.run_printed(d.out.strip(), HUB_KEY, stdin=data)
        rec = self.only_request()
        self.assertEqual(rec["file"]["sha256"], sha256_of(image("cat.png")))
        self.assertHubAuth(rec)
        self.assertEqual(rec["fields"], HUB_DEFAULTS)


class TestInsecure(RequestCase):

    def test_warning_and_quiet(self):
        r = self.run_hp("--insecure", "-u", self.hub_url(), image("cat.png"))
        self.assertExit(r, 0)
        warnings = [ln for ln in r.err.splitlines() if ln.startswith("hubpredict: warning: --insecure: ")]
        self.assertEqual(len(warnings), 1, r)
        self.assertEqual(len(r.err.splitlines()), 1, r)
        r = self.run_hp("--insecure", "-q", "-u", self.hub_url(), image("cat.png"))
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        self.assertTrue(r.out)
        # the dry run carries it too
        r = self.run_hp("--dry-run", "--insecure", "-u", self.hub_url(), image("cat.png"), key=None)
        self.assertIn(" --insecure", r.out)


if __name__ == "__main__":
    unittest.main()
