/* exif.c - the one EXIF tag hubpredict needs: Orientation (0x0112) in IFD0
 * of a JPEG's APP1 "Exif" segment. Every offset is checked against the
 * segment's length; anything unexpected means "no orientation" (1). */
#include "hubpredict/image.h"

#include <string.h>

static unsigned rd16(const unsigned char *p, bool le)
{
	return le ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
}

static unsigned long rd32(const unsigned char *p, bool le)
{
	return le ? (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	                    (unsigned long)p[3] << 24
	          : (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
	                    (unsigned long)p[3];
}

/* The orientation in a TIFF structure of n bytes, or 1. */
static int tiff_orientation(const unsigned char *t, size_t n)
{
	if (n < 8)
		return 1;
	bool le;
	if (t[0] == 'I' && t[1] == 'I')
		le = true;
	else if (t[0] == 'M' && t[1] == 'M')
		le = false;
	else
		return 1;
	if (rd16(t + 2, le) != 42)
		return 1;
	unsigned long ifd = rd32(t + 4, le);
	if (ifd > n || n - ifd < 2)
		return 1;
	unsigned count = rd16(t + ifd, le);
	for (unsigned i = 0; i < count; i++) {
		unsigned long e = ifd + 2 + 12UL * i;
		if (e > n || n - e < 12)
			return 1;
		if (rd16(t + e, le) != 0x0112)
			continue;
		unsigned type = rd16(t + e + 2, le);
		unsigned v;
		if (type == 3) /* SHORT: the value sits in the first two bytes of the field */
			v = rd16(t + e + 8, le);
		else if (type == 4 || type == 9) /* LONG, SLONG: seen from some writers */
			v = (unsigned)rd32(t + e + 8, le);
		else
			return 1;
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}

int hp_exif_orientation(const unsigned char *d, size_t n)
{
	if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
		return 1;
	size_t i = 2;
	while (i + 4 <= n) {
		if (d[i] != 0xFF)
			return 1;
		unsigned char m = d[i + 1];
		if (m == 0xFF) { /* fill byte */
			i++;
			continue;
		}
		if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
			i += 2;
			continue;
		}
		if (m == 0xDA || m == 0xD9) /* start of scan, end of image: no EXIF before it */
			return 1;
		size_t len = (size_t)(d[i + 2] << 8 | d[i + 3]);
		if (len < 2 || len > n - i - 2)
			return 1;
		const unsigned char *seg = d + i + 4;
		size_t seg_len = len - 2;
		if (m == 0xE1 && seg_len >= 6 && memcmp(seg, "Exif\0\0", 6) == 0)
			return tiff_orientation(seg + 6, seg_len - 6);
		i += 2 + len;
	}
	return 1;
}
