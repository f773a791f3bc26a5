"""Pictures for the picture tests: PNG written and read with zlib, PPM, and JPEG through
tests/tools/imgtool (TurboJPEG directly, not hubpredict's code)."""

from __future__ import annotations

import os
import struct
import subprocess
import zlib

IMGTOOL = os.environ.get("HUBPREDICT_IMGTOOL", "")


class Picture:
    """w x h RGB pixels, rows top to bottom; pic[x, y] = (r, g, b)."""

    def __init__(self, w: int, h: int, fill=(128, 128, 128), data: bytes | None = None):
        self.w, self.h = w, h
        self.data = bytearray(data) if data is not None else bytearray(bytes(fill) * (w * h))

    def __getitem__(self, xy):
        x, y = xy
        i = (y * self.w + x) * 3
        return tuple(self.data[i:i + 3])

    def fill(self, x0, y0, x1, y1, c):
        row = bytes(c) * (x1 - x0)
        for y in range(y0, y1):
            i = (y * self.w + x0) * 3
            self.data[i:i + len(row)] = row
        return self

    def rows_bytes(self) -> bytes:
        return bytes(self.data)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(pic: Picture | None = None, *, w=0, h=0, color_type=2, depth=8, raw_rows: bytes | None = None,
              palette: bytes = b"") -> bytes:
    """A PNG of pic (8-bit RGB), or of raw_rows (filter bytes added) for other colour types."""
    if pic is not None:
        w, h, raw_rows = pic.w, pic.h, pic.rows_bytes()
    stride = len(raw_rows) // h if h else 0
    data = b"".join(b"\0" + raw_rows[y * stride:(y + 1) * stride] for y in range(h))
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0))
    if palette:
        out += _chunk(b"PLTE", palette)
    return out + _chunk(b"IDAT", zlib.compress(data)) + _chunk(b"IEND", b"")


def png_bomb(w: int, h: int) -> bytes:
    """A PNG that declares w x h but holds almost nothing."""
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + _chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + _chunk(b"IEND", b"")


def _unfilter(rows: bytes, w: int, h: int, bpp: int) -> list[bytearray]:
    stride = w * bpp
    out, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = rows[i], bytearray(rows[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line)
        prev = line
    return out


def read_png(path: str) -> Picture:
    """An 8-bit RGB or RGBA, non-interlaced PNG (what hubpredict writes)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    i, idat, w = 8, b"", 0
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ct, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ct in (2, 6) and interlace == 0, (depth, ct, interlace)
            bpp = 3 if ct == 2 else 4
        elif kind == b"IDAT":
            idat += body
        i += 12 + n
    rows = _unfilter(zlib.decompress(idat), w, h, bpp)
    if bpp == 4:
        rows = [bytes(v for x in range(w) for v in r[x * 4:x * 4 + 3]) for r in rows]
    return Picture(w, h, data=b"".join(bytes(r) for r in rows))


def ppm_bytes(pic: Picture) -> bytes:
    return b"P6\n%d %d\n255\n" % (pic.w, pic.h) + pic.rows_bytes()


def read_ppm(path: str) -> Picture:
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    return Picture(w, h, data=parts[4][:w * h * 3])


def jpeg_file(pic: Picture, path: str, orientation: int = 0, cmyk: bool = False) -> str:
    ppm = path + ".ppm"
    with open(ppm, "wb") as f:
        f.write(ppm_bytes(pic))
    cmd = [IMGTOOL, "encode", ppm, path] + ([str(orientation)] if orientation or cmyk else []) + \
        (["cmyk"] if cmyk else [])
    subprocess.run(cmd, check=True)
    os.unlink(ppm)
    return path


def webp_file(pic: Picture, path: str) -> str:
    ppm = path + ".ppm"
    with open(ppm, "wb") as f:
        f.write(ppm_bytes(pic))
    subprocess.run([IMGTOOL, "webp", ppm, path], check=True)
    os.unlink(ppm)
    return path


def read_jpeg(path: str) -> Picture:
    ppm = path + ".ppm"
    subprocess.run([IMGTOOL, "decode", path, ppm], check=True)
    pic = read_ppm(ppm)
    os.unlink(ppm)
    return pic


def read_picture(path: str) -> Picture:
    with open(path, "rb") as f:
        head = f.read(3)
    return read_jpeg(path) if head == b"\xff\xd8\xff" else read_png(path)


def near(a, b, tol: int) -> bool:
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b))


def blend(base, color, alpha: float):
    return tuple(round(b * (1 - alpha) + c * alpha) for b, c in zip(base, color))


PALETTE = [tuple(int(h[i:i + 2], 16) for i in (0, 2, 4)) for h in (
    "042AFF 0BDBEB F3F3F3 00DFB7 111F68 FF6FDD FF444F CCED00 00F344 BD00FF "
    "00B4FF DD00BA 00FFFF 26C000 01FFB3 7D24FF 7B0068 FF1B6C FC6D2F A2FF0B").split()]


def turbo(x: float):
    """Google's polynomial approximation of the turbo colour map (Mikhailov, 2019)."""
    r = 0.13572138 + x * (4.61539260 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))))
    g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))))
    b = 0.10667330 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))))
    return tuple(round(255 * min(1.0, max(0.0, v))) for v in (r, g, b))
