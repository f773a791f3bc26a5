/* picture.h - --resize (hubpredict(1), "Pictures"): an image whose long side exceeds --imgsz is
 * downsized before upload (EXIF orientation applied first; JPEG re-encoded
 * at quality 95, anything else as PNG), and the answer's coordinates are
 * mapped back to the original picture, in the decoded response and in the
 * server's JSON document alike.
 *
 * Ownership: nothing returned here needs freeing but the body buffer that
 * hp_picture_map_body() hands back (free()) and the copy's descriptor
 * (close()).
 */
#ifndef HUBPREDICT_PICTURE_H
#define HUBPREDICT_PICTURE_H

#include "hubpredict/item.h" /* struct hp_resized */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct hp_response;
struct hp_json_parts;


/* The size an image of w x h is sent at for imgsz: the long side imgsz, the
 * other rounded, at least 1. False when it is not larger than imgsz. */
bool hp_picture_target(int w, int h, int imgsz, int *tw, int *th);

/* Look at an open upload's bytes as hp_picture_resize_upload() would (one
 * that would be resized is decoded, as the run decodes it): 1 when it would
 * be resized (rz filled), 0 when it is sent as it is (rz->from_* still
 * filled), -1 when it is not a readable image (the reason in err). */
int hp_picture_plan(int fd, int imgsz, struct hp_resized *rz, char *err, size_t errlen);

/* The downsized copy that --resize sends instead of the original. */
struct hp_picture_copy {
	int fd;                 /* an unlinked temporary file with the new bytes (caller closes) */
	long long size;
	const char *mime_type;  /* static: "image/jpeg" or "image/png" */
	bool as_png;            /* re-encoded as PNG from another format: its name takes ".png" */
};

/* Downsize the picture read from fd (not changed, nor its offset): on 1, *copy
 * holds the new bytes (what every retry resends) and rz the sizes. 0: sent as
 * it is (copy untouched). -1: not a readable image, reason in err (sent as it
 * is too). -2: a system error (out of memory, no temporary file), reason in
 * err. */
int hp_picture_resize_upload(int fd, int imgsz, struct hp_resized *rz, struct hp_picture_copy *copy, char *err,
                             size_t errlen);

/* Map a decoded answer back to the original: boxes, corners, polygons and
 * keypoints scaled (unless normalized), shape set to the original's. */
void hp_picture_map_response(struct hp_response *r, const struct hp_resized *rz, bool normalized);

/* The same for the server's document: *data (len bytes) is replaced by a
 * new buffer holding the mapped document (minified). 0, or -1 when the body
 * could not be parsed or out of memory (left as it was). */
int hp_picture_map_body(char **data, size_t *len, const struct hp_resized *rz, bool normalized);

/* The same for a big answer (SPEC 11), part by part: the document of body
 * (len bytes, strict JSON, its parts from hp_json_parts) written to out with
 * each part parsed, mapped and printed alone, the bytes between parts as
 * they are; release (may be NULL) is told after each part that the body
 * before upto is not read again. On 0, *cuts (caller frees; NULL when none)
 * holds ascending offsets into what was written, between two values, about
 * HP_JSON_RELEASE_STEP apart (hp_body's cuts); -1 out of memory or a write
 * failed. */
int hp_picture_map_parts(const char *body, size_t len, const struct hp_json_parts *parts,
                         const struct hp_resized *rz, bool normalized, FILE *out, size_t **cuts, size_t *n_cuts,
                         void (*release)(void *arg, size_t upto), void *arg);

#endif
