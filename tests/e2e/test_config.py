"""Config files, profiles and key sources (man page FILES): precedence command line > env >
profile > top of file > defaults, FILE:LINE errors (exit 2, nothing sent), the refusal of a
readable file holding api-key, `yolo login`'s settings.json, and `hubpredict config`."""

import json
import os
import unittest

from harness import E2E, HUB_KEY, image


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
        r = self.run_hp("config", *args, env=env, key=key)
        self.assertExit(r, 0)
        for line in r.out.splitlines():
            if line.startswith(name + " = "):
                value, _, src = line[len(name) + 3:].partition("  (")
                return value, src[:-1] if src.endswith(")") else src
        self.fail(f"no {name} in {r.out}")


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
        r = self.run_hp("config", "-m", "abc")
        self.assertExit(r, 0)
        self.assertIn("model = abc  (command line)", r.out)
        self.assertIn("url =   (default)", r.out)

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
        self.assertIn("api-key = [redacted]  (command line (api-key))", r.out)


if __name__ == "__main__":
    unittest.main()
