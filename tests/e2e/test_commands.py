"""Commands (man page COMMANDS): a first argument that names a command selects it, anything else
runs predict; `help [COMMAND]` is COMMAND --help; an input file named like a command is ./NAME."""

import shutil
import unittest

from harness import E2E, image


class TestCommands(E2E):

    def test_predict_named_is_the_default(self):
        plain = self.run_hp("-u", self.hub_url(), "-f", "json", image("cat.png"))
        named = self.run_hp("predict", "-u", self.hub_url(), "-f", "json", image("cat.png"))
        self.assertExit(plain, 0)
        self.assertExit(named, 0)
        self.assertEqual(named.json()[0]["response"], plain.json()[0]["response"])
        self.assertEqual(named.json()[0]["file"], plain.json()[0]["file"])
        log = self.server.log()
        self.assertEqual(len(log), 2)
        self.assertEqual(log[0]["path"], log[1]["path"])

    def test_help_is_predict_help(self):
        top = self.run_hp("--help")
        self.assertExit(top, 0)
        self.assertIn("Commands:", top.out)
        self.assertRegex(top.out, r"(?m)^  hubpredict help \[COMMAND\] ")
        for args in (("help",), ("help", "predict"), ("predict", "--help"), ("predict", "-h")):
            r = self.run_hp(*args)
            self.assertExit(r, 0)
            self.assertEqual(r.out, top.out, args)
            self.assertEqual(r.err, "", args)

    def test_help_of_help(self):
        for args in (("help", "help"), ("help", "--help")):
            r = self.run_hp(*args)
            self.assertExit(r, 0)
            self.assertTrue(r.out.startswith("Usage: hubpredict help [COMMAND]"), r)
            self.assertIn("Commands:", r.out)

    def test_config_help_and_version_build_options(self):
        for args in (("config", "--help"), ("help", "config")):
            r = self.run_hp(*args)
            self.assertExit(r, 0)
            self.assertTrue(r.out.startswith("Usage: hubpredict config"), r)
        r = self.run_hp("config", "--imgsz", "320")
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--imgsz does not go with this command")
        r = self.run_hp("config", "extra")
        self.assertExit(r, 2)
        self.assertOneLineError(r, "'extra'")
        r = self.run_hp("--version")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"(?m)^build: TLS \S.*, HTTP/2 (yes|no), image support (yes|no)$")

    def test_help_of_unknown_command(self):
        r = self.run_hp("help", "redeploy")
        self.assertExit(r, 2)
        self.assertOneLineError(r, "'redeploy'", "no such command")
        self.assertEqual(r.out, "")
        r = self.run_hp("help", "predict", "extra")
        self.assertExit(r, 2)
        self.assertOneLineError(r, "'extra'")

    def test_word_that_is_no_command_is_an_input(self):
        # a word that names no command is an INPUT file, as before
        shutil.copy(image("cat.png"), self.path("redeploy"))
        r = self.run_hp("redeploy", "-u", self.hub_url(), "-f", "json", cwd=self.tmp.name)
        self.assertExit(r, 0)
        self.assertEqual(r.json()[0]["file"], "redeploy")
        r = self.run_hp("nosuch", "-u", self.hub_url(), cwd=self.tmp.name)
        self.assertExit(r, 3)
        self.assertIn("'nosuch'", r.err)

    def test_file_named_like_a_command_is_dot_slash(self):
        for name in ("help", "predict", "config", "deploy"):
            shutil.copy(image("cat.png"), self.path(name))
            r = self.run_hp(f"./{name}", "-u", self.hub_url(), "-f", "json", cwd=self.tmp.name)
            self.assertExit(r, 0)
            self.assertEqual(r.json()[0]["file"], f"./{name}")
            # predict named explicitly takes the file named predict as its INPUT
            r = self.run_hp("predict", name, "-u", self.hub_url(), "-f", "json", cwd=self.tmp.name)
            self.assertExit(r, 0)
            self.assertEqual(r.json()[0]["file"], name)


if __name__ == "__main__":
    unittest.main()
