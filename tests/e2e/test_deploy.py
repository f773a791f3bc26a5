"""SPEC 7: hubpredict deploy (issue 11) against the stand-in's deployments state machine.

The stand-in plays Platform's origin through ULTRALYTICS_PLATFORM_URL; each deployment's own
serviceUrl is on the stand-in too (/_svc/OWNER/NAME) and answers 503 until it is ready. Waiting
polls from 2 s on, so the timings set here are short enough for one or two polls.
"""

import json
import re
import signal
import subprocess
import time

from harness import E2E, PLATFORM_KEY, TIMEOUT, WRAPPER, image

CAT = image("cat.png")
OWNER = "jane-doe"


class DeployCase(E2E):

    def env(self, **extra):
        return dict({"ULTRALYTICS_PLATFORM_URL": self.server.url, "https_proxy": "", "http_proxy": "",
                     "HTTPS_PROXY": "", "HTTP_PROXY": ""}, **extra)

    def hp(self, *args, key=PLATFORM_KEY, env=None, **kw):
        return self.run_hp(*args, key=key, env=self.env(**(env or {})), **kw)

    def deploy_requests(self):
        return [r for r in self.server.log() if r["path"].startswith("/api/")]

    def assertNothingSent(self):
        self.assertEqual(self.server.log(), [])


class TestVerbs(DeployCase):

    def test_list_table_and_one_summary_call(self):
        self.server.add_deployment("cam", status="ready")
        self.server.add_deployment("gate", status="stopped", project="doors", model="yolo11s")
        r = self.hp("deploy", "list")
        self.assertExit(r, 0)
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "STATUS", "REGION", "MODEL", "URL"])
        self.assertEqual(lines[1].split()[:4], ["cam", "ready", "us-central1", "cams/yolo11n"])
        self.assertTrue(lines[1].split()[4].endswith("/_svc/jane-doe/cam"))
        self.assertEqual(lines[2].split()[:4], ["gate", "stopped", "us-central1", "doors/yolo11s"])
        paths = [r["path"] for r in self.server.log()]
        self.assertEqual(paths, ["/api/account/summary", f"/api/deployments/{OWNER}"])
        auth = self.server.log()[1]["headers"]["authorization"]
        self.assertEqual(auth, f"Bearer {PLATFORM_KEY}")

    def test_list_filters_json_and_jsonl(self):
        self.server.add_deployment("cam", status="ready")
        self.server.add_deployment("gate", status="stopped")
        r = self.hp("deploy", "list", "--status", "ready", "--model", "cams/yolo11n", "--limit", "5",
                    "-f", "json", "--owner", OWNER)
        self.assertExit(r, 0)
        doc = r.json()
        self.assertEqual([d["deployment"] for d in doc["deployments"]], ["cam"])
        self.assertEqual(doc["total"], 1)
        (rec,) = self.server.log()                       # --owner: no summary call
        self.assertEqual(rec["query"], "status=ready&model=cams/yolo11n&limit=5")
        r = self.hp("deploy", "list", "-f", "jsonl")
        self.assertExit(r, 0)
        self.assertEqual([d["deployment"] for d in r.jsonl()], ["cam", "gate"])

    def test_show_fields_and_json_unchanged(self):
        self.server.add_deployment("cam", status="ready", display="Front camera")
        r = self.hp("deploy", "show", "cam")
        self.assertExit(r, 0)
        self.assertIn("deployment: cam\n", r.out)
        self.assertIn("status: ready\n", r.out)
        self.assertIn("name: Front camera\n", r.out)
        self.assertIn("resources.memoryGi: 2\n", r.out)
        r = self.hp("deploy", "show", "cam", "-f", "json")
        self.assertExit(r, 0)
        self.assertEqual(r.json()["deployment"], self.server.deployments.get("cam"))

    def test_create_sends_the_contract_body(self):
        r = self.hp("deploy", "create", "cam", "--model", "cams/yolo11n", "--region", "europe-west4",
                    "--display-name", "Front camera")
        self.assertExit(r, 0)
        self.assertIn("cam: creating (Deployment created)", r.out)
        post = [x for x in self.server.log() if x["method"] == "POST"][0]
        self.assertEqual(post["json"], {"project": "cams", "model": "yolo11n", "deployment": "cam",
                                        "name": "Front camera", "region": "europe-west4"})
        self.assertEqual(post["headers"]["content-type"], "application/json")

    def test_health_ready_and_not_ready(self):
        self.server.add_deployment("cam", status="ready")
        self.server.add_deployment("gate", status="stopped")
        r = self.hp("deploy", "health", "cam")
        self.assertExit(r, 0)
        self.assertIn("cam: healthy (41.5 ms)", r.out)
        r = self.hp("deploy", "health", "gate")
        self.assertExit(r, 8)
        self.assertIn("not healthy (503): Prediction service unavailable", r.out)

    def test_logs_table_severity_and_jsonl(self):
        self.server.add_deployment("cam", status="ready")
        self.hp("deploy", "health", "cam")                   # a log entry with a request line
        r = self.hp("deploy", "logs", "cam", "--severity", "info", "--limit", "10")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"INFO +Health check  \[GET http://\S+/_svc/jane-doe/cam/health 200 4.0 ms\]")
        rec = self.server.log()[-1]
        self.assertEqual(rec["query"], "severity=info&limit=10")
        r = self.hp("deploy", "logs", "cam", "-f", "jsonl")
        self.assertExit(r, 0)
        entries = r.jsonl()
        self.assertTrue(all("severity" in e and "message" in e for e in entries))

    def test_more_than_shown_is_a_note_on_stderr(self):
        for name in ("cam", "door", "gate"):
            self.server.add_deployment(name, status="ready")
        r = self.hp("deploy", "list", "--limit", "2")
        self.assertExit(r, 0)
        self.assertEqual(len(r.out.splitlines()), 3)        # the header and two rows
        self.assertEqual(r.err, "hubpredict: note: 2 of 3 deployments shown: --limit N shows up to 100\n")
        for quiet in (["--limit", "3"], ["--limit", "2", "-q"], ["--limit", "2", "-f", "json"]):
            r = self.hp("deploy", "list", *quiet)
            self.assertExit(r, 0)
            self.assertEqual(r.err, "", quiet)
        self.hp("deploy", "health", "cam")                   # a second log entry
        r = self.hp("deploy", "logs", "cam", "--limit", "1")
        self.assertExit(r, 0)
        self.assertEqual(len(r.out.splitlines()), 1)
        self.assertIn("Health check", r.out)                 # newest first
        self.assertEqual(r.err, "hubpredict: note: older entries than these 1: --limit N shows up to 200, "
                                "-f json has the API's nextPageToken\n")
        r = self.hp("deploy", "logs", "cam")
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")
        self.assertEqual(len(r.out.splitlines()), 2)

    def test_metrics_summary_and_range(self):
        self.server.add_deployment("cam", status="ready")
        r = self.hp("deploy", "metrics", "cam", "--range", "7d")
        self.assertExit(r, 0)
        self.assertIn("cam (7d): 58 requests, 2 errors (3.45%)", r.out)
        self.assertNotIn("\u2581", r.out)                   # the sparkline is for terminals
        self.assertEqual(self.server.log()[-1]["query"], "range=7d")
        r = self.hp("deploy", "metrics", "cam", "-f", "json")
        self.assertEqual(r.json()["summary"]["totalRequests"], 58)

    def test_metrics_sparkline_on_a_terminal(self):
        self.server.add_deployment("cam", status="ready")
        r = self.run_on_terminal("stdout", "deploy", "metrics", "cam", key=PLATFORM_KEY, env=self.env())
        self.assertExit(r, 0)
        out = r.out_bytes
        self.assertIn("requests  \u2581".encode(), out)
        self.assertIn("\u2588".encode(), out)

    def test_delete_with_yes(self):
        self.server.add_deployment("cam", status="stopped")
        r = self.hp("deploy", "delete", "cam", "--yes")
        self.assertExit(r, 0)
        self.assertIn("cam: deleted", r.out)
        self.assertIsNone(self.server.deployments.get("cam"))


class TestTransitions(DeployCase):

    def test_create_wait_creating_deploying_ready_then_health(self):
        self.server.set_deploy_timings(creating=0.5, deploying=2.5)
        r = self.hp("deploy", "create", "cam", "--model", "cams/yolo11n", "--region", "us-central1", "--wait")
        self.assertExit(r, 0)
        self.assertRegex(r.err, r"hubpredict: cam: creating \(Provisioning resources\), 0 s\n")
        self.assertRegex(r.err, r"hubpredict: cam: deploying \(Container starting\), [0-9]+ s\n")
        self.assertRegex(r.err, r"hubpredict: cam: ready, healthy \(42 ms\), [0-9]+ s\n")
        self.assertEqual(r.err.count("deploying"), 1)       # one line per change of state
        paths = [x["path"] for x in self.server.log()]
        self.assertEqual(paths[-1], f"/api/deployments/{OWNER}/cam/health")
        self.assertEqual(paths.count(f"/api/deployments/{OWNER}/cam/health"), 1)
        self.assertEqual(paths.count("/api/account/summary"), 1)

    def test_start_wait_stopped_deploying_ready(self):
        self.server.set_deploy_timings(deploying=1.0)
        self.server.add_deployment("cam", status="stopped")
        r = self.hp("deploy", "start", "cam", "--wait")
        self.assertExit(r, 0)
        self.assertIn("cam: deploying (Deployment is starting)", r.out)
        self.assertIn("ready, healthy", r.err)
        self.assertNotIn("\033", r.err)                      # no live line off a terminal
        patch = [x for x in self.server.log() if x["method"] == "PATCH"][0]
        self.assertEqual(patch["json"], {"action": "start"})

    def test_live_line_on_a_terminal_is_erased_before_each_message(self):
        self.server.set_deploy_timings(deploying=2.5)
        self.server.add_deployment("cam", status="stopped")
        r = self.run_on_terminal("stderr", "deploy", "start", "cam", "--wait", key=PLATFORM_KEY, env=self.env())
        self.assertExit(r, 0)
        text = r.err
        live = re.findall(r"\r\033\[Kcam  deploying  Container starting  0:0[0-9]", text)
        self.assertGreaterEqual(len(live), 2, text)          # rewritten in place while it sleeps,
        self.assertEqual(len(live), len(set(live)), text)    # only when what it shows changes
        # the change-of-state lines stand alone: each comes after an erase, none is left behind
        self.assertIn("\r\033[Khubpredict: cam: ready, healthy (42 ms), ", text)
        self.assertTrue(text.endswith(" s\r\n"), text[-200:])    # the tty maps \n to \r\n
        self.assertNotIn("\033", text[text.rindex("hubpredict: cam: ready"):])
        self.assertEqual(text.count("hubpredict: cam: deploying (Container starting)"), 1)
        self.assertEqual(self.server.deployments.get("cam")["status"], "ready")

    def test_stop_wait_ready_stopping_stopped(self):
        self.server.set_deploy_timings(stopping=1.0)
        self.server.add_deployment("cam", status="ready")
        r = self.hp("deploy", "stop", "cam", "--wait")
        self.assertExit(r, 0)
        self.assertIn("cam: stopping (Deployment is stopping)", r.out)
        self.assertRegex(r.err, r"cam: stopping \(Scaling to zero\), 0 s\n")
        self.assertRegex(r.err, r"cam: stopped, [0-9]+ s\n")
        self.assertNotIn("/health", "".join(x["path"] for x in self.server.log()))

    def test_wait_for_stopped_and_a_stop_called_off_start(self):
        self.server.set_deploy_timings(deploying=None, stopping=0.5)
        self.server.add_deployment("cam", status="deploying")
        r = self.hp("deploy", "stop", "cam")                 # deploying -> stopping
        self.assertExit(r, 0)
        r = self.hp("deploy", "wait", "cam", "--for", "stopped")
        self.assertExit(r, 0)
        self.assertEqual(self.server.deployments.get("cam")["status"], "stopped")

    def test_start_on_ready_and_stop_on_stopped_are_notes(self):
        self.server.add_deployment("cam", status="ready")
        self.server.add_deployment("gate", status="stopped")
        r = self.hp("deploy", "start", "cam")
        self.assertExit(r, 0)
        self.assertIn("cam: already ready (Deployment is already running)", r.out)
        r = self.hp("deploy", "stop", "gate", "-f", "json")
        self.assertExit(r, 0)
        self.assertEqual(r.json(), {"success": True, "status": "stopped",
                                    "message": "Deployment is already stopped"})

    def test_failed_is_exit_8_with_its_status_message(self):
        self.server.set_deploy_timings(creating=0.2, deploying=0.5)
        r = self.hp("deploy", "create", "cam", "--model", "cams/failing-yolo", "--region", "us-central1",
                    "--wait")
        self.assertExit(r, 8)
        self.assertIn("hubpredict: cam: failed: Container failed to start: model weights could not be loaded",
                      r.err)

    def test_wait_timeout_is_exit_12_naming_the_last_state(self):
        self.server.set_deploy_timings(deploying=None)
        self.server.add_deployment("cam", status="deploying")
        t = time.time()
        r = self.hp("deploy", "wait", "cam", "--wait-timeout", "3")
        self.assertExit(r, 12)
        self.assertLess(time.time() - t, 8)
        self.assertIn("hubpredict: cam: still deploying (Container starting) after 3 s (--wait-timeout)", r.err)

    def test_sigint_while_waiting_leaves_it_as_it_is(self):
        self.server.set_deploy_timings(deploying=None)
        self.server.add_deployment("cam", status="deploying")
        p = self.popen_hp("deploy", "wait", "cam", key=PLATFORM_KEY, env=self.env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + TIMEOUT
        while not self.server.log() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5 if not WRAPPER else 2)
        t = time.time()
        p.send_signal(signal.SIGINT)
        r = self.wait_hp(p, PLATFORM_KEY)
        err = r.err_bytes
        self.assertExit(r, 130)
        self.assertLess(time.time() - t, 2 if not WRAPPER else 10)
        self.assertIn(b"interrupted: cam is left as it is (deploying)", err)
        self.assertEqual(self.server.deployments.get("cam")["status"], "deploying")
        self.assertFalse(any(x["method"] != "GET" for x in self.server.log()))

    def test_429_on_a_poll_is_waited_out(self):
        self.server.add_deployment("cam", status="ready")
        self.server.push({"match": "/api/deployments/jane-doe/cam", "status": 429,
                          "headers": {"Retry-After": "1"}})
        t = time.time()
        r = self.hp("deploy", "wait", "cam")
        self.assertExit(r, 0)
        self.assertGreaterEqual(time.time() - t, 0.9)
        self.assertEqual([x["status"] for x in self.server.log()][:3], [200, 429, 200])


class TestErrors(DeployCase):

    def test_usage_errors_send_nothing(self):
        cases = [
            (("deploy", "delete", "cam"), "give --yes"),
            (("deploy", "show", "Cam"), "NAME 'Cam' does not follow Platform's rule"),
            (("deploy", "show", "cam", "--owner", "abc"), "--owner 'abc'"),
            (("deploy", "frobnicate"), "'frobnicate' is not a verb"),
            (("deploy",), "needs a VERB"),
            (("deploy", "show"), "deploy show needs a NAME"),
            (("deploy", "show", "cam", "extra"), "unexpected argument 'extra'"),
            (("deploy", "list", "--status", "running"), "--status must be"),
            (("deploy", "list", "--model", "yolo11n"), "--model must be PROJECT/MODEL"),
            (("deploy", "list", "--limit", "150"), "--limit must be a whole number from 1 to 100"),
            (("deploy", "logs", "cam", "--severity", "LOUD"), "--severity must be"),
            (("deploy", "metrics", "cam", "--range", "2h"), "--range must be"),
            (("deploy", "create", "cam", "--model", "cams/yolo11n"), "needs --model PROJECT/MODEL and --region"),
            (("deploy", "show", "cam", "--yes"), "--yes does not go with deploy show"),
            (("deploy", "show", "cam", "-f", "csv"), "-f table, json or jsonl"),
            (("deploy", "show", "cam", "-f", "jsonl"), "-f jsonl goes with deploy list and deploy logs"),
            (("deploy", "show", "cam", "--imgsz", "320"), "--imgsz does not go with this command"),
        ]
        for args, fragment in cases:
            with self.subTest(args=args):
                r = self.hp(*args)
                self.assertExit(r, 2)
                self.assertOneLineError(r, fragment)
                self.assertNothingSent()

    def test_http_statuses_map_to_exit_codes_with_the_server_message(self):
        cases = [
            ({"status": 401, "body": {"error": "Invalid API key"}}, 4, "401 Unauthorized: Invalid API key"),
            ({"status": 403, "body": {"error": "No access"}}, 4, "403 Forbidden: No access"),
            ({"status": 500, "body": {"error": "Database down"}}, 8, "500 Internal Server Error: Database down"),
            ({"status": 200, "body": "not json"}, 10, "is not a JSON object"),
            ({"status": 200, "body": {"deployment": "cam"}}, 10, "no deployment with a status"),
        ]
        for entry, code, fragment in cases:
            with self.subTest(entry=entry):
                self.server.reset()
                self.server.add_deployment("cam", status="ready")
                self.server.push(dict(entry, match="/api/deployments/jane-doe/cam", repeat=-1))
                r = self.hp("deploy", "show", "cam", "--owner", OWNER, "--retries", "0")
                self.assertExit(r, code)
                self.assertOneLineError(r, fragment)

    def test_404_and_400_and_409(self):
        r = self.hp("deploy", "show", "nope")
        self.assertExit(r, 5)
        self.assertOneLineError(r, "nope: 404 Not Found: Deployment 'nope' not found")
        self.server.add_deployment("cam", status="deploying")
        self.server.set_deploy_timings(deploying=None)
        r = self.hp("deploy", "start", "cam")
        self.assertExit(r, 7)
        self.assertOneLineError(r, "400 Bad Request: Deployment is already starting (deploying)")
        self.server.add_deployment("gate", status="ready")
        self.server.deployments.set_race("gate", "stopping")
        r = self.hp("deploy", "stop", "gate")
        self.assertExit(r, 7)
        self.assertOneLineError(r, "409 Conflict: Deployment status changed to 'stopping' meanwhile")
        r = self.hp("deploy", "create", "gate", "--model", "cams/yolo11n", "--region", "us-central1")
        self.assertExit(r, 7)
        self.assertOneLineError(r, "409 Conflict: Deployment 'gate' already exists")

    def test_429_after_waiting_is_exit_6(self):
        self.server.add_deployment("cam", status="stopped")
        self.server.set_mutation_limit(1)
        self.assertExit(self.hp("deploy", "start", "cam"), 0)
        t = time.time()
        r = self.hp("deploy", "stop", "cam", "--retry-max-time", "1")
        self.assertLess(time.time() - t, 5)
        self.assertExit(r, 6)
        self.assertOneLineError(r, "429 Too Many Requests: Rate limit exceeded")

    def test_network_is_exit_9(self):
        r = self.hp("deploy", "list", env={"ULTRALYTICS_PLATFORM_URL": "http://127.0.0.1:9"})
        self.assertExit(r, 9)
        self.assertOneLineError(r, "127.0.0.1:9")

    def test_no_key_is_401_with_the_hint(self):
        r = self.hp("deploy", "list", key=None)
        self.assertExit(r, 4)
        self.assertOneLineError(r, "Authentication required", "no key was given")
        self.assertNotIn("authorization", self.server.log()[0]["headers"])

    def test_key_never_in_verbose_traces(self):
        self.server.add_deployment("cam", status="ready")
        r = self.hp("deploy", "show", "cam", "-v", "-v")
        self.assertExit(r, 0)
        self.assertIn("> GET /api/deployments/jane-doe/cam", r.err)
        self.assertIn("Authorization: Bearer [redacted]", r.err)

    def test_url_gives_the_origin_and_config_gives_the_owner(self):
        self.server.add_deployment("cam", status="ready", owner="acme-vision")
        cfg = self.write("config", b"owner = acme-vision\n")
        r = self.hp("deploy", "show", "cam", "--config", cfg, "-u", self.server.url + "/ignored/path",
                    env={"ULTRALYTICS_PLATFORM_URL": "http://127.0.0.1:9"})
        self.assertExit(r, 0)
        self.assertEqual([x["path"] for x in self.server.log()], ["/api/deployments/acme-vision/cam"])


class TestPredictOnDeployment(DeployCase):

    def test_predict_goes_to_the_service_url(self):
        self.server.add_deployment("cam", status="ready")
        out = self.path("out.jsonl")
        r = self.hp("--deployment", "cam", "-f", "jsonl", "-o", out, CAT, CAT)
        self.assertExit(r, 0)
        paths = [x["path"] for x in self.server.log()]
        self.assertEqual(paths.count(f"/api/deployments/{OWNER}/cam"), 1)
        self.assertEqual(paths.count(f"/_svc/{OWNER}/cam/predict"), 2)
        with open(out) as f:
            self.assertEqual(len(f.read().splitlines()), 2)

    def test_not_ready_is_exit_7_with_the_command(self):
        self.server.add_deployment("cam", status="stopped")
        r = self.hp("--deployment", "cam", CAT)
        self.assertExit(r, 7)
        self.assertOneLineError(r, "run 'hubpredict deploy start cam --wait' first")
        self.assertFalse(any("/_svc/" in x["path"] for x in self.server.log()))

    def test_deployment_and_model_in_one_layer_is_exit_2(self):
        r = self.hp("--deployment", "cam", "-m", "abc", CAT)
        self.assertExit(r, 2)
        self.assertNothingSent()
        r = self.hp("--deployment", "Cam", CAT)
        self.assertExit(r, 2)
        self.assertNothingSent()
