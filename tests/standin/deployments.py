"""Platform's dedicated deployments, as the stand-in serves them (API.md, "Dedicated deployments").

Python standard library only; standin.py owns the HTTP side and calls DeploymentStore.answer()
for every request under /api/deployments/ (except .../predict, a predict route) and
/api/account/summary, and DeploymentStore.service() for a deployment's own serviceUrl.

A deployment is a real state machine driven by the clock, advanced lazily whenever it is read:

    creating -> deploying -> ready          (create)
    ready|deploying -> stopping -> stopped  (PATCH {"action": "stop"})
    stopped|failed -> deploying -> ready    (PATCH {"action": "start"})
    creating|deploying -> failed            (a deployment made to fail, see add())

How long each passing state lasts is `timings` (seconds; None: it stays there for good), set
for every deployment with StandIn.set_deploy_timings() or per deployment with add(timings=).
Each deployment's serviceUrl is http://HOST:PORT/_svc/OWNER/NAME on the stand-in itself: its
POST /predict and GET /health answer 503 until the deployment is ready (then /predict is the
dedicated endpoint: gzip answers, no Platform rate limit). PATCH (start/stop) counts against
Platform's mutation limit, 10 a minute per key (StandIn.set_mutation_limit).

Answers are (status, document, headers); errors are {"error": message} as Platform's.
"""

from __future__ import annotations

import base64
import copy
import datetime
import re
import threading
import time
import urllib.parse
import uuid

NAME_RULE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
STATES = ("creating", "deploying", "ready", "stopping", "stopped", "failed")
SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT",
              "EMERGENCY")
RANGES = {"1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600, "7d": 7 * 86400, "30d": 30 * 86400}
REGIONS = (
    "asia-east1", "asia-northeast1", "asia-northeast2", "asia-south1", "asia-southeast3",
    "europe-north1", "europe-north2", "europe-southwest1", "europe-west1", "europe-west4",
    "europe-west8", "europe-west9", "me-west1", "northamerica-south1", "us-central1", "us-east1",
    "us-east4", "us-east5", "us-south1", "us-west1", "africa-south1", "asia-east2",
    "asia-northeast3", "asia-southeast1", "asia-southeast2", "asia-south2",
    "australia-southeast1", "australia-southeast2", "europe-central2", "europe-west10",
    "europe-west12", "europe-west2", "europe-west3", "europe-west6", "me-central1",
    "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1",
    "southamerica-west1", "us-west2", "us-west3", "us-west4",
)
# What follows a passing state, and the statusMessage each state shows.
NEXT = {"creating": "deploying", "deploying": "ready", "stopping": "stopped"}
MESSAGES = {"creating": "Provisioning resources", "deploying": "Container starting",
            "ready": "Serving", "stopping": "Scaling to zero", "stopped": "Stopped",
            "failed": "Container failed to start"}
DEFAULT_TIMINGS = {"creating": 0.4, "deploying": 0.8, "stopping": 0.4}
DEFAULT_ACCOUNT = {
    "username": "jane-doe", "name": "Jane Doe", "accountType": "personal", "plan": "pro",
    "creditsCents": 2500, "counts": {"projects": 2, "datasets": 1, "models": 3}, "teams": [],
}
QUOTA = {"free": 3, "pro": 10, "enterprise": 100}
DATA_REGION = "us"
# The pattern behind synthetic metrics: requests per bucket, before this run's real ones.
PATTERN = (0, 1, 3, 6, 9, 14, 11, 7, 4, 2, 1, 0)


def iso(when: float) -> str:
    moment = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error(status: int, message: str, headers=()):
    return status, {"error": message}, list(headers)


class Deployment:
    """One deployment: the API's document plus what drives its state."""

    def __init__(self, owner, name, project, model, display, region, status, timings, fail):
        now = time.time()
        self.owner, self.name = owner, name
        self.doc = {
            "id": uuid.uuid4().hex[:20], "owner": owner, "project": project, "model": model,
            "task": task_of(model), "deployment": name, "name": display, "status": status,
            "statusMessage": MESSAGES[status], "region": region,
            "resources": {"cpu": 1, "memoryGi": 2, "minInstances": 0, "maxInstances": 1},
            "createdAt": iso(now), "updatedAt": iso(now),
        }
        self.since = now
        self.timings = timings                     # None: the store's
        self.fail = fail                           # a statusMessage: deploying ends in failed
        self.race = None                           # the state another client moves it to
        self.logs: list[dict] = []
        self.served = 0                            # predict requests answered while ready
        self.errors = 0
        self.log("INFO", f"Deployment {name} {status}")

    @property
    def status(self) -> str:
        return self.doc["status"]

    def log(self, severity, message, request=None, when=None):
        entry = {"timestamp": iso(time.time() if when is None else when),
                 "severity": severity, "message": message}
        if request is not None:
            entry["httpRequest"] = request
        self.logs.append(entry)

    def enter(self, status: str, when: float, message: str | None = None) -> None:
        self.doc["status"] = status
        self.doc["statusMessage"] = message or MESSAGES[status]
        self.doc["updatedAt"] = iso(when)
        self.since = when
        if status == "ready":
            self.doc["deployedAt"] = iso(when)
        self.log("ERROR" if status == "failed" else "INFO",
                 f"{status}: {self.doc['statusMessage']}", when=when)


def task_of(model: str) -> str:
    for task in ("semantic", "segment", "classify", "obb", "pose", "depth"):
        if task in model:
            return task
    return "detect"


def valid_name(text, owner=False) -> bool:
    if not isinstance(text, str) or not NAME_RULE.fullmatch(text):
        return False
    return 4 <= len(text) <= 32 if owner else len(text) <= 128


class DeploymentStore:
    """Every deployment of every owner, behind one lock. `base_url` is the stand-in's."""

    def __init__(self, base_url):
        self._lock = threading.Lock()
        self.base_url = base_url                   # a callable: the stand-in's URL now
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.deployments: dict[tuple[str, str], Deployment] = {}
            self.timings = dict(DEFAULT_TIMINGS)
            self.account = copy.deepcopy(DEFAULT_ACCOUNT)
            self.owners = {self.account["username"], "acme-vision"}   # workspaces the key may use
            self.summary_calls = 0

    # -- for tests -----------------------------------------------------------------------------

    def set_timings(self, **timings) -> None:
        with self._lock:
            for state, seconds in timings.items():
                if state not in DEFAULT_TIMINGS:
                    raise ValueError(f"no timing for state {state!r}")
                self.timings[state] = seconds

    def add(self, name, owner=None, status="stopped", project="cams", model="yolo11n",
            display=None, region="us-central1", timings=None, fail=None) -> dict:
        """A deployment as if made earlier (status any state); its document."""
        owner = owner or self.account["username"]
        with self._lock:
            d = Deployment(owner, name, project, model, display or name, region, status,
                           timings, fail)
            if status != "creating":
                d.doc["serviceUrl"] = self._service_url(d)
            self.deployments[(owner, name)] = d
            return copy.deepcopy(d.doc)

    def plant(self, name, owner=None, log=(), **fields) -> None:
        """Put what a container or a hostile API could say into deployment `name`: document
        members (fields, e.g. region=..., statusMessage=...) and log lines (log: messages, or
        (message, httpRequest) pairs)."""
        with self._lock:
            d = self.deployments[(owner or self.account["username"], name)]
            d.doc.update(fields)
            for entry in log:
                message, request = entry if isinstance(entry, tuple) else (entry, None)
                d.log("INFO", message, request)

    def get(self, name, owner=None) -> dict | None:
        with self._lock:
            d = self.deployments.get((owner or self.account["username"], name))
            if d is None:
                return None
            self._advance(d, time.time())
            return copy.deepcopy(d.doc)

    def set_race(self, name, to_status, owner=None) -> None:
        """The next PATCH of `name` loses a race: another client moved it to `to_status`
        meanwhile, so the PATCH answers 409 and the deployment is in `to_status`."""
        with self._lock:
            self.deployments[(owner or self.account["username"], name)].race = to_status

    # -- the clock -----------------------------------------------------------------------------

    def _timing(self, d: Deployment, status: str):
        timings = d.timings if d.timings is not None else self.timings
        return timings.get(status, self.timings.get(status))

    def _advance(self, d: Deployment, now: float) -> None:
        while d.status in NEXT:
            seconds = self._timing(d, d.status)
            if seconds is None or now < d.since + seconds:
                return
            when = d.since + seconds
            following = NEXT[d.status]
            if d.status == "deploying" and d.fail:
                d.enter("failed", when, d.fail)
                return
            if following == "deploying":
                d.doc["serviceUrl"] = self._service_url(d)
            d.enter(following, when)

    def _service_url(self, d: Deployment) -> str:
        return f"{self.base_url()}/_svc/{d.owner}/{d.name}"

    # -- the REST routes -----------------------------------------------------------------------

    def answer(self, method: str, path: str, query: str, body, key_ok: bool, anonymous: bool):
        """The answer to a Platform deployments or account request."""
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        if path == "/api/account/summary":
            if method != "GET":
                return error(405, "Method not allowed", [("Allow", "GET")])
            if not key_ok:
                return self._unauthorised(anonymous)
            with self._lock:
                self.summary_calls += 1
                return 200, copy.deepcopy(self.account), []
        parts = path.split("/")[3:]                # after "", "api", "deployments"
        if not 1 <= len(parts) <= 3 or not all(parts):
            return error(404, "Not found")
        parts = [urllib.parse.unquote(p) for p in parts]
        owner = parts[0]
        if not valid_name(owner, owner=True):
            return error(404, f"Not found: '{owner}' is not a valid name")
        if len(parts) >= 2 and not valid_name(parts[1]):
            return error(404, f"Not found: '{parts[1]}' is not a valid name")
        if not key_ok:
            return self._unauthorised(anonymous)
        if owner not in self.owners:
            return error(403, f"You do not have access to workspace '{owner}'")
        with self._lock:
            now = time.time()
            for d in self.deployments.values():
                self._advance(d, now)
            if len(parts) == 1:
                if method == "GET":
                    return self._list(owner, params)
                if method == "POST":
                    return self._create(owner, body, now)
                return error(405, "Method not allowed", [("Allow", "GET, POST")])
            d = self.deployments.get((owner, parts[1]))
            if d is None:
                return error(404, f"Deployment '{parts[1]}' not found")
            if len(parts) == 2:
                if method == "GET":
                    return 200, {"deployment": copy.deepcopy(d.doc), "region": DATA_REGION}, []
                if method == "PATCH":
                    return self._patch(d, body, now)
                if method == "DELETE":
                    del self.deployments[(owner, d.name)]
                    return 200, {"success": True}, []
                return error(405, "Method not allowed", [("Allow", "GET, PATCH, DELETE")])
            if method != "GET":
                return error(405, "Method not allowed", [("Allow", "GET")])
            verb = parts[2]
            if verb == "health":
                return self._health(d)
            if verb == "logs":
                return self._logs(d, params)
            if verb == "metrics":
                return self._metrics(d, params, now)
            return error(404, "Not found")

    @staticmethod
    def _unauthorised(anonymous: bool):
        return error(401, "Authentication required" if anonymous else "Invalid API key")

    @staticmethod
    def _one(params, name):
        values = params.get(name)
        return None if values is None else values[-1]

    @staticmethod
    def _limit(text, lowest, highest, default):
        if text is None:
            return default
        if not re.fullmatch(r"[0-9]{1,6}", text) or not lowest <= int(text) <= highest:
            return None
        return int(text)

    def _list(self, owner, params):
        status, model = self._one(params, "status"), self._one(params, "model")
        limit = self._limit(self._one(params, "limit"), 1, 100, 20)
        if status is not None and status not in STATES:
            return error(400, f"Invalid status '{status}'")
        if limit is None:
            return error(400, "limit must be between 1 and 100")
        if model is not None:
            project, _, name = model.partition("/")
            if not (valid_name(project) and valid_name(name)):
                return error(400, "model must be PROJECT/MODEL")
        found = [d for (o, _), d in sorted(self.deployments.items()) if o == owner
                 and (status is None or d.status == status)
                 and (model is None or f"{d.doc['project']}/{d.doc['model']}" == model)]
        return 200, {"deployments": [copy.deepcopy(d.doc) for d in found[:limit]],
                     "total": len(found), "region": DATA_REGION}, []

    def _create(self, owner, body, now):
        if not isinstance(body, dict):
            return error(400, "Request body must be a JSON object")
        for name in ("project", "model", "deployment", "name", "region"):
            if not isinstance(body.get(name), str) or not body[name]:
                return error(400, f"Missing required field '{name}'")
        for name in ("project", "model", "deployment"):
            if not valid_name(body[name]):
                return error(400, f"Invalid {name} name '{body[name]}'")
        if body["region"] not in REGIONS:
            return error(400, f"Invalid region '{body['region']}'")
        if "notfound" in body["model"] or "notfound" in body["project"]:
            return error(404, f"Model '{body['project']}/{body['model']}' not found")
        if (owner, body["deployment"]) in self.deployments:
            return error(409, f"Deployment '{body['deployment']}' already exists")
        mine = sum(1 for (o, _) in self.deployments if o == owner)
        quota = QUOTA.get(self.account.get("plan"), 3)
        if mine >= quota:
            return error(403, f"Deployment limit reached ({quota} on the "
                              f"{self.account.get('plan')} plan)")
        fail = "Container failed to start: model weights could not be loaded" \
            if "failing" in body["model"] else None
        d = Deployment(owner, body["deployment"], body["project"], body["model"], body["name"],
                       body["region"], "creating", None, fail)
        d.since = now
        self.deployments[(owner, d.name)] = d
        return 201, {"id": d.doc["id"], "deployment": d.name, "status": "creating",
                     "message": "Deployment created", "region": d.doc["region"]}, []

    def _patch(self, d: Deployment, body, now):
        action = body.get("action") if isinstance(body, dict) else None
        if action not in ("start", "stop"):
            return error(400, "action must be 'start' or 'stop'")
        if d.race is not None:
            to_status, d.race = d.race, None
            if to_status in ("deploying", "stopping") and "serviceUrl" not in d.doc:
                d.doc["serviceUrl"] = self._service_url(d)
            d.enter(to_status, now)
            return error(409, f"Deployment status changed to '{to_status}' meanwhile, retry")
        state = d.status
        if action == "start":
            if state == "ready":
                return 200, {"success": True, "status": "ready",
                             "message": "Deployment is already running"}, []
            if state in ("creating", "deploying"):
                return error(400, f"Deployment is already starting ({state})")
            if state == "stopping":
                return error(400, "Cannot start a deployment while it is stopping")
            d.doc.setdefault("serviceUrl", self._service_url(d))
            d.enter("deploying", now)
            return 202, {"success": True, "status": "deploying",
                         "message": "Deployment is starting"}, []
        if state == "stopped":
            return 200, {"success": True, "status": "stopped",
                         "message": "Deployment is already stopped"}, []
        if state == "stopping":
            return error(400, "Deployment is already stopping")
        if state not in ("ready", "deploying"):     # a start can be called off
            return error(400, f"Cannot stop a deployment that is {state}")
        d.enter("stopping", now)
        return 202, {"success": True, "status": "stopping",
                     "message": "Deployment is stopping"}, []

    def _health(self, d: Deployment):
        if "serviceUrl" not in d.doc:
            return error(400, "Deployment has no service URL yet")
        d.log("INFO", "Health check", {"method": "GET", "url": d.doc["serviceUrl"] + "/health",
                                        "status": 200 if d.status == "ready" else 503,
                                        "latencyMs": 4.0, "userAgent": "platform-health"})
        if d.status == "ready":
            return 200, {"healthy": True, "status": 200, "latencyMs": 41.5}, []
        return 200, {"healthy": False, "status": 503, "latencyMs": 3.2,
                     "error": "Prediction service unavailable"}, []

    def _logs(self, d: Deployment, params):
        severity = self._one(params, "severity")
        limit = self._limit(self._one(params, "limit"), 1, 200, 50)
        token = self._one(params, "pageToken")
        wanted = None
        if severity is not None:
            wanted = [s.strip().upper() for s in severity.split(",")]
            bad = [s for s in wanted if s not in SEVERITIES]
            if bad:
                return error(400, f"Invalid severity '{bad[0]}'")
        if limit is None:
            return error(400, "limit must be between 1 and 200")
        start = 0
        if token is not None:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode())
            except (ValueError, UnicodeDecodeError):
                return error(400, "Invalid pageToken")
        entries = [e for e in reversed(d.logs) if wanted is None or e["severity"] in wanted]
        page = entries[start:start + limit]
        doc = {"entries": copy.deepcopy(page)}
        if start + limit < len(entries):
            doc["nextPageToken"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return 200, doc, []

    def _metrics(self, d: Deployment, params, now):
        span = self._one(params, "range") or "24h"
        if span not in RANGES:
            return error(400, f"Invalid range '{span}'")
        sparkline = self._one(params, "sparkline")
        if sparkline not in (None, "true", "false"):
            return error(400, "sparkline must be true or false")
        requests = list(PATTERN)
        requests[-1] += d.served
        errors = [1 if r >= 10 else 0 for r in requests]
        errors[-1] += d.errors
        total, failed = sum(requests), sum(errors)
        rate = round(failed / total, 4) if total else 0.0
        if sparkline == "true":
            return 200, {"requests24h": requests * 2, "totalRequests": total * 2,
                         "errorRate": rate, "avgLatencyMs": 48.2}, []
        seconds = RANGES[span]
        step = seconds / len(requests)
        stamps = [iso(now - seconds + step * (i + 1)) for i in range(len(requests))]

        def series(values):
            return [{"timestamp": t, "value": v} for t, v in zip(stamps, values)]
        return 200, {
            "deploymentId": d.doc["id"], "region": d.doc["region"],
            "timeRange": {"start": iso(now - seconds), "end": iso(now)},
            "summary": {"totalRequests": total, "errorCount": failed, "errorRate": rate,
                        "avgLatencyMs": 48.2, "p50LatencyMs": 41.0, "p95LatencyMs": 120.5,
                        "p99LatencyMs": 180.0},
            "timeSeries": {
                "requests": series(requests), "errors": series(errors),
                "latencyP50": series([41.0 if r else 0 for r in requests]),
                "latencyP95": series([120.5 if r else 0 for r in requests]),
                "cpuUtilization": series([min(1.0, r / 20) for r in requests]),
                "memoryUtilization": series([0.3 if r else 0.0 for r in requests]),
                "instanceCount": series([1 if r else 0 for r in requests]),
            },
        }, []

    # -- a deployment's own endpoint -----------------------------------------------------------

    def service(self, owner: str, name: str):
        """(None, model) when the deployment's endpoint is up and serves `model`;
        (status, message) when it answers an error instead."""
        with self._lock:
            d = self.deployments.get((owner, name))
            if d is None:
                return 404, "Not found"
            self._advance(d, time.time())
            if d.status != "ready":
                return 503, "Prediction service unavailable"
            return None, d.doc["model"]

    def served_request(self, owner, name, method, url, status, latency_ms, agent) -> None:
        """A request to the endpoint was answered: it goes into the logs and the metrics."""
        with self._lock:
            d = self.deployments.get((owner, name))
            if d is None:
                return
            if status == 200:
                d.served += 1
            elif status >= 500:
                d.errors += 1
            d.log("INFO" if status < 400 else "WARNING" if status < 500 else "ERROR",
                  f"{method} {urllib.parse.urlsplit(url).path} {status}",
                  {"method": method, "url": url, "status": status,
                   "latencyMs": round(latency_ms, 1), "userAgent": agent})
