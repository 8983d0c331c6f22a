#!/usr/bin/env python3
"""make demo: a whole province on one machine.

    tools/demo.py BUILD_DIR [--tree 2024|2025|national] [--short] [--seed N]
                  [--dir WORKDIR] [--summary FILE] [--keep]

Tree 2024: Tây Ninh of the three-tier list (province 72, its 9 district
hubs, their 94 communes); tree 2025: the new Tây Ninh (province 80, 96
communes straight to the province); tree national: the ministry's root VN
above the 2025 tree, a handful of province hubs (4, or 2 with --short) with
a few communes each (5, or 3), and the national report broken down by
province. Every office is its own process with
its own LMDB store on 127.0.0.1. The driver plays the clerks and the lines:

  - each commune enters its annual "dân vận chính quyền" report of the
    tree's year at a random moment; most had it ready before the deadline
    (their signed submission time lies before it: the clerks entered it
    offline, the office PC syncs now), some late, some correct their
    figures later, a few never report;
  - commune offices come and go (their daemon runs in sessions of a few
    seconds), and every hub's port sits behind a seeded TCP proxy that cuts
    the line at random (tests/tools/chaos_proxy.py);
  - progress is printed as it goes (reports held by the province,
    completeness per district).

It ends when the province holds the last revision of every report sent,
prints the province's completeness table, writes the consolidated report
(XLSX and printable HTML), checks that the province's totals equal the sums
of what the clerks submitted last, and exits 0 (1 when they differ or time
runs out). --keep (or KEEP=1) leaves the hubs running for the dashboards
until Ctrl-C. Every process started is stopped on exit, also on Ctrl-C.
--short plays 2 districts of 3 communes (2024) or 6 communes (2025) on a
shorter clock, for the test in make test. Python 3 standard library only.
"""
import argparse
import calendar
import csv
import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

FORM = "dvcq-nam"
ROOT = {"2024": "72", "2025": "80", "national": "VN"}
# deadline of a commune's report: it is received by the district (2024) or
# by the province (2025); see config/forms/dvcq-nam.ini
DEADLINE = {"2024": "2024-10-25", "2025": "2025-11-01", "national": "2025-11-01"}
SUMMED = ["TT01", "TT02", "TT03", "TT04", "DT01", "DT02", "DVK01", "DVK02", "KT01", "KT02",
          "CCHC01", "CCHC02", "CCHC04", "TCD01", "TCD02", "TCD03", "TCD05", "GS01", "GS02",
          "GS03", "KTR01", "KTR02"]
COUNTED = ["LD01", "DC01"]
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def say(msg):
    print(msg, flush=True)


def published(d, field, secs=20.0):
    """What the daemon running on data directory d publishes in its
    daemon.json (runfile.h): field "collector" or "web"; None if it does not
    within secs. Ports are never chosen here: hubs bind tcp://127.0.0.1:*,
    the web port 0, the proxies port 0, and each says where it listens."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            with open(os.path.join(d, "daemon.json"), encoding="utf-8") as f:
                v = json.loads(f.read() or "{}").get(field)
            if v:
                return v
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    return None


def stats_port(path, secs=10.0):
    """The port a chaos proxy listens on, from its stats file."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)["port"]
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
    raise RuntimeError("a proxy did not start: %s" % path)


def port_free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Procs:
    """Every background process of the demo, stopped on exit whatever happens."""

    def __init__(self, logdir):
        self.live = {}
        self.logdir = logdir

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.logdir, name + ".log"), "ab")
        e = dict(os.environ)
        e.update(env or {})
        self.live[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, env=e)
        log.close()

    def running(self, name):
        p = self.live.get(name)
        return p is not None and p.poll() is None

    def stop(self, name):
        p = self.live.pop(name, None)
        if p is None:
            return 0
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def signal(self, name, sig):
        p = self.live.get(name)
        if p is not None and p.poll() is None:
            p.send_signal(sig)

    def stop_all(self):
        for name in list(self.live):
            self.stop(name)


def run(argv, env=None, check=True):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(argv, capture_output=True, text=True, env=e)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(argv[:3]), r.returncode,
                                                        (r.stderr or r.stdout).strip()))
    return r


def faketime_env(when_utc):
    """Environment that runs a command with its wall clock at when_utc."""
    libs = glob.glob("/usr/lib/*/faketime/libfaketime.so.1") + \
        glob.glob("/usr/lib/faketime/libfaketime.so.1")
    if not libs:
        return None
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"TZ": "UTC", "FAKETIME": "@" + when_utc, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "LD_PRELOAD": libs[0],
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}


def fast(ini, web_port):
    """Link timings for a demo (seconds, not minutes) and the web port."""
    with open(ini, encoding="utf-8") as f:
        text = f.read()
    repl = {"heartbeat_ms": "500", "timeout_ms": "3000", "retry_max_ms": "2000",
            "poll_ms": "200", "listen": "127.0.0.1:%d" % web_port}
    out = []
    for line in text.splitlines():
        k = line.split("=", 1)[0].strip()
        out.append("%s = %s" % (k, repl[k]) if k in repl and "=" in line else line)
    with open(ini, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def set_report_header(ini, province_name):
    with open(ini, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("superior = \n", "superior = Ủy ban nhân dân %s\n" % province_name)
    text = text.replace("issuer = \n", "issuer = Sở Nội vụ\n")
    text = text.replace("signer = \n", "signer = Giám đốc\n")
    with open(ini, "w", encoding="utf-8") as f:
        f.write(text)


def report_values(rng, unit):
    """A plausible report that keeps every rule of the form."""
    v = {}
    v["TT01"] = rng.randint(5, 40)
    v["TT02"] = v["TT01"] * rng.randint(20, 80)
    v["TT03"] = rng.randint(1, 10)
    v["TT04"] = rng.randint(5, 60)
    v["DT01"] = rng.randint(1, 5)
    v["DT02"] = v["DT01"] * rng.randint(10, 40)
    v["LD01"] = "có" if rng.random() < 0.9 else "không"
    v["DVK01"] = rng.randint(1, 8)
    v["DVK02"] = rng.randint(0, v["DVK01"])
    v["KT01"] = rng.randint(0, 3)
    v["KT02"] = rng.randint(0, 6)
    v["CCHC01"] = rng.randint(200, 3000)
    v["CCHC02"] = v["CCHC01"] - rng.randint(0, v["CCHC01"] // 20)
    v["CCHC04"] = rng.randint(10, 60)
    v["TCD01"] = rng.randint(10, 80)
    v["TCD02"] = rng.randint(5, 40)
    v["TCD03"] = rng.randint(0, v["TCD02"])
    v["TCD05"] = rng.randint(0, 4)
    v["GS01"] = rng.randint(0, 6)
    v["GS02"] = rng.randint(0, 20)
    v["GS03"] = rng.randint(0, v["GS02"])
    v["DC01"] = "có" if rng.random() < 0.95 else "không"
    v["KTR01"] = rng.randint(0, 3)
    v["KTR02"] = rng.randint(0, 2)
    v["DG01"] = rng.choice(["xs", "tot", "tot", "ht"])
    v["ND01"] = "Tổ chức %d buổi đối thoại với Nhân dân; giải quyết dứt điểm kiến nghị" % \
        rng.randint(2, 12)
    v["ND02"] = rng.choice(["Một số thủ tục còn chậm", "Cơ sở vật chất còn thiếu",
                            "Chưa có hạn chế đáng kể"])
    v["ND03"] = "Tiếp tục đẩy mạnh cải cách hành chính tại %s" % unit
    return v


def correction(rng, v):
    """What a clerk changes on second thought: a few figures, rules kept."""
    c = {"TT01": v["TT01"] + rng.randint(1, 5)}
    c["CCHC01"] = v["CCHC01"] + rng.randint(1, 50)
    c["CCHC02"] = min(c["CCHC01"], v["CCHC02"] + rng.randint(0, 50))
    return c


def words(values):
    return ["%s=%s" % (k, v) for k, v in values.items()]


def main():
    ap = argparse.ArgumentParser(description="tonghop: a whole province on one machine")
    ap.add_argument("build")
    ap.add_argument("--tree", default=os.environ.get("TREE", "2024"), choices=["2024", "2025", "national"])
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SEED", "2026")))
    ap.add_argument("--dir")
    ap.add_argument("--summary")
    ap.add_argument("--keep", action="store_true", default=os.environ.get("KEEP") == "1")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    node, hub = os.path.join(build, "tonghop-node"), os.path.join(build, "tonghop-hub")
    work = os.path.abspath(a.dir or os.path.join(build, "demo-%s" % a.tree))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "logs"))
    procs = Procs(os.path.join(work, "logs"))

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        return play(a, node, hub, work, procs)
    except KeyboardInterrupt:
        say("\nĐã dừng theo yêu cầu; đang tắt mọi tiến trình...")
        return 130
    except RuntimeError as e:
        say("demo: %s" % e)
        return 1
    finally:
        procs.stop_all()


def play(a, node, hub, work, procs):
    rng = random.Random(a.seed)
    national = a.tree == "national"
    root = ROOT[a.tree]
    year = "2025" if national else a.tree
    units = list(csv.DictReader(open(os.path.join(REPO, "config/units/vn-%s.csv" % year),
                                     encoding="utf-8")))
    if national:
        # the offices' lists have the root VN above the provinces
        # (common/builtin.h); the official file has not
        for u in units:
            if u["level"] == "province":
                u["parent_code"] = "VN"
        units.insert(0, {"code": "VN", "name": "Việt Nam", "level": "country",
                         "parent_code": ""})
    by_code = {u["code"]: u for u in units}
    kids = lambda c: [u["code"] for u in units if u["parent_code"] == c]
    top = "Bộ" if national else "tỉnh"
    if national:
        # a handful of provinces (as the middle hubs) with a few communes each
        districts = kids(root)[:2 if a.short else 4]
        parent_of = {}
        for d in districts:
            for c in kids(d)[:3 if a.short else 5]:
                parent_of[c] = d
    elif year == "2024":
        districts = kids(root)
        if a.short:
            districts = districts[:2]
        parent_of = {}
        for d in districts:
            cs = kids(d)
            for c in (cs[:3] if a.short else cs):
                parent_of[c] = d
    else:
        districts = []
        cs = kids(root)
        parent_of = {c: root for c in (cs[:6] if a.short else cs)}
    communes = list(parent_of)
    window = 8.0 if a.short else 45.0          # seconds in which clerks act
    limit = 150.0 if a.short else 300.0        # seconds before giving up
    pname = by_code[root]["name"]
    say("== Tổng hợp báo cáo %s năm %s: %s (%s), %d %s, %d xã; mỗi đơn vị một tiến trình"
        % (FORM, year, pname, root, len(districts), "tỉnh" if national else "huyện",
           len(communes)))
    say("   Thư mục làm việc: %s" % work)

    # ---- offices, keys, enrollment, proxies in front of every hub ----
    P = os.path.join(work, "p" + root)
    # the province's dashboard on the usual port for a person at the
    # machine; anything else (and the test's short run) on a port the
    # kernel picks
    web = 8080 if not a.short and port_free(8080) else 0
    r = run([hub, "init", "--dir", P, "--unit", root, "--bind", "tcp://127.0.0.1:*"])
    pkey = r.stdout.strip().splitlines()[-1]
    fast(os.path.join(P, "tonghop.ini"), web)
    set_report_header(os.path.join(P, "tonghop.ini"), pname)
    proxy = os.path.join(REPO, "tests/tools/chaos_proxy.py")
    chaos = ["--up-ms", "2500:7000", "--down-ms", "600:2500"]

    def add_proxy(name, hub_dir, seed):
        """A chaos proxy in front of the hub at hub_dir; its endpoint."""
        stats = os.path.join(work, "logs", name + ".stats")
        procs.start(name, [sys.executable, proxy, "--listen", "0", "--to-run",
                           os.path.join(hub_dir, "daemon.json"), "--seed", str(seed),
                           "--stats", stats] + chaos)
        return "tcp://127.0.0.1:%d" % stats_port(stats)

    pep = add_proxy("proxy-" + root, P, a.seed)
    hubs = {root: {"dir": P, "ep": pep, "key": pkey}}
    for i, d in enumerate(districts):
        D = os.path.join(work, "d" + d)
        r = run([hub, "init", "--dir", D, "--unit", d, "--bind", "tcp://127.0.0.1:*",
                 "--parent", pep, "--parent-key", pkey])
        k = r.stdout.strip().splitlines()[-1]
        fast(os.path.join(D, "tonghop.ini"), 0)
        run([hub, "enroll", "--dir", P, "--unit", d, "--key", k])
        hubs[d] = {"dir": D, "ep": add_proxy("proxy-" + d, D, a.seed + 1 + i), "key": k}
    for c in communes:
        h = hubs[parent_of[c]]
        C = os.path.join(work, "x" + c)
        r = run([node, "init", "--dir", C, "--unit", c, "--parent", h["ep"],
                 "--parent-key", h["key"]])
        fast(os.path.join(C, "tonghop.ini"), 0)
        run([hub, "enroll", "--dir", h["dir"], "--unit", c, "--key",
             r.stdout.strip().splitlines()[-1]])
    say("   Đã khởi tạo và đăng ký khóa %d văn phòng." % (1 + len(districts) + len(communes)))
    for code, h in hubs.items():
        procs.start("hub-" + code, [hub, "run", "--dir", h["dir"]], {"TONGHOP_LOG": "info"})

    # ---- the clerks' plans ----
    # the end of the deadline day in Vietnam time (UTC+7), as Unix seconds
    deadline = calendar.timegm(time.strptime(DEADLINE[year] + " 16:59:59", "%Y-%m-%d %H:%M:%S"))
    fake = faketime_env("2000-01-01 00:00:00")
    if fake is None:
        say("   (không có libfaketime: mọi báo cáo mang thời điểm nộp thực, tức là trễ hạn)")
    plans = {}
    for c in communes:
        cr = random.Random("%d-%s" % (a.seed, c))
        fate = cr.random()
        p = {"fate": "never" if fate < 0.05 else "late" if fate < 0.20 else "on_time",
             "steps": [], "values": report_values(cr, by_code[c]["name"]), "sessions": 0}
        if p["fate"] != "never":
            t = cr.uniform(0, window)
            signed = deadline - cr.uniform(3600, 20 * 86400) if p["fate"] == "on_time" \
                else deadline + cr.uniform(3600, 15 * 86400)
            p["steps"].append((t, signed, dict(p["values"])))
            if cr.random() < 0.2:
                fix = correction(cr, p["values"])
                p["values"].update(fix)
                p["steps"].append((t + cr.uniform(3, window), signed + cr.uniform(600, 86400),
                                   fix))
        plans[c] = p
    reporting = [c for c in communes if plans[c]["steps"]]
    # each district's UBND reports its own work too (the form's levels):
    # entered at its hub, on time, before the lines come up
    for d in [] if national else districts:
        dr = random.Random("%d-%s" % (a.seed, d))
        vals = report_values(dr, by_code[d]["name"])
        env = faketime_env(time.strftime("%Y-%m-%d %H:%M:%S",
                                         time.gmtime(deadline - dr.uniform(86400, 5 * 86400))))
        run([hub, "submit", "--dir", hubs[d]["dir"], "--form", FORM, "--period", year,
             "--author", "Văn phòng " + by_code[d]["name"]] + words(vals), env=env)
        plans[d] = {"fate": "on_time", "steps": [(0, 0, vals)], "values": vals, "sessions": 0}
    own_reports = [] if national else list(districts)

    # ---- play ----
    say("== Các xã nộp báo cáo (đường truyền chập chờn, máy văn phòng lúc bật lúc tắt)")
    t0 = time.monotonic()
    events = []   # (time, kind, commune)
    for c in reporting:
        for i, (t, _, _) in enumerate(plans[c]["steps"]):
            events.append((t, "submit", c, i))
        events.append((plans[c]["steps"][0][0], "up", c, 0))
    events.sort()
    done_sub = {c: 0 for c in communes}
    finished = set()
    next_progress = 0.0
    calm = False
    while True:
        now = time.monotonic() - t0
        while events and events[0][0] <= now:
            _, kind, c, i = events.pop(0)
            C = os.path.join(work, "x" + c)
            if kind == "submit":
                t, signed, vals = plans[c]["steps"][i]
                env = faketime_env(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(signed)))
                run([node, "submit", "--dir", C, "--form", FORM, "--period", year,
                     "--author", "Văn phòng " + by_code[c]["name"]] + words(vals), env=env)
                done_sub[c] = i + 1
            elif kind == "up":
                procs.start("xa-" + c, [node, "run", "--dir", C], {"TONGHOP_LOG": "info"})
                plans[c]["sessions"] += 1
                events.append((now + rng.uniform(2.5, 7), "down", c, 0))
            elif kind == "down":
                procs.stop("xa-" + c)
                st = json.loads(run([node, "status", "--dir", C, "--json"]).stdout)
                if done_sub[c] == len(plans[c]["steps"]) and st["pending"] == 0:
                    finished.add(c)
                else:
                    events.append((now + rng.uniform(0.5, 4), "up", c, 0))
            events.sort()
        if not calm and now > window * 2:
            calm = True   # the lines settle, so that the last reports get through
            for name in list(procs.live):
                if name.startswith("proxy-"):
                    procs.signal(name, signal.SIGUSR1)
        if now >= next_progress or not events:
            next_progress = now + (2.0 if a.short else 4.0)
            c = json.loads(run([hub, "completeness", "--dir", P, "--form", FORM, "--period",
                                year, "--format", "json"]).stdout)
            held = {u["unit"]: u["rev"] for u in c["units"]}
            arrived = sum(1 for x in reporting + own_reports
                          if held.get(x, 0) >= len(plans[x]["steps"]))
            line = "[%3d s] %s đã nhận %d/%d báo cáo (%d đúng hạn, %d trễ hạn)" % (
                now, top, c["totals"]["reported"], c["totals"]["expected"], c["totals"]["on_time"],
                c["totals"]["late"])
            if districts:
                line += "; " + ", ".join("%s %d/%d" % (k["unit"], k["reported"], k["expected"])
                                         for k in c["children"] if k["expected"])
            say(line)
            if arrived == len(reporting) + len(own_reports) and \
                    len(finished) == len(reporting):
                break
        if now > limit:
            say("Hết thời gian chờ: %d/%d báo cáo đã về %s." % (
                arrived, len(reporting) + len(own_reports), top))
            return 1
        time.sleep(0.05)

    # ---- the province's view ----
    say("\n== Tình hình báo cáo tại %s" % top)
    say(run([hub, "completeness", "--dir", P, "--form", FORM, "--period", year]).stdout)
    out = os.path.join(work, "bao-cao")
    os.makedirs(out)
    files = []
    for fmt in ("xlsx", "html"):
        f = os.path.join(out, "tong-hop-%s-%s-%s.%s" % (FORM, year, root, fmt))
        run([hub, "export", "--dir", P, "--form", FORM, "--period", year, "--format", fmt,
             "--out", f])
        files.append(f)
    got = json.loads(run([hub, "rollup", "--dir", P, "--form", FORM, "--period", year,
                          "--format", "json"]).stdout)["values"]
    counted = reporting + own_reports   # every unit's own report, once
    expected = {k: sum(plans[c]["values"][k] for c in counted) for k in SUMMED}
    expected.update({k: sum(1 for c in counted if plans[c]["values"][k] == "có")
                     for k in COUNTED})
    bad = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
    planned = {"on_time": sum(1 for c in communes + own_reports if plans[c]["fate"] == "on_time"),
               "late": sum(1 for c in communes if plans[c]["fate"] == "late"),
               "missing": sum(1 for c in communes if plans[c]["fate"] == "never"),
               "corrected": sum(1 for c in communes if len(plans[c]["steps"]) > 1)}
    if a.summary:
        with open(a.summary, "w", encoding="utf-8") as f:
            json.dump({"tree": year, "root": root, "dir": P, "period": year, "form": FORM,
                       "communes": len(communes), "districts": len(districts),
                       "expected": expected, "planned": planned,
                       "files": files}, f, ensure_ascii=False, indent=2)
    say("== Kết quả")
    say("   Đơn vị đúng hạn %(on_time)d, trễ hạn %(late)d, không báo cáo %(missing)d, "
        "sửa số liệu %(corrected)d (theo kịch bản)." % planned)
    if bad:
        say("   SAI: số liệu tổng hợp của %s khác tổng số liệu các xã đã nộp: %s" % (top, bad))
    else:
        say("   Đúng: %d chỉ tiêu của %s bằng tổng số liệu các xã%s nộp lần cuối, mỗi "
            "báo cáo tính một lần (ví dụ TT01 = %d buổi)."
            % (len(expected), top, " và các huyện" if own_reports else "", expected["TT01"]))
    say("   Báo cáo tổng hợp: %s" % "\n                     ".join(files))
    def dashboard(code):
        url = published(hubs[code]["dir"], "web", 2.0)
        return "%shub?form=%s&period=%s" % (url, FORM, year) if url else \
            "(giao diện web không chạy: xem %s)" % os.path.join(work, "logs", "hub-%s.log" % code)

    say("   Bảng điều khiển của %s: %s" % (top, dashboard(root)))
    for code in districts:
        say("       huyện %s: %s" % (code, dashboard(code)))
    if a.keep:
        say("\nKEEP=1: các văn phòng huyện, tỉnh vẫn chạy; nhấn Ctrl-C để dừng.")
        while True:
            time.sleep(3600)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
