/* response.h - the server's answer, decoded into plain C structs.
 *
 * hp_response_decode() is the only place that reads the response JSON: it
 * checks the documented shape (hubpredict(1), OUTPUT FORMATS) and copies
 * what the renderers need. Renderers never see cJSON.
 *
 * Ownership: hp_response_decode() returns a response owned by the caller,
 * freed once with hp_response_free(); every pointer inside it belongs to it.
 */
#ifndef HUBPREDICT_RESPONSE_H
#define HUBPREDICT_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

enum hp_task {
	HP_TASK_UNKNOWN = 0,
	HP_TASK_CLASSIFY,
	HP_TASK_DETECT,
	HP_TASK_OBB,
	HP_TASK_SEGMENT,
	HP_TASK_POSE,
	HP_TASK_SEMANTIC,
	HP_TASK_DEPTH
};

struct hp_points {          /* a polygon (segment) or keypoints (pose) */
	size_t n;
	double *x, *y;
	double *visible;        /* per-point confidence 0-1, or NULL when not sent */
	bool counted;           /* light decoding: x, y and visible are NULL, only n and */
	size_t n_visible;       /* the visible keypoints' count are kept */
};

struct hp_result {
	long cls;               /* class number */
	char *name;             /* class name as sent (any bytes, NUL-terminated;
	                           an escaped \u0000 ends it) */
	size_t name_len;        /* its length */
	double confidence;      /* classify/detect/obb/segment/pose */
	bool has_confidence;    /* the server sent one (semantic results need not) */
	double pixel_ratio;     /* semantic */
	int n_box;              /* 0, 4 (x1 y1 x2 y2) or 8 (four corners, obb) */
	double box[8];          /* x1 y1 x2 y2 [x3 y3 x4 y4] */
	struct hp_points segment;
	struct hp_points keypoints;
	bool has_track_id;
	long track_id;
};

struct hp_depth {
	bool present;
	long height, width;     /* the depth map's shape */
	double min, max;
	long bits;
};

struct hp_image {           /* one picture, or one frame of a video */
	struct hp_result *results;
	size_t n_results;
	bool has_shape;
	long height, width;     /* the original image, pixels */
	bool has_speed;
	double preprocess_ms, inference_ms, postprocess_ms;
	struct hp_depth depth;
};

struct hp_response {
	enum hp_task task;      /* from the members present, else metadata.task */
	struct hp_image *images;
	size_t n_images;
};

/* Decode a complete body. Returns 0, or -1 with a one-line reason in err
 * ("not JSON: ...", "images[0].results[1].box has no x2", ...): exit 10, or
 * -2 with "out of memory" when an allocation failed (cJSON's included): exit 13. */
int hp_response_decode(struct hp_response **out, const char *body, size_t len,
                       char *err, size_t errlen);

void hp_response_free(struct hp_response *r);

/* Free what one result owns (its name and points) and zero it; for code that
 * drops results from a response (expect.h's filters). */
void hp_result_clear(struct hp_result *res);

/* Is text strict RFC 8259 JSON (grammar, escapes, numbers; nesting at most
 * 1000 deep)? Bytes inside strings may be any but control characters. On
 * false, *bad_at (may be NULL) is the offset where it went wrong. */
bool hp_json_check(const char *text, size_t n, size_t *bad_at);

/* An answer too big to parse whole is parsed part by part (SPEC 11): each
 * images[i] entry, or, for an entry longer than `big`, the entry without its
 * results (the bytes [cut_start, cut_end) left out: "results":[]) and then
 * its results, as many side by side in a part as fit in `big` bytes (one at
 * least). Offsets are into the document; parts are in its order. */
struct hp_json_part {
	size_t start, end;      /* the value's bytes */
	size_t cut_start, cut_end; /* an entry's results left out (0, 0: none) */
	size_t image;           /* images[image] */
	size_t result;          /* is_result: results[result] to [result + n_results - 1],
	                           the bytes between them with their commas */
	size_t n_results;       /* an entry: how many results it has; else how many here */
	bool is_result;
};

struct hp_json_parts {
	struct hp_json_part *v; /* owned: hp_json_parts_free */
	size_t n, cap;
	size_t n_images;
	size_t images_at, images_end; /* images' contents: after its '[' up to its ']' */
};

#define HP_JSON_RELEASE_STEP ((size_t)8 * 1024 * 1024)

/* hp_json_check that also finds the parts of the top-level object's first
 * "images" array (none when there is no such array). release (may be NULL)
 * is told every HP_JSON_RELEASE_STEP bytes walked that text before `upto` is
 * not read again (a mapping's pages can go). 0; -1 not strict JSON (*bad_at
 * set, parts freed); -2 out of memory. */
int hp_json_parts(const char *text, size_t n, size_t big, struct hp_json_parts *out, size_t *bad_at,
                  void (*release)(void *arg, size_t upto), void *arg);
void hp_json_parts_free(struct hp_json_parts *p);

/* hp_json_check that also gives the byte ranges of the top-level array's
 * elements (member NULL), or of the top-level object's first member named
 * member (its value; none when there is no such member): what reads a
 * document of many answers (--baseline's file) one answer at a time.
 * release as above. 0 (*out malloc'ed, caller frees; NULL when none); -1
 * not strict JSON (*bad_at set); -2 out of memory. */
struct hp_json_range {
	size_t start, end;
};
int hp_json_values(const char *text, size_t n, const char *member, struct hp_json_range **out, size_t *n_out,
                   size_t *bad_at, void (*release)(void *arg, size_t upto), void *arg);

/* Decode a body part by part (its parts from hp_json_parts, the body strict
 * JSON): what hp_response_decode gives for it, with the same messages, never
 * holding more than one part's cJSON tree. With `light`, polygons and
 * keypoints keep only their counts (struct hp_points.counted): what table and
 * csv print. release as above, after each part. 0, -1 (err), -2 out of memory. */
int hp_response_decode_parts(struct hp_response **out, const char *body, size_t len,
                             const struct hp_json_parts *parts, bool light, char *err, size_t errlen,
                             void (*release)(void *arg, size_t upto), void *arg);

/* One part alone, with its points (the body strict JSON, p from its
 * hp_json_parts): an entry into im (its shape, speed, depth and, unless its
 * results were cut out, its results), or a run of results into im->results.
 * What a consumer that needs polygons or keypoints reads a big answer by,
 * one part's worth in memory at a time. 0, -1 (err), -2 out of memory; im is
 * the caller's, cleared with hp_image_clear (also after a failure). */
int hp_response_decode_part(struct hp_image *im, const char *body, const struct hp_json_part *p, char *err,
                            size_t errlen);

/* Free what an image owns (its results) and zero it; safe on a zeroed one. */
void hp_image_clear(struct hp_image *im);

/* What the upload says the answer must hold: an image gets one entry in
 * images (a video may have none). 0, or -1 with the reason in err (exit 10). */
int hp_response_check_upload(const struct hp_response *r, bool video, char *err, size_t errlen);

/* About how many bytes of memory a decoded response holds (the window of
 * answers waiting to be written counts it). 0 for NULL. */
size_t hp_response_bytes(const struct hp_response *r);

/* Total results over all images. */
size_t hp_response_count(const struct hp_response *r);

/* Keypoints that count as visible: confidence >= 0.5, or all of them when
 * the server sent no visibility. */
size_t hp_visible_keypoints(const struct hp_points *k);

/* "detect", "classify", ..., "unknown". */
const char *hp_task_name(enum hp_task t);

/* A one-line human message for an error body: the first string among
 * `message`, `error`, `detail`, `details.message` (also `error.message`),
 * else a sanitised excerpt of the body (HTML tags dropped, white space folded,
 * control characters removed, at most ~120 characters). Always NUL-terminated;
 * "" for an empty body. */
void hp_error_message(char *dst, size_t dstlen, const char *body, size_t len);

#endif
