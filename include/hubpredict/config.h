/* config.h - the config file and profiles (hubpredict(1), FILES), and the key
 * that `yolo login` saved.
 *
 * A config file holds `# comment`, blank lines, `name = value` and
 * `[profile NAME]`; names are long options without "--" and go through the
 * option table's checks (hp_options_set), so every option with a config key
 * is a setting for free. The top of the file applies to every profile; the
 * chosen profile's lines then override it.
 */
#ifndef HUBPREDICT_CONFIG_H
#define HUBPREDICT_CONFIG_H

#include <stddef.h>
#include <sys/stat.h>

struct hp_options;

/* Flags of hp_config_open. */
enum {
	HP_CONFIG_STRICT = 1 << 0,   /* ssh's StrictModes: owned by the caller or root, not writable by group
	                                or others */
	HP_CONFIG_PIPE_OK = 1 << 1   /* a pipe is fine too (--api-key-file <(pass show ...)) */
};

/* Open a file hubpredict trusts (a config file, a key file, settings.json)
 * for reading, without blocking on a FIFO (O_NONBLOCK until its type is
 * known, then cleared): a regular file only (or a pipe with
 * HP_CONFIG_PIPE_OK), checked as `flags` say; `what` names it in messages
 * ("the config file"). The descriptor (caller closes), or -1 with err set
 * ("the config file 'PATH' is a FIFO, not a regular file") and errno: the
 * system's (ENOENT ...) when it cannot be opened, 0 when it was refused. */
int hp_config_open(const char *path, const char *what, unsigned flags, struct stat *st, char *err, size_t errlen);

/* Read the config file o->config names (else $XDG_CONFIG_HOME or ~/.config's
 * hubpredict/config; none with o->no_config) and apply its top and then its
 * chosen profile (o->profile, else [profile default] when present) to *o.
 * The text is kept in o->config_text (freed by hp_options_free), its path in
 * o->config_path. 0, or -1 with err set ("FILE:LINE: reason"): exit 2. */
int hp_config_load(struct hp_options *o, char *err, size_t errlen);

/* The key `yolo login` saved (api_key in Ultralytics' settings.json), into
 * o->api_key and o->key_from (none with o->no_config); none found is not an
 * error, a settings.json that others may read is warned about. 0, or -1 with
 * err set (not a regular file, out of memory): exit 2. */
int hp_config_yolo_key(struct hp_options *o, char *err, size_t errlen);

/* The settings.json path hp_config_yolo_key reads, into buf. 0, or -1 when
 * no directory applies (no HOME). */
int hp_config_yolo_path(char *buf, size_t len);

#endif
