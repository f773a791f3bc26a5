"""SPEC 10: a --cache DIR is marked as one and nothing else is touched (issue 19, items 1, 8-10).

- A cache carries the standard CACHEDIR.TAG (bford.info/cachedir). A run writes it into a DIR it
  creates, an empty one, or one holding only hubpredict's own files (a cache of an earlier version);
  any other untagged DIR is exit 2 before anything is sent, and `cache stats|prune` refuse a DIR
  without the tag.
- prune removes only hubpredict's files, follows no link, never leaves DIR: month folders, a
  .git/objects tree and a planted link to a victim's folder in a shared 1777 cache all survive.
- Entries are written with the user's umask; a FIFO where an entry belongs is a miss, not a hang;
  a hostile (sparse, huge) entry costs neither memory nor time before its checksum is read.
"""

import os
import resource
import signal
import stat
import struct
import subprocess
import time

from harness import BIN, E2E, UNDER_TOOL, WRAPPER, Result, image

with open(image("cat.png"), "rb") as _f:
    CAT = _f.read()

SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
# a run that hangs on a FIFO is killed after this, and the test fails
NO_HANG = 30 * (5 if WRAPPER else 1)


class CacheCase(E2E):

    def input(self, i=0):
        return self.write(f"in/img{i:03d}.png", CAT + b"\0tail %d" % i)

    def hp(self, *args, **kw):
        return self.run_hp("-u", self.hub_url(), *args, timeout=NO_HANG, **kw)

    def sent(self):
        return [rec for rec in self.server.log() if rec.get("file")]

    def entries(self, cache):
        return sorted(os.path.join(d, f) for d, _, fs in os.walk(cache) if d != cache for f in fs)

    def tree(self, top):
        """every path below top with its type and content (links not followed)"""
        out = {}
        for d, dirs, files in os.walk(top):
            for n in dirs + files:
                p = os.path.join(d, n)
                st = os.lstat(p)
                if stat.S_ISLNK(st.st_mode):
                    out[p] = ("link", os.readlink(p))
                elif stat.S_ISREG(st.st_mode):
                    with open(p, "rb") as f:
                        out[p] = ("file", f.read())
                else:
                    out[p] = (stat.S_IFMT(st.st_mode), None)
        return out

    def one_entry(self, cache):
        """a cache holding the answer for input 0: (input, entry path)"""
        a = self.input()
        self.assertExit(self.hp("--cache", cache, a), 0)
        entry, = self.entries(cache)
        return a, entry


class TestTag(CacheCase):

    def test_a_new_or_empty_folder_is_tagged(self):
        for cache in (self.path("new"), self.path("empty")):
            if cache.endswith("empty"):
                os.mkdir(cache)
            self.one_entry(cache)
            with open(os.path.join(cache, "CACHEDIR.TAG"), "rb") as f:
                lines = f.read().split(b"\n")
            self.assertEqual(lines[0], SIGNATURE)
            self.assertEqual(lines[1], b"# This file is a cache directory tag created by hubpredict.")
            self.assertIn(b"https://bford.info/cachedir/", lines[2])
            names = os.listdir(cache)
            self.assertEqual([n for n in names if not n.startswith(".tmp-")], names, "no temporary file left")

    def test_a_folder_of_other_files_is_refused_before_sending(self):
        a = self.input()
        photos = self.path("photos")
        self.write("photos/01/beach.jpg", CAT)
        self.write("photos/notes.txt", b"mine")
        before = self.tree(photos)
        r = self.hp("--cache", photos, a)
        self.assertExit(r, 2)
        self.assertOneLineError(r, "--cache", "photos'", "CACHEDIR.TAG", "new or empty folder")
        self.assertEqual(self.sent(), [])
        self.assertEqual(self.tree(photos), before, "nothing written into the folder")

    def test_a_cache_made_before_the_tag_is_tagged_and_used(self):
        cache = self.path("cache")
        a, entry = self.one_entry(cache)
        os.unlink(os.path.join(cache, "CACHEDIR.TAG"))     # as an earlier version left it
        os.makedirs(os.path.join(os.path.dirname(entry), "..", "7f"))
        self.write(os.path.join("cache", os.path.basename(os.path.dirname(entry)), ".tmp-Ab12Cd"), b"")
        r = self.hp("-f", "json", "--cache", cache, a)
        self.assertExit(r, 0)
        self.assertIs(r.json()[0]["cached"], True)
        self.assertEqual(len(self.sent()), 1)
        with open(os.path.join(cache, "CACHEDIR.TAG"), "rb") as f:
            self.assertTrue(f.read().startswith(SIGNATURE))

    def test_stats_and_prune_refuse_a_folder_without_the_tag(self):
        photos = self.path("photos")
        for m in range(1, 13):
            self.write(f"photos/{m:02d}/IMG_{m:04d}.jpg", CAT)
        self.write("photos/.git/objects/ab/" + "c" * 38, b"blob")
        before = self.tree(photos)
        for verb in ("stats", "prune"):
            r = self.run_hp("cache", verb, "--cache", photos, "--older-than" if verb == "prune" else "--cache-ttl", "0")
            self.assertExit(r, 2)
            self.assertOneLineError(r, "photos'", "CACHEDIR.TAG", "--cache DIR")
            self.assertEqual(r.out, "")
        self.assertEqual(self.tree(photos), before)
        # the config file's `cache` pointing at the wrong place is refused the same way
        cfg = self.write("hp.conf", f"cache = {photos}\n".encode())
        r = self.run_hp("cache", "prune", "--config", cfg, "--older-than", "0")
        self.assertExit(r, 2)
        self.assertEqual(self.tree(photos), before)

    def test_a_tag_that_is_a_link_a_fifo_or_foreign_does_not_count(self):
        cache = self.path("cache")
        self.one_entry(cache)
        tag = os.path.join(cache, "CACHEDIR.TAG")
        real = self.write("elsewhere/CACHEDIR.TAG", SIGNATURE + b"\n")
        for make in (lambda: os.symlink(real, tag), lambda: os.mkfifo(tag),
                     lambda: self.write("cache/CACHEDIR.TAG", b"Signature: 0000\n")):
            os.unlink(tag)
            make()
            r = self.run_hp("cache", "prune", "--cache", cache, "--older-than", "0", timeout=NO_HANG)
            self.assertExit(r, 2)
            self.assertOneLineError(r, "CACHEDIR.TAG")
            self.assertEqual(len(self.entries(cache)), 1)
            r = self.hp("--cache", cache, self.input())
            self.assertExit(r, 2)
            self.assertOneLineError(r, "CACHEDIR.TAG")


    def test_a_tag_that_cannot_be_written_is_exit_11_before_sending(self):
        # a file size limit of 0 (SIGXFSZ ignored) fails the tag's write, for root too
        def no_file_growth():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
        cache = self.path("cache")
        p = subprocess.run([BIN, "-u", self.hub_url(), "--cache", cache, self.input()], capture_output=True,
                           env=self.hp_env(), timeout=NO_HANG, preexec_fn=no_file_growth)
        r = Result(p.returncode, p.stdout, p.stderr)
        self.check_run(r)
        self.assertExit(r, 11)
        self.assertOneLineError(r, "--cache", "cannot write", "CACHEDIR.TAG")
        self.assertEqual(self.sent(), [])
        self.assertEqual(os.listdir(cache), [], "no temporary file left")

    def test_a_folder_that_cannot_be_made_is_exit_11(self):
        blocker = self.write("file", b"x")
        r = self.hp("--cache", os.path.join(blocker, "cache"), self.input())
        self.assertExit(r, 11)
        self.assertOneLineError(r, "--cache", "cannot create")
        self.assertEqual(self.sent(), [])


class TestPruneStaysInside(CacheCase):

    def test_shared_1777_cache_with_planted_files_and_links(self):
        shared = self.path("shared")
        os.mkdir(shared)
        os.chmod(shared, 0o1777)
        cache = os.path.join(shared, "cache")
        for i in range(3):
            self.assertExit(self.hp("--cache", cache, self.input(i)), 0)
        entries = self.entries(cache)
        self.assertEqual(len(entries), 3)
        # what another user (or a careless config) put there
        for m in range(1, 13):
            self.write(f"shared/cache/{m:02d}/IMG_{m:04d}.jpg", CAT)
        self.write("shared/cache/.git/objects/ab/" + "c" * 38, b"blob")
        self.write("shared/cache/.git/objects/cd/" + "e" * 62, b"blob of a sha256 repository")
        self.write("shared/cache/README", b"what this is")
        victim = self.path("victim")
        self.write("victim/docs/thesis.tex", b"years of work")
        self.write("victim/" + "a" * 62, b"named like an entry")
        # a fan-out folder's name the three entries do not use (the keys follow the stand-in's port)
        link = next(n for n in (f"a{d:x}" for d in range(16)) if not os.path.lexists(os.path.join(cache, n)))
        os.symlink(victim, os.path.join(cache, link))
        sub = os.path.dirname(entries[0])
        os.symlink(os.path.join(victim, "docs", "thesis.tex"), os.path.join(sub, "f" * 62))
        os.mkdir(os.path.join(sub, "1" * 62))
        planted = {p: v for p, v in self.tree(cache).items() if p not in entries}
        victim_before = self.tree(victim)
        time.sleep(1.1)
        r = self.run_hp("cache", "stats", "--cache", cache, timeout=NO_HANG)
        self.assertExit(r, 0)
        self.assertIn("entries: 3\n", r.out)
        r = self.run_hp("cache", "prune", "--cache", cache, "--older-than", "0", timeout=NO_HANG)
        self.assertExit(r, 0)
        self.assertIn("removed 3 files", r.out)
        self.assertEqual(self.tree(victim), victim_before, "nothing outside DIR is touched")
        after = self.tree(cache)
        for p, v in planted.items():
            self.assertEqual(after.get(p), v, f"{p} must survive prune")
        for p in entries:
            self.assertNotIn(p, after, "a real cache still prunes")


    def test_a_fifo_among_the_entries_does_not_hang_stats_or_prune(self):
        cache = self.path("cache")
        _, entry = self.one_entry(cache)
        fifo = os.path.join(os.path.dirname(entry), "0" * 62)
        os.mkfifo(fifo)
        os.mkfifo(os.path.join(os.path.dirname(entry), ".tmp-AbCdEf"))
        r = self.run_hp("cache", "stats", "--cache", cache, timeout=NO_HANG)
        self.assertExit(r, 0)
        self.assertIn("entries: 1\n", r.out)
        self.assertIn("not entries: 2\n", r.out)
        time.sleep(1.1)
        r = self.run_hp("cache", "prune", "--cache", cache, "--older-than", "0", timeout=NO_HANG)
        self.assertExit(r, 0)
        self.assertIn("removed 1 files", r.out)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))


class TestEntryFiles(CacheCase):

    def entry_mode(self, umask):
        old = os.umask(umask)
        try:
            cache = self.path(f"cache-{umask:o}")
            _, entry = self.one_entry(cache)
        finally:
            os.umask(old)
        return cache, stat.S_IMODE(os.stat(entry).st_mode)

    def test_entries_follow_the_umask(self):
        for umask, mode in ((0o077, 0o600), (0o022, 0o644), (0o002, 0o664)):
            cache, got = self.entry_mode(umask)
            self.assertEqual(got, mode, f"an entry under umask {umask:o}")
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(cache, "CACHEDIR.TAG")).st_mode), mode)

    def test_a_fifo_in_place_of_an_entry_is_a_miss_and_replaced(self):
        cache = self.path("cache")
        a, entry = self.one_entry(cache)
        os.unlink(entry)
        os.mkfifo(entry)
        t = time.monotonic()
        r = self.hp("-f", "json", "--cache", cache, a)
        self.assertExit(r, 0)
        self.assertNotIn("cached", r.json()[0])
        self.assertEqual(len(self.sent()), 2, "a miss: sent")
        self.assertTrue(stat.S_ISREG(os.lstat(entry).st_mode), "the FIFO is replaced by the entry")
        self.assertLess(time.monotonic() - t, NO_HANG)
        r = self.hp("-f", "json", "--cache", cache, a)
        self.assertIs(r.json()[0]["cached"], True)

    def test_a_link_in_place_of_an_entry_is_a_miss_and_its_target_untouched(self):
        cache = self.path("cache")
        a, entry = self.one_entry(cache)
        with open(entry, "rb") as f:
            whole = f.read()
        target = self.write("elsewhere/entry", whole)
        os.unlink(entry)
        os.symlink(target, entry)
        r = self.hp("-f", "json", "--cache", cache, a)
        self.assertExit(r, 0)
        self.assertNotIn("cached", r.json()[0])
        self.assertFalse(os.path.islink(entry), "the link is replaced, not written through")
        with open(target, "rb") as f:
            self.assertEqual(f.read(), whole)

    def test_a_fan_out_folder_that_is_a_link_is_not_written_through(self):
        cache = self.path("cache")
        a, entry = self.one_entry(cache)
        sub = os.path.dirname(entry)
        os.unlink(entry)
        os.rmdir(sub)
        os.mkdir(self.path("victim"))
        os.symlink(self.path("victim"), sub)
        r = self.hp("--cache", cache, a)
        self.assertExit(r, 0)
        self.assertIn("cannot store", r.err)
        self.assertEqual(os.listdir(self.path("victim")), [])


class TestHostileEntry(CacheCase):

    def plant(self, cache, entry, size, digest=bytes(32)):
        """a sparse file of size bytes at entry whose header says it is the entry"""
        with open(entry, "rb") as f:
            key = f.read()[8:40]
        with open(entry, "wb") as f:
            f.write(b"HPCACHE1" + key + struct.pack(">QQ", int(time.time()), size - 88) + digest)
            f.truncate(size)

    def check_fast_and_small(self, size):
        cache = self.path("cache")
        a, entry = self.one_entry(cache)
        self.plant(cache, entry, size)
        t = time.monotonic()
        rc, kib = self.peak_rss("--no-config", "-u", self.hub_url(), "-q", "--cache", cache, a)
        took = time.monotonic() - t
        self.assertEqual(rc, 0)
        self.assertEqual(len(self.sent()), 2, "a miss: sent again")
        self.assertLess(os.path.getsize(entry), 100000, "replaced by the real entry")
        if not UNDER_TOOL:
            self.assertLess(kib, 48 * 1024, f"peak RSS {kib} KiB for a {size}-byte hostile entry")
            self.assertLess(took, 5.0)
        r = self.hp("-f", "json", "--cache", cache, a)
        self.assertIs(r.json()[0]["cached"], True)

    def test_a_sparse_gibibyte_entry_is_a_miss_unread(self):
        self.check_fast_and_small(1 << 30)

    def test_a_large_entry_with_a_wrong_checksum_costs_no_memory(self):
        self.check_fast_and_small(96 << 20)


if __name__ == "__main__":
    import unittest
    unittest.main()
