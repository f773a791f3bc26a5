#!/usr/bin/env python3
"""A loopback stand-in of the Ultralytics HUB / Platform predict API, for hubpredict's tests.

The live services cannot be reached from the test machines, so the end-to-end tests and the
benchmarks run hubpredict against this server instead. It follows ../../../shared/API.md: the
same routes, authentication, multipart request and response documents, built from the
documented fixtures but sized to the image that was really uploaded. On top of that, a test
can script faults (slow answers, cut-off bodies, connection resets, rate limiting, ...) and
read back a log of every request received.

Python standard library only. Two ways to use it:

    # 1. In-process, from a unittest (add tests/standin to sys.path first)
    from standin import StandIn
    with StandIn() as s:                     # binds 127.0.0.1 on an ephemeral port
        s.push({"status": 429, "headers": {"Retry-After": "1"}})
        ... run hubpredict --url s.url ...
        s.log()                              # what the client sent

    # 2. As a program; prints "standin listening on http://127.0.0.1:PORT", stops on SIGTERM
    python3 tests/standin/standin.py --port 0 --port-file /tmp/port

StandIn(read_rate=BYTES_PER_S) (or --read-rate) reads request bodies no faster than that, as
a slow uplink would deliver them (tests/bench/pictures.sh).

How the answer to a predict request is chosen (see Handler._choose_answer):

    1. the route gives the flavour (hub or platform) and the model ID;
    2. the key is checked (x-api-key for hub, "Authorization: Bearer" for platform);
    3. the first matching scripted entry, if any, answers (see ScriptQueue);
    4. otherwise the model ID's words pick the behaviour (see Behaviour): a task, "empty",
       "notfound", "status-NNN", "taskmeta-TASK";
    5. the form fields are validated and the uploaded image is measured (see ImageSniffer);
    6. the task's fixture is re-shaped to the image (see build_prediction).

Script entries (StandIn.push / POST /_standin/script), all keys optional:

    match      answer only requests whose path contains this substring
    status     HTTP status (default 200)
    body       str/bytes sent as is, dict/list as JSON; default: the normal answer when the
               status is 200, else a flavour-style error naming the status
    content_type, headers    the Content-Type, extra headers (e.g. {"Retry-After": "2"})
    delay      seconds to wait before the status line
    drip       seconds between body bytes (headers go first)
    cut        send the full Content-Length but only this many body bytes, then close
    reset      close the connection with a TCP RST instead of answering
    huge       a 200 of this many bytes of JSON-looking body, generated as it is sent
    segments   {"images": F, "polygons": P, "points": K}: a segmentation answer of F frames of
               P polygons of K points, generated as it is sent (hundreds of MB, never held)
    redirect   a 307 (or the 3xx `status`) with this Location
    repeat     how many requests the entry answers (default 1, -1 forever)
    skip_auth  also answer requests whose key is wrong
    comment    ignored

Request records (StandIn.log() / GET /_standin/log), one per request outside /_standin/:

    method, path, query, http_version, headers {lowercased name: value},
    fields {name: text}, file {name, filename, content_type, size, sha256} or None,
    t_start (request line read), t_read (body read), t_end (answer sent): time.time() values,
    status (None when no answer was sent), conn_id (one number per TCP connection)

As the service does (issue 8), on top of the above:

    routes     /v1/predict/ID and /dedicated/ID (HUB), /api/models/ID/predict (older Platform
               docs), /api/models/OWNER/PROJECT/MODEL/predict and
               /api/deployments/OWNER/NAME/predict (today's Platform: each part must match
               ^[a-z0-9]+(?:-[a-z0-9]+)*$, owner 4-32 characters, else 404), POST /predict,
               GET /health and GET / (a dedicated endpoint); today's routes answer classify's
               top 5 and set metadata.task
    errors     Platform routes (and any unknown /api/ path) answer {"error": ...}, 404 included
    keys       a model word "public" needs no key on Platform (no Authorization header);
               no header on another Platform model: 401 {"error": "Authentication required"}
    x-request-id  on every answer (the record's "request_id"), unless a script sets its own
    413        over upload_limits: Platform's shared routes 10 MiB, /predict 100 MiB, HUB none;
               refused from the Content-Length before the body is read (then drained)
    more words "oldshape" (keypoints as [{x, y, conf}], OBB corners in an `obb` object beside
               an axis-aligned box), "visflags" (pose visible as 0/1/2), "novis" (no visible);
               a `bits` field (8, 12, 16; Platform) is checked and echoed in depth answers

A known latency for `hubpredict bench` (issue 23): a model word "bench" (/v1/predict/bench)
answers its detect document after a service time known in advance, and its `speed` adds up
to exactly that time (preprocess and postprocess 10 % each, inference the rest, in whole
microseconds). Request k (0, 1, ... in order of arrival since set_bench() or reset()) takes
bench_service_ms(seed, median_ms, sigma, cap_ms, k + 1)[k]: a seeded lognormal. A stall window
[from, to) seconds after the first such request freezes the server: a request arriving in it
is held until `to`, then served (the stall is queueing, not in `speed`). Each record gets
bench_index, service_ms and stall_ms. set_bench(...) or POST /_standin/bench {"seed",
"median_ms", "sigma", "cap_ms", "stall": [from, to] or null} sets them; the defaults are
seed 23, median 20 ms, sigma 0.5, cap 250 ms, stall [2, 3].

Per-test switches, all back to their defaults on reset():

    set_rate_limit(N, window=60)  Platform's sliding window per key on Platform routes (not
               /predict): 429 with Retry-After, X-RateLimit-* (Reset as ISO-8601) and
               {"error": "Rate limit exceeded", "retryAfter", "resetAt"}; off by default
    set_cold_start(SEC)  503 {"error": "Prediction service unavailable"} for SEC seconds from
               the first request after the call (a dedicated endpoint scaled to zero)
    chunked    True: every plain answer with Transfer-Encoding: chunked (a script entry's
               "chunked" does it for one answer)
    gzip_all   True: gzip answers over 1 KB (when asked) on every route; /predict always does
    upload_limits  the 413 limits above, by route kind

A live MJPEG camera (issue 22, --stream): GET /_stream/mjpeg answers 200
multipart/x-mixed-replace; boundary=frame and sends the JPEGs given by set_stream_frames(list of
bytes) in turn (frame k is frames[k % len], k counted across connections from the last
reset), FPS a second, until the client leaves. Query parameters (all optional): fps=F (default
10), drop=N (close the connection after N frames: a stream lost mid-way), serve=C (only the
first C connections since the reset are served, later ones closed before any answer: a camera
gone for good), hang=1 (read the request, never answer). Each GET is logged (its record's
"stream_frames" says how many frames it sent); no frames set: 404.

HTTPS: StandIn(tls=(cert, key)) serves TLS (make_test_certificates() makes a throw-away CA and
a certificate with openssl; tls_handshakes counts handshakes begun). StandIn(connect_tls=(cert,
key)) answers CONNECT as an HTTPS proxy would, and serves the tunnel itself over TLS with that
certificate (so a client can be pointed at https://api.ultralytics.com through https_proxy).

The record is added as soon as the body has been read; status and t_end are filled in just
before the answer's last byte goes out, so a client that has its answer sees them.

The layout of this file follows that flow: constants and fixtures, image sniffing, multipart
parsing, answers, the script queue and request log, the HTTP handler, the StandIn class, and
the command line.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import gzip
import hashlib
import http
import http.server
import ipaddress
import json
import math
import os
import random
import re
import signal
import socket
import ssl
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deployments import DeploymentStore  # noqa: E402  (beside this file)

__all__ = [
    "HUB_KEY", "PLATFORM_KEY", "FIXTURES", "FIXTURES_DIR", "StandIn", "ImageSniffer",
    "MultipartParser", "MultipartError", "build_prediction", "main", "make_test_certificates",
    "bench_service_ms", "bench_speed", "BENCH_DEFAULTS",
]

# ---------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------

HUB_KEY = "0123456789abcdef0123456789abcdef0123456789"   # 42 hex characters, as HUB keys
PLATFORM_KEY = "ul_" + "a1b2c3d4e5" * 4                   # "ul_" + 40 hex, as Platform keys

CHUNK = 64 * 1024            # request bodies are read, and big answers written, in these pieces
FIELD_LIMIT = 1024 * 1024    # a non-file form field keeps at most this many bytes
CONTROL_BODY_LIMIT = 16 * 1024 * 1024
MB = 1024 * 1024
# Upload limits by route kind (None: no limit): Platform's shared routes take 10 MB, dedicated
# endpoints 100 MB; HUB's was only seen at a proxy, so it is off by default.
UPLOAD_LIMITS = {"shared": 10 * MB, "dedicated": 100 * MB, "hub": None}
GZIP_OVER = 1024             # dedicated endpoints gzip answers larger than this
CONNECTION_TIMEOUT = 30      # seconds a connection may sit idle or stalled mid-request

# Task words in a model ID, in order of precedence.
TASKS = ("semantic", "segment", "classify", "detect", "obb", "pose", "depth")
VIDEO_EXTENSIONS = {"asf", "avi", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg", "ts", "wmv", "webm"}
VIDEO_FRAMES = 3             # a video answers this many frames...
DEFAULT_SHAPE = (480, 640)   # ...of this [height, width]; so does a Platform `source` URL

NO_FILE_MESSAGE = "An image file or URL must be submitted."

# ---------------------------------------------------------------------------------------------
# Fixtures: the documented response bodies, from shared/fixtures or this embedded copy
# ---------------------------------------------------------------------------------------------

_SPEED = {"inference": 200.8, "postprocess": 0.8, "preprocess": 2.8}
_METADATA = {
    "imageCount": 1,
    "functionTimeCall": 0.018,
    "model": "model.pt",
    "version": {"ultralytics": "8.3.17", "torch": "2.5.0+cpu", "torchvision": "0.20.0+cpu",
                "python": "3.11.9"},
}

# A copy of ../../../shared/fixtures/*.json (file name without ".json" -> document), used when
# that directory cannot be found. Shared sub-objects are never mutated: answers are deep copies.
EMBEDDED_FIXTURES = {
    "classify": {
        "images": [{
            "results": [{"class": 0, "name": "cat", "confidence": 0.95},
                        {"class": 1, "name": "dog", "confidence": 0.03}],
            "shape": [750, 600],
            "speed": _SPEED,
        }],
        "metadata": _METADATA,
    },
    "depth": {
        "images": [{
            "results": [],
            "depth": {
                "shape": [2, 2],
                "encoding": "png",
                "data": "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAAAAABX3VL4AAAADklEQVR4nGNgcGBo+A8AAwUB"
                        "wE4zW+kAAAAASUVORK5CYII=",
                "min": 0.31,
                "max": 79.9,
                "bits": 8,
            },
            "shape": [480, 640],
            "speed": _SPEED,
        }],
        "metadata": _METADATA,
    },
    "detect": {
        "images": [{
            "results": [
                {"class": 0, "name": "person", "confidence": 0.92,
                 "box": {"x1": 100, "y1": 50, "x2": 300, "y2": 400}},
                {"class": 2, "name": "car", "confidence": 0.87,
                 "box": {"x1": 400, "y1": 200, "x2": 600, "y2": 350}},
            ],
            "shape": [1080, 1920],
            "speed": {"preprocess": 1.2, "inference": 12.5, "postprocess": 2.3},
        }],
        "metadata": _METADATA,
    },
    "empty": {
        "images": [{"results": [], "shape": [750, 600], "speed": _SPEED}],
        "metadata": _METADATA,
    },
    "error-hub-400": {"data": {}, "message": NO_FILE_MESSAGE, "success": False},
    "error-hub-500": {
        "details": {"code": 500, "file": "predict.py", "function": "run", "line": 42,
                    "message": "model failed to load",
                    "traceback": "Traceback (most recent call last): ..."},
    },
    "error-platform-429": {"error": "Rate limited"},
    "obb": {
        "images": [{
            "results": [{
                "class": 0, "name": "person", "confidence": 0.92,
                "box": {"x1": 374.85565, "x2": 392.31824, "x3": 412.81805, "x4": 395.35547,
                        "y1": 264.40704, "y2": 267.45728, "y3": 150.0966, "y4": 147.04634},
            }],
            "shape": [750, 600],
            "speed": _SPEED,
        }],
        "metadata": _METADATA,
    },
    "pose": {
        "images": [{
            "results": [{
                "class": 0, "name": "person", "confidence": 0.92,
                "box": {"x1": 118, "x2": 416, "y1": 112, "y2": 660},
                "keypoints": {
                    "visible": [0.9909399747848511, 0.8162999749183655, 0.9872099757194519],
                    "x": [316.3871765136719, 315.9374694824219, 304.878173828125],
                    "y": [156.4207763671875, 148.05775451660156, 144.93240356445312],
                },
            }],
            "shape": [750, 600],
            "speed": _SPEED,
        }],
        "metadata": _METADATA,
    },
    "segment": {
        "images": [{
            "results": [{
                "class": 0, "name": "person", "confidence": 0.92,
                "box": {"x1": 118, "x2": 416, "y1": 112, "y2": 660},
                "segments": {"x": [266.015625, 266.015625, 258.984375],
                             "y": [110.15625, 113.67188262939453, 120.70311737060547]},
            }],
            "shape": [750, 600],
            "speed": _SPEED,
        }],
        "metadata": _METADATA,
    },
    "semantic": {
        "images": [{
            "results": [{"class": 0, "name": "road", "pixel_ratio": 0.42},
                        {"class": 1, "name": "building", "pixel_ratio": 0.23}],
            "shape": [480, 640],
            "speed": _SPEED,
        }],
        "metadata": _METADATA,
    },
}


def find_fixtures_dir() -> Path | None:
    """Return the shared fixtures directory, or None when there is none.

    $HUBPREDICT_FIXTURES wins. Otherwise look for `shared/fixtures` in this file's directory
    and each of its ancestors: the repository sits beside `shared/` (/work/main next to
    /work/shared here; a CI clone next to its copy of shared/).
    """
    env = os.environ.get("HUBPREDICT_FIXTURES")
    if env:
        return Path(env) if Path(env).is_dir() else None
    here = Path(__file__).resolve().parent
    for directory in (here, *here.parents):
        candidate = directory / "shared" / "fixtures"
        if (candidate / "detect.json").is_file():
            return candidate
    return None


def load_fixtures(directory: Path | None) -> dict:
    """The fixtures by name: each file found in `directory`, else the embedded copy."""
    fixtures = copy.deepcopy(EMBEDDED_FIXTURES)
    if directory is None:
        return fixtures
    for name in fixtures:
        path = directory / f"{name}.json"
        try:
            with open(path, encoding="utf-8") as f:
                fixtures[name] = json.load(f)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            print(f"standin: {path}: {exc}; using the embedded copy", file=sys.stderr)
    return fixtures


FIXTURES_DIR = find_fixtures_dir()
FIXTURES = load_fixtures(FIXTURES_DIR)

# ---------------------------------------------------------------------------------------------
# Image sniffing: width and height from the first bytes of an upload
# ---------------------------------------------------------------------------------------------

# JPEG start-of-frame markers carry the size: C0-CF except C4 (DHT), C8 (JPG), CC (DAC).
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers that stand alone, without a length: TEM, RST0-7, SOI.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD9)}


def _fixed_header_size(head: bytes) -> tuple[str, int, int] | None:
    """(kind, width, height) of a PNG, GIF, BMP or WebP from its first 32 bytes, else None."""
    width = height = 0
    kind = None
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
        kind = "png"
        width, height = struct.unpack(">II", head[16:24])
    elif head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        kind = "gif"
        width, height = struct.unpack("<HH", head[6:10])
    elif head.startswith(b"BM") and len(head) >= 22:
        kind = "bmp"
        (dib_size,) = struct.unpack("<I", head[14:18])
        if dib_size == 12:                              # BITMAPCOREHEADER: 16-bit sizes
            width, height = struct.unpack("<HH", head[18:22])
        elif len(head) >= 26:                           # BITMAPINFOHEADER and later
            width, height = struct.unpack("<ii", head[18:26])
            height = abs(height)                        # negative: rows stored top-down
    elif head.startswith(b"RIFF") and head[8:12] == b"WEBP" and len(head) >= 30:
        kind = "webp"
        chunk = head[12:16]
        if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":       # lossy
            width, height = struct.unpack("<HH", head[26:30])
            width, height = width & 0x3FFF, height & 0x3FFF
        elif chunk == b"VP8L" and head[20] == 0x2F:                  # lossless
            (bits,) = struct.unpack("<I", head[21:25])
            width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif chunk == b"VP8X":                                       # extended
            width = int.from_bytes(head[24:27], "little") + 1
            height = int.from_bytes(head[27:30], "little") + 1
    if kind is None or width <= 0 or height <= 0:
        return None
    return kind, width, height


class ImageSniffer:
    """Learns an image's width and height from its bytes, fed in pieces of any size.

    PNG, GIF, BMP and WebP keep their size in a fixed header at the start. JPEG keeps it in a
    start-of-frame segment that may come after large APPn segments (EXIF thumbnails, ICC
    profiles), so the sniffer walks the segments and skips their contents without storing
    them. It never holds more than the current piece plus a few bytes.

        sniffer.feed(piece) ...; sniffer.finish() -> (width, height) or None
    """

    _HEAD = 32   # enough bytes for every fixed header read above

    def __init__(self):
        self.kind: str | None = None
        self.size: tuple[int, int] | None = None   # (width, height) once known
        self._done = False
        self._window = bytearray()   # bytes from stream offset self._offset onwards
        self._offset = 0
        self._marker_at: int | None = None   # JPEG: stream offset of the next marker

    def feed(self, data: bytes) -> None:
        if not self._done:
            self._window += data
            self._scan(at_end=False)

    def finish(self) -> tuple[int, int] | None:
        if not self._done:
            self._scan(at_end=True)
            self._stop()
        return self.size

    def _stop(self) -> None:
        self._done = True
        self._window = bytearray()

    def _scan(self, at_end: bool) -> None:
        if self._marker_at is None:                 # the format is not known yet
            if len(self._window) < self._HEAD and not at_end:
                return
            head = bytes(self._window[:self._HEAD])
            if head.startswith(b"\xff\xd8\xff"):
                self.kind, self._marker_at = "jpeg", 2
            else:
                found = _fixed_header_size(head)
                if found:
                    self.kind, width, height = found
                    self.size = (width, height)
                self._stop()
                return
        self._walk_jpeg(at_end)

    def _walk_jpeg(self, at_end: bool) -> None:
        window = self._window
        while True:
            # Drop what lies before the next marker (segment contents we skip).
            skip = min(self._marker_at - self._offset, len(window))
            del window[:skip]
            self._offset += skip
            if self._marker_at > self._offset or len(window) < 4:
                if at_end:
                    self._stop()                    # ended before a frame header
                return
            if window[0] != 0xFF:
                return self._stop()                 # not a marker: broken JPEG
            marker = window[1]
            if marker == 0xFF:                      # fill byte before a marker
                self._marker_at += 1
            elif marker in _JPEG_STANDALONE:
                self._marker_at += 2
            elif marker in (0xD9, 0xDA):            # end of image / start of scan: no frame
                return self._stop()
            elif marker in _JPEG_SOF:
                if len(window) < 9:
                    if at_end:
                        self._stop()
                    return
                height, width = struct.unpack(">HH", window[5:9])
                if width and height:
                    self.size = (width, height)
                return self._stop()
            else:                                   # any other segment: skip by its length
                (length,) = struct.unpack(">H", window[2:4])
                if length < 2:
                    return self._stop()
                self._marker_at += 2 + length


# ---------------------------------------------------------------------------------------------
# Multipart parsing: an incremental multipart/form-data parser
# ---------------------------------------------------------------------------------------------

class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


_HEADER_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def parse_header_value(value: str) -> tuple[str, dict[str, str]]:
    """Split `type; a=1; b="x"` into ("type", {"a": "1", "b": "x"}); names lowercased."""
    main_value, _, _ = value.partition(";")
    params = {}
    for match in _HEADER_PARAM.finditer(value[len(main_value):]):
        name, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[name] = raw
    return main_value.strip().lower(), params


def parse_part_headers(block: bytes) -> dict[str, str]:
    """The header block of one part as {lowercased name: value}."""
    headers: dict[str, str] = {}
    name = None
    for line in block.decode("utf-8", "replace").split("\r\n"):
        if line[:1] in (" ", "\t") and name:        # obsolete line folding
            headers[name] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MultipartError(f"bad part header {line[:40]!r}")
        name = name.strip().lower()
        headers[name] = value.strip()
    return headers


class MultipartParser:
    """Parses a multipart body fed in pieces of any size, boundaries split anywhere.

    For each part, `open_part(headers)` is called and must return a sink with `write(bytes)`
    and `close()`; the part's content is streamed into it. Memory stays at one piece plus the
    length of the delimiter, whatever the size of the parts.
    """

    _PREAMBLE, _AFTER_DELIMITER, _HEADERS, _CONTENT, _DONE = range(5)
    MAX_HEADER_BYTES = 16 * 1024

    def __init__(self, boundary: bytes, open_part):
        self._delimiter = b"\r\n--" + boundary
        # The stream is seen with a CRLF in front, so the first delimiter (which has none
        # when there is no preamble) is found like all the others.
        self._buf = bytearray(b"\r\n")
        self._state = self._PREAMBLE
        self._open_part = open_part
        self._part = None

    def feed(self, data: bytes) -> None:
        self._buf += data
        while self._step():
            pass

    def finish(self) -> None:
        """Call at the end of the body; raises MultipartError if it was incomplete."""
        if self._state != self._DONE:
            raise MultipartError("body ended before the closing boundary")

    def _step(self) -> bool:
        """Make what progress the buffer allows; True when another step may make more."""
        buf, state = self._buf, self._state
        if state in (self._PREAMBLE, self._CONTENT):
            at = buf.find(self._delimiter)
            if at < 0:
                # Pass everything on except a tail that may be the start of a delimiter.
                self._pass_on(len(buf) - (len(self._delimiter) - 1))
                return False
            self._pass_on(at)
            del buf[:len(self._delimiter)]
            if self._part is not None:
                self._part.close()
                self._part = None
            self._state = self._AFTER_DELIMITER
            return True
        if state == self._AFTER_DELIMITER:
            # "--" closes the body; otherwise optional blanks and CRLF start a part.
            if len(buf) < 2:
                return False
            if buf.startswith(b"--"):
                self._state = self._DONE
                buf.clear()
                return False
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > 1024:
                    raise MultipartError("no line end after a boundary")
                return False
            if buf[:end].strip(b" \t"):
                raise MultipartError("unexpected bytes after a boundary")
            del buf[:end + 2]
            self._state = self._HEADERS
            return True
        if state == self._HEADERS:
            if buf.startswith(b"\r\n"):             # a part without headers
                block, end = b"", 2
            else:
                at = buf.find(b"\r\n\r\n")
                if at < 0:
                    if len(buf) > self.MAX_HEADER_BYTES:
                        raise MultipartError("part headers too long")
                    return False
                block, end = bytes(buf[:at]), at + 4
            del buf[:end]
            self._part = self._open_part(parse_part_headers(block))
            self._state = self._CONTENT
            return True
        buf.clear()                                 # _DONE: the epilogue is ignored
        return False

    def _pass_on(self, count: int) -> None:
        """Remove `count` bytes from the buffer; give them to the current part, if any."""
        if count <= 0:
            return
        data = bytes(self._buf[:count])
        del self._buf[:count]
        if self._state == self._CONTENT:
            self._part.write(data)


class FilePart:
    """An uploaded file: hashed, counted and measured as it streams past, never stored."""

    def __init__(self, name: str, filename: str | None, content_type: str | None):
        self.name, self.filename, self.content_type = name, filename, content_type
        self.size = 0
        self.sha256 = None
        self.dimensions: tuple[int, int] | None = None   # (width, height) of an image
        self._hash = hashlib.sha256()
        self._sniffer = ImageSniffer()

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        self._sniffer.feed(data)

    def close(self) -> None:
        self.sha256 = self._hash.hexdigest()
        self.dimensions = self._sniffer.finish()

    def is_video(self) -> bool:
        return _has_video_extension(self.filename or "")

    def record(self) -> dict:
        return {"name": self.name, "filename": self.filename, "content_type": self.content_type,
                "size": self.size, "sha256": self.sha256}


class _FieldSink:
    """A small form field, kept as text (at most FIELD_LIMIT bytes of it)."""

    def __init__(self, form: Form, name: str):
        self._form, self._name, self._data = form, name, bytearray()

    def write(self, data: bytes) -> None:
        room = FIELD_LIMIT - len(self._data)
        if room > 0:
            self._data += data[:room]

    def close(self) -> None:
        self._form.fields[self._name] = self._data.decode("utf-8", "replace")


@dataclass
class Form:
    """What a request body held: text fields, file parts, or why it could not be parsed."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[FilePart] = field(default_factory=list)
    malformed: str | None = None

    def open_part(self, headers: dict[str, str]):
        """MultipartParser callback: the sink for a new part."""
        disposition, params = parse_header_value(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in params:
            raise MultipartError("a part without Content-Disposition: form-data; name=...")
        name = params["name"]
        filename = params.get("filename")
        if filename is None and "filename*" in params:       # RFC 5987: UTF-8''name
            filename = urllib.parse.unquote(params["filename*"].split("'", 2)[-1])
        # The `file` field is streamed even when sent without a filename.
        if filename is not None or name == "file":
            part = FilePart(name, filename, headers.get("content-type"))
            self.files.append(part)
            return part
        return _FieldSink(self, name)

    def upload(self) -> FilePart | None:
        """The part the API reads the picture from: the one named `file`."""
        return next((part for part in self.files if part.name == "file"), None)

    def file_record(self) -> dict | None:
        return self.files[0].record() if self.files else None


def read_form(pieces, content_type: str) -> Form:
    """Parse a request body, given as an iterable of byte pieces, into a Form.

    A body that is not multipart/form-data is read and dropped (the Form is then empty);
    a broken multipart body is read to its end too, so the connection stays usable.
    """
    form = Form()
    mime, params = parse_header_value(content_type or "")
    parser = None
    if mime == "multipart/form-data":
        boundary = params.get("boundary", "")
        if 1 <= len(boundary) <= 200 and boundary.isascii():
            parser = MultipartParser(boundary.encode("ascii"), form.open_part)
        else:
            form.malformed = "missing or bad boundary"
    for piece in pieces:
        if parser is not None and form.malformed is None:
            try:
                parser.feed(piece)
            except MultipartError as exc:
                form.malformed = str(exc)
    if parser is not None and form.malformed is None:
        try:
            parser.finish()
        except MultipartError as exc:
            form.malformed = str(exc)
    return form


def _has_video_extension(name: str) -> bool:
    return os.path.splitext(name)[1][1:].lower() in VIDEO_EXTENSIONS


# ---------------------------------------------------------------------------------------------
# Answers: what to send back
# ---------------------------------------------------------------------------------------------

@dataclass
class Answer:
    """One HTTP answer, with the faults a script entry may add to it."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0           # seconds before the status line
    drip: float = 0.0            # seconds between body bytes
    cut: int | None = None       # send only this many body bytes, then close
    reset: bool = False          # close with a TCP RST instead of answering
    huge: int | None = None      # a generated JSON-looking body of this many bytes
    segments: dict | None = None  # a generated segmentation answer (big_segments)
    chunked: bool | None = None  # Transfer-Encoding: chunked (None: the stand-in's default)


def reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def with_real_speed(answer: Answer, seconds: float) -> Answer:
    """A normal answer's `speed`, from the time the request really took so far (reading and
    checking the upload), split as a real server's is: a fixed speed would read as an
    inference longer than the whole request."""
    if answer.status != 200:
        return answer
    doc = json.loads(answer.body)
    ms = max(seconds * 1000.0, 0.1)
    for image in doc.get("images", []):
        if isinstance(image.get("speed"), dict):
            image["speed"] = {"preprocess": round(ms * 0.1, 1), "inference": round(ms * 0.8, 1),
                              "postprocess": round(ms * 0.1, 1)}
    return json_answer(200, doc, answer.headers)


BENCH_DEFAULTS = {"seed": 23, "median_ms": 20.0, "sigma": 0.5, "cap_ms": 250.0, "stall": (2.0, 3.0)}


def bench_service_ms(seed: int, median_ms: float, sigma: float, cap_ms: float, n: int) -> list[float]:
    """The first n service times (ms, whole microseconds) of the "bench" model: a lognormal
    of that median and sigma from random.Random(seed), within [0.1 ms, cap_ms]."""
    rng = random.Random(seed)
    return [round(min(max(rng.lognormvariate(math.log(median_ms), sigma), 0.1), cap_ms), 3)
            for _ in range(n)]


def bench_speed(service_ms: float) -> dict:
    """A `speed` whose three parts add up to service_ms (to the microsecond)."""
    micro = round(service_ms * 1000)
    pre = post = micro // 10
    return {"preprocess": pre / 1000, "inference": (micro - pre - post) / 1000,
            "postprocess": post / 1000}


def json_answer(status: int, doc, headers=()) -> Answer:
    return Answer(status, json.dumps(doc).encode(), headers=list(headers))


def error_answer(flavour: str, status: int, message: str, envelope: bool = False,
                 headers=()) -> Answer:
    """An error in the flavour's style: HUB `{"message"}` (or its full envelope with
    `data` and `success`, as for 400 and 401), Platform `{"error"}`."""
    if flavour == "platform":
        doc = {"error": message}
    elif envelope:
        doc = {"data": {}, "message": message, "success": False}
    else:
        doc = {"message": message}
    return json_answer(status, doc, headers)


def status_answer(flavour: str, status: int) -> Answer:
    """The answer of a `status-NNN` model: gateways answer HTML, rate limits add headers."""
    if status in (502, 503, 504):
        page = (f"<html><head><title>{status} {reason(status)}</title></head>"
                f"<body><h1>{status}</h1></body></html>")
        return Answer(status, page.encode(), content_type="text/html")
    headers = []
    if status == 429:
        headers = [("Retry-After", "1"), ("X-RateLimit-Limit", "100"),
                   ("X-RateLimit-Remaining", "0"),
                   ("X-RateLimit-Reset", str(int(time.time()) + 1))]
    return error_answer(flavour, status, reason(status), headers=headers)


@dataclass
class Behaviour:
    """What a model ID asks the stand-in to do, read from the words in it."""

    task: str | None = None          # a task word found in the ID (None: no task word)
    empty: bool = False              # "empty": images without results
    not_found: bool = False          # "notfound": 404
    status: int | None = None        # "status-NNN" (400-599): always that status
    task_in_metadata: bool = False   # "taskmeta-TASK": metadata.task is set
    public: bool = False             # "public": Platform answers it without a key
    shape: str = "today"             # "oldshape": keypoints as [{x, y, conf}], OBB corners
                                     # in an `obb` object beside an axis-aligned `box`
    visible: str = "scores"          # pose `visible`: "scores" (0-1), "flags" ("visflags":
                                     # COCO 0/1/2), "none" ("novis": omitted)
    bits: int | None = None          # the request's `bits` (depth), set per request
    bench: bool = False              # "bench": a known service time and stall (set_bench)

    @classmethod
    def of(cls, model: str) -> Behaviour:
        name = model.lower()
        behaviour = cls(empty="empty" in name, not_found="notfound" in name,
                        public="public" in name, bench="bench" in name,
                        shape="old" if "oldshape" in name else "today",
                        visible="flags" if "visflags" in name else
                        "none" if "novis" in name else "scores")
        status = re.search(r"status-(\d{3})", name)
        if status and 400 <= int(status.group(1)) <= 599:
            behaviour.status = int(status.group(1))
        taskmeta = re.search(r"taskmeta-([a-z]+)", name)
        if taskmeta and taskmeta.group(1) in TASKS:
            behaviour.task, behaviour.task_in_metadata = taskmeta.group(1), True
        else:
            behaviour.task = next((task for task in TASKS if task in name), None)
        return behaviour


def _coordinate_mapper(fixture_shape, shape, normalize: bool, decimals: int | None):
    """A function (value, axis) -> value that moves a fixture coordinate onto the image.

    Pixels scale by the image's size over the fixture's; normalised values (pixel / image
    size) are therefore fixture pixel / fixture size, whatever the image.
    """
    (fixture_h, fixture_w), (height, width) = fixture_shape, shape
    if normalize:
        factors = {"x": 1 / fixture_w, "y": 1 / fixture_h}
    else:
        factors = {"x": width / fixture_w, "y": height / fixture_h}

    def convert(value, axis):
        factor = factors[axis]
        if factor == 1 and decimals is None:
            return value                            # keep the fixture's ints as ints
        value *= factor
        return round(value, decimals) if decimals is not None else value
    return convert


def _map_result(result: dict, convert) -> dict:
    out = {}
    for key, value in result.items():
        if key == "box":                            # x1..x4 / y1..y4
            out[key] = {name: convert(v, name[0]) for name, v in value.items()}
        elif key in ("segments", "keypoints"):      # x, y lists; `visible` is not a coordinate
            out[key] = {name: [convert(v, name) for v in values] if name in ("x", "y")
                        else copy.deepcopy(values) for name, values in value.items()}
        else:
            out[key] = copy.deepcopy(value)
    return out


def _reshape_result(result: dict, behaviour: Behaviour) -> dict:
    """A today-shaped result in the shape `behaviour` asks for (older docs, pose visibility)."""
    keypoints = result.get("keypoints")
    if isinstance(keypoints, dict):
        if behaviour.visible == "none":
            keypoints.pop("visible", None)
        elif behaviour.visible == "flags" and "visible" in keypoints:
            keypoints["visible"] = [2 if v >= 0.5 else (1 if v > 0.1 else 0)
                                    for v in keypoints["visible"]]
        if behaviour.shape == "old":
            xs, ys = keypoints["x"], keypoints["y"]
            confs = keypoints.get("visible")
            result["keypoints"] = [
                {"x": x, "y": y, **({"conf": confs[i]} if confs is not None else {})}
                for i, (x, y) in enumerate(zip(xs, ys))]
    box = result.get("box")
    if behaviour.shape == "old" and isinstance(box, dict) and "x4" in box:
        xs = [box[f"x{i}"] for i in range(1, 5)]
        ys = [box[f"y{i}"] for i in range(1, 5)]
        result["obb"] = box
        result["box"] = {"x1": min(xs), "y1": min(ys), "x2": max(xs), "y2": max(ys)}
    return result


def top5(fixture: dict) -> dict:
    """A classify fixture with five results, best first, as today's service answers."""
    doc = copy.deepcopy(fixture)
    for entry in doc["images"]:
        results = entry["results"]
        names = ["bird", "fox", "horse", "sheep", "cow"]
        low = min((r["confidence"] for r in results), default=0.01)
        while len(results) < 5:
            low = round(low / 2, 6)
            results.append({"class": 10 + len(results), "name": names[len(results)],
                            "confidence": low})
    return doc


def build_prediction(fixture: dict, shapes, *, empty: bool = False, meta_task: str | None = None,
                     normalize: bool = False, decimals: int | None = None,
                     behaviour: Behaviour | None = None) -> dict:
    """A response document made from `fixture`, one image entry per (height, width) in shapes.

    Key order is the fixture's. Results move to each image's size (or to 0-1 with normalize,
    rounded to `decimals`); `speed` and `depth` are copied; `metadata.imageCount` counts the
    entries and `metadata.task` is added when `meta_task` is given.
    """
    template = fixture["images"][0]
    bits = getattr(behaviour, "bits", None)
    images = []
    for height, width in shapes:
        convert = _coordinate_mapper(template["shape"], (height, width), normalize, decimals)
        entry = {}
        for key, value in template.items():
            if key == "results":
                entry[key] = [] if empty else [_map_result(r, convert) for r in value]
                if behaviour is not None:
                    entry[key] = [_reshape_result(r, behaviour) for r in entry[key]]
            elif key == "shape":
                entry[key] = [height, width]
            elif key == "depth" and bits is not None:
                entry[key] = dict(value, bits=bits)
            else:
                entry[key] = copy.deepcopy(value)
        images.append(entry)
    doc = {}
    for key, value in fixture.items():
        if key == "images":
            doc[key] = images
        elif key == "metadata":
            doc[key] = metadata = copy.deepcopy(value)
            metadata["imageCount"] = len(images)
            if meta_task:
                metadata["task"] = meta_task
        else:
            doc[key] = copy.deepcopy(value)
    return doc


_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_DECIMAL = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")
# field -> (parser, pattern, lowest, highest)
_RANGES = {
    "imgsz": (int, _INTEGER, 32, 1280),
    "conf": (float, _DECIMAL, 0.01, 1.0),
    "iou": (float, _DECIMAL, 0.0, 0.95),
    "decimals": (int, _INTEGER, 0, 10),
    "bits": (int, _INTEGER, 8, 16),
}
_PLATFORM_ONLY = ("normalize", "decimals", "source", "bits")


@dataclass
class Options:
    """The form fields that change an answer, once validated."""

    normalize: bool = False
    decimals: int | None = None
    bits: int | None = None          # depth models: 8, 12 or 16


def check_fields(flavour: str, fields: dict[str, str]) -> Options | Answer:
    """Validated options, or the 400/422 error answer the fields deserve."""
    if flavour == "hub":
        for name in _PLATFORM_ONLY:
            if name in fields:
                return error_answer(flavour, 400, f"unknown field '{name}'")
    values = {}
    for name, (parse, pattern, lowest, highest) in _RANGES.items():
        if name in fields:
            text = fields[name]
            value = parse(text) if pattern.fullmatch(text) else None
            if value is None or not lowest <= value <= highest:
                return error_answer(flavour, 422, f"{name} must be between {lowest} and {highest}")
            values[name] = value
    options = Options(decimals=values.get("decimals"), bits=values.get("bits"))
    if options.bits is not None and options.bits not in (8, 12, 16):
        return error_answer(flavour, 422, "bits must be 8, 12 or 16")
    if "normalize" in fields:
        text = fields["normalize"].strip().lower()
        if text not in ("true", "1", "false", "0"):
            return error_answer(flavour, 422, "normalize must be true or false")
        options.normalize = text in ("true", "1")
    if options.normalize and options.decimals is None:
        options.decimals = 5
    return options


@dataclass
class Route:
    flavour: str        # "hub" or "platform"
    model: str          # the model ID's last segment, URL-decoded
    kind: str = "old"   # "old" (the seed's and older docs' routes), "today" (Platform's
                        # OWNER/PROJECT/MODEL and deployment routes), "dedicated" (POST /predict)
    bad_name: str | None = None   # a path segment that breaks Platform's name rule
    service: tuple[str, str] | None = None   # (owner, name): a deployment's own serviceUrl


# Platform's rule for owner, project, model and deployment names (owner 4-32 characters).
NAME_RULE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

_ROUTES = [
    (re.compile(r"/v1/predict/([^/]+)"), "hub", "old"),
    (re.compile(r"/dedicated/([^/]+)"), "hub", "old"),
    (re.compile(r"/api/models/([^/]+)/predict"), "platform", "old"),
    (re.compile(r"/api/models/([^/]+)/([^/]+)/([^/]+)/predict"), "platform", "today"),
    (re.compile(r"/api/deployments/([^/]+)/([^/]+)/predict"), "platform", "today"),
    (re.compile(r"/predict()"), "platform", "dedicated"),   # a dedicated deployment: "detect"
    (re.compile(r"/_svc/([^/]+)/([^/]+)/predict"), "platform", "service"),   # a deployment's own
]


def _name_error(segments) -> str | None:
    """The first segment (owner first) that breaks Platform's name rule, or None."""
    for index, segment in enumerate(segments):
        ok = NAME_RULE.fullmatch(segment) and (index > 0 or 4 <= len(segment) <= 32) \
            and len(segment) <= 128
        if not ok:
            return segment
    return None


def match_route(path: str) -> Route | None:
    for pattern, flavour, kind in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            groups = [urllib.parse.unquote(g) for g in match.groups()]
            route = Route(flavour, groups[-1] or "detect", kind)
            if kind == "service":                   # the endpoint of deployment OWNER/NAME
                route.kind, route.service = "dedicated", (groups[0], groups[1])
            if kind == "today":
                route.bad_name = _name_error(groups)
            return route
    return None


def is_deploy_api(path: str) -> bool:
    """A Platform deployments route (not its predict) or the account summary."""
    if path == "/api/account/summary":
        return True
    return (path.startswith("/api/deployments/") or path == "/api/deployments") \
        and match_route(path) is None


def predict_answer(route: Route, form: Form) -> Answer:
    """The normal answer to an authorised POST on a predict route."""
    flavour = route.flavour
    behaviour = Behaviour.of(route.model)
    if behaviour.not_found:
        return error_answer(flavour, 404, "Model not found")
    if behaviour.status:
        return status_answer(flavour, behaviour.status)
    if form.malformed:
        return error_answer(flavour, 400, "Malformed multipart body")
    options = check_fields(flavour, form.fields)
    if isinstance(options, Answer):
        return options

    upload = form.upload()
    source = form.fields.get("source", "").strip() if flavour == "platform" else ""
    if upload is None and not source:
        return error_answer(flavour, 400, NO_FILE_MESSAGE, envelope=True)
    if upload is None:                              # Platform: a URL (or base64) source
        video = _has_video_extension(urllib.parse.urlsplit(source).path)
        shapes = [DEFAULT_SHAPE] * (VIDEO_FRAMES if video else 1)
    elif upload.size == 0:
        message = "Empty file" if flavour == "platform" else NO_FILE_MESSAGE
        return error_answer(flavour, 400, message, envelope=True)
    elif upload.is_video():
        shapes = [DEFAULT_SHAPE] * VIDEO_FRAMES
    elif upload.dimensions is None:
        return error_answer(flavour, 400, "Invalid image", envelope=True)
    else:
        width, height = upload.dimensions
        shapes = [(height, width)]

    task = behaviour.task
    today = route.kind != "old"
    if behaviour.empty and task is None:
        fixture, meta_task = FIXTURES["empty"], None
    else:
        task = task or "detect"
        fixture = FIXTURES[task]
        meta_task = task if (behaviour.empty or behaviour.task_in_metadata or today) else None
        if today and task == "classify":
            fixture = top5(fixture)                 # today's service: the top 5, best first
    behaviour.bits = options.bits
    doc = build_prediction(fixture, shapes, empty=behaviour.empty, meta_task=meta_task,
                           normalize=options.normalize, decimals=options.decimals,
                           behaviour=behaviour)
    return json_answer(200, doc)


# ---------------------------------------------------------------------------------------------
# The script queue and the request log
# ---------------------------------------------------------------------------------------------

# Allowed keys of a script entry and a check of each one's value.
_ENTRY_CHECKS = {
    "match": lambda v: isinstance(v, str),
    "status": lambda v: type(v) is int and 200 <= v <= 599,
    "body": lambda v: isinstance(v, (str, bytes, dict, list)) or v is None,
    "content_type": lambda v: isinstance(v, str),
    "headers": lambda v: isinstance(v, dict),
    "delay": lambda v: isinstance(v, (int, float)) and v >= 0,
    "drip": lambda v: isinstance(v, (int, float)) and v >= 0,
    "cut": lambda v: type(v) is int and v >= 0,
    "reset": lambda v: isinstance(v, bool),
    "repeat": lambda v: type(v) is int and (v >= 1 or v == -1),
    "skip_auth": lambda v: isinstance(v, bool),
    "huge": lambda v: type(v) is int and v >= 0,
    "segments": lambda v: isinstance(v, dict) and set(v) <= {"images", "polygons", "points"}
    and all(type(n) is int and n >= 0 for n in v.values()),
    "redirect": lambda v: isinstance(v, str),
    "chunked": lambda v: isinstance(v, bool),
    "comment": lambda v: True,
}


class ScriptQueue:
    """A FIFO of scripted answers, shared by all connections.

    A predict request takes the first entry whose `match` (if any) is a substring of its path
    and which applies to it (an unauthorised request only takes `skip_auth` entries). An
    entry answers `repeat` requests (default 1; -1 forever) and is then removed.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[dict] = []

    @staticmethod
    def validate(entry) -> dict:
        if not isinstance(entry, dict):
            raise ValueError(f"script entry must be an object, not {type(entry).__name__}")
        for key, value in entry.items():
            check = _ENTRY_CHECKS.get(key)
            if check is None:
                raise ValueError(f"unknown script entry key {key!r}")
            if not check(value):
                raise ValueError(f"bad value for script entry key {key!r}: {value!r}")
        entry = copy.deepcopy(entry)
        entry.setdefault("repeat", 1)
        return entry

    def push_many(self, entries) -> int:
        checked = [self.validate(entry) for entry in entries]   # all or nothing
        with self._lock:
            self._entries.extend(checked)
        return len(checked)

    def take(self, path: str, authorised: bool) -> dict | None:
        with self._lock:
            for index, entry in enumerate(self._entries):
                if entry.get("match", "") not in path:
                    continue
                if not authorised and not entry.get("skip_auth"):
                    continue
                if entry["repeat"] > 0:
                    entry["repeat"] -= 1
                    if entry["repeat"] == 0:
                        del self._entries[index]
                return entry
        return None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def scripted_answer(entry: dict, flavour: str, normal) -> Answer:
    """The answer a script entry describes; `normal()` gives the unscripted answer."""
    status = entry.get("status", 200)
    body = entry.get("body")
    if "redirect" in entry:
        status = status if 300 <= status <= 399 else 307
        answer = json_answer(status, {"message": reason(status)},
                             [("Location", entry["redirect"])])
    elif "huge" in entry:
        answer = Answer(status, huge=entry["huge"])
    elif "segments" in entry:
        answer = Answer(status, segments=dict(entry["segments"]))
        answer.huge = big_segments(answer.segments)[0]
    elif body is None:
        answer = normal() if status == 200 else error_answer(flavour, status, reason(status))
    elif isinstance(body, (dict, list)):
        answer = json_answer(status, body)
    else:
        answer = Answer(status, body.encode() if isinstance(body, str) else body)
    if "content_type" in entry:
        answer.content_type = entry["content_type"]
    answer.headers += [(str(k), str(v)) for k, v in entry.get("headers", {}).items()]
    answer.delay = float(entry.get("delay", 0))
    answer.drip = float(entry.get("drip", 0))
    answer.cut = entry.get("cut")
    answer.reset = bool(entry.get("reset", False))
    if "chunked" in entry:
        answer.chunked = entry["chunked"]
    return answer


def big_segments(shape: dict):
    """A segmentation answer of `images` frames (default 1), each of `polygons` results (default
    3) of `points` points (default 100): (its length, an iterator of its pieces). The stand-in
    never holds it whole, so a test can ask for hundreds of MB; every polygon is the same bytes
    (fixed-width coordinates), so the length is known without building it."""
    frames, polygons, points = shape.get("images", 1), shape.get("polygons", 3), shape.get("points", 100)
    xs = ",".join("%8.3f" % (100 + (i % 400)) for i in range(points))
    ys = ",".join("%8.3f" % (50 + (i * 7 % 300)) for i in range(points))
    result = ('{"class":0,"name":"person","confidence":0.875,'
              '"box":{"x1":100,"y1":50,"x2":500,"y2":350},'
              '"segments":{"x":[%s],"y":[%s]}}' % (xs, ys)).encode()
    head, tail = b'{"images":[', b'],"metadata":{"model":"big-seg.pt"}}'
    frame_head = b'{"results":['
    frame_tail = b'],"shape":[480,640],"speed":{"preprocess":1.0,"inference":2.0,"postprocess":3.0}}'
    more = b"," + result
    frame = len(frame_head) + len(frame_tail) + (len(result) + (polygons - 1) * len(more) if polygons else 0)
    length = len(head) + len(tail) + frames * frame + max(frames - 1, 0)

    def pieces():
        yield head
        for f in range(frames):
            yield frame_head if f == 0 else b"," + frame_head
            for k in range(polygons):
                yield result if k == 0 else more
            yield frame_tail
        yield tail
    return length, pieces()


def huge_body(size: int):
    """Yield `{"images":[],"pad":"xxx..."}` of exactly `size` bytes, CHUNK bytes at a time."""
    head, tail = b'{"images":[],"pad":"', b'"}'
    if size < len(head) + len(tail):
        yield b" " * size
        return
    yield head
    pad = size - len(head) - len(tail)
    block = b"x" * CHUNK
    while pad > 0:
        yield block[:pad]
        pad -= len(block)
    yield tail


class RequestLog:
    """The thread-safe list of request records, optionally mirrored to a JSON-lines file.

    A record is added when its request has been read and updated while it is answered;
    `snapshot()` returns deep copies.
    """

    def __init__(self, path: str | None = None):
        self._lock = threading.Lock()
        self._records: list[dict] = []
        self._path = path

    def append(self, record: dict) -> None:
        with self._lock:
            self._records.append(record)

    def update(self, record: dict, **changes) -> None:
        with self._lock:
            record.update(changes)

    def finish(self, record: dict) -> None:
        """The request is over: write its record to the log file."""
        if self._path:
            with self._lock:
                line = json.dumps(record)
                with open(self._path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")

    def snapshot(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


# ---------------------------------------------------------------------------------------------
# The HTTP handler
# ---------------------------------------------------------------------------------------------

class _BadFraming(Exception):
    """The body's framing (Content-Length, chunked encoding) is broken: 400, then close."""


class _TooLarge(Exception):
    """A chunked upload grew past the route's limit: 413, then close."""


class _CloseConnection(Exception):
    """Stop serving this connection now, quietly (client gone, server stopping, a fault)."""


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves one TCP connection: many requests when the client keeps it alive."""

    protocol_version = "HTTP/1.1"   # keep-alive, and "100 Continue" for Expect: 100-continue
    server_version = "standin/1.0"
    timeout = CONNECTION_TIMEOUT
    disable_nagle_algorithm = True  # small answers go out at once

    standin: StandIn

    # -- connection life -----------------------------------------------------------------------

    def setup(self):
        context = self.server.standin._tls_context
        if context is not None:                     # the handshake runs in this thread
            self.server.standin._count_handshake()
            self.request.settimeout(CONNECTION_TIMEOUT)
            self.request = self.connection = context.wrap_socket(self.request, server_side=True)
        super().setup()
        self.standin = self.server.standin
        self.conn_id = self.standin._connection_opened(self.connection)

    def finish(self):
        self.standin._connection_closed(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format, *args):
        pass                                        # no per-request noise on stderr

    def version_string(self):
        return self.server_version                  # the Server header, without Python's

    def handle_one_request(self):
        """Read one request line and headers, then serve the request (see _serve)."""
        self.close_connection = True
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:                             # idle timeout, reset, or stop()
            return
        self.t_start = time.time()
        if not self.raw_requestline:
            return                                  # the client closed the connection
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(http.HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        if not self.parse_request():                # also answers Expect: 100-continue
            return
        if self.command == "CONNECT":
            return self._tunnel()
        try:
            self._serve()
        except (_CloseConnection, OSError):
            self.close_connection = True

    def handle_expect_100(self):
        """Expect: 100-continue: an upload over the route's limit gets its 413 instead of the
        100, so the body is never sent (as a server that checks the length first)."""
        route = match_route(self.path.partition("?")[0])
        limit = self.standin._upload_limit(route) if self.command == "POST" else None
        declared = self.headers.get("Content-Length", "").strip()
        if limit is not None and declared.isdigit() and int(declared) > limit:
            return True                             # _serve_predict answers 413 at once
        return super().handle_expect_100()

    def _tunnel(self):
        """CONNECT host:port (the stand-in as an HTTPS proxy, see StandIn(connect_tls=...)):
        answer 200, then serve the requests that come through the tunnel, over TLS with the
        connect_tls certificate, as if this server were that host."""
        context = self.standin._connect_context
        if context is None:
            self.send_error(http.HTTPStatus.METHOD_NOT_ALLOWED)
            return
        self.standin._log.append({"method": "CONNECT", "path": self.path, "query": "",
                                  "headers": self._header_dict(), "fields": {}, "file": None,
                                  "t_start": self.t_start, "t_read": time.time(),
                                  "t_end": time.time(), "status": 200, "conn_id": self.conn_id,
                                  "http_version": self.request_version})
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        try:
            tls = context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = self.request = tls
        self.rfile = tls.makefile("rb", self.rbufsize)
        self.wfile = socketserver._SocketWriter(tls)
        self.close_connection = False               # handle() goes on, inside the tunnel

    # -- one request ---------------------------------------------------------------------------

    def _serve(self):
        self._head_sent = False
        self._route = None
        self._bench = None
        path, _, query = self.path.partition("?")
        if path.startswith("/_standin/"):
            return self._serve_control(path[len("/_standin/"):])
        record = {
            "method": self.command, "path": path, "query": query,
            "headers": self._header_dict(), "fields": {}, "file": None,
            "t_start": self.t_start, "t_read": None, "t_end": None, "status": None,
            "conn_id": self.conn_id, "http_version": self.request_version,
        }
        with self.standin._busy_cond:
            self.standin._busy += 1
        try:
            self._serve_predict(path, record)
        except (_CloseConnection, OSError):
            raise
        except Exception as exc:                    # a bug in the stand-in: say so, go on
            traceback.print_exc()
            self.close_connection = True
            if self._head_sent:
                raise _CloseConnection() from exc
            self._send(json_answer(500, {"details": {"message": f"standin: {exc}"}}), record)
        finally:
            self.standin._log.finish(record)
            with self.standin._busy_cond:
                self.standin._busy -= 1
                self.standin._busy_cond.notify_all()

    def _serve_predict(self, path: str, record: dict):
        if is_deploy_api(path):
            return self._serve_deploy_api(path, record)
        if path.startswith("/_svc/") and self.command in ("GET", "HEAD"):
            return self._serve_service_status(path, record)
        if path == "/_stream/mjpeg" and self.command == "GET":
            return self._serve_mjpeg(record["query"], record)
        route = match_route(path)
        self._route = route
        # Only a POST to a predict route is parsed; any other body is read and dropped.
        parse = route is not None and self.command == "POST"
        content_type = self.headers.get("Content-Type", "") if parse else ""
        limit = self.standin._upload_limit(route) if parse else None
        answer = None
        declared = self.headers.get("Content-Length", "").strip()
        if limit is not None and declared.isdigit() and int(declared) > limit:
            # As the service: refused from the declared length, before the body is read;
            # the body is then drained (bounded), so the client reads the answer, not a reset.
            record.update(t_read=time.time(), too_large=True)
            self.standin._log.append(record)
            self.close_connection = True
            self._send(self.standin._too_large(route), record)
            self._drain(int(declared))
            return
        try:
            form = read_form(self._body_pieces(upload_limit=limit), content_type)
        except _TooLarge:
            self.close_connection = True
            record.update(t_read=time.time(), too_large=True)
            self.standin._log.append(record)
            self._send(self.standin._too_large(route), record)
            return
        except _BadFraming as exc:
            self.close_connection = True            # the next request cannot be found
            form = Form()
            flavour = route.flavour if route else "hub"
            answer = error_answer(flavour, 400, f"bad request body: {exc}")
        except BaseException:
            self.standin._log.append(record)        # the client left mid-body: no status
            raise
        record.update(fields=form.fields, file=form.file_record(), t_read=time.time())
        self.standin._log.append(record)
        self._bench = None
        answer = answer or self._choose_answer(route, path, form)
        if self._bench is not None:
            self.standin._log.update(record, **self._bench)
        self._send(answer, record)

    def _serve_mjpeg(self, query: str, record: dict):
        """GET /_stream/mjpeg: the live MJPEG camera (see the module docstring)."""
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        fps, drop, serve = float(q.get("fps", 10)), int(q.get("drop", 0)), int(q.get("serve", 0))
        record.update(t_read=time.time(), stream_frames=0)
        self.standin._log.append(record)
        number = self.standin._stream_connection()
        self.close_connection = True
        if q.get("hang") == "1":
            self.standin._stopping.wait(CONNECTION_TIMEOUT)
            raise _CloseConnection()
        if serve and number > serve:
            raise _CloseConnection()
        if not self.standin._stream_frames:
            return self._send(error_answer("hub", 404, "no stream frames set"), record)
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self._head_sent = True
        self.standin._log.update(record, status=200)
        t0, sent = time.monotonic(), 0
        while not drop or sent < drop:
            data = self.standin._next_stream_frame()
            self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                             + data + b"\r\n")
            self.wfile.flush()
            sent += 1
            self.standin._log.update(record, stream_frames=sent)
            ahead = t0 + sent / fps - time.monotonic()
            if ahead > 0 and self.standin._stopping.wait(ahead):
                break
        raise _CloseConnection()

    def _serve_deploy_api(self, path: str, record: dict):
        """Platform's deployments routes and GET /api/account/summary (JSON in and out)."""
        standin = self.standin
        try:
            body = b"".join(self._body_pieces(limit=CONTROL_BODY_LIMIT))
        except _BadFraming as exc:
            self.close_connection = True
            body, framing = b"", str(exc)
        else:
            framing = None
        doc, answer = None, None
        if framing is not None:
            answer = error_answer("platform", 400, f"bad request body: {framing}")
        elif body:
            try:
                doc = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                answer = error_answer("platform", 400, "Invalid JSON body")
        record.update(json=doc, t_read=time.time())
        standin._log.append(record)
        if answer is None:
            answer = self._deploy_answer(path, record["query"], doc)
        self._send(answer, record)

    def _deploy_answer(self, path: str, query: str, doc) -> Answer:
        standin = self.standin
        key_ok = standin._authorised("platform", self.headers)
        entry = standin._script.take(path, key_ok)
        anonymous = not self.headers.get("Authorization")

        def normal() -> Answer:
            status, body, headers = standin.deployments.answer(
                self.command, path, query, doc, key_ok, anonymous)
            return json_answer(status, body, headers)
        if entry is not None:
            return scripted_answer(entry, "platform", normal)
        if self.command == "PATCH" and key_ok:
            limited, _ = standin._rate_check(self.headers.get("Authorization"), mutation=True)
            if limited is not None:
                return limited
        return normal()

    def _serve_service_status(self, path: str, record: dict):
        """GET /_svc/OWNER/NAME/health and GET /_svc/OWNER/NAME/ of a deployment's endpoint:
        503 until the deployment is ready."""
        for _ in self._body_pieces(limit=CONTROL_BODY_LIMIT):
            pass
        record.update(t_read=time.time())
        self.standin._log.append(record)
        parts = path.strip("/").split("/")
        status, what = self.standin.deployments.service(*parts[1:3]) if len(parts) >= 3 \
            else (404, "Not found")
        if status is not None:
            return self._send(error_answer("platform", status, what), record)
        self._send(self.standin._status_answer("/health" if path.endswith("/health") else "/"),
                   record)

    def _drain(self, remaining: int) -> None:
        """Read and drop up to `remaining` body bytes (a refused upload), quietly."""
        try:
            remaining = min(remaining, 1 << 30)
            while remaining > 0:
                piece = self.rfile.read(min(remaining, CHUNK))
                if not piece:
                    return
                remaining -= len(piece)
        except OSError:
            pass

    def _choose_answer(self, route: Route | None, path: str, form: Form) -> Answer:
        standin = self.standin
        if route is None:
            if self.command in ("GET", "HEAD") and path in ("/", "/health"):
                return standin._status_answer(path)
            if path.startswith("/api/"):            # Platform: {"error"} bodies, 404 too
                return error_answer("platform", 404, "Not found")
            return error_answer("hub", 404, "Not found")
        if self.command != "POST":
            return error_answer(route.flavour, 405, "Method not allowed",
                                headers=[("Allow", "POST")])
        if route.bad_name is not None:
            return error_answer("platform", 404, f"Not found: '{route.bad_name}' is not a valid name")
        authorised = standin._authorised(route.flavour, self.headers)
        entry = standin._script.take(path, authorised)
        if entry is not None:
            return scripted_answer(entry, route.flavour, lambda: predict_answer(route, form))
        anonymous = not self.headers.get("Authorization")
        public = route.flavour == "platform" and anonymous and Behaviour.of(route.model).public
        if not authorised and not public:
            if route.flavour == "platform" and anonymous:
                return error_answer("platform", 401, "Authentication required")
            return error_answer(route.flavour, 401, "Invalid API key", envelope=True)
        headers = []
        if route.flavour == "platform" and route.kind != "dedicated":
            limited, headers = standin._rate_check(self.headers.get("Authorization")
                                                   or f"anonymous {self.client_address[0]}")
            if limited is not None:
                return limited
        if route.service is not None:               # a deployment's own endpoint
            return self._service_predict(route, form)
        starting = standin._cold_start_answer()
        if starting is not None:
            return starting
        stored = standin._stored_answer(route, form)
        if stored is not None:
            return stored
        answer = predict_answer(route, form)
        if self.standin.real_speed:
            answer = with_real_speed(answer, time.time() - self.t_start)
        if Behaviour.of(route.model).bench and answer.status == 200:
            answer, self._bench = self.standin._bench_answer(answer)
        answer.headers += headers
        return answer

    def _service_predict(self, route: Route, form: Form) -> Answer:
        """POST /_svc/OWNER/NAME/predict: 503 until the deployment is ready, then the dedicated
        endpoint of its model; each answer goes into the deployment's logs and metrics."""
        store = self.standin.deployments
        status, what = store.service(*route.service)
        if status is not None:
            answer = error_answer("platform", status, what)
        else:
            answer = predict_answer(Route("platform", what, "dedicated"), form)
        store.served_request(*route.service, self.command,
                             f"{self.standin.url}{self.path}", answer.status,
                             (time.time() - self.t_start) * 1000.0,
                             self.headers.get("User-Agent", ""))
        return answer

    def _serve_control(self, name: str):
        """The /_standin/ endpoints: drive the stand-in over HTTP. Not logged, no latency."""
        try:
            body = b"".join(self._body_pieces(limit=CONTROL_BODY_LIMIT))
        except _BadFraming as exc:
            self.close_connection = True
            return self._send(error_answer("hub", 400, str(exc)))
        methods = {"log": "GET", "script": "POST", "reset": "POST", "latency": "POST",
                   "bench": "POST", "answers": "POST"}
        if name not in methods:
            return self._send(error_answer("hub", 404, "Not found"))
        if self.command != methods[name]:
            return self._send(error_answer("hub", 405, "Method not allowed",
                                           headers=[("Allow", methods[name])]))
        try:
            if name == "log":
                return self._send(json_answer(200, self.standin.log()))
            if name == "reset":
                self.standin.reset()
                return self._send(json_answer(200, {}))
            doc = json.loads(body or b"null")
            if name == "script":
                entries = doc if isinstance(doc, list) else [doc]
                return self._send(json_answer(200, {"queued": self.standin.push_many(entries)}))
            if name == "answers":
                if not isinstance(doc, dict):
                    raise ValueError("expected an object of sha256: answer")
                self.standin.set_answers(doc)
                return self._send(json_answer(200, {"stored": len(doc)}))
            if name == "bench":
                if not isinstance(doc, dict) or set(doc) - set(BENCH_DEFAULTS):
                    raise ValueError(f"expected an object of {', '.join(BENCH_DEFAULTS)}")
                self.standin.set_bench(**doc)
                return self._send(json_answer(200, {}))
            if not isinstance(doc, dict) or not isinstance(doc.get("lo", 0), (int, float)):
                raise ValueError('expected {"lo": seconds, "hi": seconds}')
            self.standin.set_latency(doc.get("lo", 0), doc.get("hi"))
            return self._send(json_answer(200, {}))
        except (ValueError, TypeError) as exc:
            return self._send(error_answer("hub", 400, str(exc)))

    # -- reading -------------------------------------------------------------------------------

    def _header_dict(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return headers

    def _body_pieces(self, limit: int | None = None, upload_limit: int | None = None):
        """Yield the request body in pieces of at most CHUNK bytes.

        Handles Content-Length and chunked bodies. Raises _BadFraming when the framing is
        broken (or the body exceeds `limit`), _CloseConnection when the client leaves early.
        """
        if "Transfer-Encoding" in self.headers:
            if self.headers["Transfer-Encoding"].strip().lower() != "chunked":
                raise _BadFraming("unsupported Transfer-Encoding")
            pieces = self._chunked_pieces()
        else:
            lengths = set(v.strip() for v in self.headers.get_all("Content-Length", []))
            if len(lengths) > 1 or not all(re.fullmatch(r"[0-9]+", v) for v in lengths):
                raise _BadFraming("bad Content-Length")
            pieces = self._exact_pieces(int(lengths.pop()) if lengths else 0)
        total = 0
        for piece in pieces:
            total += len(piece)
            if limit is not None and total > limit:
                raise _BadFraming("body too large")
            if upload_limit is not None and total > upload_limit:
                raise _TooLarge()
            yield piece

    def _exact_pieces(self, remaining: int):
        rate = self.standin.read_rate     # bytes/s, None = as fast as the client sends
        t0, got = time.monotonic(), 0
        while remaining > 0:
            piece = self.rfile.read(min(remaining, CHUNK if rate is None else min(CHUNK, 16384)))
            if not piece:
                raise _CloseConnection()
            remaining -= len(piece)
            got += len(piece)
            if rate is not None:          # an uplink of `rate`: read no faster than that
                ahead = got / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            yield piece

    def _chunked_pieces(self):
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise _CloseConnection()
            size = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9A-Fa-f]{1,15}", size):
                raise _BadFraming("bad chunk size line")
            size = int(size, 16)
            if size == 0:
                break
            yield from self._exact_pieces(size)
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _BadFraming("chunk data not followed by CRLF")
        for _ in range(100):                        # trailer fields, up to an empty line
            line = self.rfile.readline(8192)
            if not line:
                raise _CloseConnection()
            if line in (b"\r\n", b"\n"):
                return
        raise _BadFraming("too many trailer lines")

    # -- writing -------------------------------------------------------------------------------

    def _pause(self, seconds: float):
        """Sleep, unless the stand-in stops meanwhile: then drop the connection."""
        if seconds > 0 and self.standin._stopping.wait(seconds):
            raise _CloseConnection()

    def _send(self, answer: Answer, record: dict | None = None):
        """Send `answer`, with its faults; `record` (None for control requests) gets the
        status and t_end, the latter just before the last byte goes out."""
        log = self.standin._log
        if record is not None:
            self._pause(self.standin._latency_sample())
        self._pause(answer.delay)
        if answer.reset:
            if record is not None:
                log.update(record, t_end=time.time())
            return self._reset_connection()

        extra = {name.lower() for name, _ in answer.headers}
        plain = answer.huge is None and answer.cut is None and answer.drip == 0
        body = answer.body
        if plain and "content-encoding" not in extra and self.standin._gzip_wanted(
                self._route, self.headers.get("Accept-Encoding", ""), len(body)):
            body = gzip.compress(body)              # as dedicated endpoints do over 1 KB
            answer.headers.append(("Content-Encoding", "gzip"))
        chunked = answer.chunked if answer.chunked is not None else self.standin.chunked
        chunked = bool(chunked) and plain and self.request_version != "HTTP/1.0"
        length = answer.huge if answer.huge is not None else len(body)
        self.send_response(answer.status)
        if "content-type" not in extra:
            self.send_header("Content-Type", answer.content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        if "x-request-id" not in extra:             # the service names every answer
            request_id = uuid.uuid4().hex
            self.send_header("x-request-id", request_id)
            if record is not None:
                log.update(record, request_id=request_id)
        for name, value in answer.headers:
            self.send_header(name, value)
        if "connection" not in extra and answer.cut is None:
            if self.close_connection:
                self.send_header("Connection", "close")
            elif self.request_version == "HTTP/1.0":
                self.send_header("Connection", "keep-alive")
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []

        total = length if answer.cut is None else min(length, answer.cut)
        if self.command == "HEAD":
            total = 0
        pieces = (big_segments(answer.segments)[1] if answer.segments is not None
                  else huge_body(length) if answer.huge is not None else [body])
        if chunked and total:                       # pieces of at most 1000 bytes each
            pieces = [b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000])
                      for i in range(0, len(body), 1000)] + [b"0\r\n\r\n"]
            total = sum(len(piece) for piece in pieces)

        def mark_end():                             # called just before the last write
            if record is not None:
                log.update(record, t_end=time.time())

        if record is not None:
            log.update(record, status=answer.status)
        self._head_sent = True
        if total == 0:
            mark_end()
            self.wfile.write(head)
        elif answer.drip > 0:
            self.wfile.write(head)
            sent = 0
            for piece in _cut(pieces, total):
                for index in range(len(piece)):
                    if sent:
                        self._pause(answer.drip)
                    sent += 1
                    if sent == total:
                        mark_end()
                    self.wfile.write(piece[index:index + 1])
        else:
            sent = 0
            for piece in _cut(pieces, total):
                sent += len(piece)
                if sent == total:
                    mark_end()
                self.wfile.write(head + piece if head else piece)
                head = b""
        if answer.cut is not None:
            self.close_connection = True

    def _reset_connection(self):
        """Close the connection with a TCP RST (SO_LINGER 0) and without a word."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()          # drop the reader's hold on the socket, so close() is real
        self.connection.close()


def _cut(pieces, total: int):
    """Yield from `pieces` until `total` bytes have gone."""
    sent = 0
    for piece in pieces:
        if sent >= total:
            return
        piece = piece[:total - sent]
        sent += len(piece)
        yield piece


def _iso8601(when: float) -> str:
    """Unix time as Platform writes it: 2026-02-21T12:34:56.000Z."""
    moment = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128        # clients open up to 64 connections at once

    def server_bind(self):
        # HTTPServer.server_bind would look the host name up (getfqdn), which can be slow.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):   # a client leaving is not news
            super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


# ---------------------------------------------------------------------------------------------
# StandIn: the public face
# ---------------------------------------------------------------------------------------------

def _loopback_host(host: str) -> str:
    """`host` as a loopback IP address; ValueError for anything else."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"refusing to bind {host!r}: give a loopback IP address") from None
    if not address.is_loopback:
        raise ValueError(f"refusing to bind {host!r}: not a loopback address")
    return host


class StandIn:
    """The stand-in server: start() it, point the client at .url, script it, read its log.

    All methods are thread-safe. Also a context manager (starts on enter, stops on exit).
    """

    def __init__(self, hub_key: str = HUB_KEY, platform_key: str = PLATFORM_KEY,
                 latency: float = 0.0, latency_max: float | None = None, *,
                 host: str = "127.0.0.1", port: int = 0, log_file: str | None = None,
                 tls: tuple[str, str] | None = None,
                 connect_tls: tuple[str, str] | None = None,
                 read_rate: float | None = None,
                 real_speed: bool = False):
        self.hub_key = hub_key
        self.read_rate = read_rate        # request bodies read at most this fast (bytes/s)
        # speed from the real time taken (the demo), else the fixtures' (tests compare bytes)
        self.real_speed = real_speed
        self.platform_key = platform_key
        self.host = _loopback_host(host)
        self.port = port
        self._lock = threading.Lock()
        self._latency = (0.0, 0.0)
        self.set_latency(latency, latency_max)
        self._script = ScriptQueue()
        self.deployments = DeploymentStore(lambda: self.url)
        self._log = RequestLog(log_file)
        self._busy = 0                              # requests between their first line and their record
        self._busy_cond = threading.Condition()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connection_count = 0
        self.tls_handshakes = 0                     # TLS handshakes begun (tls=...), ok or not
        self._tls_context = None
        if tls is not None:                         # (certificate chain file, key file)
            self._tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls_context.load_cert_chain(*tls)
        self._connect_context = None
        if connect_tls is not None:                 # CONNECT: serve the tunnel over TLS
            self._connect_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._connect_context.load_cert_chain(*connect_tls)
        self._defaults()

    def _defaults(self) -> None:
        """The per-test switches, as reset() leaves them (see the module docstring)."""
        with self._lock:
            self.chunked = False                    # every plain answer chunked
            self.gzip_all = False                   # gzip on every route, not only /predict
            self.upload_limits = dict(UPLOAD_LIMITS)
            self._answers = {}                      # set_answers: sha256 -> stored answer
            self._rate_limit: tuple[int, float] | None = None
            self._rate_hits: dict[str, deque] = {}
            self._cold_start: float | None = None
            self._cold_start_from: float | None = None
            self._mutation_limit: tuple[int, float] | None = (10, 60.0)   # Platform's
            self._mutation_hits: dict[str, deque] = {}
            self._stream_frames: list[bytes] = []   # set_stream_frames: the MJPEG camera's
            self._stream_count = 0                  # frames sent, across connections
            self._stream_connections = 0
        self.set_bench()
        self.deployments.reset()

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> StandIn:
        """Bind (port 0: an ephemeral port, then in .port) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("standin already started")
        server_class = _Server6 if ":" in self.host else _Server
        self._stopping.clear()
        self._server = server_class((self.host, self.port), Handler)
        self._server.standin = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"standin:{self.port}", daemon=True)
        self._thread.start()
        return self

    def drain(self, timeout: float) -> None:
        """Wait (at most timeout seconds) until no request is being answered, so that a request
        whose answer went out has its record in the log file before the program exits."""
        deadline = time.monotonic() + timeout
        with self._busy_cond:
            while self._busy and time.monotonic() < deadline:
                self._busy_cond.wait(deadline - time.monotonic())

    def stop(self) -> None:
        """Stop serving and drop every open connection; returns at once."""
        if self._server is None:
            return
        self._stopping.set()                        # wakes handlers sleeping in a fault
        self._server.shutdown()
        self._server.server_close()                 # closes the listening socket
        with self._lock:
            connections = list(self._connections)
        for connection in connections:             # unblocks handlers waiting to read
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(1)
        self._server = self._thread = None

    def __enter__(self) -> StandIn:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self._tls_context is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    # -- scripting and inspection --------------------------------------------------------------

    def push(self, entry: dict) -> None:
        """Queue one scripted answer (keys: see ScriptQueue and the module docstring)."""
        self._script.push_many([entry])

    def push_many(self, entries) -> int:
        """Queue several scripted answers, in order; returns how many."""
        return self._script.push_many(entries)

    def log(self) -> list[dict]:
        """A copy of the request records, oldest first."""
        return self._log.snapshot()

    @property
    def requests(self) -> list[dict]:
        return self.log()

    def reset(self) -> None:
        """Forget the script queue and the request log; the per-test switches (rate limit,
        cold start, chunked, gzip_all, upload_limits) go back to their defaults."""
        self._script.clear()
        self._log.clear()
        self._defaults()

    def set_stream_frames(self, frames) -> None:
        """The JPEGs GET /_stream/mjpeg sends in turn (a list of bytes); the frame and
        connection counts start again."""
        with self._lock:
            self._stream_frames = [bytes(f) for f in frames]
            self._stream_count = self._stream_connections = 0

    def _stream_connection(self) -> int:
        with self._lock:
            self._stream_connections += 1
            return self._stream_connections

    def _next_stream_frame(self) -> bytes:
        with self._lock:
            data = self._stream_frames[self._stream_count % len(self._stream_frames)]
            self._stream_count += 1
            return data

    def set_rate_limit(self, limit: int | None, window: float = 60.0) -> None:
        """Platform's sliding-window limiter on Platform routes (not the dedicated /predict):
        at most `limit` accepted requests per key in any `window` seconds (the service: 20 a
        minute); None turns it off (the default)."""
        with self._lock:
            self._rate_limit = None if limit is None else (int(limit), float(window))
            self._rate_hits = {}

    def set_mutation_limit(self, limit: int | None, window: float = 60.0) -> None:
        """Platform's limit on deployment start/stop (PATCH) per key: `limit` in any `window`
        seconds (default 10 a minute, on); None turns it off."""
        with self._lock:
            self._mutation_limit = None if limit is None else (int(limit), float(window))
            self._mutation_hits = {}

    def set_deploy_timings(self, **timings) -> None:
        """Seconds each passing deployment state lasts: creating=, deploying=, stopping=
        (None: the deployment stays in it). Back to the defaults on reset()."""
        self.deployments.set_timings(**timings)

    def add_deployment(self, name: str, **kwargs) -> dict:
        """A deployment made earlier (see DeploymentStore.add: owner, status, project,
        model, display, region, timings, fail); returns its document."""
        return self.deployments.add(name, **kwargs)

    def set_cold_start(self, seconds: float | None) -> None:
        """Answer every predict request with 503 {"error": "Prediction service unavailable"}
        for `seconds` from the first one that arrives after this call (a dedicated endpoint
        scaled to zero); None turns it off (the default)."""
        with self._lock:
            self._cold_start = seconds
            self._cold_start_from = None

    def set_latency(self, lo: float, hi: float | None = None) -> None:
        """Delay every predict answer by a uniform random time in [lo, hi] seconds."""
        hi = lo if hi is None else hi
        if not 0 <= lo <= hi:
            raise ValueError(f"latency needs 0 <= lo <= hi, got {lo}, {hi}")
        with self._lock:
            self._latency = (float(lo), float(hi))

    def set_answers(self, answers: dict) -> None:
        """Stored answers keyed by the upload's SHA-256 (hex), for hubpredict val's tests:
        a document is the 200 answer's body as it is; {"_status": N} answers N with an
        error in the route's flavour. POST /_standin/answers takes the same object; they
        add to those stored, and reset() forgets them."""
        with self._lock:
            self._answers.update({str(k).lower(): v for k, v in answers.items()})

    def _stored_answer(self, route, form) -> "Answer | None":
        digest = form.files[0].sha256 if form.files else None
        with self._lock:
            doc = self._answers.get(digest) if digest else None
        if doc is None:
            return None
        if isinstance(doc, dict) and "_status" in doc:
            return error_answer(route.flavour, int(doc["_status"]), "stored failure")
        return json_answer(200, doc)

    def set_bench(self, seed: int = BENCH_DEFAULTS["seed"], median_ms: float = BENCH_DEFAULTS["median_ms"],
                  sigma: float = BENCH_DEFAULTS["sigma"], cap_ms: float = BENCH_DEFAULTS["cap_ms"],
                  stall=BENCH_DEFAULTS["stall"]) -> None:
        """The "bench" model's service times and stall window (see the module docstring);
        counting starts again from request 0 and the next request starts the clock."""
        if type(seed) is not int or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                            for v in (median_ms, sigma, cap_ms)):
            raise ValueError("seed must be an integer, median_ms, sigma and cap_ms numbers")
        if not (median_ms > 0 and sigma >= 0 and cap_ms >= 0.1):
            raise ValueError("bench needs median_ms > 0, sigma >= 0, cap_ms >= 0.1")
        if stall is not None:
            if (not isinstance(stall, (list, tuple)) or len(stall) != 2
                    or not all(isinstance(v, (int, float)) for v in stall)
                    or not 0 <= stall[0] <= stall[1]):
                raise ValueError("stall must be [from, to] seconds with 0 <= from <= to, or null")
            stall = (float(stall[0]), float(stall[1]))
        with self._lock:
            self._bench_params = (seed, float(median_ms), float(sigma), float(cap_ms))
            self._bench_stall = stall
            self._bench_times: list[float] = []
            self._bench_count = 0
            self._bench_origin: float | None = None

    def _bench_answer(self, answer: Answer) -> tuple[Answer, dict]:
        """The "bench" model's answer: its delay (stall, then service) and its speed."""
        with self._lock:
            now = time.monotonic()
            if self._bench_origin is None:
                self._bench_origin = now
            k = self._bench_count
            self._bench_count += 1
            if k >= len(self._bench_times):         # extend the known sequence as needed
                self._bench_times = bench_service_ms(*self._bench_params,
                                                     max(2 * len(self._bench_times), k + 1, 1024))
            service = self._bench_times[k]
            elapsed = now - self._bench_origin
            stall = self._bench_stall
            held = stall[1] - elapsed if stall and stall[0] <= elapsed < stall[1] else 0.0
        doc = json.loads(answer.body)
        for image in doc.get("images", []):
            image["speed"] = bench_speed(service)
        bench = json_answer(200, doc, answer.headers)
        bench.delay = answer.delay + held + service / 1000.0
        return bench, {"bench_index": k, "service_ms": service, "stall_ms": round(held * 1000.0, 3)}

    # -- for the handler -----------------------------------------------------------------------

    def _latency_sample(self) -> float:
        with self._lock:
            lo, hi = self._latency
        return random.uniform(lo, hi) if hi > 0 else 0.0

    def _authorised(self, flavour: str, headers) -> bool:
        if flavour == "hub":
            return headers.get("x-api-key") == self.hub_key
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() == self.platform_key

    def _upload_limit(self, route: Route | None) -> int | None:
        if route is None:
            return None
        kind = "hub" if route.flavour == "hub" else \
            "dedicated" if route.kind == "dedicated" else "shared"
        return self.upload_limits.get(kind)

    @staticmethod
    def _too_large(route: Route | None) -> Answer:
        return error_answer(route.flavour if route else "platform", 413,
                            "Prediction input too large")

    @staticmethod
    def _status_answer(path: str) -> Answer:
        """A dedicated endpoint's GET /health and GET / (its status page)."""
        if path == "/health":
            return json_answer(200, {"status": "healthy"})
        return json_answer(200, {"status": "ok", "service": "predict", "task": "detect"})

    def _gzip_wanted(self, route: Route | None, accept: str, size: int) -> bool:
        codings = [c.split(";")[0].strip().lower() for c in accept.split(",")]
        on_route = route is not None and (route.kind == "dedicated" or self.gzip_all)
        return on_route and size > GZIP_OVER and "gzip" in codings

    def _rate_check(self, key: str, mutation: bool = False) -> tuple[Answer | None, list]:
        """(a 429 answer or None, the X-RateLimit headers of an accepted request); `mutation`:
        the limit of deployment start/stop instead of predict's."""
        with self._lock:
            setting = self._mutation_limit if mutation else self._rate_limit
            if setting is None:
                return None, []
            limit, window = setting
            now = time.time()
            table = self._mutation_hits if mutation else self._rate_hits
            hits = table.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                reset_at = hits[0] + window
                wait = max(1, math.ceil(reset_at - now))
                stamp = _iso8601(reset_at)
                headers = [("Retry-After", str(wait)), ("X-RateLimit-Limit", str(limit)),
                           ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", stamp)]
                return json_answer(429, {"error": "Rate limit exceeded", "retryAfter": wait,
                                         "resetAt": stamp}, headers), []
            hits.append(now)
            reset_at = hits[0] + window
            return None, [("X-RateLimit-Limit", str(limit)),
                          ("X-RateLimit-Remaining", str(limit - len(hits))),
                          ("X-RateLimit-Reset", _iso8601(reset_at))]

    def _cold_start_answer(self) -> Answer | None:
        with self._lock:
            if self._cold_start is None:
                return None
            now = time.time()
            if self._cold_start_from is None:
                self._cold_start_from = now
            if now - self._cold_start_from >= self._cold_start:
                return None
        return error_answer("platform", 503, "Prediction service unavailable")

    def _count_handshake(self) -> None:
        with self._lock:
            self.tls_handshakes += 1

    def _connection_opened(self, connection: socket.socket) -> int:
        with self._lock:
            self._connections.add(connection)
            self._connection_count += 1
            return self._connection_count

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------

def make_test_certificates(directory: str, names=("localhost", "127.0.0.1"),
                           prefix: str = "server") -> dict[str, str]:
    """Make a throw-away CA and a server certificate it signs for `names` (DNS names or IP
    addresses) with the `openssl` command, in `directory`. Returns the paths {"ca", "cert",
    "key"}: give (cert, key) to StandIn(tls=...) and "ca" to the client. A CA already made
    in `directory` is reused, so several server certificates can share it."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)
    ca, ca_key = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key")
    if not os.path.exists(ca):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=hubpredict test CA", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    cert = os.path.join(directory, f"{prefix}.pem")
    key = os.path.join(directory, f"{prefix}.key")
    csr = os.path.join(directory, f"{prefix}.csr")
    ext = os.path.join(directory, f"{prefix}.ext")
    alt = ",".join(("IP:" if re.fullmatch(r"[0-9.]+|.*:.*", n) else "DNS:") + n for n in names)
    with open(ext, "w", encoding="ascii") as f:
        f.write(f"subjectAltName={alt}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", f"/CN={names[0]}")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return {"ca": ca, "cert": cert, "key": key}


def _write_atomically(path: str, text: str) -> None:
    """Write through a temporary file and a rename, so readers never see half of it."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".standin-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="A loopback stand-in of the predict API.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port, 0 for an ephemeral one")
    parser.add_argument("--port-file", help="write the port number to this file")
    parser.add_argument("--hub-key", default=HUB_KEY)
    parser.add_argument("--platform-key", default=PLATFORM_KEY)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--latency-max", type=float, help="draw latency from [latency, this]")
    parser.add_argument("--log-file", help="append each request record here as a JSON line")
    parser.add_argument("--read-rate", type=float, help="read request bodies at most this many bytes/s "
                        "(a slow uplink, for benchmarks)")
    parser.add_argument("--real-speed", action="store_true",
                        help="answer a speed measured from the request, not the fixtures' fixed one")
    args = parser.parse_args(argv)

    try:
        standin = StandIn(args.hub_key, args.platform_key, args.latency, args.latency_max,
                          host=args.host, port=args.port, log_file=args.log_file,
                          read_rate=args.read_rate,
                          real_speed=args.real_speed).start()
    except (ValueError, OSError) as exc:
        print(f"standin: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.port_file:
        _write_atomically(args.port_file, f"{standin.port}\n")
    print(f"standin listening on {standin.url}", flush=True)
    while not stop.wait(0.5):
        pass
    standin.drain(2.0)
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
