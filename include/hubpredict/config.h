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

struct hp_options;

/* Read the config file o->config names (else $XDG_CONFIG_HOME or ~/.config's
 * hubpredict/config; none with o->no_config) and apply its top and then its
 * chosen profile (o->profile, else [profile default] when present) to *o.
 * The text is kept in o->config_text (freed by hp_options_free), its path in
 * o->config_path. 0, or -1 with err set ("FILE:LINE: reason"): exit 2. */
int hp_config_load(struct hp_options *o, char *err, size_t errlen);

/* The key `yolo login` saved (api_key in Ultralytics' settings.json), into
 * o->api_key and o->key_from; none found is not an error. 0, or -1 with err
 * set (out of memory). */
int hp_config_yolo_key(struct hp_options *o, char *err, size_t errlen);

/* The settings.json path hp_config_yolo_key reads, into buf. 0, or -1 when
 * no directory applies (no HOME). */
int hp_config_yolo_path(char *buf, size_t len);

#endif
