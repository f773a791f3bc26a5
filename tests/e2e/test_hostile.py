"""Hostile 200 answers: nothing of them reaches the terminal unescaped, nothing crashes."""

import json
import unittest

from harness import E2E, image

BOX = b'"box":{"x1":1,"y1":2,"x2":3,"y2":4}'


def doc(results: bytes) -> bytes:
    return b'{"images":[{"results":[' + results + b'],"shape":[10,20]}]}'


class TestHostileAnswers(E2E):

    def answer(self, body: bytes, *args):
        self.server.push({"body": body.decode("latin-1"), "content_type": "application/json"})
        return self.run_hp("-u", self.hub_url(), "--retries", "0", *args, image("tiny.gif"))

    def test_invalid_utf8_and_controls_in_names(self):
        # \xff\xfe are raw bytes inside the JSON string (not UTF-8); ESC and BEL come escaped
        name_json = b"bad\xff\xfe \\u001b]0;title\\u0007 \xe2\x80\xae rtl"
        body = doc(b'{"class":0,"name":"' + name_json + b'","confidence":0.5,' + BOX + b"}")
        self.server.push({"body": body, "content_type": "application/json"})
        r = self.run_hp("-u", self.hub_url(), image("tiny.gif"))
        self.assertExit(r, 0)
        for b in (b"\x1b", b"\x07", b"\xff", "\u202e".encode()):  # a bidi override could reorder the line
            self.assertNotIn(b, r.out_bytes)
        self.assertIn(b"bad\\xFF\\xFE \\e]0;title\\x07 \\u202E rtl", r.out_bytes)
        # json and jsonl stay valid JSON (invalid bytes become U+FFFD, controls \u escapes)
        for fmt in ("json", "jsonl"):
            self.server.push({"body": body, "content_type": "application/json"})
            r = self.run_hp("-u", self.hub_url(), "-f", fmt, image("tiny.gif"))
            self.assertExit(r, 0)
            text = r.out_bytes.decode("utf-8")  # must be valid UTF-8
            self.assertNotIn("\x1b", text)
            env = json.loads(text.splitlines()[0] if fmt == "jsonl" else text)
            got = (env if fmt == "jsonl" else env[0])["response"]["images"][0]["results"][0]["name"]
            self.assertEqual(got, "bad\ufffd\ufffd \x1b]0;title\x07 \u202e rtl")
        # csv: valid UTF-8, controls and invalid bytes as U+FFFD
        self.server.push({"body": body, "content_type": "application/json"})
        r = self.run_hp("-u", self.hub_url(), "-f", "csv", image("tiny.gif"))
        self.assertExit(r, 0)
        self.assertEqual(r.csv()[1][5], "bad\ufffd\ufffd \ufffd]0;title\ufffd \u202e rtl")
        r.out_bytes.decode("utf-8")

    def test_lenient_json_is_refused(self):
        """What cJSON would accept but RFC 8259 does not: exit 10, never copied into json output."""
        for body in (b'{"images":\x1b[]\x08\x07}', b'\xef\xbb\xbf{"images":[]}', b'{"images":[],"n":01}',
                     b'{"images":[{"results":[],"x":"\\u0\x000"}]}',
                     b'{"images":[{"results":[{"class":0,"name":"raw\x1bESC","confidence":0.5}]}]}'):
            with self.subTest(body=body):
                for fmt in ("json", "table"):
                    r = self.answer(body, "-f", fmt)
                    self.assertExit(r, 10)
                    self.assertOneLineError(r, "bad response: not JSON")
                    self.assertNotIn(b"\x1b", r.out_bytes + r.err_bytes)

    def test_deeply_nested_json(self):
        body = b'{"images":[{"results":[],"x":' + b"[" * 50000 + b"]" * 50000 + b"}]}"
        r = self.answer(body)
        self.assertExit(r, 10)
        self.assertOneLineError(r, "bad response")

    def test_huge_numbers(self):
        # huge but finite coordinates are numbers; an infinite one or a confidence over 1 cannot
        # be true (issue 9 item 8, test_safety.TestImpossibleAnswers)
        body = doc(b'{"class":0,"name":"n","confidence":1,"box":{"x1":-1e308,"y1":1e-320,"x2":1e300,"y2":4}}')
        for fmt, check in (("table", b"1e+300"), ("csv", b"-1e+308"), ("json", b"1e300")):
            with self.subTest(fmt=fmt):
                r = self.answer(body, "-f", fmt)
                self.assertExit(r, 0)
                self.assertIn(check, r.out_bytes)
        r = self.answer(doc(b'{"class":1e300,"name":"n","confidence":0.5}'))
        self.assertExit(r, 10)
        self.assertOneLineError(r, "class that is not a whole number")

    def test_wrong_types(self):
        cases = {
            b'{"images":"none"}': "images is not an array",
            doc(b'{"class":0,"name":"n","confidence":"0.9"}'): "confidence that is not a number",
            doc(b'{"class":0,"name":["n"],"confidence":0.9}'): "name that is not a string",
            doc(b'{"class":0,"name":"n","confidence":0.9,"box":[1,2,3,4]}'): "box that is not an object",
            doc(b'{"class":0,"name":"n","confidence":0.9,"box":{"x1":1,"y1":2,"y2":4}}'): "box without x2",
            doc(b'{"class":0,"name":"n","confidence":0.9,' + BOX + b',"keypoints":{"x":[1],"y":"2"}}'):
                "keypoints.y that is not an array",
            b'{"images":[{"results":[],"shape":[10,"20"]}]}': "shape",
            b'{"images":[{"results":[],"speed":{"inference":"fast"}}]}': "inference that is not a number",
            b'null': "not a JSON object",
        }
        for body, message in cases.items():
            with self.subTest(body=body[:60]):
                r = self.answer(body)
                self.assertExit(r, 10)
                self.assertOneLineError(r, message)
                self.assertEqual(r.out, "")

    def test_nul_and_control_bytes_in_error_bodies(self):
        self.server.push({"status": 500, "body": "fail\x00ed \x1b[2J\x1b[H wiped", "content_type": "text/plain"})
        r = self.run_hp("-u", self.hub_url(), "--retries", "0", image("tiny.gif"))
        self.assertExit(r, 8)
        self.assertNotIn("\x1b", r.err)
        self.assertNotIn("\x00", r.err)
        self.assertOneLineError(r, "500 Internal Server Error")


if __name__ == "__main__":
    unittest.main()
