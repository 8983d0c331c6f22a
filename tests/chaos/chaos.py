#!/usr/bin/env python3
"""chaos.py: one seeded chaos scenario over real processes, and its checker.

    chaos.py BUILD_DIR --seed N [--districts 6] [--communes 60] [--secs 60]
             [--settle 120] [--dir WORK] [--keep] [--json FILE]

Three tiers of the 2024 tree: province 72 (Tây Ninh) <- DISTRICTS district
hubs <- COMMUNES commune nodes (spread evenly), every office its own process
with its own LMDB store on 127.0.0.1, every link through a seeded proxy
(tests/tools/chaos_proxy.py; all of them in one helper process) that cuts
the line (RST, in-flight bytes lost), refuses it for a while, delays and
throttles it. For SECS seconds, drawn from the seed:

  - clerks submit corrections, one at a time and in bursts;
  - any office, the province included, is SIGKILLed and restarted;
  - a few communes run with their clock hours off (libfaketime);
  - a commune's store is backed up (mdb_copy, live), and later restored
    from that older copy, after which its clerk submits again;
  - a commune is moved from its district to the province (as in the 2025
    reform) while it holds a backlog;

then the links calm down, every office runs, and the checker waits until
the province holds, for every commune, the revision the commune itself
holds as its current one, and checks:

  (a) the province holds exactly that revision: same number, same values,
      the commune's own signature, valid;
  (b) every revision the province holds was applied once: its history is
      strictly increasing;
  (c) every receipt a clerk sees ("tỉnh đã nhận lần R", "huyện đã nhận lần
      R") is true: that office holds revision R;
  (d) every daemon is alive at the end and no sanitizer reported anything.

Prints ok/FAIL per check and "N passed, N failed"; with --json, a summary
(faults injected, time to converge, failures). Exit 0 when all passed.
Everything random comes from --seed; the interleaving with the processes
is the machine's. Python 3 standard library only.
"""
import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
FORM, PERIOD, ROOT = "dvcq-nam", "2024", "72"
FAKETIME_LIB = os.environ.get("FAKETIME_LIB",
                              "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
REPORT = ("TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 "
          "CCHC01=50 CCHC02=45 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 "
          "GS03=1 DC01=có KTR01=0 KTR02=0 DG01=tot ND01=Tốt ND02=Chưa ND03=Tiếp").split()


# ---- the proxies' host (a child process) ---------------------------------------

def serve_proxies(spec_path):
    """Runs every link of the spec in one asyncio loop. SIGUSR1: calm all;
    SIGTERM/SIGINT: stop. Each link writes its stats file (with its port)."""
    import chaos_proxy
    spec = json.load(open(spec_path))

    async def main():
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        proxies, servers, tasks = [], [], []
        for link in spec:
            args = argparse.Namespace(
                listen=0, to=None, to_run=link["to_run"], seed=link["seed"],
                up_ms=tuple(link["up_ms"]), down_ms=tuple(link["down_ms"]),
                latency_ms=link["latency_ms"], rate_kbps=link["rate_kbps"],
                stats=link["stats"])
            p = chaos_proxy.Proxy(args)
            p.calm_ev = asyncio.Event()
            p.stop_ev = stop
            srv = await asyncio.start_server(p.on_client, "127.0.0.1", 0, reuse_address=True)
            p.port = srv.sockets[0].getsockname()[1]
            p.write_stats()
            proxies.append(p)
            servers.append(srv)
            tasks += [asyncio.ensure_future(p.chaos()), asyncio.ensure_future(p.stats_loop())]
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGUSR1, lambda: [p.on_calm() for p in proxies])
        await stop.wait()
        for s in servers:
            s.close()
        for t in tasks:
            t.cancel()
        for p in proxies:
            for c in list(p.conns):
                c.cut()
            p.write_stats()

    asyncio.run(main())
    return 0


# ---- the scenario ----------------------------------------------------------------

class Run:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.node = os.path.join(self.build, "tonghop-node")
        self.hub = os.path.join(self.build, "tonghop-hub")
        self.work = os.path.abspath(a.dir) if a.dir else tempfile.mkdtemp(prefix="tonghop-chaos.")
        os.makedirs(os.path.join(self.work, "logs"), exist_ok=True)
        self.rng = random.Random(a.seed)
        self.offices = {}      # name -> dict(kind, dir, unit, env, proc)
        self.passed = self.failed = 0
        self.failures = []
        self.faults = {"cuts": 0, "kills": 0, "corrections": 0, "bursts": 0, "restores": 0,
                       "moves": 0, "clock_off": 0}
        self.host = None

    # -- output
    def ok(self, what):
        self.passed += 1
        print("ok   - " + what, flush=True)

    def bad(self, what, detail=""):
        self.failed += 1
        self.failures.append(what)
        print("FAIL - " + what, flush=True)
        if detail:
            for line in str(detail).splitlines()[:20]:
                print("       " + line, flush=True)

    def check(self, cond, what, detail=""):
        (self.ok if cond else self.bad)(what, *([detail] if not cond else []))

    # -- processes
    def env_of(self, name):
        e = dict(os.environ)
        off = self.offices[name].get("clock")
        if off:
            e.update({"FAKETIME": off, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                      "LD_PRELOAD": FAKETIME_LIB,
                      "ASAN_OPTIONS": (e.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")})
        return e

    def cli(self, name, *args, check=True):
        o = self.offices[name]
        binp = self.hub if o["kind"] == "hub" else self.node
        r = subprocess.run([binp] + list(args), capture_output=True, text=True,
                           env=self.env_of(name), stdin=subprocess.DEVNULL, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("%s %s: %s" % (binp, " ".join(args), r.stderr.strip()))
        return r

    def start(self, name):
        o = self.offices[name]
        binp = self.hub if o["kind"] == "hub" else self.node
        log = open(os.path.join(self.work, "logs", name + ".log"), "ab")
        e = self.env_of(name)
        e["TONGHOP_LOG"] = "info"
        o["proc"] = subprocess.Popen([binp, "run", "--dir", o["dir"]], stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=e)
        log.close()

    def running(self, name):
        p = self.offices[name].get("proc")
        return p is not None and p.poll() is None

    def kill9(self, name):
        p = self.offices[name].get("proc")
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()

    def stop(self, name):
        p = self.offices[name].get("proc")
        if p is None:
            return 0
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return -9
        return p.returncode

    def stop_all(self):
        for name in self.offices:
            self.kill9(name)
        if self.host and self.host.poll() is None:
            self.host.terminate()
            try:
                self.host.wait(10)
            except subprocess.TimeoutExpired:
                self.host.kill()
                self.host.wait()

    # -- set-up
    def units(self):
        rows = list(csv.DictReader(open(os.path.join(REPO, "config/units/vn-2024.csv"),
                                        encoding="utf-8")))
        kids = {}
        for r in rows:
            kids.setdefault(r["parent_code"], []).append(r["code"])
        per = -(-self.a.communes // self.a.districts)
        districts = [d for d in kids[ROOT] if len(kids.get(d, [])) >= per][:self.a.districts]
        if len(districts) < self.a.districts:
            raise RuntimeError("province %s has fewer than %d districts of %d communes"
                               % (ROOT, self.a.districts, per))
        communes = {}
        n = 0
        for i in range(per):
            for d in districts:
                if n < self.a.communes and i < len(kids[d]):
                    communes[kids[d][i]] = d
                    n += 1
        return districts, communes

    @staticmethod
    def fast(ini):
        text = open(ini, encoding="utf-8").read().splitlines()
        repl = {"heartbeat_ms": "200", "timeout_ms": "1500", "retry_max_ms": "800",
                "poll_ms": "100", "listen": "127.0.0.1:0"}
        out = []
        for line in text:
            k = line.split("=", 1)[0].strip()
            out.append("%s = %s" % (k, repl[k]) if k in repl and "=" in line else line)
        open(ini, "w", encoding="utf-8").write("\n".join(out) + "\n")

    def set_parent(self, name, endpoint, key):
        ini = os.path.join(self.offices[name]["dir"], "tonghop.ini")
        lines = open(ini, encoding="utf-8").read().splitlines()
        lines = ["endpoint = " + endpoint if l.startswith("endpoint = ") else
                 "key = " + key if l.startswith("key = ") else l for l in lines]
        open(ini, "w", encoding="utf-8").write("\n".join(lines) + "\n")

    def setup(self):
        districts, communes = self.units()
        self.districts, self.communes = districts, communes
        rng = self.rng
        # which communes are moved, restored, off the clock (drawn first: the
        # spare links to the province exist from the start)
        names = sorted(communes)
        self.moved = set(rng.sample(names, max(1, len(names) // 30)))
        rest = [c for c in names if c not in self.moved]
        self.restored = set(rng.sample(rest, max(1, len(names) // 30)))
        clocked = rng.sample(names, max(1, len(names) // 10))
        W = self.work
        self.offices["p" + ROOT] = {"kind": "hub", "dir": os.path.join(W, "p" + ROOT), "unit": ROOT}
        for d in districts:
            self.offices["d" + d] = {"kind": "hub", "dir": os.path.join(W, "d" + d), "unit": d}
        for c in names:
            self.offices["c" + c] = {"kind": "node", "dir": os.path.join(W, "c" + c), "unit": c}
        for c in clocked:
            h = rng.randint(1, 6) * rng.choice([1, -1])
            self.offices["c" + c]["clock"] = "%+dh" % h
        self.faults["clock_off"] = len(clocked)
        # links
        spec = []
        def link(name, to, seed):
            chaotic = not self.a.calm
            spec.append({"name": name, "to_run": os.path.join(self.offices[to]["dir"], "daemon.json"),
                         "seed": seed, "up_ms": [400, 5000], "down_ms": [100, 3000] if chaotic else None,
                         "latency_ms": rng.choice([0, 20, 60, 150]),
                         "rate_kbps": rng.choice([0, 0, 0, 32, 128]),
                         "stats": os.path.join(W, "logs", name + ".stats")})
        for i, d in enumerate(districts):
            link("y" + d, "p" + ROOT, self.a.seed * 1000 + i)
        for i, c in enumerate(names):
            link("x" + c, "d" + communes[c], self.a.seed * 1000 + 100 + i)
        for i, c in enumerate(sorted(self.moved)):
            link("z" + c, "p" + ROOT, self.a.seed * 1000 + 900 + i)
        self.spec = spec
        spec_path = os.path.join(W, "links.json")
        json.dump(spec, open(spec_path, "w"))
        log = open(os.path.join(W, "logs", "proxies.log"), "ab")
        self.host = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve-proxies",
                                      spec_path], stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        self.ep = {}
        end = time.monotonic() + 20
        for s in spec:
            while True:
                try:
                    self.ep[s["name"]] = "tcp://127.0.0.1:%d" % json.load(open(s["stats"]))["port"]
                    break
                except (OSError, ValueError, KeyError):
                    if time.monotonic() > end:
                        raise RuntimeError("the proxies did not start (see logs/proxies.log)")
                    time.sleep(0.05)
        # offices
        r = self.cli("p" + ROOT, "init", "--dir", self.offices["p" + ROOT]["dir"], "--unit", ROOT,
                     "--bind", "tcp://127.0.0.1:*")
        self.pkey = r.stdout.strip().splitlines()[-1]
        self.fast(os.path.join(self.offices["p" + ROOT]["dir"], "tonghop.ini"))
        self.dkey = {}
        for d in districts:
            r = self.cli("d" + d, "init", "--dir", self.offices["d" + d]["dir"], "--unit", d,
                         "--bind", "tcp://127.0.0.1:*", "--parent", self.ep["y" + d],
                         "--parent-key", self.pkey)
            self.dkey[d] = r.stdout.strip().splitlines()[-1]
            self.fast(os.path.join(self.offices["d" + d]["dir"], "tonghop.ini"))
            self.cli("p" + ROOT, "enroll", "--dir", self.offices["p" + ROOT]["dir"], "--unit", d,
                     "--key", self.dkey[d])
        self.ckey = {}
        for c in names:
            d = communes[c]
            r = self.cli("c" + c, "init", "--dir", self.offices["c" + c]["dir"], "--unit", c,
                         "--parent", self.ep["x" + c], "--parent-key", self.dkey[d])
            self.ckey[c] = r.stdout.strip().splitlines()[-1]
            self.fast(os.path.join(self.offices["c" + c]["dir"], "tonghop.ini"))
            self.cli("d" + d, "enroll", "--dir", self.offices["d" + d]["dir"], "--unit", c,
                     "--key", self.ckey[c])
        self.ok("set up %d districts and %d communes of province %s, %d links"
                % (len(districts), len(names), ROOT, len(spec)))

    # -- the plan
    def plan(self):
        rng, secs = self.rng, self.a.secs
        ev = []
        names = sorted(self.communes)
        for c in names:
            ev.append((rng.uniform(0, min(5.0, secs / 4)), "submit", c))
            t = rng.uniform(1, secs)
            while t < secs:
                if rng.random() < 0.15:
                    for k in range(rng.randint(3, 6)):
                        ev.append((t + 0.15 * k, "submit", c))
                    ev.append((t, "burst", c))
                else:
                    ev.append((t, "submit", c))
                t += rng.uniform(3, 12)
        offices = ["p" + ROOT] + ["d" + d for d in self.districts] + ["c" + c for c in names]
        down_until = {n: -1.0 for n in offices}
        t = rng.uniform(1, 3)
        while t < secs - 2:
            cands = [n for n in offices if down_until[n] < t]
            w = [4 if n[0] == "p" else 3 if n[0] == "d" else 1 for n in cands]
            n = rng.choices(cands, w)[0]
            back = t + rng.uniform(0.2, 4.0)
            down_until[n] = back + 0.5
            ev.append((t, "kill", n))
            ev.append((back, "restart", n))
            t += rng.uniform(0.8, 3.0)
        for c in sorted(self.restored):
            t1 = rng.uniform(secs * 0.2, secs * 0.4)
            ev.append((t1, "backup", c))
            ev.append((t1 + 0.1, "submit", c))   # lost by the restore
            t2 = rng.uniform(secs * 0.6, secs * 0.8)
            ev.append((t2, "restore", c))
            ev.append((t2 + 0.5, "submit", c))   # the clerk enters it again
        for c in sorted(self.moved):
            ev.append((rng.uniform(secs * 0.3, secs * 0.7), "move", c))
        ev.sort(key=lambda e: e[0])
        self.events = ev

    def submit(self, c, first=False):
        name = "c" + c
        v = self.rng.randint(1, 9999)
        # a store restored from before the first report holds none: the
        # clerk enters the whole report again, not a correction
        first = first or c in self.full
        args = ["submit", "--dir", self.offices[name]["dir"], "--form", FORM, "--period", PERIOD,
                "TT01=%d" % v] + (REPORT if first else [])
        r = self.cli(name, *args, check=False)
        if r.returncode != 0 and "changed by another program meanwhile" in r.stderr:
            # the daemon wrote the report at that moment (it issued it again
            # after a floor): the clerk is told to submit again, and does
            self.faults["conflicts"] = self.faults.get("conflicts", 0) + 1
            r = self.cli(name, *args, check=False)
        if r.returncode != 0:
            self.bad("%s: the clerk's submission was refused" % c, r.stderr)
            return
        self.full.discard(c)
        self.submitted[c] = self.submitted.get(c, 0) + 1
        self.faults["corrections"] += 0 if first else 1

    def execute(self):
        self.submitted = {}
        self.full = set()       # restored to before their first report
        dead = set()
        backups = {}
        held = {}               # the commune had reported when backed up
        t0 = time.monotonic()
        for at, op, x in self.events:
            now = time.monotonic() - t0
            if at > now:
                time.sleep(at - now)
            if op == "submit":
                self.submit(x, first=x not in self.submitted)
            elif op == "burst":
                self.faults["bursts"] += 1
            elif op == "kill":
                self.kill9(x)
                dead.add(x)
                self.faults["kills"] += 1
            elif op == "restart":
                if x in dead and not self.running(x):
                    self.start(x)
                dead.discard(x)
            elif op == "backup":
                src = os.path.join(self.offices["c" + x]["dir"], "store")
                dst = os.path.join(self.work, "backup-" + x)
                os.makedirs(dst, exist_ok=True)
                subprocess.run(["mdb_copy", src, dst], check=True, capture_output=True)
                backups[x] = dst
                held[x] = x in self.submitted
            elif op == "restore":
                name = "c" + x
                self.kill9(name)
                store = os.path.join(self.offices[name]["dir"], "store")
                shutil.rmtree(store)
                shutil.copytree(backups[x], store)
                os.chmod(store, 0o700)
                self.start(name)
                dead.discard(name)
                self.faults["restores"] += 1
                if not held[x]:
                    self.full.add(x)
            elif op == "move":
                name = "c" + x
                self.kill9(name)
                self.submit(x)   # a backlog while it moves
                self.set_parent(name, self.ep["z" + x], self.pkey)
                self.cli("p" + ROOT, "enroll", "--dir", self.offices["p" + ROOT]["dir"],
                         "--unit", x, "--key", self.ckey[x])
                self.submit(x)
                self.start(name)
                dead.discard(name)
                self.faults["moves"] += 1
        return time.monotonic() - t0

    # -- reading what an office holds
    def show(self, name, unit, history=False):
        args = ["show", "--dir", self.offices[name]["dir"], "--form", FORM, "--period", PERIOD,
                "--json"] + (["--unit", unit] if self.offices[name]["kind"] == "hub" else [])
        if history:
            args.append("--history")
        r = self.cli(name, *args, check=False)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def converge(self):
        left = set(self.submitted)
        t0 = time.monotonic()
        want = {}
        while left and time.monotonic() - t0 < self.a.settle:
            for c in sorted(left):
                own = self.show("c" + c, c)
                root = self.show("p" + ROOT, c)
                if own and root and own["rev"] == root["rev"]:
                    want[c] = own
                    left.discard(c)
            if left:
                time.sleep(1)
        return left, time.monotonic() - t0

    def checks(self, left, took):
        if left:
            detail = []
            for c in sorted(left)[:10]:
                own = self.show("c" + c, c) or {}
                root = self.show("p" + ROOT, c) or {}
                st = self.cli("c" + c, "status", "--dir", self.offices["c" + c]["dir"], "--json",
                              check=False).stdout
                try:
                    pend = json.loads(st)["pending"]
                except (ValueError, KeyError):
                    pend = "?"
                detail.append("%s: own rev %s, province rev %s, pending %s" % (
                    c, own.get("rev"), root.get("rev"), pend))
            self.bad("the province did not converge within %d s for %d commune(s)"
                     % (self.a.settle, len(left)), "\n".join(detail))
        else:
            self.ok("the province holds every commune's current revision %.1f s after the chaos"
                    % took)
        self.converge_s = None if left else round(took, 1)
        bad_a, bad_b, bad_c = [], [], []
        for c in sorted(self.submitted):
            own = self.show("c" + c, c)
            root = self.show("p" + ROOT, c, history=True)
            cur = self.show("p" + ROOT, c)
            if not own or not cur:
                bad_a.append("%s: nothing to compare" % c)
                continue
            if (own["rev"], own["values"]) != (cur["rev"], cur["values"]) or cur.get("signature") != "valid":
                bad_a.append("%s: own rev %s %s, province rev %s %s (%s)" % (
                    c, own["rev"], own["values"].get("TT01"), cur["rev"],
                    cur["values"].get("TT01"), cur.get("signature")))
            revs = [r["rev"] for r in (root or {}).get("revisions", [])]
            if revs != sorted(set(revs)):
                bad_b.append("%s: province history %s" % (c, revs))
            # (c) the receipts the clerk sees
            st = self.cli("c" + c, "status", "--dir", self.offices["c" + c]["dir"], "--json",
                          check=False).stdout
            try:
                reps = json.loads(st)["reports"]
            except (ValueError, KeyError):
                reps = []
            held = {ROOT: set(revs)}
            for rep in reps:
                if rep.get("form") != FORM or rep.get("period") != PERIOD:
                    continue
                for rc in rep.get("receipts", []):
                    by = rc.get("by")
                    if by not in held:
                        h = self.show("d" + by, c, history=True) if ("d" + by) in self.offices else None
                        held[by] = set(r["rev"] for r in (h or {}).get("revisions", []))
                    if rc.get("rev") not in held[by]:
                        bad_c.append("%s: receipt from %s for rev %s, which %s does not hold (%s)"
                                     % (c, by, rc.get("rev"), by, sorted(held[by])))
        n = len(self.submitted)
        self.check(not bad_a, "(a) the province holds each of the %d communes' current revision, "
                   "same values, its own valid signature" % n, "\n".join(bad_a))
        self.check(not bad_b, "(b) every revision was applied once (histories strictly increasing)",
                   "\n".join(bad_b))
        self.check(not bad_c, "(c) every receipt a clerk sees is true", "\n".join(bad_c))
        dead = [n for n in self.offices if not self.running(n)]
        self.check(not dead, "(d) every daemon is alive at the end", " ".join(dead))
        logs = os.path.join(self.work, "logs")
        hits = [f for f in os.listdir(logs) if f.endswith(".log") and
                any(s in open(os.path.join(logs, f), errors="replace").read()
                    for s in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"))]
        self.check(not hits, "(d) no sanitizer report in any log", " ".join(hits))

    def proxy_cuts(self):
        cuts = 0
        for s in self.spec:
            try:
                cuts += json.load(open(s["stats"]))["cuts"]
            except (OSError, ValueError, KeyError):
                pass
        return cuts

    def main(self):
        try:
            self.setup()
            self.plan()
            for name in self.offices:
                self.start(name)
            took = self.execute()
            self.faults["cuts"] = self.proxy_cuts()
            print("# chaos for %.1f s: %s" % (took, json.dumps(self.faults)), flush=True)
            self.host.send_signal(signal.SIGUSR1)
            for name in self.offices:
                if not self.running(name):
                    self.start(name)
            left, took = self.converge()
            self.checks(left, took)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            self.bad("the scenario could not run: %s" % e)
        finally:
            self.stop_all()
        summary = {"seed": self.a.seed, "districts": self.a.districts, "communes": self.a.communes,
                   "secs": self.a.secs, "faults": self.faults, "converge_s": getattr(self, "converge_s", None),
                   "passed": self.passed, "failed": self.failed, "failures": self.failures,
                   "work": self.work}
        if self.a.json:
            json.dump(summary, open(self.a.json, "w"))
        print("# seed %d: %s" % (self.a.seed, "all checks passed" if not self.failed else
                                 "%d check(s) FAILED, replay: python3 tests/chaos/chaos.py %s --seed %d"
                                 % (self.failed, self.a.build, self.a.seed)))
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        if not self.failed and not self.a.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        elif self.failed:
            print("# kept for inspection: %s" % self.work)
        return 0 if not self.failed else 1


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-proxies":
        return serve_proxies(sys.argv[2])
    ap = argparse.ArgumentParser(description="one seeded chaos scenario and its checker")
    ap.add_argument("build")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--districts", type=int, default=6)
    ap.add_argument("--communes", type=int, default=60)
    ap.add_argument("--secs", type=float, default=60)
    ap.add_argument("--settle", type=float, default=120)
    ap.add_argument("--calm", action="store_true", help="no link cuts (for comparison)")
    ap.add_argument("--dir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    run = Run(a)

    def on_term(signum, frame):
        run.stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    return run.main()


if __name__ == "__main__":
    sys.exit(main())
