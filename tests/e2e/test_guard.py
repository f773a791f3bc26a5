"""Issue 19: what hubpredict shows and prints must be safe to show and run: deploy's tables with
the key scrubbed and control characters escaped (19.7), --dry-run's curl command replayed by the
real curl (19.11), one HTTP/2 connection for a batch (19.13), --dry-run --resize telling what the
run sends (19.17)."""

from __future__ import annotations

import os
import re

from harness import E2E, PLATFORM_KEY
from test_deploy import DeployCase

OSC52 = "\x1b]52;c;ZXZpbA==\x07"      # writes the terminal's clipboard
CLEAR = "\x1b[2J"                     # clears the screen


class TestDeployTablesAreSafe(DeployCase):
    """19.7: a container that logs its Authorization header, or an API document holding control
    sequences, reaches the terminal scrubbed and escaped, in every table and field."""

    def setUp(self):
        super().setUp()
        self.server.add_deployment("cam", status="ready")
        self.server.deployments.plant(
            "cam", deployment=f"cam{OSC52}", region=CLEAR + "us", project=f"p{PLATFORM_KEY}",
            statusMessage=f"Authorization: Bearer {PLATFORM_KEY}\x1b[31m",
            log=[f"Authorization: Bearer {PLATFORM_KEY}", f"boom{CLEAR}{OSC52}",
                 ("served", {"method": "GET\x1b[1m", "url": f"/predict?key={PLATFORM_KEY}", "status": 200,
                             "latencyMs": 3.0})],
            **{"weird\x1bkey": "x"})

    def assertSafe(self, r):
        self.assertExit(r, 0)
        # the harness's key check runs on every run; and no control character but the newline
        self.assertNotRegex(r.out, r"[\x00-\x09\x0b-\x1f\x7f]", r)
        self.assertIn("[redacted]", r.out)

    def test_list(self):
        r = self.hp("deploy", "list")
        self.assertSafe(r)
        self.assertIn(r"cam\e]52;c;ZXZpbA==\x07", r.out)
        self.assertIn(r"\e[2Jus", r.out)

    def test_show(self):
        r = self.hp("deploy", "show", "cam")
        self.assertSafe(r)
        self.assertIn(r"statusMessage: Authorization: Bearer [redacted]\e[31m", r.out)
        self.assertIn(r"weird\ekey: x", r.out)

    def test_logs(self):
        r = self.hp("deploy", "logs", "cam")
        self.assertSafe(r)
        self.assertIn(r"boom\e[2J\e]52;c;ZXZpbA==\x07", r.out)
        self.assertIn(r"[GET\e[1m /predict?key=[redacted] 200 3.0 ms]", r.out)

    def test_start_and_health_lines(self):
        self.server.push({"match": "/cam/health", "body": {"healthy": False, "status": 503,
                                                           "error": f"{CLEAR}key {PLATFORM_KEY}"}})
        r = self.hp("deploy", "health", "cam")
        self.assertExit(r, 8)
        self.assertIn(r"not healthy (503): \e[2Jkey [redacted]", r.out)
        self.server.push({"match": "/cam", "status": 202,
                          "body": {"status": f"deploying{OSC52}", "message": f"{PLATFORM_KEY} {CLEAR}"}})
        r = self.hp("deploy", "start", "cam")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "cam: deploying\\e]52;c;ZXZpbA==\\x07 ([redacted] \\e[2J)\n")
