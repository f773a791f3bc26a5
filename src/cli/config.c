/* config.c - the config file, its profiles, and the key `yolo login` saved. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/config.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (1 << 20)

static const char *type_name(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* ssh's StrictModes: owned by the caller or root, not writable by group or
 * others. 0, or -1 with err set. */
static int check_owner_mode(const char *path, const char *what, const struct stat *st, char *err, size_t errlen)
{
	uid_t me = geteuid();
	if (st->st_uid != me && st->st_uid != 0) {
		snprintf(err, errlen, "%s '%s' is owned by another user (uid %u), not by you or root; run chown %u '%s'",
		         what, path, (unsigned)st->st_uid, (unsigned)me, path);
		return -1;
	}
	if (st->st_mode & 022) {
		snprintf(err, errlen, "%s '%s' is writable by group or others (mode %03o); run chmod go-w '%s'", what,
		         path, (unsigned)(st->st_mode & 0777), path);
		return -1;
	}
	return 0;
}

int hp_config_open(const char *path, const char *what, unsigned flags, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK), e;
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open %s '%s': %s", what, path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, st) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(e));
		goto fail;
	}
	e = 0; /* a refusal, not the system's error */
	if (!S_ISREG(st->st_mode) && !((flags & HP_CONFIG_PIPE_OK) && S_ISFIFO(st->st_mode))) {
		snprintf(err, errlen, "%s '%s' is %s, not a regular file", what, path, type_name(st->st_mode));
		goto fail;
	}
	if ((flags & HP_CONFIG_STRICT) && check_owner_mode(path, what, st, err, errlen) < 0)
		goto fail;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(e));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = e;
	return -1;
}

/* The whole of a small regular file (hp_config_open's checks), NUL-terminated
 * (caller frees), or NULL with err set and errno (0: refused, ENOENT ...). */
static char *slurp(const char *path, const char *what, unsigned flags, struct stat *st, char *err, size_t errlen)
{
	int fd = hp_config_open(path, what, flags, st, err, errlen);
	if (fd < 0)
		return NULL;
	char *buf = NULL;
	int e = 0;
	if (st->st_size > CONFIG_MAX) {
		snprintf(err, errlen, "%s '%s' is larger than 1 MiB", what, path);
		goto done;
	}
	if (!(buf = malloc(CONFIG_MAX + 1))) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	size_t len = 0;
	for (;;) {
		ssize_t got = read(fd, buf + len, CONFIG_MAX - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = errno;
			snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(e));
			free(buf);
			buf = NULL;
		}
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len == CONFIG_MAX)
			break;
	}
	if (buf)
		buf[len] = '\0';
done:
	close(fd);
	errno = e;
	return buf;
}

/* ${XDG_CONFIG_HOME:-$HOME/.config}/SUB into buf; -1 without either. */
static int config_home(const char *sub, char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;
	if (xdg && *xdg == '/')
		n = snprintf(buf, len, "%s/%s", xdg, sub);
	else if (home && *home)
		n = snprintf(buf, len, "%s/.config/%s", home, sub);
	else
		return -1;
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One line of the file, cut in place. */
struct line {
	int no;
	const char *profile; /* the section it is in, NULL = the top */
	char *name, *value;
};

/* Cut the text into lines; 0, or -1 with err set. *lines is owned by the caller. */
static int cut_lines(char *text, const char *path, struct line **lines, size_t *n, char *err, size_t errlen)
{
	size_t cap = 16;
	const char *section = NULL;
	*n = 0;
	if (!(*lines = malloc(cap * sizeof **lines)))
		goto oom;
	char *p = text;
	for (int no = 1; p && *p; no++) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *s = trim(p);
		p = nl ? nl + 1 : NULL;
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			size_t l = strlen(s);
			if (l < 11 || strncmp(s, "[profile ", 9) != 0 || s[l - 1] != ']') {
				snprintf(err, errlen, "%s:%d: a section must be [profile NAME], not '%s'", path, no, s);
				return -1;
			}
			s[l - 1] = '\0';
			section = trim(s + 9);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'name = value', not '%s'", path, no, s);
			return -1;
		}
		*eq = '\0';
		if (*n == cap) {
			struct line *grown = realloc(*lines, (cap *= 2) * sizeof **lines);
			if (!grown)
				goto oom;
			*lines = grown;
		}
		(*lines)[(*n)++] = (struct line){ no, section, trim(s), trim(eq + 1) };
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The profile to use: o->profile, else "default" when the file has it. */
static int choose_profile(const struct hp_options *o, const struct line *lines, size_t n, const char **out,
                          char *err, size_t errlen)
{
	const char *want = o->profile ? o->profile : "default";
	*out = NULL;
	for (size_t i = 0; i < n; i++)
		if (lines[i].profile && strcmp(lines[i].profile, want) == 0)
			*out = lines[i].profile;
	if (!*out && o->profile) {
		snprintf(err, errlen, "%s: no [profile %s] in this file", o->config_path, o->profile);
		return -1;
	}
	return 0;
}

/* As ssh refuses such key files: a key that group or others may read. */
static int check_key_mode(const struct hp_options *o, const struct line *lines, size_t n, const struct stat *st,
                          char *err, size_t errlen)
{
	if (!(st->st_mode & 077))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(lines[i].name, "api-key") == 0 && lines[i].value[0]) {
			snprintf(err, errlen, "%s:%d: api-key in a file that group or others may read (mode %03o); "
			         "run chmod 600 '%s'", o->config_path, lines[i].no, (unsigned)(st->st_mode & 0777),
			         o->config_path);
			return -1;
		}
	}
	return 0;
}

/* 2: a path option taken from the config file's folder when relative; 1:
 * another path option (its value is a FILE or a DIR); 0: not a path. */
static int path_kind(const char *name)
{
	static const char *const from_folder[] = { "api-key-file", "cacert", "cache", NULL };
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info in;
		hp_options_info(i, &in);
		if (strcmp(in.name, name) != 0 || !in.arg || (strcmp(in.arg, "FILE") != 0 && strcmp(in.arg, "DIR") != 0))
			continue;
		for (size_t k = 0; from_folder[k]; k++)
			if (strcmp(name, from_folder[k]) == 0)
				return 2;
		return 1;
	}
	return 0;
}

/* What follows a leading ~ or $HOME (${HOME}) of v, or NULL. */
static const char *after_home(const char *v)
{
	static const char *const forms[] = { "~", "$HOME", "${HOME}", NULL };
	for (size_t i = 0; forms[i]; i++) {
		size_t n = strlen(forms[i]);
		if (strncmp(v, forms[i], n) == 0 && (v[n] == '/' || v[n] == '\0'))
			return v + n;
	}
	return NULL;
}

/* A path value of the file: a leading ~ or $HOME expanded, a relative
 * api-key-file, cacert or cache taken from the file's folder; *value then
 * points to a string o keeps. 0, or -1 with err set. */
static int path_value(struct hp_options *o, const char *name, const char **value, char *err, size_t errlen)
{
	int kind = path_kind(name);
	const char *v = *value, *rest = after_home(v), *home = getenv("HOME");
	const char *slash = strrchr(o->config_path, '/');
	char *out = NULL;
	if (!kind || strcmp(v, "-") == 0)
		return 0;
	if (rest && (!home || !*home)) {
		snprintf(err, errlen, "%s: '%s' needs HOME, which is not set", name, v);
		return -1;
	}
	size_t len = strlen(v) + (home ? strlen(home) : 0) + strlen(o->config_path) + 2;
	if (rest) {
		if ((out = malloc(len)))
			snprintf(out, len, "%s%s", home, rest);
	} else if (kind == 2 && v[0] != '/' && slash) {
		if ((out = malloc(len)))
			snprintf(out, len, "%.*s/%s", (int)(slash - o->config_path), o->config_path, v);
	} else {
		return 0;
	}
	char **grown = out ? realloc(o->config_paths, (o->n_config_paths + 1) * sizeof *grown) : NULL;
	if (!grown) {
		free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->config_paths = grown;
	o->config_paths[o->n_config_paths++] = out;
	*value = out;
	return 0;
}

/* One line's setting: an empty value unsets, a path is expanded. */
static int apply_line(struct hp_options *o, const struct line *l, const struct hp_origin *from, char *why,
                      size_t len)
{
	const char *value = l->value;
	if (!*value)
		return hp_options_unset(o, l->name, why, len);
	if (path_value(o, l->name, &value, why, len) < 0)
		return -1;
	return hp_options_set(o, l->name, value, from, why, len);
}

/* The top of the file, then the chosen profile. */
static int apply_lines(struct hp_options *o, const struct line *lines, size_t n, const char *profile,
                       char *err, size_t errlen)
{
	char why[512];
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct line *l = &lines[i];
			if (pass == 0 ? l->profile != NULL : (!profile || !l->profile || strcmp(l->profile, profile) != 0))
				continue;
			struct hp_origin from = { .source = pass ? HP_SOURCE_PROFILE : HP_SOURCE_FILE,
			                          .file = o->config_path, .line = l->no, .profile = pass ? profile : NULL };
			if (apply_line(o, l, &from, why, sizeof why) < 0) {
				snprintf(err, errlen, "%s:%d: %s", o->config_path, l->no, why);
				return -1;
			}
		}
	}
	return 0;
}

/* The file's path: --config / $HUBPREDICT_CONFIG, else the default. */
static int find_file(struct hp_options *o, bool *must_exist, char *err, size_t errlen)
{
	char def[4096];
	*must_exist = o->config != NULL;
	if (!o->config && config_home("hubpredict/config", def, sizeof def) < 0)
		return 0;
	o->config_path = strdup(o->config ? o->config : def);
	if (!o->config_path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int hp_config_load(struct hp_options *o, char *err, size_t errlen)
{
	struct line *lines = NULL;
	size_t n = 0;
	struct stat st;
	bool must_exist;
	int rc = -1;
	const char *profile;
	if (o->no_config)
		return 0;
	if (find_file(o, &must_exist, err, errlen) < 0)
		return -1;
	if (o->config_path &&
	    !(o->config_text = slurp(o->config_path, "the config file", HP_CONFIG_STRICT, &st, err, errlen))) {
		if (errno != ENOENT || must_exist)
			return -1;
		free(o->config_path);
		o->config_path = NULL;
	}
	if (!o->config_path) {
		if (!o->profile)
			return 0;
		snprintf(err, errlen, "profile '%s': there is no config file to hold it", o->profile);
		return -1;
	}
	char *text = o->config_text;
	if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3; /* a UTF-8 byte order mark, as Windows editors write */
	if (cut_lines(text, o->config_path, &lines, &n, err, errlen) < 0 ||
	    check_key_mode(o, lines, n, &st, err, errlen) < 0 ||
	    choose_profile(o, lines, n, &profile, err, errlen) < 0 ||
	    apply_lines(o, lines, n, profile, err, errlen) < 0)
		goto done;
	rc = 0;
done:
	free(lines);
	return rc;
}

int hp_config_yolo_path(char *buf, size_t len)
{
	const char *dir = getenv("YOLO_CONFIG_DIR");
	int n;
	if (dir && *dir)
		n = snprintf(buf, len, "%s/Ultralytics/settings.json", dir);
#ifdef __APPLE__
	else if (getenv("HOME") && *getenv("HOME"))
		n = snprintf(buf, len, "%s/Library/Application Support/Ultralytics/settings.json", getenv("HOME"));
#endif
	else
		return config_home("Ultralytics/settings.json", buf, len);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int hp_config_yolo_key(struct hp_options *o, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	if (o->no_config || hp_config_yolo_path(path, sizeof path) < 0)
		return 0; /* --no-config: no settings of any file, yolo login's neither */
	char *text = slurp(path, "yolo login's settings.json", 0, &st, err, errlen);
	if (!text) {
		if (errno == 0)
			return -1; /* a FIFO, a directory ...: said, exit 2 */
		hp_msg_verbose(1, "%s: no key from yolo login", err);
		err[0] = '\0';
		return 0; /* no yolo login: no key from it */
	}
	cJSON *doc = cJSON_Parse(text);
	free(text);
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(doc, "api_key");
	int rc = 0;
	if (cJSON_IsString(k) && k->valuestring[0]) {
		char from[4200];
		snprintf(from, sizeof from, "yolo login (%s)", path);
		o->api_key = strdup(k->valuestring);
		o->key_from = strdup(from);
		memset(k->valuestring, 0, strlen(k->valuestring));
		if (!o->api_key || !o->key_from) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		} else if (st.st_mode & 077) {
			/* as for key files: Ultralytics writes it with the umask, often 0644 */
			hp_msg_warn("yolo login's settings.json '%s' holds the API key and is accessible by group or "
			            "others (mode %03o); run chmod 600 '%s'", path, (unsigned)(st.st_mode & 0777), path);
		}
	} else if (!doc) {
		hp_msg_verbose(1, "'%s' is not JSON: no key from yolo login", path);
	}
	cJSON_Delete(doc);
	return rc;
}
