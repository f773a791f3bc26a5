"""HTTPS (issue 8): every real call speaks TLS, so the stand-in does too, with certificates from a
test CA that openssl makes at run time (standin.make_test_certificates). SPEC 1/2/5: --cacert adds
a CA bundle; certificate failures are exit 9 and never retried; --insecure works and warns."""

import tempfile
import time
import unittest

from harness import E2E, HUB_KEY, StandIn, WRAPPER, image
from standin import make_test_certificates

CAT = image("cat.png")


class TestTLS(E2E):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.TemporaryDirectory(prefix="hp-tls-")
        cls.certs = make_test_certificates(cls.dir.name, ("localhost", "127.0.0.1"))
        other = make_test_certificates(cls.dir.name, ("other.example",), prefix="other")
        cls.tls = StandIn(tls=(cls.certs["cert"], cls.certs["key"])).start()
        cls.wrong_name = StandIn(tls=(other["cert"], other["key"])).start()

    @classmethod
    def tearDownClass(cls):
        cls.tls.stop()
        cls.wrong_name.stop()
        cls.dir.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        for server in (self.tls, self.wrong_name):
            server.reset()
            server.tls_handshakes = 0

    def test_cacert_verifies_the_server(self):
        self.assertTrue(self.tls.url.startswith("https://127.0.0.1:"))
        for host in ("127.0.0.1", "localhost"):
            with self.subTest(host=host):
                self.tls.reset()
                url = f"https://{host}:{self.tls.port}/v1/predict/detect"
                r = self.run_hp("-u", url, "--cacert", self.certs["ca"], "-f", "json", CAT)
                self.assertExit(r, 0)
                self.assertEqual(r.json()[0]["task"], "detect")
                self.assertEqual(len(self.tls.log()), 1)
                self.assertEqual(r.err, "")

    def test_unknown_ca_is_exit_9_quickly_and_not_retried(self):
        t0 = time.monotonic()
        r = self.run_hp("-u", f"{self.tls.url}/v1/predict/detect", CAT)      # default --retries 3
        elapsed = time.monotonic() - t0
        self.assertExit(r, 9)
        self.assertOneLineError(r, f"{CAT}: network error:", "certificate")
        self.assertEqual(self.tls.tls_handshakes, 1, "a certificate failure was retried")
        self.assertEqual(self.tls.log(), [])                 # nothing was sent
        self.assertLess(elapsed, 5 * (5 if WRAPPER else 1))

    def test_certificate_for_another_name_is_exit_9(self):
        r = self.run_hp("-u", f"{self.wrong_name.url}/v1/predict/detect", "--cacert", self.certs["ca"], CAT)
        self.assertExit(r, 9)
        self.assertOneLineError(r, f"{CAT}: network error:", "127.0.0.1")
        self.assertEqual(self.wrong_name.tls_handshakes, 1)
        self.assertEqual(self.wrong_name.log(), [])

    def test_insecure_works_and_warns(self):
        r = self.run_hp("-u", f"{self.wrong_name.url}/v1/predict/detect", "--insecure", CAT)
        self.assertExit(r, 0)
        self.assertIn("hubpredict: warning: --insecure: TLS certificates are not verified", r.err)
        self.assertEqual(len(self.wrong_name.log()), 1)
        self.assertEqual(self.wrong_name.log()[0]["headers"]["x-api-key"], HUB_KEY)
        r = self.run_hp("-u", f"{self.tls.url}/v1/predict/detect", "--insecure", "-q", CAT)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")                          # -q: not even that warning

    def test_a_cacert_that_is_not_there(self):
        r = self.run_hp("-u", f"{self.tls.url}/v1/predict/detect", "--cacert", self.path("none.pem"), CAT)
        self.assertExit(r, 9)
        self.assertOneLineError(r, f"{CAT}: network error:")
        self.assertEqual(self.tls.log(), [])


if __name__ == "__main__":
    unittest.main()
