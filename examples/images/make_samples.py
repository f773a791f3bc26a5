#!/usr/bin/env python3
"""Generate the sample images used by hubpredict's examples and demo.

Run:  python3 examples/images/make_samples.py

Everything is drawn here from filled rectangles, ellipses and polygons and
written with the Python 3.11 standard library only (zlib, struct, math; os
and tempfile for the atomic writes): a
small baseline JPEG encoder, a PNG writer, a GIF89a/LZW writer and a
placeholder MP4. The output goes next to this script, every file is written
atomically (temporary file, then os.replace) and the bytes are the same on
every run (for a given zlib, which produces the PNG data).

Files:
  street.jpg  810 x 1080  baseline JPEG (JFIF, 4:2:0, quality 75): bus, people
  cat.png     600 x 750   RGB PNG: a sitting cat
  people.png  640 x 480   RGB PNG: three people, a car, a tree
  aerial.png  1024 x 768  RGB PNG: a parking lot from above, rotated cars
  tiny.gif    32 x 32     GIF89a, LZW-coded: a red ball
  clip.mp4    PLACEHOLDER, not a video: an ISO BMFF 'ftyp' box and a 'free'
              box only. The stand-in API server answers video uploads by the
              file extension and never decodes the file.
"""

import math
import os
import struct
import tempfile
import zlib
from operator import mul

HERE = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------

def _px(v):
    """Round a coordinate to the nearest pixel edge (halves round up)."""
    return int(math.floor(v + 0.5))


class Canvas:
    """An RGB raster, 3 bytes a pixel, rows top to bottom."""

    def __init__(self, width, height, rgb=(0, 0, 0)):
        self.w, self.h = width, height
        self.px = bytearray(bytes(rgb) * (width * height))

    def span(self, y, x0, x1, rgb):
        """Fill pixels x0 <= x < x1 of row y."""
        x0, x1 = max(0, x0), min(self.w, x1)
        if 0 <= y < self.h and x1 > x0:
            at = (y * self.w + x0) * 3
            self.px[at:at + 3 * (x1 - x0)] = bytes(rgb) * (x1 - x0)

    def rect(self, x0, y0, x1, y1, rgb):
        for y in range(max(0, y0), min(self.h, y1)):
            self.span(y, x0, x1, rgb)

    def vgradient(self, y0, y1, top, bottom):
        for y in range(y0, y1):
            t = (y - y0) / max(1, y1 - y0 - 1)
            self.span(y, 0, self.w, [_px(a + (b - a) * t) for a, b in zip(top, bottom)])

    def ellipse(self, cx, cy, rx, ry, rgb):
        for y in range(int(cy - ry) - 1, int(cy + ry) + 2):
            d = (y + 0.5 - cy) / ry
            if abs(d) < 1:
                half = rx * math.sqrt(1 - d * d)
                self.span(y, _px(cx - half), _px(cx + half), rgb)

    def circle(self, cx, cy, r, rgb):
        self.ellipse(cx, cy, r, r, rgb)

    def polygon(self, pts, rgb):
        """Even-odd scanline fill, sampled at pixel centres."""
        ys = [p[1] for p in pts]
        for y in range(int(min(ys)), int(max(ys)) + 1):
            yc, xs = y + 0.5, []
            for (xa, ya), (xb, yb) in zip(pts, pts[1:] + pts[:1]):
                if (ya <= yc < yb) or (yb <= yc < ya):
                    xs.append(xa + (yc - ya) * (xb - xa) / (yb - ya))
            xs.sort()
            for a, b in zip(xs[0::2], xs[1::2]):
                self.span(y, _px(a), _px(b), rgb)

    def rotated_rect(self, cx, cy, w, h, degrees, rgb, du=0.0):
        """A w x h rectangle turned by degrees about (cx, cy), its centre
        moved du along its own long (w) axis."""
        c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        corners = [(du - w / 2, -h / 2), (du + w / 2, -h / 2), (du + w / 2, h / 2), (du - w / 2, h / 2)]
        self.polygon([(cx + u * c - v * s, cy + u * s + v * c) for u, v in corners], rgb)

    def line(self, x0, y0, x1, y1, width, rgb):
        length = math.hypot(x1 - x0, y1 - y0)
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
        self.rotated_rect((x0 + x1) / 2, (y0 + y1) / 2, length, width, angle, rgb)


def person(cv, x, feet, height, shirt, trousers, skin=(224, 172, 135), hair=(60, 40, 30)):
    """A standing person seen from the front, feet centred at (x, feet)."""
    u = height / 8.0                                     # head height
    head_y = feet - 7.5 * u
    cv.circle(x, head_y - 0.1 * u, 0.48 * u, hair)
    cv.circle(x, head_y + 0.1 * u, 0.42 * u, skin)
    cv.rect(_px(x - 0.15 * u), _px(head_y + 0.45 * u), _px(x + 0.15 * u), _px(head_y + 0.8 * u), skin)
    top, hip = head_y + 0.7 * u, feet - 3.8 * u
    cv.polygon([(x - 0.95 * u, top), (x + 0.95 * u, top), (x + 0.8 * u, hip), (x - 0.8 * u, hip)], shirt)
    cv.line(x - 0.9 * u, top + 0.2 * u, x - 1.25 * u, hip + 0.3 * u, 0.42 * u, shirt)     # arms
    cv.line(x + 0.9 * u, top + 0.2 * u, x + 1.25 * u, hip + 0.3 * u, 0.42 * u, shirt)
    cv.circle(x - 1.27 * u, hip + 0.45 * u, 0.2 * u, skin)                                 # hands
    cv.circle(x + 1.27 * u, hip + 0.45 * u, 0.2 * u, skin)
    cv.rect(_px(x - 0.8 * u), _px(hip - 0.1 * u), _px(x + 0.8 * u), _px(hip + 0.6 * u), trousers)
    cv.line(x - 0.45 * u, hip + 0.4 * u, x - 0.5 * u, feet - 0.2 * u, 0.6 * u, trousers)  # legs
    cv.line(x + 0.45 * u, hip + 0.4 * u, x + 0.5 * u, feet - 0.2 * u, 0.6 * u, trousers)
    cv.ellipse(x - 0.55 * u, feet - 0.15 * u, 0.4 * u, 0.18 * u, (35, 30, 30))           # shoes
    cv.ellipse(x + 0.55 * u, feet - 0.15 * u, 0.4 * u, 0.18 * u, (35, 30, 30))


def side_car(cv, x, ground, length, body):
    """A car seen from the side, front to the right, wheels on y = ground."""
    h, r = length * 0.36, length * 0.1

    def at(fx, fy):                      # a point as fractions of length / height
        return (x + fx * length, ground - fy * h)

    cv.polygon([at(0.22, 0.55), at(0.32, 1.0), at(0.68, 1.0), at(0.8, 0.55)], body)
    cv.polygon([at(0.27, 0.58), at(0.35, 0.92), at(0.66, 0.92), at(0.74, 0.58)], (150, 190, 215))
    cv.polygon([at(0.495, 0.55), at(0.495, 1.0), at(0.515, 1.0), at(0.515, 0.55)], body)   # pillar
    cv.polygon([at(0, 0.6), at(1, 0.6), at(1, 0.8 * r / h), at(0, 0.8 * r / h)], body)
    cv.polygon([at(0.95, 0.5), at(1, 0.5), at(1, 0.4), at(0.95, 0.4)], (250, 230, 150))  # lamp
    for wx in (x + 0.2 * length, x + 0.8 * length):
        cv.circle(wx, ground - r, r, (25, 25, 25))
        cv.circle(wx, ground - r, r * 0.45, (170, 170, 175))


# --------------------------------------------------------------------------
# Scenes
# --------------------------------------------------------------------------

def street():
    # Edges of the straight shapes sit on multiples of 16 (one 4:2:0 MCU), so
    # the JPEG encoder sees whole flat blocks there and the file stays small.
    cv = Canvas(810, 1080)
    cv.vgradient(0, 512, (105, 165, 228), (196, 222, 242))
    cv.circle(690, 95, 48, (255, 232, 140))
    for x0, x1, top, colour in ((0, 176, 208, (150, 150, 162)), (176, 336, 272, (176, 168, 158)),
                                (336, 560, 176, (128, 134, 150)), (560, 810, 256, (166, 158, 170))):
        cv.rect(x0, top, x1, 512, colour)
        for wy in range(top + 32, 496, 64):
            for wx in range(x0 + 32, x1 - 48, 64):
                cv.rect(wx, wy, wx + 32, wy + 32, (92, 106, 128))
    cv.rect(0, 512, 810, 608, (204, 198, 188))                  # pavement
    cv.rect(0, 608, 810, 1080, (84, 84, 90))                    # road
    for x in range(16, 810, 160):
        cv.rect(x, 896, x + 96, 912, (236, 236, 228))
    # the bus
    cv.rect(16, 304, 800, 800, (38, 92, 196))
    cv.rect(16, 304, 800, 336, (70, 124, 220))
    cv.rect(16, 640, 800, 656, (250, 250, 250))
    for wx in range(48, 760, 144):
        cv.rect(wx, 368, wx + 128, 512, (44, 56, 76))
    cv.rect(608, 544, 704, 784, (28, 68, 150))                  # door
    cv.rect(16, 768, 800, 816, (40, 40, 44))                    # bumper
    for wx in (176, 640):
        cv.circle(wx, 800, 62, (24, 24, 26))
        cv.circle(wx, 800, 26, (160, 160, 166))
    # people in front of it
    person(cv, 110, 1050, 500, (30, 30, 34), (40, 46, 70))
    person(cv, 290, 1030, 470, (180, 60, 50), (50, 50, 60), skin=(190, 135, 100))
    person(cv, 560, 1040, 485, (230, 225, 215), (70, 60, 50), hair=(20, 18, 18))
    person(cv, 800, 1060, 510, (60, 110, 70), (30, 34, 40))    # cut off by the right edge
    return cv


def cat():
    cv = Canvas(600, 750, (226, 214, 190))
    cv.rect(0, 520, 600, 750, (160, 112, 74))                   # floor
    cv.rect(0, 510, 600, 525, (120, 84, 56))                    # skirting
    cv.ellipse(300, 660, 250, 60, (120, 40, 48))                # rug
    fur, dark, pink = (226, 138, 52), (170, 92, 30), (236, 160, 170)
    cv.line(420, 640, 520, 560, 34, fur)                        # tail
    cv.line(520, 560, 505, 420, 30, fur)
    cv.circle(505, 420, 15, dark)
    cv.ellipse(300, 520, 150, 150, fur)                         # body
    cv.ellipse(300, 560, 80, 100, (246, 226, 200))              # chest
    for dy in (-90, -50, -10):
        cv.rect(170, 520 + dy, 200, 532 + dy, dark)
        cv.rect(400, 520 + dy, 430, 532 + dy, dark)
    cv.ellipse(235, 660, 45, 26, fur)                           # front paws
    cv.ellipse(365, 660, 45, 26, fur)
    cv.polygon([(190, 220), (205, 90), (275, 180)], fur)        # ears
    cv.polygon([(410, 220), (395, 90), (325, 180)], fur)
    cv.polygon([(207, 200), (214, 125), (255, 180)], pink)
    cv.polygon([(393, 200), (386, 125), (345, 180)], pink)
    cv.ellipse(300, 265, 125, 110, fur)                         # head
    cv.rect(285, 160, 315, 172, dark)
    cv.rect(285, 185, 315, 197, dark)
    for ex in (250, 350):                                       # eyes
        cv.ellipse(ex, 250, 24, 18, (120, 190, 70))
        cv.ellipse(ex, 250, 6, 16, (15, 15, 15))
    cv.polygon([(286, 292), (314, 292), (300, 308)], pink)      # nose
    cv.line(300, 308, 300, 322, 4, (90, 50, 40))
    cv.line(300, 322, 284, 330, 4, (90, 50, 40))
    cv.line(300, 322, 316, 330, 4, (90, 50, 40))
    for side in (-1, 1):                                        # whiskers
        for dy in (-10, 4, 18):
            cv.line(300 + side * 40, 305 + dy / 3, 300 + side * 150, 295 + dy, 3, (250, 250, 245))
    return cv


def people():
    cv = Canvas(640, 480)
    cv.vgradient(0, 220, (120, 180, 235), (200, 228, 246))
    cv.rect(0, 220, 640, 480, (104, 160, 76))                  # grass
    cv.polygon([(250, 480), (320, 220), (350, 220), (470, 480)], (200, 186, 150))  # path
    cv.rect(70, 120, 86, 250, (110, 80, 50))                    # tree
    cv.circle(78, 110, 60, (52, 120, 60))
    cv.circle(40, 150, 40, (60, 132, 64))
    cv.circle(116, 150, 42, (48, 112, 56))
    side_car(cv, 440, 330, 190, (200, 40, 40))
    person(cv, 180, 420, 250, (40, 80, 170), (50, 50, 60))
    person(cv, 300, 450, 280, (240, 200, 60), (40, 40, 90), skin=(150, 100, 70), hair=(20, 15, 15))
    person(cv, 380, 300, 120, (200, 90, 160), (60, 60, 70))
    return cv


def aerial():
    cv = Canvas(1024, 768, (92, 148, 72))                       # grass
    cv.rect(60, 60, 964, 708, (96, 96, 102))                    # asphalt
    cv.rotated_rect(512, 384, 1400, 110, -20, (70, 70, 76))     # road crossing diagonally
    cv.rotated_rect(512, 384, 1400, 4, -20, (230, 210, 90))
    cv.rect(800, 76, 930, 168, (150, 80, 66))                   # building roof
    cv.rect(812, 88, 918, 156, (176, 96, 78))
    for x in range(100, 660, 70):                               # parking bays
        cv.rect(x, 90, x + 4, 200, (232, 232, 232))
        cv.rect(x + 120, 560, x + 124, 680, (232, 232, 232))
    colours = [(200, 40, 40), (240, 240, 240), (30, 30, 36), (40, 90, 190), (210, 190, 60),
               (150, 150, 160), (60, 140, 90), (240, 240, 240)]
    cars = [(x + 35, 145, 90) for x in range(100, 590, 70)][:7]            # upright in bays
    cars += [(x + 155, 620, 90 + (x // 70) % 3 * 4 - 4) for x in range(100, 590, 140)]
    cars += [(250, 470, -20), (470, 390, -20), (690, 310, 160), (850, 250, -20)]  # on the road
    cars += [(880, 560, 35), (820, 620, 35), (150, 330, 62)]               # parked at angles
    for i, (cx, cy, ang) in enumerate(cars):
        colour = colours[i % len(colours)]
        cv.rotated_rect(cx, cy, 92, 44, ang, colour)
        cv.rotated_rect(cx, cy, 18, 38, ang, (40, 52, 70), du=16)         # windscreen
        cv.rotated_rect(cx, cy, 12, 36, ang, (40, 52, 70), du=-24)        # rear window
    for tx, ty, r in ((30, 30, 26), (990, 40, 30), (40, 720, 34), (990, 740, 28), (600, 730, 24)):
        cv.circle(tx, ty, r, (40, 96, 44))
        cv.circle(tx - r * 0.3, ty - r * 0.3, r * 0.45, (58, 120, 58))
    return cv


# --------------------------------------------------------------------------
# Baseline JPEG encoder (ITU T.81: SOF0, Huffman, 8-bit, YCbCr 4:2:0)
# --------------------------------------------------------------------------

# Annex K.1 quantisation tables, natural (row-major) order
K1_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
           14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
           18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
           49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
K1_CHROMA = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
             24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32

# Annex K.3 Huffman tables: code counts by length 1..16, then the symbols
DC_LUMA = ([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], bytes(range(12)))
DC_CHROMA = ([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], bytes(range(12)))
AC_LUMA = ([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d], bytes.fromhex(
    "01 02 03 00 04 11 05 12 21 31 41 06 13 51 61 07 22 71 14 32 81 91 a1 08"
    "23 42 b1 c1 15 52 d1 f0 24 33 62 72 82 09 0a 16 17 18 19 1a 25 26 27 28"
    "29 2a 34 35 36 37 38 39 3a 43 44 45 46 47 48 49 4a 53 54 55 56 57 58 59"
    "5a 63 64 65 66 67 68 69 6a 73 74 75 76 77 78 79 7a 83 84 85 86 87 88 89"
    "8a 92 93 94 95 96 97 98 99 9a a2 a3 a4 a5 a6 a7 a8 a9 aa b2 b3 b4 b5 b6"
    "b7 b8 b9 ba c2 c3 c4 c5 c6 c7 c8 c9 ca d2 d3 d4 d5 d6 d7 d8 d9 da e1 e2"
    "e3 e4 e5 e6 e7 e8 e9 ea f1 f2 f3 f4 f5 f6 f7 f8 f9 fa"))
AC_CHROMA = ([0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77], bytes.fromhex(
    "00 01 02 03 11 04 05 21 31 06 12 41 51 07 61 71 13 22 32 81 08 14 42 91"
    "a1 b1 c1 09 23 33 52 f0 15 62 72 d1 0a 16 24 34 e1 25 f1 17 18 19 1a 26"
    "27 28 29 2a 35 36 37 38 39 3a 43 44 45 46 47 48 49 4a 53 54 55 56 57 58"
    "59 5a 63 64 65 66 67 68 69 6a 73 74 75 76 77 78 79 7a 82 83 84 85 86 87"
    "88 89 8a 92 93 94 95 96 97 98 99 9a a2 a3 a4 a5 a6 a7 a8 a9 aa b2 b3 b4"
    "b5 b6 b7 b8 b9 ba c2 c3 c4 c5 c6 c7 c8 c9 ca d2 d3 d4 d5 d6 d7 d8 d9 da"
    "e2 e3 e4 e5 e6 e7 e8 e9 ea f2 f3 f4 f5 f6 f7 f8 f9 fa"))

# zigzag[k] = natural index of the k-th coefficient in zigzag order
ZIGZAG = [r * 8 + (s - r) for s in range(15)
          for r in (range(max(0, s - 7), min(s, 7) + 1)[::(1 if s % 2 else -1)])]
# DCT basis: DCT[u][x] = C(u)/2 * cos((2x+1) u pi / 16), so F = DCT . f . DCT^T
DCT = [[(math.sqrt(0.5) if u == 0 else 1.0) / 2 * math.cos((2 * x + 1) * u * math.pi / 16)
        for x in range(8)] for u in range(8)]


def _quant_table(base, quality):
    """The IJG scaling of an Annex K table to a quality of 1..100."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (q * scale + 50) // 100)) for q in base]


def _huffman_codes(spec):
    """Canonical codes (Annex C): symbol -> (code, length)."""
    counts, symbols = spec
    assert sum(counts) == len(symbols), "Huffman table symbol count"
    codes, code, k = {}, 0, 0
    for length, n in enumerate(counts, 1):
        for _ in range(n):
            codes[symbols[k]] = (code, length)
            code, k = code + 1, k + 1
        code <<= 1
    return codes


def _magnitude(v):
    """JPEG's size category of v and its additional bits."""
    size = abs(v).bit_length()
    return size, (v if v >= 0 else v + (1 << size) - 1)


class _Component:
    """Per-component coding state: quantiser, Huffman codes, block cache."""

    def __init__(self, qtable, dc_spec, ac_spec):
        self.q, self.dc, self.ac = qtable, _huffman_codes(dc_spec), _huffman_codes(ac_spec)
        self.cache = {}                  # flat scenes repeat blocks a lot

    def code_block(self, block):
        """(quantised DC, [(bits, nbits), ...] for the AC run/size codes)."""
        hit = self.cache.get(block)
        if hit is not None:
            return hit
        f = [p - 128 for p in block]
        rows = [[sum(map(mul, basis, f[y * 8:y * 8 + 8])) for basis in DCT] for y in range(8)]
        coef = [0] * 64
        for v, basis in enumerate(DCT):
            for u in range(8):
                x = sum(basis[y] * rows[y][u] for y in range(8)) / self.q[v * 8 + u]
                coef[v * 8 + u] = int(x + 0.5) if x >= 0 else -int(-x + 0.5)
        ac, run = [], 0
        for k in range(1, 64):
            c = coef[ZIGZAG[k]]
            if c == 0:
                run += 1
                continue
            while run > 15:
                ac.append(self.ac[0xF0])          # ZRL: sixteen zeros
                run -= 16
            size, bits = _magnitude(c)
            code, n = self.ac[(run << 4) | size]
            ac.append(((code << size) | bits, n + size))
            run = 0
        if run:
            ac.append(self.ac[0x00])              # EOB
        self.cache[block] = hit = (coef[0], ac)
        return hit


class _BitWriter:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, bits, n):
        self.acc, self.n = (self.acc << n) | bits, self.n + n
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)                # byte stuffing
        self.acc &= (1 << self.n) - 1

    def flush(self):
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)   # pad with 1 bits


def _segment(marker, payload):
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def encode_jpeg(width, height, rgb, quality=75):
    """Encode packed 8-bit RGB as a baseline JFIF JPEG, YCbCr 4:2:0."""
    pw, ph = -(-width // 16) * 16, -(-height // 16) * 16          # whole MCUs
    luts = ({}, {}, {})
    planes = ([], [], [])
    for y in range(ph):
        at = min(y, height - 1) * width * 3                       # repeat the last row
        row = rgb[at:at + width * 3]
        keys = [r << 16 | g << 8 | b for r, g, b in zip(row[0::3], row[1::3], row[2::3])]
        keys += keys[-1:] * (pw - width)                          # repeat the last column
        for key in set(keys).difference(luts[0]):
            r, g, b = key >> 16, (key >> 8) & 255, key & 255
            for lut, val in zip(luts, (0.299 * r + 0.587 * g + 0.114 * b,
                                       128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                                       128 + 0.5 * r - 0.418688 * g - 0.081312 * b)):
                lut[key] = min(255, max(0, int(val + 0.5)))
        for plane, lut in zip(planes, luts):
            plane.append(bytes(map(lut.__getitem__, keys)))
    lum = planes[0]
    chroma = [[bytes((a[i] + a[i + 1] + b[i] + b[i + 1] + 2) >> 2 for i in range(0, pw, 2))
               for a, b in zip(plane[0::2], plane[1::2])] for plane in planes[1:]]

    q_luma, q_chroma = _quant_table(K1_LUMA, quality), _quant_table(K1_CHROMA, quality)
    comps = (_Component(q_luma, DC_LUMA, AC_LUMA), _Component(q_chroma, DC_CHROMA, AC_CHROMA))
    out, last_dc = _BitWriter(), [0, 0, 0]

    def block(plane, x, y, comp, index):
        dc, ac = comps[comp].code_block(b"".join(r[x:x + 8] for r in plane[y:y + 8]))
        size, bits = _magnitude(dc - last_dc[index])
        code, n = comps[comp].dc[size]
        out.put((code << size) | bits, n + size)
        last_dc[index] = dc
        for bits, n in ac:
            out.put(bits, n)

    for my in range(0, ph, 16):
        for mx in range(0, pw, 16):
            for dy, dx in ((0, 0), (0, 8), (8, 0), (8, 8)):
                block(lum, mx + dx, my + dy, 0, 0)
            block(chroma[0], mx // 2, my // 2, 1, 1)
            block(chroma[1], mx // 2, my // 2, 1, 2)
    out.flush()

    zz = lambda table: bytes(table[i] for i in ZIGZAG)
    dht = b"".join(bytes([cls_id]) + bytes(counts) + symbols for cls_id, (counts, symbols) in
                   ((0x00, DC_LUMA), (0x10, AC_LUMA), (0x01, DC_CHROMA), (0x11, AC_CHROMA)))
    return b"".join([
        b"\xff\xd8",                                                                  # SOI
        _segment(0xE0, struct.pack(">5sBBBHHBB", b"JFIF\0", 1, 1, 0, 1, 1, 0, 0)),    # APP0
        _segment(0xDB, b"\x00" + zz(q_luma) + b"\x01" + zz(q_chroma)),                # DQT
        _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3)                      # SOF0
                 + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])),
        _segment(0xC4, dht),                                                          # DHT
        _segment(0xDA, bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])),              # SOS
        bytes(out.out),
        b"\xff\xd9",                                                                  # EOI
    ])


# --------------------------------------------------------------------------
# PNG, GIF and the MP4 placeholder
# --------------------------------------------------------------------------

def encode_png(width, height, rgb):
    """8-bit RGB, no interlace, filter type 0 on every row."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    stride = width * 3
    raw = b"".join(b"\x00" + rgb[y * stride:(y + 1) * stride] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def lzw_gif(indices, min_size):
    """GIF's variable-width LZW (codes packed LSB first), with a clear code
    first and whenever the 4096-entry table fills up."""
    clear, eoi = 1 << min_size, (1 << min_size) + 1
    out, acc, nacc = bytearray(), 0, 0

    def emit(code, width):
        nonlocal acc, nacc
        acc, nacc = acc | (code << nacc), nacc + width
        while nacc >= 8:
            out.append(acc & 0xFF)
            acc, nacc = acc >> 8, nacc - 8

    def fresh():
        return {bytes([i]): i for i in range(clear)}, eoi + 1, min_size + 1

    table, nxt, size = fresh()
    emit(clear, size)
    word = b""
    for i in indices:
        grown = word + bytes([i])
        if grown in table:
            word = grown
            continue
        emit(table[word], size)
        if nxt < 4096:
            table[grown] = nxt
            if nxt == 1 << size:                  # the decoder widens here too
                size += 1
            nxt += 1
        else:
            emit(clear, size)
            table, nxt, size = fresh()
        word = bytes([i])
    emit(table[word], size)
    if nxt < 4096 and nxt == 1 << size:           # the decoder adds one more entry
        size += 1
    emit(eoi, size)
    if nacc:
        out.append(acc & 0xFF)
    return bytes(out)


def encode_gif(width, height, indices, palette):
    """GIF89a, one frame, global colour table of 2**n entries."""
    bits = max(1, (len(palette) - 1).bit_length())
    palette = list(palette) + [(0, 0, 0)] * ((1 << bits) - len(palette))
    min_size = max(2, bits)
    data = lzw_gif(indices, min_size)
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255))
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80 | (bits - 1) << 4 | (bits - 1), 0, 0)
            + b"".join(bytes(c) for c in palette)
            + b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
            + bytes([min_size]) + blocks + b"\x00" + b"\x3b")


def tiny_gif():
    """A red ball on white, 32 x 32, four colours."""
    pixels = []
    for y in range(32):
        for x in range(32):
            d = math.hypot(x + 0.5 - 16, y + 0.5 - 16)
            h = math.hypot(x + 0.5 - 12, y + 0.5 - 12)
            pixels.append(0 if d >= 11 else 3 if h < 3.5 else 2 if d >= 9.5 else 1)
    return encode_gif(32, 32, pixels, [(255, 255, 255), (214, 40, 40), (150, 20, 24), (255, 190, 190)])


def placeholder_mp4():
    """NOT a video: an ISO BMFF 'ftyp' box (major brand isom) and a 'free'
    box with a note. The stand-in server answers video uploads by the file
    extension, so nothing ever decodes this."""
    def box(kind, payload):
        return struct.pack(">I4s", 8 + len(payload), kind) + payload
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41")
    note = b"hubpredict sample placeholder: not a real video (see examples/images/README.md)\n"
    return ftyp + box(b"free", note)


# --------------------------------------------------------------------------

def write_atomically(name, data):
    path = os.path.join(HERE, name)
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp", dir=HERE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"{name:11} {len(data):7} bytes")


def main():
    s = street()
    write_atomically("street.jpg", encode_jpeg(s.w, s.h, bytes(s.px), quality=75))
    for name, scene in (("cat.png", cat), ("people.png", people), ("aerial.png", aerial)):
        cv = scene()
        write_atomically(name, encode_png(cv.w, cv.h, bytes(cv.px)))
    write_atomically("tiny.gif", tiny_gif())
    write_atomically("clip.mp4", placeholder_mp4())


if __name__ == "__main__":
    main()
