"""hubpredict bench end to end (SPEC §14, issue 23), against the stand-in's "bench" model: a
seeded lognormal service time known in advance, its `speed` summing to it exactly, and a stall
window that holds every request arriving in it.

What is asserted, and why it is honest on 2 shared cores at a load of 10: a request's latency
can never be below its service time, so each nearest-rank percentile of the latencies is at
least that of the known service times (to the histogram's 0.1 %); above, it may exceed it by
the client's and the stand-in's own overhead, which the load makes ragged, so the upper
bound is 1 % plus the overhead bench itself measured (mean latency - mean server phase) and
a few ms. The server phase is the answers' speed sum exactly (µs rounding). The stall is
1 s long: an open loop puts it in p90 (a third of the requests were due in it), a closed
loop in max only, whatever the load does to the milliseconds."""
import hashlib
import json
import math
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

from harness import E2E, PLATFORM_KEY, image, wait_for_handler

from standin import bench_service_ms

IMG = image("street.jpg")
MEMBERS = {"requests", "ok", "errors", "duration_s", "rate", "mode", "first_ms", "latency_ms", "phases_ms",
           "behind_ms", "histogram"}


def nearest_rank(values, p):
    v = sorted(values)
    return v[max(1, math.ceil(p / 100 * len(v))) - 1]


class BenchE2E(E2E):
    def bench(self, *args, model="bench", **kw):
        return self.run_hp("bench", "-u", self.hub_url(model), *args, **kw)

    def bench_json(self, *args, **kw):
        r = self.bench("-f", "json", *args, **kw)
        self.assertExit(r, 0)
        return r.json()

    def served(self):
        return [rec for rec in self.server.log() if "bench_index" in rec]


class TestBenchTruth(BenchE2E):
    def test_percentiles_and_server_phase_against_the_known_service_times(self):
        self.server.set_bench(seed=7, median_ms=40.0, sigma=0.6, cap_ms=400.0, stall=None)
        doc = self.bench_json("-n", "200", "-j", "4", "--warmup", "8", IMG)
        served = self.served()
        self.assertEqual(len(served), 208)
        self.assertEqual((doc["requests"], doc["ok"], doc["errors"], doc["mode"]), (200, 200, {}, "closed"))
        # the warmup is the first 8 to finish: with -j 4 which 8 is not the first 8 sent, so
        # the known times of the counted ones are those of all but the 8 fastest-finishing;
        # the bounds below hold for any 200 of the 208 as long as we compare the right set:
        # use the records' own service times of every request, and the 200 that bench kept
        # are within [the 200 smallest, the 200 largest] of them
        times = [rec["service_ms"] for rec in served]
        low, high = sorted(times)[:200], sorted(times)[8:]
        server_mean = doc["phases_ms"]["server"]
        self.assertGreaterEqual(server_mean, sum(low) / 200 - 0.001)
        self.assertLessEqual(server_mean, sum(high) / 200 + 0.001)
        overhead = doc["latency_ms"]["mean"] - server_mean
        self.assertGreaterEqual(overhead, 0)
        for p, name in ((50, "p50"), (90, "p90"), (95, "p95"), (99, "p99")):
            got = doc["latency_ms"][name]
            self.assertGreaterEqual(got, nearest_rank(low, p) * 0.999, name)
            self.assertLessEqual(got, nearest_rank(high, p) * 1.01 + 3 * overhead + 5.0, name)
        self.assertGreaterEqual(doc["latency_ms"]["min"], min(times) * 0.999)

    def test_server_phase_is_the_speed_sum_exactly(self):
        # one job, no warmup: the counted requests are exactly the stand-in's, in order
        self.server.set_bench(seed=11, median_ms=15.0, sigma=0.4, cap_ms=100.0, stall=None)
        doc = self.bench_json("-n", "40", "-j", "1", IMG)
        known = bench_service_ms(11, 15.0, 0.4, 100.0, 40)
        self.assertEqual([rec["service_ms"] for rec in self.served()], known)
        self.assertAlmostEqual(doc["phases_ms"]["server"], sum(known) / 40, delta=0.0015)
        phases = doc["phases_ms"]
        self.assertAlmostEqual(sum(phases.values()), doc["latency_ms"]["mean"], delta=0.01)
        self.assertGreaterEqual(doc["latency_ms"]["p50"], nearest_rank(known, 50) * 0.999)

    def test_open_loop_shows_the_stall_a_closed_loop_hides(self):
        # a 1 s stall from 1 s after the first request
        self.server.set_bench(seed=3, median_ms=10.0, sigma=0.3, cap_ms=60.0, stall=(1.0, 2.0))
        open_ = self.bench_json("--rate", "40/s", "-n", "120", IMG)
        self.server.reset()
        self.server.set_bench(seed=3, median_ms=10.0, sigma=0.3, cap_ms=60.0, stall=(1.0, 2.0))
        closed = self.bench_json("-j", "1", "-n", "120", IMG)
        held_open = sum(1 for rec in self.served() if rec["stall_ms"] > 0)
        self.assertEqual(held_open, 1, "a closed loop of one job has one request in the stall")
        self.assertEqual(open_["mode"], "open")
        # open: about 40 requests were due during the stall, each counted from its due time
        self.assertGreater(open_["latency_ms"]["p90"], 500, open_)
        self.assertGreater(open_["latency_ms"]["p99"], 800, open_)
        self.assertIsNotNone(open_["behind_ms"])
        # closed: one request waited; 119 did not, so p90 knows nothing of it
        self.assertLess(closed["latency_ms"]["p90"], 300, closed)
        self.assertGreater(closed["latency_ms"]["max"], 500, closed)
        self.assertIsNone(closed["behind_ms"])


class TestBenchForm(BenchE2E):
    """bench builds each input's form once and sends those bytes every time (request.h's
    hp_form_body): libcurl sends a small one in the same segment as the headers, as a
    benchmark tool should, where a mime is formatted anew and sent after them."""

    def predict_form(self, path):
        r = self.run_hp("-u", self.hub_url("detect"), path)
        self.assertExit(r, 0)
        rec = [x for x in self.server.log() if x["path"].endswith("/detect")][-1]
        self.server.reset()
        return rec

    def bench_records(self):
        return [x for x in self.server.log() if x["path"].endswith("/bench")]

    def test_each_input_is_read_once_and_sent_as_predict_sends_it(self):
        path = self.write("in.jpg", open(IMG, "rb").read())
        first = self.predict_form(path)
        self.server.push({"match": "/v1/predict/bench", "delay": 1.0})
        p = self.popen_hp("bench", "-u", self.hub_url("bench"), "-j", "1", "-n", "3", "-f", "json", path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not any(x["t_read"] for x in self.bench_records()) and time.monotonic() < deadline:
            time.sleep(0.02)
        # the first request is in: the file changes before the next two are sent
        with open(path, "r+b") as f:
            f.write(open(image("people.png"), "rb").read())
        r = self.wait_hp(p)
        self.assertExit(r, 0)
        self.assertEqual(r.json()["ok"], 3)
        recs = self.bench_records()
        self.assertEqual(len(recs), 3)
        for rec in recs:
            self.assertEqual(rec["file"], first["file"], "the bytes read when first sent, named and typed as predict's")
            self.assertEqual(rec["fields"], first["fields"])
            self.assertRegex(rec["headers"]["content-type"], r"^multipart/form-data; boundary=-{24}[0-9a-f]{16}$")

    def test_a_big_input_is_sent_whole(self):
        # 3 MB: over libcurl's 64 KiB sent with the headers and its 1 MiB for Expect: 100-continue
        data = open(IMG, "rb").read() + bytes(3 << 20)
        path = self.write("big.jpg", data)
        doc = self.bench_json("-n", "4", "-j", "2", path)
        self.assertEqual(doc["ok"], 4)
        recs = self.bench_records()
        self.assertEqual(len(recs), 4)
        self.assertEqual({rec["file"]["size"] for rec in recs}, {len(data)})
        self.assertEqual({rec["file"]["sha256"] for rec in recs}, {hashlib.sha256(data).hexdigest()})
        self.assertGreaterEqual(doc["phases_ms"]["upload"], 0)

    def test_a_name_libcurl_would_escape_goes_by_its_mime(self):
        path = self.write('a"b.jpg', open(IMG, "rb").read())
        first = self.predict_form(path)
        doc = self.bench_json("-n", "2", "-j", "1", path)
        self.assertEqual(doc["ok"], 2)
        for rec in self.bench_records():
            self.assertEqual(rec["file"], first["file"])


class TestBenchLoad(BenchE2E):
    def setUp(self):
        super().setUp()
        self.server.set_bench(seed=5, median_ms=5.0, sigma=0.2, cap_ms=30.0, stall=None)

    def test_json_members_and_histogram(self):
        doc = self.bench_json("-n", "12", "-j", "2", IMG)
        self.assertEqual(set(doc), MEMBERS)
        self.assertEqual(set(doc["latency_ms"]), {"min", "mean", "p50", "p90", "p95", "p99", "p99_9", "max"})
        self.assertEqual(set(doc["phases_ms"]), {"connect", "upload", "server", "wait", "download"})
        self.assertEqual(sum(c for _, c in doc["histogram"]), 12)
        uppers = [u for u, _ in doc["histogram"]]
        self.assertEqual(uppers, sorted(uppers))
        self.assertGreater(doc["first_ms"], 0)
        self.assertGreater(doc["rate"], 0)

    def test_default_is_100_requests(self):
        doc = self.bench_json("-j", "8", IMG)
        self.assertEqual(doc["requests"], 100)
        self.assertEqual(len(self.served()), 100)

    def test_warmup_is_sent_and_not_counted(self):
        doc = self.bench_json("-n", "10", "--warmup", "5", "-j", "1", IMG)
        self.assertEqual(doc["requests"], 10)
        self.assertEqual(len(self.served()), 15)

    def test_inputs_cycle(self):
        other = image("people.png")
        self.bench_json("-n", "6", "-j", "1", IMG, other)
        names = [rec.get("filename") or rec.get("file") for rec in self.served()]
        self.assertEqual(len(names), 6)
        self.assertEqual(names[0::2], [names[0]] * 3)
        self.assertEqual(names[1::2], [names[1]] * 3)
        self.assertNotEqual(names[0], names[1])

    def test_duration_closed_and_open(self):
        t = time.monotonic()
        doc = self.bench_json("--duration", "1", "-j", "1", IMG)
        self.assertLess(time.monotonic() - t, 20)
        self.assertGreater(doc["requests"], 3)
        self.assertEqual(doc["requests"], len(self.served()))
        self.server.reset()
        self.server.set_bench(seed=5, median_ms=5.0, sigma=0.2, cap_ms=30.0, stall=None)
        doc = self.bench_json("--duration", "1", "--rate", "20/s", IMG)
        self.assertEqual(doc["requests"], 20)
        # -n and --duration: whichever ends first
        self.server.reset()
        doc = self.bench_json("--duration", "60", "-n", "7", "-j", "2", IMG)
        self.assertEqual(doc["requests"], 7)

    def test_table_has_a_column_per_endpoint_and_the_same_load(self):
        r = self.run_hp("bench", "-u", self.hub_url("bench"), "-u", self.hub_url("bench-two"), "-n", "5", "-j", "1",
                        IMG)
        self.assertExit(r, 0)
        head = r.out.splitlines()[0]
        self.assertIn("/v1/predict/bench ", head + " ")
        self.assertIn("/v1/predict/bench-two", head)
        rows = {ln.split()[0]: ln.split()[1:] for ln in r.out.splitlines()[1:] if ln.strip()}
        self.assertEqual(rows["requests"], ["5", "5"])
        self.assertEqual(len(self.served()), 10)
        r = self.run_hp("bench", "-u", self.hub_url("bench"), "-u", self.hub_url("bench-two"), "-n", "3", "-f", "json",
                        IMG)
        doc = r.json()
        self.assertEqual([d["endpoint"] for d in doc], [self.hub_url("bench"), self.hub_url("bench-two")])

    def test_a_client_that_falls_behind_says_so(self):
        # one connection, answers of about 5 ms: 1000/s cannot be kept
        r = self.bench("--rate", "1000/s", "--max-jobs", "1", "-n", "40", "-f", "json", IMG)
        self.assertExit(r, 0)
        self.assertIn("fell behind the schedule", r.err)
        doc = r.json()
        self.assertGreater(doc["behind_ms"], 20)
        # the latency counts from the schedule: the last requests waited for the first ones
        self.assertGreater(doc["latency_ms"]["max"], 100)

    def test_live_line_on_a_terminal_only(self):
        # 40 requests of about 5 ms over 1 s: the line is redrawn (at most 10 times a second)
        r = self.run_on_terminal("stderr", "bench", "-u", self.hub_url("bench"), "--rate", "40/s", "-n", "40", IMG,
                                 wrapper=False)
        self.assertExit(r, 0)
        self.assertIn("p50 ", r.err)
        self.assertIn("behind p99 ", r.err)
        self.assertIn("latency p50", r.out)
        r = self.bench("--rate", "40/s", "-n", "10", IMG)
        self.assertEqual(r.err, "", "no live line when stderr is not a terminal")

    def test_gates_pass_and_fail(self):
        junit = self.path("bench.xml")
        r = self.bench("-n", "10", "--expect", "p50<10s", "--expect", "error_rate<1%", "--expect", "rate>=0.1/s",
                       "--junit", junit, IMG)
        self.assertExit(r, 0)
        cases = ET.parse(junit).getroot().findall(".//testcase")
        self.assertEqual(len(cases), 3)
        self.assertFalse(any(c.find("failure") is not None for c in cases))
        r = self.bench("-n", "10", "--expect", "p95<0.001ms", "--expect", "mean<10s", "--expect", "p99<1ms",
                       "--junit", junit, IMG)
        self.assertExit(r, 1)
        err = r.err
        self.assertIn("p95<0.001ms", err)
        self.assertIn("p99<1ms", err)
        self.assertNotIn("mean<10s", err)
        failed = [c.get("name") for c in ET.parse(junit).getroot().findall(".//testcase")
                  if c.find("failure") is not None]
        self.assertEqual(len(failed), 2)


class TestBenchInterrupted(BenchE2E):
    def test_ctrl_c_reports_what_was_measured(self):
        self.server.set_bench(seed=5, median_ms=5.0, sigma=0.2, cap_ms=30.0, stall=None)
        p = self.popen_hp("bench", "-u", self.hub_url("bench"), "--duration", "60", "-j", "1", "-f", "json", IMG,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for_handler(p.pid, signal.SIGINT, 20)
        deadline = time.monotonic() + 20
        while len(self.served()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        r = self.wait_hp(p)
        self.assertExit(r, 130)
        doc = r.json()
        self.assertGreaterEqual(doc["requests"], 4)
        self.assertLessEqual(doc["requests"], len(self.served()))


class TestBenchDeployments(BenchE2E):
    def env(self):
        return {"ULTRALYTICS_PLATFORM_URL": self.server.url}

    def test_a_column_per_deployment_each_read_before_anything_is_sent(self):
        self.server.add_deployment("cam-eu", status="ready")
        self.server.add_deployment("cam-us", status="ready")
        r = self.run_hp("bench", "--deployment", "cam-eu", "--deployment", "cam-us", "-n", "3", "-j", "1", "-f",
                        "json", IMG, key=PLATFORM_KEY, env=self.env())
        self.assertExit(r, 0)
        doc = r.json()
        self.assertEqual([d["endpoint"] for d in doc], ["cam-eu", "cam-us"])
        self.assertEqual([d["ok"] for d in doc], [3, 3])
        predicts = [rec for rec in self.server.log() if rec.get("file")]
        self.assertEqual(len(predicts), 6)

    def test_a_deployment_not_ready_sends_nothing(self):
        self.server.add_deployment("cam-eu", status="ready")
        self.server.add_deployment("cam-us", status="stopped")
        r = self.run_hp("bench", "--deployment", "cam-eu", "--deployment", "cam-us", "-n", "3", IMG,
                        key=PLATFORM_KEY, env=self.env())
        self.assertExit(r, 7)
        self.assertIn("hubpredict deploy start cam-us --wait", r.err)
        self.assertEqual([rec for rec in self.server.log() if rec.get("file")], [])


class TestBenchErrors(BenchE2E):
    def test_500s_are_counted_by_class_and_every_failure_is_the_exit(self):
        r = self.bench("-n", "6", "-j", "2", "-f", "json", IMG, model="status-500")
        self.assertExit(r, 8)
        doc = r.json()
        self.assertEqual((doc["requests"], doc["ok"], doc["errors"]), (6, 0, {"8:500": 6}))
        self.assertIsNone(doc["latency_ms"]["p50"])
        self.assertEqual(len(self.server.log()), 6, "no retries: a failure is a measurement")
        # said once, the rest counted
        self.assertEqual(len(r.err.splitlines()), 1, r)
        self.assertIn("500 Internal Server Error (the first error 8:500; the rest are counted)", r.err)

    def test_429_is_counted_and_pauses_every_start(self):
        t = time.monotonic()
        r = self.bench("-n", "3", "-j", "1", "-f", "json", IMG, model="status-429")
        took = time.monotonic() - t
        self.assertExit(r, 6)
        self.assertEqual(r.json()["errors"], {"6:429": 3})
        self.assertIn("429 Too Many Requests: no request starts for", r.err)
        self.assertEqual(len(self.server.log()), 3)
        self.assertGreater(took, 1.5, "the Retry-After: 1 of each 429 is honoured")

    def test_max_error_rate_stops_the_run(self):
        r = self.bench("-n", "200", "-j", "1", "--max-error-rate", "5", IMG, model="status-500")
        self.assertExit(r, 8)
        self.assertIn("--max-error-rate 5%", r.err)
        self.assertLess(len(self.server.log()), 15)


class TestBenchUsage(BenchE2E):
    def refused(self, *args, fragment):
        r = self.run_hp("bench", *args)
        self.assertExit(r, 2)
        self.assertOneLineError(r, fragment)
        self.assertEqual(self.server.log(), [], "nothing sent")

    def test_bad_options_send_nothing(self):
        u = self.hub_url("bench")
        self.refused("-u", u, fragment="no INPUT")
        self.refused("-u", u, "-", fragment="standard input")
        self.refused("-u", u, "-f", "csv", IMG, fragment="-f table or -f json")
        self.refused("-u", u, "-j", "2", "--rate", "5/s", IMG, fragment="-j is the closed loop's")
        self.refused("-u", u, "--max-jobs", "3", IMG, fragment="--max-jobs goes with --rate")
        self.refused("-u", u, "--expect", "p95<200xs", IMG, fragment="p95<200xs")
        self.refused("-u", u, "-n", "0", IMG, fragment="--requests")
        self.refused("-u", u, "--duration", "-1", IMG, fragment="--duration")
        self.refused("-u", u, "--warmup", "-1", IMG, fragment="--warmup")
        self.refused("-u", u, "--max-error-rate", "101", IMG, fragment="--max-error-rate")
        self.refused("-m", "abc", "-u", u, IMG, fragment="both name the endpoint")
        self.refused(IMG, fragment="no endpoint")
        self.refused("-u", u, "-o", IMG, IMG, fragment="--output")
        self.refused("-u", u, "--resume", "x.log", IMG, fragment="--resume")

    def test_missing_input_is_exit_3_nothing_sent(self):
        r = self.run_hp("bench", "-u", self.hub_url("bench"), self.path("nope.jpg"))
        self.assertExit(r, 3)
        self.assertEqual(self.server.log(), [])
