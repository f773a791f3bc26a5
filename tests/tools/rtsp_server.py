#!/usr/bin/python3
"""A real RTSP server for the live-source tests (tests/e2e/test_video_stream.py): GStreamer's
gst-rtsp-server through PyGObject (Debian: python3-gi, gir1.2-gst-rtsp-server-1.0,
gstreamer1.0-plugins-good/-ugly for rtph264pay and x264enc). Run it with Debian's own python3.

    rtsp_server.py [--fps 25] [--size 160x96] [--drop-after N] [--drops K] [--exit-after-drop]

It binds 127.0.0.1 on a free port, prints "rtsp://127.0.0.1:PORT/live" on its first line
(flushed) and serves an H.264 stream of W x H frames at FPS, made here frame by frame in real
time: a grey picture whose top 16 rows carry the frame's number (counted from the server's
start, across connections) as ten 16-pixel blocks, white for a 1 bit (bit b at x = 16b), as the
videos of test_video_frames.py do. Each frame is a key frame, so a client that joins or
rejoins decodes from its first packet.

--drop-after N: once frame N has been made, every client's connection is closed (a stream
lost mid-way), then again N frames later, --drops times in all (default 1). With
--exit-after-drop the server exits right after the first drop, so reconnections are refused.
It prints "dropped" (flushed) at each drop. SIGTERM or stdin's end stops it.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frame_bytes(n: int, w: int, h: int) -> bytes:
    """An I420 frame: grey, its number in the top 16 rows (luma 255/0 blocks)."""
    row = bytearray(b"\x80" * w)
    for b in range(min(10, w // 16)):
        row[16 * b:16 * b + 16] = (b"\xff" if (n >> b) & 1 else b"\x00") * 16
    top = bytes(row) * 16
    return top + b"\x80" * (w * (h - 16)) + b"\x80" * (2 * (w // 2) * (h // 2))


class Server:
    def __init__(self, args):
        self.args = args
        self.w, self.h = (int(v) for v in args.size.split("x"))
        self.count = 0
        self.drops = 0
        self.next_drop = args.drop_after
        self.loop = GLib.MainLoop()
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.port = free_port()
        self.server.set_service(str(self.port))
        factory = GstRtspServer.RTSPMediaFactory()
        caps = f"video/x-raw,format=I420,width={self.w},height={self.h},framerate={args.fps}/1"
        factory.set_launch(
            f"( appsrc name=src is-live=true do-timestamp=true format=time caps={caps} "
            f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=1 "
            f"! rtph264pay name=pay0 pt=96 config-interval=1 )")
        factory.set_shared(True)
        factory.connect("media-configure", self.configure)
        self.server.get_mount_points().add_factory("/live", factory)
        self.server.attach(None)

    def configure(self, factory, media):
        src = media.get_element().get_by_name("src")
        GLib.timeout_add(max(1, round(1000 / self.args.fps)), self.push, src)

    def push(self, src) -> bool:
        data = frame_bytes(self.count, self.w, self.h)
        if src.emit("push-buffer", Gst.Buffer.new_wrapped(data)) != Gst.FlowReturn.OK:
            return False                            # the media is gone: a new one has its own
        self.count += 1
        if self.next_drop is not None and self.count >= self.next_drop and self.drops < self.args.drops:
            self.drops += 1
            self.next_drop += self.args.drop_after
            self.server.client_filter(lambda server, client: GstRtspServer.RTSPFilterResult.REMOVE)
            print("dropped", flush=True)
            if self.args.exit_after_drop:
                self.loop.quit()
                return False
        return True


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fps", type=int, default=25)
    p.add_argument("--size", default="160x96")
    p.add_argument("--drop-after", type=int)
    p.add_argument("--drops", type=int, default=1)
    p.add_argument("--exit-after-drop", action="store_true")
    args = p.parse_args()
    Gst.init(None)
    s = Server(args)
    signal.signal(signal.SIGTERM, lambda *_: s.loop.quit())
    GLib.timeout_add(100, lambda: True)             # the loop wakes to see SIGTERM's flag

    def stdin_watch():
        sys.stdin.read()
        GLib.idle_add(s.loop.quit)
    threading.Thread(target=stdin_watch, daemon=True).start()
    print(f"rtsp://127.0.0.1:{s.port}/live", flush=True)
    s.loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
