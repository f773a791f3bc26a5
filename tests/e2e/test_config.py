"""Config files, profiles and key sources (man page FILES): precedence command line > env >
profile > top of file > defaults, FILE:LINE errors (exit 2, nothing sent), the refusal of a
readable file holding api-key, `yolo login`'s settings.json, and `hubpredict config`."""

import json
import os
import re
import subprocess
import unittest

from harness import BIN, E2E, HUB_KEY, PLATFORM_KEY, WRAPPER, image

NOBODY = 65534
FIFO_TIMEOUT = 20  # a run that blocks on a FIFO fails the test instead of hanging it


class ConfigCase(E2E):

    def cfg(self, text: str, mode=0o600, name=".config/hubpredict/config") -> str:
        p = self.write(name, text.encode())
        os.chmod(p, mode)
        return p

    def sent(self, *args, env=None, key=HUB_KEY):
        """imgsz sent by one predict run with args against the stand-in."""
        r = self.run_hp("-u", self.hub_url(), *args, image("cat.png"), env=env, key=key)
        self.assertExit(r, 0)
        log = self.server.log()
        self.assertEqual(len(log), 1, log)
        self.server.reset()
        return log[0]["fields"]

    def setting(self, name, *args, env=None, key=HUB_KEY):
        """(value, source) of one setting in `hubpredict config`'s output."""
        r = self.run_hp("config", *args, env=env, key=key)
        self.assertExit(r, 0)
        return settings_of(r.out).get(name) or self.fail(f"no {name} in {r.out}")


def settings_of(out: str) -> dict:
    """`hubpredict config`'s output as {name: (value, source)}: each `name = value` line takes
    the `# SOURCE` comment above it (`# name: note` lines are notes); the key is a comment of
    the head, `# api-key: [redacted], from SOURCE` or `# api-key: none`."""
    found, src = {}, None
    for line in out.splitlines():
        if line.startswith("# api-key: "):
            v = line[len("# api-key: "):]
            found["api-key"] = ("", "none") if v == "none" else tuple(v.split(", from ", 1))
        elif line.startswith(("# hubpredict config:", "# config file:", "# profile:")):
            continue
        elif re.match(r"# [a-z-]+: ", line):
            continue  # a note
        elif line.startswith("# "):
            src = line[2:]
        elif " =" in line:
            name, _, value = line.partition(" =")
            value = value[1:] if value.startswith(" ") else value
            if name in found:  # a repeatable option: a line each
                value = found[name][0] + "\n" + value
            found[name] = (value, src)
    return found


class TestPrecedence(ConfigCase):

    def test_top_of_file_beats_default(self):
        p = self.cfg("imgsz = 320\n")
        self.assertEqual(self.sent()["imgsz"], "320")
        self.assertEqual(self.setting("imgsz"), ("320", f"{p}:1"))
        self.assertEqual(self.setting("conf"), ("0.25", "default"))

    def test_profile_beats_top(self):
        p = self.cfg("imgsz = 320\n[profile prod]\nimgsz = 480\n")
        self.assertEqual(self.sent("--profile", "prod")["imgsz"], "480")
        self.assertEqual(self.sent(env={"HUBPREDICT_PROFILE": "prod"})["imgsz"], "480")
        self.assertEqual(self.sent()["imgsz"], "320")  # no profile chosen, none named default
        self.assertEqual(self.setting("imgsz", "--profile", "prod"), ("480", f"{p}:3 [profile prod]"))

    def test_default_profile(self):
        self.cfg("imgsz = 320\n[profile default]\nimgsz = 256\n[profile other]\nimgsz = 128\n")
        self.assertEqual(self.sent()["imgsz"], "256")
        self.assertEqual(self.sent("--profile", "other")["imgsz"], "128")

    def test_env_beats_profile_and_top(self):
        self.cfg("url = http://127.0.0.1:9/top\n[profile prod]\nurl = http://127.0.0.1:9/prof\n")
        env = {"HUBPREDICT_URL": self.hub_url(), "HUBPREDICT_PROFILE": "prod"}
        r = self.run_hp(image("cat.png"), env=env)
        self.assertExit(r, 0)
        self.assertEqual(self.setting("url", env=env), (self.hub_url(), "env HUBPREDICT_URL"))

    def test_command_line_beats_env_profile_and_top(self):
        self.cfg("imgsz = 320\n[profile prod]\nimgsz = 480\n")
        self.assertEqual(self.sent("--profile", "prod", "-s", "640")["imgsz"], "640")
        env = {"HUBPREDICT_URL": "http://127.0.0.1:9/env"}
        self.assertEqual(self.setting("url", "-u", self.hub_url(), env=env), (self.hub_url(), "command line"))

    def test_model_on_a_higher_layer_beats_url_as_a_whole(self):
        self.cfg(f"url = {self.hub_url()}\n")
        # -m on the command line: the file's url is dropped, not an error
        self.assertEqual(self.setting("model", "-m", "abc"), ("abc", "command line"))
        self.assertEqual(self.setting("url", "-m", "abc"), ("", "default"))

    def test_no_config_and_config_flag(self):
        self.cfg("imgsz = 320\n")
        self.assertEqual(self.sent("--no-config")["imgsz"], "640")
        other = self.cfg("imgsz = 416\n", name="other.conf")
        self.assertEqual(self.sent("--config", other)["imgsz"], "416")
        self.assertEqual(self.sent(env={"HUBPREDICT_CONFIG": other})["imgsz"], "416")

    def test_flags_and_repeatables_in_a_file(self):
        self.cfg("field = a=1\nfield = b=2\nquiet = true\n")
        fields = self.sent()
        self.assertEqual((fields.get("a"), fields.get("b")), ("1", "2"))
        # the command line's --field replaces the file's list
        fields = self.sent("--field", "c=3")
        self.assertNotIn("a", fields)
        self.assertEqual(fields.get("c"), "3")


class TestConfigErrors(ConfigCase):

    def assertRefused(self, r, *fragments):
        self.assertExit(r, 2)
        self.assertOneLineError(r, *fragments)
        self.assertEqual(self.server.log(), [])

    def test_unknown_name(self):
        p = self.cfg("# c\n\nimgsize = 320\n")
        self.assertRefused(self.run_hp("-u", self.hub_url(), image("cat.png")), f"{p}:3:", "unknown setting 'imgsize'")

    def test_bad_value_checked_as_on_the_command_line(self):
        p = self.cfg("imgsz = 2000\n")
        self.assertRefused(self.run_hp("-u", self.hub_url(), image("cat.png")), f"{p}:1:",
                           "--imgsz must be a whole number from 32 to 1280, not '2000'")
        p = self.cfg("resize = maybe\n")
        self.assertRefused(self.run_hp("-u", self.hub_url(), image("cat.png")), f"{p}:1:", "true or false")

    def test_options_that_make_no_sense_in_a_file(self):
        for name in ("help", "version", "dry-run", "config", "profile", "files-from"):
            p = self.cfg(f"{name} = x\n")
            self.assertRefused(self.run_hp("-u", self.hub_url(), image("cat.png")), f"{p}:1:", f"'{name}'")

    def test_bad_lines(self):
        p = self.cfg("[prod]\n")
        self.assertRefused(self.run_hp("-u", self.hub_url(), image("cat.png")), f"{p}:1:", "[profile NAME]")
        p = self.cfg("imgsz 320\n")
        self.assertRefused(self.run_hp("-u", self.hub_url(), image("cat.png")), f"{p}:1:", "name = value")

    def test_missing_named_file_and_profile(self):
        missing = self.path("nope.conf")
        self.assertRefused(self.run_hp("--config", missing, "-u", self.hub_url(), image("cat.png")), f"'{missing}'")
        self.assertRefused(self.run_hp("-u", self.hub_url(), image("cat.png"), env={"HUBPREDICT_CONFIG": missing}),
                           f"'{missing}'")
        self.cfg("imgsz = 320\n")
        self.assertRefused(self.run_hp("--profile", "prod", "-u", self.hub_url(), image("cat.png")),
                           "no [profile prod]")
        # a missing default file is fine
        os.remove(self.path(".config/hubpredict/config"))
        self.assertEqual(self.sent()["imgsz"], "640")

    def test_readable_file_with_a_key_is_refused(self):
        p = self.cfg(f"api-key = {HUB_KEY}\n", mode=0o644)
        r = self.run_hp("-u", self.hub_url(), image("cat.png"), key=None)
        self.assertRefused(r, f"{p}:1:", "chmod 600")
        os.chmod(p, 0o600)
        r = self.run_hp("-u", self.hub_url(), image("cat.png"), key=None)
        self.assertExit(r, 0)
        self.assertEqual(self.server.log()[0]["headers"].get("x-api-key"), HUB_KEY)


class TestConfigCommand(ConfigCase):
    """`hubpredict config` prints what is in force, as a config file that gives it again."""

    def test_values_in_force_not_sentinels(self):
        r = self.run_hp("config", "--no-config", key=None)
        self.assertExit(r, 0)
        got = settings_of(r.out)
        self.assertEqual(got["iou"], ("", "default"))
        self.assertIn("# iou: not known yet: 0.45 with hub, 0.7 with platform\n", r.out)
        self.assertEqual(got["api"], ("", "default"))
        self.assertEqual(got["cache-ttl"], ("2592000", "default"))
        self.assertEqual(got["decimals"], ("", "default"))
        self.assertIn("# decimals: not sent\n", r.out)
        self.assertEqual(got["timeout"][0], "")
        self.assertEqual(got["min-conf"][0], "")
        values = [v for v, _ in got.values()]
        for bad in ("-1", "auto", "2.592e+06"):
            self.assertNotIn(bad, values)
        self.assertNotRegex(r.out, r"(?m)^[a-z-]+ = .*\(")
        hub = settings_of(self.run_hp("config", "-u", self.hub_url()).out)
        self.assertEqual((hub["iou"][0], hub["api"][0]), ("0.45", "hub"))
        plat = settings_of(self.run_hp("config", "-u", self.platform_url(), key=PLATFORM_KEY).out)
        self.assertEqual((plat["iou"][0], plat["api"][0]), ("0.7", "platform"))
        p = self.cfg("iou = 0.3\n")
        self.assertEqual(self.setting("iou", "-u", self.platform_url(), key=PLATFORM_KEY), ("0.3", f"{p}:1"))

    def test_the_output_pasted_back_gives_the_same_settings(self):
        k = self.write(".config/hubpredict/key", (HUB_KEY + "\n").encode())
        os.chmod(k, 0o600)
        self.cfg("imgsz = 320\nconf = 0.3\nfield = a=1\nfield = b=x y\nexpect = cat\nexpect = dog<2\n"
                 "classes = cat,7\nrate = 7/m\nverbose = 2\ncache-ttl = 3600.5\nmax-upload = 5M\n"
                 "min-conf = 0.2\ntimeout = 30\napi-key-file = key\noutput = ~/out.json\n"
                 "[profile p]\nno-progress = true\nformat = json\nretries = 5\n")
        env = {"HOME": self.path("home")}
        os.makedirs(env["HOME"])
        for args in (("-u", self.hub_url()), ("-u", self.hub_url(), "--profile", "p"), ("--no-config",)):
            with self.subTest(args=args):
                first = self.run_hp("config", *args, env=env, key=None)
                self.assertExit(first, 0)
                pasted = self.cfg(first.out, name="pasted.conf")
                again = self.run_hp("config", "--config", pasted, env=env, key=None)
                self.assertExit(again, 0)
                a, b = settings_of(first.out), settings_of(again.out)
                self.assertEqual({n: v for n, (v, _) in a.items()}, {n: v for n, (v, _) in b.items()})
        # and a run sends the same with either file
        pasted = self.cfg(self.run_hp("config", "-u", self.hub_url(), "--profile", "p", env=env, key=None).out,
                          name="pasted.conf")
        sent = []
        for args in (("-u", self.hub_url(), "--profile", "p"), ("--config", pasted)):
            self.server.reset()
            r = self.run_hp(*args, image("cat.png"), env=env, key=None)
            self.assertIn(r.rc, (0, 1), r)  # 1: an --expect of the file unmet, the same both times
            sent.append((r.rc, [(e["fields"], e["headers"].get("x-api-key")) for e in self.server.log()]))
        original, copy = sent[0][1][0][0], sent[1][1][0][0]
        self.assertEqual(sent[0], sent[1])
        self.assertEqual((copy["imgsz"], copy["b"], copy["iou"]), ("320", "x y", "0.45"))


class TestValues(ConfigCase):
    """Values of a file (man page FILES): ~ and $HOME in paths, paths relative to the file's
    folder, FILE:LINE on every error about a value, a byte order mark, empty values."""

    def test_home_expands_in_path_values(self):
        home = self.path("home")
        env = {"HOME": home}
        for form in ("~/c", "$HOME/c", "${HOME}/c"):
            with self.subTest(form=form):
                self.cfg(f"cache = {form}\nsave-txt = {form}\nbaseline = {form}\n")
                for name in ("cache", "save-txt", "baseline"):
                    self.assertEqual(self.setting(name, env=env)[0], f"{home}/c")
        # only at the start, and only in paths
        self.cfg("cache = a~/$HOME\nowner = ~abc\n")
        self.assertEqual(self.setting("owner", env=env)[0], "~abc")
        self.assertTrue(self.setting("cache", env=env)[0].endswith("/a~/$HOME"))

    def test_relative_key_file_cacert_and_cache_are_taken_from_the_files_folder(self):
        p = self.cfg("api-key-file = key\ncache = answers\ncacert = ca.pem\noutput = out.json\n")
        folder = os.path.dirname(p)
        k = self.write(".config/hubpredict/key", (HUB_KEY + "\n").encode())
        os.chmod(k, 0o600)
        self.assertEqual(self.setting("cache")[0], f"{folder}/answers")
        self.assertEqual(self.setting("cacert")[0], f"{folder}/ca.pem")
        self.assertEqual(self.setting("api-key-file")[0], f"{folder}/key")
        self.assertEqual(self.setting("output")[0], "out.json")  # what it writes: from the current folder
        self.cfg("api-key-file = key\n")
        cwd = self.path("elsewhere")
        os.makedirs(cwd)
        r = self.run_hp("-u", self.hub_url(), image("cat.png"), key=None, cwd=cwd)
        self.assertExit(r, 0)
        self.assertEqual(self.server.log()[0]["headers"].get("x-api-key"), HUB_KEY)

    def test_errors_found_after_reading_name_file_and_line(self):
        cases = [
            ("imgsz = 320\napi-key-file = nope\n", 2, "api-key-file: cannot open the key file"),
            ("api-key = a\tb\n", 1, "the API key has spaces"),
            ("save-conf = true\n", 1, "--save-conf goes with --save-txt"),
            ("# a comment\nmodel = bad id!\n", 2, "'bad id!' is not a model ID"),
            ("url = ftp://x\n", 1, "not an http:// or https:// URL"),
            ("cache = /dev/null/x\n", 1, "--cache: cannot create '/dev/null/x'"),
            ("baseline = /nonexistent/golden.json\n", 1, "--baseline: cannot open"),
        ]
        for text, line, frag in cases:
            with self.subTest(text=text):
                p = self.cfg(text)
                args = () if "model" in text or "url" in text else ("-u", self.hub_url())
                r = self.run_hp(*args, image("cat.png"), key=None if "api-key" in text else HUB_KEY)
                self.assertExit(r, 11 if "cache" in text else 2)  # a cache that cannot be made: output
                self.assertOneLineError(r, f"{p}:{line}: ", frag)
                self.assertEqual(self.server.log(), [])
        p = self.cfg("cache = /nonexistent/cache\n")
        r = self.run_hp("cache", "stats")
        self.assertExit(r, 3)
        self.assertOneLineError(r, f"{p}:1: ", "/nonexistent/cache")

    def test_a_byte_order_mark_is_skipped(self):
        p = self.write(".config/hubpredict/config", b"\xef\xbb\xbfimgsz = 320\n")
        os.chmod(p, 0o600)
        self.assertEqual(self.sent()["imgsz"], "320")

    def test_an_empty_value_means_unset(self):
        self.cfg("imgsz = 320\nfield = a=1\nurl = http://127.0.0.1:9/top\n"
                 "[profile p]\nimgsz =\nfield =\nurl =\nconf =\n")
        self.assertEqual(self.sent()["imgsz"], "320")
        fields = self.sent("--profile", "p")
        self.assertEqual((fields["imgsz"], fields["conf"]), ("640", "0.25"))
        self.assertNotIn("a", fields)
        self.assertEqual(self.setting("url", "--profile", "p"), ("", "default"))
        self.assertEqual(self.setting("imgsz", "--profile", "p"), ("640", "default"))
        # a file's empty api-key is no key, not an empty one
        self.cfg("api-key =\n", mode=0o644)
        self.assertEqual(self.setting("api-key", key=None), ("", "none"))
        # an empty value is still checked for its name
        p = self.cfg("imgsize =\n")
        r = self.run_hp("-u", self.hub_url(), image("cat.png"))
        self.assertExit(r, 2)
        self.assertOneLineError(r, f"{p}:1:", "unknown setting 'imgsize'")


class TestTrustedFiles(ConfigCase):
    """Config files, key files and settings.json (man page FILES): a regular file the user owns
    (or root does) that group and others cannot write, as ssh's StrictModes; nothing blocks on
    a FIFO."""

    def refused(self, *args, env=None, key=HUB_KEY, stdin=None):
        r = self.run_hp(*args, "-u", self.hub_url(), image("cat.png"), env=env, key=key, stdin=stdin,
                        timeout=FIFO_TIMEOUT)
        self.assertExit(r, 2)
        self.assertEqual(self.server.log(), [])
        return r

    def fifo(self, name):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.mkfifo(p, 0o600)
        return p

    def test_config_writable_by_group_or_others_is_refused(self):
        for mode in (0o666, 0o620, 0o602, 0o660):
            with self.subTest(mode=oct(mode)):
                p = self.cfg("url = http://127.0.0.1:9/attacker\n", mode=mode)
                other = self.cfg("imgsz = 320\n", mode=mode, name="other.conf")
                for args, env in (((), None), (("--config", other), None), ((), {"HUBPREDICT_CONFIG": other})):
                    r = self.refused(*args, env=env)
                    self.assertOneLineError(r, "writable by group or others", f"mode {mode:o}",
                                            f"chmod go-w '{other if env or args else p}'")
        # the owner's own write bit is fine, and so is a readable file without a key
        p = self.cfg(f"url = {self.hub_url()}\n", mode=0o644)
        r = self.run_hp(image("cat.png"))
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")

    @unittest.skipUnless(os.geteuid() == 0, "only root can give a file to another user")
    def test_config_and_key_file_of_another_user_are_refused(self):
        # CI runs as root: root reads only its own files and root's, as ssh does
        p = self.cfg("imgsz = 320\n", mode=0o600)
        os.chown(p, NOBODY, -1)
        r = self.refused()
        self.assertOneLineError(r, f"'{p}' is owned by another user (uid {NOBODY})", f"chown 0 '{p}'")
        k = self.write("key", (HUB_KEY + "\n").encode())
        os.chmod(k, 0o600)
        os.chown(k, NOBODY, -1)
        os.chown(p, 0, -1)
        r = self.refused("--api-key-file", k, key=None)
        self.assertOneLineError(r, "--api-key-file:", f"'{k}' is owned by another user")
        self.cfg(f"api-key-file = {k}\n")
        r = self.refused(key=None)
        self.assertOneLineError(r, f"{p}:1: api-key-file:", "owned by another user")

    def test_key_file_writable_by_others_is_refused(self):
        k = self.write("key", (HUB_KEY + "\n").encode())
        for mode in (0o666, 0o620, 0o602):
            with self.subTest(mode=oct(mode)):
                os.chmod(k, mode)
                r = self.refused("--api-key-file", k, key=None)
                self.assertOneLineError(r, "--api-key-file:", "writable by group or others", f"chmod go-w '{k}'")
                p = self.cfg(f"api-key-file = {k}\n")
                r = self.refused(key=None)
                self.assertOneLineError(r, f"{p}:1: api-key-file:", "writable by group or others")
                os.remove(p)

    def test_fifos_are_refused_without_blocking(self):
        f = self.fifo("fifo.conf")
        for args, env in ((("--config", f), None), ((), {"HUBPREDICT_CONFIG": f})):
            r = self.refused(*args, env=env)
            self.assertOneLineError(r, f"the config file '{f}' is a FIFO, not a regular file")
        d = self.fifo(".config/hubpredict/config")
        r = self.refused()
        self.assertOneLineError(r, f"'{d}' is a FIFO")
        os.remove(d)
        y = self.fifo(".config/Ultralytics/settings.json")
        r = self.refused(key=None)
        self.assertOneLineError(r, f"settings.json '{y}' is a FIFO, not a regular file")

    def test_other_kinds_of_file_are_refused(self):
        for path, kind in ((self.tmp.name, "a directory"), ("/dev/null", "a character device")):
            r = self.refused("--config", path)
            self.assertOneLineError(r, f"'{path}' is {kind}, not a regular file")
            r = self.refused("--api-key-file", path, key=None)
            self.assertOneLineError(r, "--api-key-file:", f"'{path}' is {kind}")

    def test_key_file_fifo_without_a_writer_does_not_block(self):
        f = self.fifo("key.fifo")
        r = self.refused("--api-key-file", f, key=None)
        self.assertOneLineError(r, "--api-key-file:", "is empty")
        self.cfg(f"api-key-file = {f}\n")
        r = self.refused(key=None)
        self.assertOneLineError(r, "api-key-file:", "is empty")

    def test_key_from_a_pipe_still_works(self):
        """--api-key-file <(pass show ...) is a pipe: it stays allowed (man page, The API key)."""
        rd, wr = os.pipe()
        os.write(wr, (HUB_KEY + "\n").encode())
        os.close(wr)
        try:
            p = subprocess.run(WRAPPER + [BIN, "--api-key-file", f"/dev/fd/{rd}", "-u", self.hub_url(),
                                          image("cat.png")], pass_fds=(rd,), capture_output=True,
                               env=self.hp_env(None), timeout=FIFO_TIMEOUT)
        finally:
            os.close(rd)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, b"")
        self.assertEqual(self.server.log()[0]["headers"].get("x-api-key"), HUB_KEY)

    def test_settings_json_others_may_read_is_warned_about(self):
        p = self.write(".config/Ultralytics/settings.json", json.dumps({"api_key": HUB_KEY}).encode())
        for mode, warned in ((0o644, True), (0o640, True), (0o600, False)):
            with self.subTest(mode=oct(mode)):
                self.server.reset()
                os.chmod(p, mode)
                r = self.run_hp("-u", self.hub_url(), image("cat.png"), key=None)
                self.assertExit(r, 0)
                self.assertEqual(self.server.log()[0]["headers"].get("x-api-key"), HUB_KEY)
                if warned:
                    self.assertEqual(len(r.err.splitlines()), 1, r)
                    self.assertTrue(r.err.startswith("hubpredict: warning: "), r)
                    self.assertIn(f"'{p}'", r.err)
                    self.assertIn("chmod 600", r.err)
                else:
                    self.assertEqual(r.err, "")
        os.chmod(p, 0o644)
        r = self.run_hp("-q", "-u", self.hub_url(), image("cat.png"), key=None)
        self.assertExit(r, 0)
        self.assertEqual(r.err, "")


class TestKeyOrder(ConfigCase):
    OTHER = "0123456789abcdef0123456789abcdef01234567ab"

    def yolo(self, key):
        p = self.write(".config/Ultralytics/settings.json", json.dumps({"api_key": key}).encode())
        return p

    def sent_key(self, *args, key=None, env=None):
        r = self.run_hp("-u", self.hub_url(), *args, image("cat.png"), key=key, env=env)
        self.assertExit(r, 0)
        k = self.server.log()[0]["headers"].get("x-api-key")
        self.server.reset()
        return k

    def test_yolo_login_is_last(self):
        p = self.yolo(HUB_KEY)
        self.assertEqual(self.sent_key(), HUB_KEY)
        self.assertEqual(self.setting("api-key", key=None), ("[redacted]", f"yolo login ({p})"))
        # YOLO_CONFIG_DIR moves it
        self.write("ydir/Ultralytics/settings.json", json.dumps({"api_key": HUB_KEY}).encode())
        os.remove(p)
        env = {"YOLO_CONFIG_DIR": self.path("ydir")}
        self.assertEqual(self.sent_key(env=env), HUB_KEY)

    def test_no_config_reads_no_settings_json_either(self):
        self.yolo(HUB_KEY)
        self.assertEqual(self.setting("api-key", "--no-config", key=None), ("", "none"))
        r = self.run_hp("--no-config", "-u", self.hub_url(), image("cat.png"), key=None)
        self.assertExit(r, 2)
        self.assertOneLineError(r, "key")
        self.assertEqual(self.server.log(), [])

    def test_config_key_beats_yolo_and_env_beats_config(self):
        self.yolo(self.OTHER)
        p = self.cfg(f"api-key = {HUB_KEY}\n")
        self.assertEqual(self.sent_key(), HUB_KEY)
        self.assertEqual(self.setting("api-key", key=None), ("[redacted]", f"{p}:1 (api-key)"))
        self.cfg(f"api-key = {self.OTHER}\n")
        self.assertEqual(self.sent_key(key=HUB_KEY), HUB_KEY)
        self.assertEqual(self.setting("api-key", key=HUB_KEY), ("[redacted]", "env ULTRALYTICS_API_KEY"))

    def test_verbose_names_the_source_not_the_key(self):
        p = self.cfg(f"api-key = {HUB_KEY}\n")
        r = self.run_hp("-v", "-u", self.hub_url(), image("cat.png"), key=None)
        self.assertExit(r, 0)
        self.assertIn(f"key from {p}:1 (api-key)", r.err)
        self.assertNotIn(HUB_KEY, r.err)

    def test_key_file_on_the_command_line_beats_env(self):
        kf = self.write("k", (HUB_KEY + "\n").encode())
        os.chmod(kf, 0o600)
        self.assertEqual(self.sent_key("--api-key-file", kf, key=self.OTHER), HUB_KEY)

    def test_config_never_prints_the_key(self):
        self.cfg(f"api-key = {HUB_KEY}\n")
        r = self.run_hp("config", "-k", HUB_KEY)
        self.assertExit(r, 0)
        self.assertNotIn(HUB_KEY, r.out + r.err)
        self.assertIn("# api-key: [redacted], from command line (api-key)\n", r.out)


if __name__ == "__main__":
    unittest.main()
