"""SPEC 6: flavour, public models, names, where the endpoint comes from, the HUB shutdown note,
and x-request-id in errors (issue 8 items 2, 3, 4, 7; issue 9 items 7 and 13).

The stand-in plays Platform's origin through ULTRALYTICS_PLATFORM_URL (the official SDK's
variable), and HUB's shared URL https://api.ultralytics.com through an HTTPS proxy: the stand-in
answers CONNECT and serves the tunnel itself, with a certificate for api.ultralytics.com from a
test CA that openssl makes at run time.
"""

import os
import re
import tempfile

from harness import E2E, HUB_KEY, PLATFORM_KEY, image
from standin import StandIn, make_test_certificates

CAT = image("cat.png")
NOTE = ("hubpredict: note: Ultralytics HUB shut down on 2026-07-31 and legacy HUB keys no longer "
        "work; use Ultralytics Platform (platform.ultralytics.com), whose keys start with ul_")
NO_PROXY_ENV = {"https_proxy": "", "HTTPS_PROXY": "", "http_proxy": "", "HTTP_PROXY": "",
                "all_proxy": "", "ALL_PROXY": "", "no_proxy": "", "NO_PROXY": ""}


class FlavourCase(E2E):

    def platform_env(self, **extra):
        return dict(NO_PROXY_ENV, ULTRALYTICS_PLATFORM_URL=self.server.url, **extra)

    def only_request(self):
        log = self.server.log()
        self.assertEqual(len(log), 1, log)
        return log[0]

    def expect_usage(self, args, *fragments, key=HUB_KEY, env=None):
        r = self.run_hp(*args, key=key, env=env)
        self.assertExit(r, 2)
        self.assertOneLineError(r, *fragments)
        self.assertIn("try 'hubpredict --help'", r.err)
        self.assertEqual(self.server.log(), [])
        return r


class TestPublicModels(FlavourCase):
    """Item 2: Platform serves public models with no key."""

    def test_three_part_model_without_a_key_sends_no_authorization(self):
        r = self.run_hp("-m", "ultralytics/yolo/public-detect", "-f", "json", CAT, key=None,
                        env=self.platform_env())
        self.assertExit(r, 0)
        rec = self.only_request()
        self.assertEqual(rec["path"], "/api/models/ultralytics/yolo/public-detect/predict")
        self.assertNotIn("authorization", rec["headers"])
        self.assertNotIn("x-api-key", rec["headers"])
        self.assertEqual(rec["fields"]["iou"], "0.7")          # Platform's default
        self.assertEqual(r.json()[0]["task"], "detect")

    def test_platform_url_without_a_key(self):
        url = f"{self.server.url}/api/models/ultralytics/yolo/public-segment/predict"
        r = self.run_hp("-u", url, CAT, key=None, env=self.platform_env())
        self.assertExit(r, 0)
        self.assertNotIn("authorization", self.only_request()["headers"])
        # the same URL without ULTRALYTICS_PLATFORM_URL naming its host is HUB's flavour,
        # which has no public models
        self.server.reset()
        self.expect_usage(["-u", url, CAT], "no API key", key=None)

    def test_not_public_401_says_how_to_give_a_key(self):
        r = self.run_hp("-m", "acme/cars/detect", "--retries", "0", CAT, key=None,
                        env=self.platform_env())
        self.assertExit(r, 4)
        self.assertOneLineError(r, f"{CAT}: 401 Unauthorized: Authentication required",
                                "this model is not public", "--api-key-file", "ULTRALYTICS_API_KEY",
                                "ul_")
        self.assertNotIn("shut down", r.err)                   # not HUB
        # with a key, the same model answers
        self.server.reset()
        r = self.run_hp("-m", "acme/cars/detect", CAT, key=PLATFORM_KEY, env=self.platform_env())
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["headers"]["authorization"], f"Bearer {PLATFORM_KEY}")

    def test_hub_without_a_key_is_still_exit_2(self):
        self.expect_usage(["-u", self.hub_url(), CAT], "no API key", key=None)
        self.expect_usage(["-m", "abcDEF", CAT], "no API key", key=None)

    def test_origin_from_ultralytics_platform_url(self):
        r = self.run_hp("--dry-run", "-m", "acme/cars/detect", CAT, key=None,
                        env={"ULTRALYTICS_PLATFORM_URL": "https://eu.example.test/"})
        self.assertExit(r, 0)
        self.assertTrue(r.out.startswith(
            "curl -X POST 'https://eu.example.test/api/models/acme/cars/detect/predict' "), r)
        self.expect_usage(["-m", "acme/cars/detect", CAT], "ULTRALYTICS_PLATFORM_URL", "ftp://x",
                          key=None, env={"ULTRALYTICS_PLATFORM_URL": "ftp://x"})


class TestNames(FlavourCase):
    """Item 4: today's Platform names, checked before sending; pasted API URLs as they are."""

    def test_bad_segments_are_named_with_the_rule(self):
        cases = [("Acme/cars/detect", "the owner 'Acme'"), ("abc/cars/detect", "the owner 'abc'"),
                 ("acme/car_s/detect", "the project 'car_s'"), ("acme/cars/-x", "the model '-x'"),
                 ("acme/cars/a--b", "the model 'a--b'"), ("a" * 33 + "/cars/detect", "the owner")]
        for model, fragment in cases:
            with self.subTest(model=model):
                self.expect_usage(["-m", model, CAT], "--model", fragment, "^[a-z0-9]+(?:-[a-z0-9]+)*$",
                                  key=PLATFORM_KEY, env=self.platform_env())
        # a single model ID keeps the older, mixed-case rule
        r = self.run_hp("-m", "AbC_1.2", CAT, key=PLATFORM_KEY, env=self.platform_env())
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["path"], "/api/models/AbC_1.2/predict")

    def test_pasted_api_url_is_used_as_it_is(self):
        r = self.run_hp("--dry-run", "-m", "https://platform.ultralytics.com/api/deployments/acme/cam/predict",
                        CAT, key=None, env=NO_PROXY_ENV)
        self.assertExit(r, 0)
        self.assertTrue(r.out.startswith(
            "curl -X POST 'https://platform.ultralytics.com/api/deployments/acme/cam/predict' "), r)
        r = self.run_hp("-m", f"{self.server.url}/api/deployments/acme/cam/predict", CAT,
                        key=PLATFORM_KEY, env=self.platform_env())
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["path"], "/api/deployments/acme/cam/predict")

    def test_pasted_model_page(self):
        r = self.run_hp("-m", f"{self.server.url}/acme/cars/segment", "-f", "json", CAT,
                        key=PLATFORM_KEY, env=self.platform_env())
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["path"], "/api/models/acme/cars/segment/predict")
        self.assertEqual(r.json()[0]["task"], "segment")


class TestWhereTheEndpointComesFrom(FlavourCase):
    """Issue 9 item 7 and SPEC 6: the command line beats the environment as a whole; two in one
    layer is a usage error."""

    def test_model_on_the_command_line_beats_hubpredict_url(self):
        r = self.run_hp("-m", "classify", "-f", "json", CAT, key=PLATFORM_KEY,
                        env=self.platform_env(HUBPREDICT_URL=self.hub_url("segment")))
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["path"], "/api/models/classify/predict")
        self.assertEqual(r.json()[0]["task"], "classify")

    def test_url_on_the_command_line_beats_hubpredict_model(self):
        r = self.run_hp("-u", self.hub_url("segment"), CAT, env={"HUBPREDICT_MODEL": "classify"})
        self.assertExit(r, 0)
        self.assertEqual(self.only_request()["path"], "/v1/predict/segment")

    def test_url_and_model_together_is_a_usage_error(self):
        self.expect_usage(["-u", self.hub_url("segment"), "-m", "classify", CAT], "-u and -m",
                          "drop -m", "drop -u")

    def test_both_in_the_environment_is_a_usage_error(self):
        self.expect_usage([CAT], "HUBPREDICT_MODEL and HUBPREDICT_URL are both set",
                          env={"HUBPREDICT_MODEL": "classify", "HUBPREDICT_URL": self.hub_url()})


class TestKeyAndUrlOfTwoFlavours(FlavourCase):
    """Issue 9 item 13: a Platform key with a pasted HUB URL, or the other way round."""

    def test_platform_key_with_a_hub_url(self):
        for args in (["-m", "https://hub.ultralytics.com/models/AbC123"],
                     ["-u", "https://api.ultralytics.com/v1/predict/AbC123"]):
            with self.subTest(args=args):
                self.expect_usage([*args, CAT], "a Platform key (ul_...)", args[1], "HUB shut down",
                                  key=PLATFORM_KEY)

    def test_hub_key_with_a_platform_url(self):
        for args in (["-m", "https://platform.ultralytics.com/acme/cars/detect"],
                     ["-u", "https://platform.ultralytics.com/api/models/acme/cars/detect/predict"]):
            with self.subTest(args=args):
                self.expect_usage([*args, CAT], "a HUB key", args[1], "ul_", key=HUB_KEY)
        # --api platform says the key is meant for it
        r = self.run_hp("--api", "platform", "--dry-run", "-m",
                        "https://platform.ultralytics.com/acme/cars/detect", CAT, key=HUB_KEY)
        self.assertExit(r, 0)


class TestHubShutdownNote(FlavourCase):
    """Item 3: a request to HUB's shared URL that fails with 4, 5 or 9 adds SPEC 6's line."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certs_dir = tempfile.TemporaryDirectory(prefix="hp-ca-")
        cls.certs = make_test_certificates(cls.certs_dir.name, ("api.ultralytics.com",))
        # the stand-in as an HTTPS proxy that is itself api.ultralytics.com
        cls.proxy = StandIn(connect_tls=(cls.certs["cert"], cls.certs["key"])).start()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.certs_dir.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.proxy.reset()

    def via_proxy(self, *args, key=HUB_KEY):
        env = dict(NO_PROXY_ENV, https_proxy=self.proxy.url)
        return self.run_hp("--cacert", self.certs["ca"], "--retries", "0", *args, CAT, key=key, env=env)

    def test_404_and_401_on_hubs_shared_url(self):
        r = self.via_proxy("-m", "notfound")
        self.assertExit(r, 5)
        lines = r.err.splitlines()
        self.assertEqual(len(lines), 2, r.err)
        self.assertTrue(lines[0].startswith(f"hubpredict: {CAT}: 404 Not Found: Model not found"), r.err)
        self.assertEqual(lines[1], NOTE)
        log = self.proxy.log()
        self.assertEqual([rec["method"] for rec in log], ["CONNECT", "POST"])
        self.assertEqual(log[0]["path"], "api.ultralytics.com:443")
        self.assertEqual(log[1]["path"], "/v1/predict/notfound")
        self.assertEqual(log[1]["headers"]["x-api-key"], HUB_KEY)
        r = self.via_proxy("-m", "detect", key="0" * 42)        # a legacy key, refused
        self.assertExit(r, 4)
        self.assertEqual(r.err.splitlines()[-1], NOTE)

    def test_once_per_run_and_not_for_other_failures(self):
        r = self.run_hp("--cacert", self.certs["ca"], "--retries", "0", "-m", "notfound", CAT, CAT,
                        env=dict(NO_PROXY_ENV, https_proxy=self.proxy.url))
        self.assertExit(r, 5)
        self.assertEqual(r.err.count("shut down"), 1, r.err)
        r = self.via_proxy("-m", "status-400")                 # 7: the service answered
        self.assertExit(r, 7)
        self.assertNotIn("shut down", r.err)
        r = self.via_proxy("-m", "detect", key=self.proxy.hub_key)
        self.assertExit(r, 0)
        self.assertNotIn("shut down", r.err)

    def test_network_failure_on_hubs_shared_url(self):
        r = self.run_hp("--retries", "0", "-m", "AbC123", CAT,
                        env=dict(NO_PROXY_ENV, https_proxy="http://127.0.0.1:1"))
        self.assertExit(r, 9)
        self.assertEqual(r.err.splitlines()[-1], NOTE)

    def test_not_for_other_urls(self):
        r = self.run_hp("-u", self.hub_url("notfound"), CAT)        # a HUB-style server of one's own
        self.assertExit(r, 5)
        self.assertNotIn("shut down", r.err)
        r = self.run_hp("--retries", "0", "-u", "http://127.0.0.1:1/v1/predict/x", CAT)
        self.assertExit(r, 9)
        self.assertNotIn("shut down", r.err)


class TestRequestId(FlavourCase):
    """Item 7: the answer's x-request-id in the one-line error and in json error records."""

    def test_in_the_error_line_and_the_json_record(self):
        r = self.run_hp("-u", self.hub_url(), "-f", "json", CAT, key="wrong-key")
        self.assertExit(r, 4)
        request_id = self.only_request()["request_id"]
        self.assertRegex(request_id, r"^[0-9a-f]{32}$")
        self.assertOneLineError(r, f"{CAT}: 401 Unauthorized: Invalid API key (x-request-id: {request_id})")
        error = r.json()[0]["error"]
        self.assertEqual(error["request_id"], request_id)
        self.assertNotIn(request_id, error["message"])     # the message stays the server's

    def test_the_last_attempts_id_and_none_without_an_answer(self):
        self.server.push_many([{"status": 500, "headers": {"x-request-id": "req-1"}},
                               {"status": 500, "headers": {"x-request-id": "req-2"}}])
        r = self.run_hp("-u", self.hub_url(), "-f", "jsonl", "--retries", "1", CAT)
        self.assertExit(r, 8)
        self.assertIn("(x-request-id: req-2)", r.err)
        self.assertNotIn("req-1", r.err)
        self.assertEqual(r.jsonl()[0]["error"]["request_id"], "req-2")
        # a connection refused has no answer, so no id
        r = self.run_hp("-u", "http://127.0.0.1:1/v1/predict/x", "-f", "json", "--retries", "0", CAT)
        self.assertExit(r, 9)
        self.assertNotIn("x-request-id", r.err)
        self.assertNotIn("request_id", r.json()[0]["error"])
        # a success carries the server's document, not the id
        r = self.run_hp("-u", self.hub_url(), "-f", "json", CAT)
        self.assertExit(r, 0)
        self.assertNotIn("request_id", r.out)

    def test_an_id_with_control_characters_is_dropped(self):
        self.server.push({"status": 500, "headers": {"x-request-id": "a\x1b[31mb"}})
        r = self.run_hp("-u", self.hub_url(), "--retries", "0", CAT)
        self.assertExit(r, 8)
        self.assertNotIn("x-request-id", r.err)
        self.assertNotIn("\x1b", r.err)


class TestAsTheServiceAnswers(FlavourCase):
    """hubpredict against the stand-in's strict behaviour: Platform's sliding-window 429, gzip
    from a dedicated endpoint, chunked answers, 413 before the body is read."""

    def test_sliding_window_429_slows_the_batch_down(self):
        self.server.set_rate_limit(2, window=2)
        url = f"{self.server.url}/api/models/acme/cars/detect/predict"
        r = self.run_hp("-u", url, "-j", "1", "-f", "jsonl", CAT, CAT, CAT, CAT, key=PLATFORM_KEY,
                        env=self.platform_env())
        self.assertExit(r, 0)
        statuses = [rec["status"] for rec in sorted(self.server.log(), key=lambda x: x["t_start"])]
        self.assertEqual(statuses.count(200), 4, statuses)
        self.assertIn(429, statuses)
        self.assertEqual([env["http_status"] for env in r.jsonl()], [200] * 4)

    def test_gzip_and_chunked_answers(self):
        big = {"images": [{"results": [{"class": 0, "name": "p" * 1500, "confidence": 0.9,
                                        "box": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}}],
                           "shape": [10, 10]}]}
        for entry in ({"body": big}, {"body": big, "chunked": True}):
            with self.subTest(chunked=entry.get("chunked", False)):
                self.server.reset()
                self.server.push(entry)
                r = self.run_hp("-u", self.server.url, "-f", "json", CAT, key=PLATFORM_KEY)
                self.assertExit(r, 0)
                self.assertEqual(r.json()[0]["response"], big)
                self.assertIn("gzip", self.only_request()["headers"].get("accept-encoding", ""))

    def test_413_over_10_mb_on_the_shared_route(self):
        with open(CAT, "rb") as f:
            head = f.read()
        big = self.write("big.png", head + b"\0" * (11 * 1024 * 1024))
        url = f"{self.server.url}/api/models/acme/cars/detect/predict"
        r = self.run_hp("-u", url, "-f", "json", big, key=PLATFORM_KEY, env=self.platform_env())
        self.assertExit(r, 7)
        self.assertOneLineError(r, "413 Content Too Large: Prediction input too large")
        self.assertEqual(len(self.server.log()), 1, "a 413 is not retried")
        self.assertEqual(r.json()[0]["error"]["http_status"], 413)
        # the dedicated endpoint takes it
        self.server.reset()
        r = self.run_hp("-u", self.server.url, big, key=PLATFORM_KEY)
        self.assertExit(r, 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
