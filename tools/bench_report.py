#!/usr/bin/env python3
"""bench_report.py: the generated section of docs/benchmarks.md, from the
JSON lines of one `make bench` run (python3, standard library only).

    bench_report.py start --command CMD [--quick]   the run's first line: date,
                                                    machine, versions, load
    bench_report.py status NAME EXIT SECONDS LOG [LIMIT]  a workload's outcome
    bench_report.py end                             the run's last line: date, load
    bench_report.py render RESULTS DOC              rewrites DOC's generated section
    bench_report.py --selftest                      renders a fixed sample, checks

tools/bench.sh prints the first three into RESULTS beside the JSON lines of
the workloads (tests/bench/*.sh: each line has "workload"), then renders.
Only the part of DOC between the two markers below is rewritten; when DOC
has none, the section goes before its first "## " heading. Every number in
the section is one of RESULTS: a workload that failed or did not run says
so ("not measured: ...") instead of keeping older numbers."""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
PEERS_DIR = "tests/bench/peers/node_modules"

# the workloads tools/bench.sh runs, in order: (name, script, title);
# measurement lines of workload "ingest" come from the relay's run
WORKLOADS = [
    ("office", "tests/bench/office.sh", "One office"),
    ("relay", "tests/bench/relay.sh", "Workload 1: relay backlog"),
    ("reconnect", "tests/bench/reconnect.sh", "Workload 2: mass reconnect"),
    ("ingest", "tests/bench/relay.sh", "Workload 3: ingest at a hub"),
    ("consolidate", "tests/bench/consolidate.sh", "Workload 4: consolidation"),
    ("footprint", "tests/bench/footprint.sh", "Workload 5: footprint"),
    ("web", "tests/bench/web.sh", "Workload 6: web, 64 concurrent connections"),
]
RUNS_IN = {"ingest": "relay"}


# ---- collecting: the run's first and last lines, a workload's outcome --------

def _cmd(*argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def loadavg():
    t = _read("/proc/loadavg")
    return [float(x) for x in t.split()[:3]] if t else None


def machine():
    m = {"arch": os.uname().machine, "kernel": os.uname().release}
    try:
        m["nproc"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        m["nproc"] = os.cpu_count()
    cpu = _read("/proc/cpuinfo") or ""
    g = re.search(r"^model name\s*:\s*(.+)$", cpu, re.M)
    m["cpu"] = g.group(1).strip() if g else None
    mem = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo") or "", re.M)
    m["mem_kib"] = int(mem.group(1)) if mem else None
    deb = _read("/etc/debian_version")
    m["debian"] = deb.strip() if deb else None
    osr = re.search(r'^PRETTY_NAME="?([^"\n]*)"?$', _read("/etc/os-release") or "", re.M)
    m["os"] = osr.group(1) if osr else None
    return m


def _deb(pkg):
    return _cmd("dpkg-query", "-W", "-f=${Version}", pkg)


def versions():
    v = {}
    for name, pc, deb in (("libzmq", "libzmq", "libzmq5"), ("LMDB", "lmdb", "liblmdb0"),
                          ("libsodium", "libsodium", "libsodium23"),
                          ("msgpack-c", "msgpack", "libmsgpackc2")):
        v[name] = _cmd("pkg-config", "--modversion", pc) or _deb(deb)
    node = _cmd("node", "--version")
    v["Node.js"] = node.lstrip("v") if node else None
    for pkg in ("pouchdb-node", "express-pouchdb"):
        try:
            with open(os.path.join(PEERS_DIR, pkg, "package.json")) as f:
                v[pkg] = json.load(f).get("version")
        except (OSError, ValueError):
            v[pkg] = None
    mq = _cmd("sh", "-c", "mosquitto -h 2>&1 | head -n 1")
    g = re.search(r"version (\S+)", mq or "")
    v["mosquitto"] = g.group(1) if g else _deb("mosquitto")
    ab = _cmd("sh", "-c", "ab -V 2>&1 | head -n 1")
    g = re.search(r"Version (\S+)", ab or "")
    v["ab"] = g.group(1) if g else None
    cc = _cmd("sh", "-c", "${CC:-cc} --version 2>/dev/null | head -n 1")
    v["cc"] = cc or None
    return v


def commit():
    head = _cmd("git", "rev-parse", "--short=12", "HEAD")
    if not head:
        return None
    # the generated document itself does not count as a change
    dirty = _cmd("git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                 ":(exclude)docs/benchmarks.md")
    return head + (" with uncommitted changes" if dirty else "")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def start_line(command, quick):
    t = _now()
    return {"bench": "start", "date": t.strftime("%Y-%m-%d %H:%M UTC"), "epoch": t.timestamp(),
            "quick": bool(quick), "command": command, "loadavg": loadavg(),
            "machine": machine(), "versions": versions(), "commit": commit()}


def end_line():
    t = _now()
    return {"bench": "end", "date": t.strftime("%Y-%m-%d %H:%M UTC"), "epoch": t.timestamp(),
            "loadavg": loadavg()}


def status_line(name, code, seconds, log, limit=None):
    code = int(code)
    if code == 0:
        status = "ok"
    elif code in (124, 137):
        status = "timed out"
    else:
        status = "failed"
    why = ""
    for line in (_read(log) or "").splitlines():
        line = line.strip()
        if line and not line.startswith(("{", "== ")) and line not in ("Terminated", "Killed"):
            why = line
    if status == "timed out":
        why = "stopped at its time limit%s (BENCH_TIMEOUT)%s" % (
            " of %s s" % limit if limit else "", "; its last words: " + why if why else "")
    return {"bench": "workload", "workload": name, "status": status, "exit": code,
            "seconds": round(float(seconds), 1), "reason": why[:300] if code else ""}


# ---- reading a run -----------------------------------------------------------

def parse(text):
    """The JSON objects of a run's output (other lines are ignored)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict) and ("bench" in o or "workload" in o):
            out.append(o)
    return out


class Run:
    def __init__(self, lines):
        self.start = next((o for o in lines if o.get("bench") == "start"), {})
        self.end = next((o for o in lines if o.get("bench") == "end"), {})
        self.status = {o["workload"]: o for o in lines if o.get("bench") == "workload"}
        self.lines = [o for o in lines if "bench" not in o]
        self.quick = bool(self.start.get("quick"))

    def of(self, workload, **match):
        return [o for o in self.lines if o.get("workload") == workload and
                all(o.get(k) == v for k, v in match.items())]

    def one(self, workload, **match):
        r = self.of(workload, **match)
        return r[-1] if r else None

    def state(self, workload):
        """(ran_ok, why_not): why_not says why numbers may be missing."""
        st = self.status.get(RUNS_IN.get(workload, workload))
        if not st:
            return False, "did not run"
        if st["status"] == "ok":
            return True, ""
        why = "%s %s (exit status %d after %s s)" % (
            RUNS_IN.get(workload, workload), st["status"], st["exit"], _num(st["seconds"], 1))
        if st.get("reason"):
            why += ": " + st["reason"]
        return False, why

    def missing(self, workload, what=None):
        ok, why = self.state(workload)
        if not ok:
            return "not measured: " + why
        return "not measured: %s printed no result%s" % (
            workload, " for " + what if what else "")


# ---- formatting --------------------------------------------------------------

def _num(x, nd=0):
    if x is None:
        return "?"
    if nd == 0:
        return "{:,}".format(int(round(x)))
    return "{:,.{}f}".format(x, nd)


def _ms(x):
    return _num(x, 1 if x < 1000 else 0) + " ms"


def _s(x):
    return _num(x, 2 if x < 100 else 0) + " s"


def _x(r):
    return _num(r, 2) + " ×"


def _mb(kib):
    return "%s KiB (%s MB)" % (_num(kib), _num(kib * 1024 / 1e6, 1))


def _esc(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        r = list(r) + [""] * (len(head) - len(r))
        out.append("| " + " | ".join(_esc(c) for c in r) + " |")
    return out


# ---- the targets of issue 11 -------------------------------------------------

def _verdict(value, limit, lower_bound, strict):
    """'met'/'missed' and by how much, relative to the limit."""
    if lower_bound:
        ok = value > limit if strict else value >= limit
        d = (value / limit - 1) * 100
        return ("met, %s %% above" % _num(d, 1)) if ok else \
               ("**missed** by %s %%" % _num(-d, 1))
    ok = value < limit if strict else value <= limit
    d = (1 - value / limit) * 100
    return ("met, %s %% under" % _num(d, 1)) if ok else ("**missed** by %s %%" % _num(-d, 1))


def targets(run):
    rows = []
    q = " (at QUICK sizes)" if run.quick else ""

    def add(name, measured, verdict):
        rows.append((name, measured, verdict))

    t = run.one("relay", peer="tonghop")
    p = run.one("relay", peer="pouchdb")
    name = "relay backlog ≥ 5 × PouchDB's records/s"
    if t and p and "records_per_s" in t and "records_per_s" in p:
        r = t["records_per_s"] / p["records_per_s"]
        add(name, "%s (%s against %s records/s)" % (_x(r), _num(t["records_per_s"]),
                                                    _num(p["records_per_s"])),
            _verdict(r, 5, True, False) + q)
    elif p and "skipped" in p:
        add(name, "not measured: PouchDB skipped: " + p["skipped"], "not evaluated")
    elif p and "failed" in p:
        add(name, "not measured: PouchDB failed: " + p["failed"], "not evaluated")
    else:
        add(name, run.missing("relay", "tonghop or PouchDB"), "not evaluated")

    name = "wire bytes ≤ 1.3 × the record's size (relay)"
    if t and "wire_over_record" in t:
        add(name, "%s (%s bytes per %s-byte record)" % (
            _x(t["wire_over_record"]), _num(t["wire_per_record"], 1),
            _num(t["record_bytes"], 1)), _verdict(t["wire_over_record"], 1.3, False, False) + q)
    else:
        add(name, run.missing("relay", "tonghop"), "not evaluated")

    i = run.one("ingest")
    name = "ingest ≥ 80 % of the per-core decode + verify rate"
    if i:
        r = i["entries_per_s"] / i["decode_verify_per_s_one_core"]
        add(name, "%s %% (%s entries/s against %s/s on one core)" % (
            _num(100 * r, 1), _num(i["entries_per_s"]), _num(i["decode_verify_per_s_one_core"])),
            _verdict(r, 0.8, True, False) + q)
    else:
        add(name, run.missing("ingest"), "not evaluated")

    c = run.one("reconnect")
    name = "3,321 communes acknowledged < 10 s"
    if c:
        m = "%s (%s of %s communes acknowledged)" % (_s(c["all_acknowledged_s"]),
                                                     _num(c["acknowledged"]), _num(c["communes"]))
        if c["acknowledged"] < c["communes"]:
            v = "**missed**: %s communes never acknowledged" % _num(c["communes"] - c["acknowledged"])
        elif c["communes"] != 3321:
            v = "not evaluated: %s communes, the target is for 3,321" % _num(c["communes"])
        else:
            v = _verdict(c["all_acknowledged_s"], 10, False, True)
        add(name, m, v)
    else:
        add(name, run.missing("reconnect"), "not evaluated")

    r = run.one("consolidate", mode="in-process", what="rollup")
    fill = run.one("consolidate", what="fill") or {}
    name = "national rollup < 100 ms in-process"
    if r:
        m = "%s (%s communes)" % (_ms(r["ms"]), _num(r["units"]))
        if fill.get("scope") != "VN":
            v = "not evaluated: the province %s, not the country" % fill.get("scope", "?")
        else:
            v = _verdict(r["ms"], 100, False, True)
        add(name, m, v)
    else:
        add(name, run.missing("consolidate", "the in-process rollup"), "not evaluated")

    f = run.one("footprint")
    if f:
        n = f["node_web_on"]
        add("idle node (web on) < 10 MB resident", _mb(n["rss_kib"]),
            _verdict(n["rss_kib"] * 1024, 10e6, False, True) + q)
        add("idle node (web on) < 0.1 % CPU", "%s %% of a core over %s s" % (
            _num(n["cpu_pct"], 3), _num(f["idle_secs"])),
            _verdict(n["cpu_pct"], 0.1, False, True) + q)
    else:
        for name in ("idle node (web on) < 10 MB resident", "idle node (web on) < 0.1 % CPU"):
            add(name, run.missing("footprint"), "not evaluated")

    d = run.one("web", page="dashboard")
    name = "dashboard p99 < 50 ms at 64 connections"
    if d:
        m = "%s (%s requests)" % (_ms(d["ms_p99"]), _num(d["requests"]))
        bad = d.get("failed", 0) + d.get("non_2xx", 0)
        if bad:
            v = "**missed**: %s requests failed" % _num(bad)
        else:
            v = _verdict(d["ms_p99"], 50, False, True) + q
        add(name, m, v)
    else:
        sk = run.one("web")
        add(name, "not measured: " + sk["skipped"] if sk and "skipped" in sk
            else run.missing("web", "the dashboard"), "not evaluated")
    return table(["target (issue 11)", "measured", "verdict"], rows)


# ---- the workloads -----------------------------------------------------------

def _ran(run, name):
    st = run.status.get(RUNS_IN.get(name, name))
    if not st:
        return "did not run"
    if st["status"] == "ok":
        return "ok, %s s" % _num(st["seconds"], 1)
    return "**%s** (exit status %d after %s s)%s; what it measured before or beside the " \
           "failure is below, the rest is not measured" % (
               st["status"], st["exit"], _num(st["seconds"], 1),
               ": " + st["reason"] if st.get("reason") else "")


def w_office(run):
    rows = []
    for o in run.of("office"):
        if "bytes" in o:
            rows.append((o["what"], "", "%s bytes" % _num(o["bytes"]), ""))
        else:
            rows.append((o["what"], _num(o["n"]), "%s µs" % _num(o["us_each"], 1),
                         "%s /s" % _num(o["per_s"])))
    if not rows:
        return [run.missing("office")]
    return table(["what", "n", "each", "rate"], rows)


def w_relay(run):
    t = run.one("relay", peer="tonghop")
    if not t:
        return [run.missing("relay", "tonghop")]
    out = ["%s signed reports of the communes of Thanh Hóa (38) held by a relay hub, "
           "measured from its daemon's start until its parent (a national root) has "
           "acknowledged (durably stored) everything; the root then holds dvcq-nam 2024 "
           "of %s communes. Each peer carries the same records, every link through the "
           "same byte-counting proxy (both directions). Time and bytes ratios are the "
           "peer's over tonghop's (above 1: tonghop faster, or fewer bytes)." % (
               _num(t["records"]), _num(t.get("check_2024_reported_at_root"))), ""]
    head = ["peer", "records", "time", "records/s", "wire bytes per record",
            "vs the record's own size", "time vs tonghop", "wire bytes vs tonghop",
            "durability"]
    rows = [("tonghop (CURVE; every record verified and checked at the parent)",
             _num(t["records"]), _s(t["seconds"]), _num(t["records_per_s"]),
             _num(t["wire_per_record"], 1),
             "%s its msgpack record (%s B)" % (_x(t["wire_over_record"]),
                                               _num(t["record_bytes"], 1)),
             "1", "1", t.get("durability", ""))]
    for peer, label in (("mqtt", "MQTT QoS 1 through mosquitto to a subscriber "
                         "committing to LMDB (no check)"),
                        ("pouchdb", "PouchDB → express-pouchdb (no signature check)")):
        p = run.one("relay", peer=peer)
        if not p or "seconds" not in p:
            why = ("skipped: " + p["skipped"]) if p and "skipped" in p else \
                  ("failed: " + p["failed"]) if p and "failed" in p else \
                  run.missing("relay", peer)[len("not measured: "):]
            rows.append((label, "not measured: " + why))
            continue
        if peer == "mqtt":
            wpr = p["wire_per_record_publisher_leg"]
            own = "%s its msgpack record (each of its two legs)" % _x(p["wire_over_record"])
        else:
            wpr = p["wire_per_record"]
            own = "%s its JSON (%s B)" % (_x(p["wire_over_json"]), _num(p["json_bytes"], 1))
        rows.append((label, _num(p["records"]), _s(p["seconds"]), _num(p["records_per_s"]),
                     _num(wpr, 1), own, _x(p["seconds"] / t["seconds"]),
                     _x(wpr / t["wire_per_record"]), p.get("durability", "")))
    return out + table(head, rows)


def w_reconnect(run):
    c = run.one("reconnect")
    if not c:
        return [run.missing("reconnect")]
    return ["%s communes of the 2025 list, each with its own key and CURVE session, "
            "connect at once to one hub and each send a new signed report." %
            _num(c["communes"]), ""] + table(
        ["communes", "welcomed", "acknowledged", "all acknowledged", "hub CPU",
         "hub peak RSS", "reported at the hub"],
        [(_num(c["communes"]), _num(c["welcomed"]), _num(c["acknowledged"]),
          _s(c["all_acknowledged_s"]), _s(c["hub_cpu_s"]),
          "%s MiB" % _num(c["hub_peak_rss_kib"] / 1024, 1), _num(c["reported_at_hub"]))])


def w_ingest(run):
    i = run.one("ingest")
    if not i:
        return [run.missing("ingest")]
    return ["The relay's fill (workload 1) through `th_ingest_batch`, every check and "
            "the Ed25519 verification included, beside the strict decode and "
            "verification alone of the same records on one core.", ""] + table(
        ["entries (records + enrollments)", "durable commits", "time", "entries/s",
         "decode + verify alone, one core", "ingest vs one core"],
        [(_num(i["entries"]), _num(i["commits"]), _s(i["seconds"]), _num(i["entries_per_s"]),
          "%s /s" % _num(i["decode_verify_per_s_one_core"]),
          _x(i["entries_per_s"] / i["decode_verify_per_s_one_core"]))])


def w_consolidate(run):
    inp = {o["what"]: o for o in run.of("consolidate", mode="in-process")}
    whole = {o["what"]: o for o in run.of("consolidate", mode="whole process")}
    fill = run.one("consolidate", what="fill")
    if not inp and not whole:
        return [run.missing("consolidate")]
    out = []
    if fill:
        scope = "the whole country (a root `VN` above the provinces)" if fill["scope"] == "VN" \
            else "the province %s (the root of this run)" % fill["scope"]
        out = ["%s: %s reports filled through the real ingest, %s communes' dvcq-nam 2024 "
               "consolidated; best of 3 each." % (
                   scope[0].upper() + scope[1:], _num(fill["reports"]),
                   _num((inp.get("rollup") or {}).get("units", 0)) if inp else "?"), ""]

    def i(what):
        o = inp.get(what)
        return _ms(o["ms"]) if o else "not measured"

    def w(what):
        o = whole.get(what)
        if not o:
            return "not measured"
        return ("failed: " + o["failed"]) if "failed" in o else _ms(o["ms"])

    limit = (inp.get("store walk") or {}).get("ms")

    def vs(what):
        o = inp.get(what)
        return _x(o["ms"] / limit) if o and limit else ""

    rows = [("the limit: reading the same reports from the store", i("store walk"), "", "1"),
            ("rollup", i("rollup"), w("rollup"), vs("rollup")),
            ("completeness", i("completeness"), w("completeness"), vs("completeness")),
            ("export: the model (rollup + completeness)", i("export model"), "", ""),
            ("export: CSV and HTML written (after the model)", i("export CSV + HTML written"),
             "CSV %s, HTML %s" % (w("export CSV"), w("export HTML")), ""),
            ("export: XLSX written (after the model)", i("export XLSX written"),
             w("export XLSX"), "")]
    return out + table(["what", "in-process", "whole process (the command)",
                        "in-process vs the limit"], rows)


def w_footprint(run):
    f = run.one("footprint")
    if not f:
        return [run.missing("footprint")]
    h, n = f["hub"], f["node_web_on"]
    secs = _num(f["idle_secs"])
    rows = [("idle province hub (Hà Nội, 2025 tree), %s communes connected, heartbeat 5 s"
             % _num(f["hub_children"]), _mb(h["rss_kib"]), _mb(h["peak_rss_kib"]),
             "%s %%" % _num(h["cpu_pct"], 3)),
            ("idle commune node, web interface on", _mb(n["rss_kib"]), _mb(n["peak_rss_kib"]),
             "%s %%" % _num(n["cpu_pct"], 3))]
    b, t = f["binary_bytes"], f["text_bytes"]
    return table(["process", "resident", "peak resident", "CPU over %s s idle (of a core)" % secs],
                 rows) + ["", "Binaries (with debug info): tonghop-node %s bytes (%s of code), "
                          "tonghop-hub %s bytes (%s of code). CPU time from %s." % (
                              _num(b["tonghop-node"]), _num(t["tonghop-node"]),
                              _num(b["tonghop-hub"]), _num(t["tonghop-hub"]),
                              "the threads' schedstat (ns)" if f.get("cpu_source") == "schedstat"
                              else "clock ticks")]


def w_web(run):
    rows = []
    for page in ("dashboard", "post"):
        o = run.one("web", page=page)
        if not o:
            rows.append((page, run.missing("web", page)))
            continue
        bad = o.get("failed", 0) + o.get("non_2xx", 0)
        if "status" in o:
            bad += sum(v for k, v in o["status"].items() if not k.startswith(("2", "3")))
        what = o["what"]
        if "revisions_stored" in o:
            what += "; %s revisions stored" % _num(o["revisions_stored"])
        rows.append((what, _num(o["requests"]), _num(bad), _num(o["rps"], 1),
                     _ms(o["ms_p50"]), _ms(o["ms_p90"]), _ms(o["ms_p99"]), _ms(o["ms_max"])))
    sk = run.one("web")
    if sk and "skipped" in sk:
        return ["not measured: " + sk["skipped"]]
    out = table(["page (64 connections)", "requests", "failed", "requests/s", "p50", "p90",
                 "p99", "max"], rows)
    first = run.one("web", page="dashboard_first")
    if first:
        out += ["", "The dashboard's first load (one browser, the rollup computed): %s; the "
                "requests above reload it." % _ms(first["first_ms"])]
    return out


RENDER = {"office": w_office, "relay": w_relay, "reconnect": w_reconnect, "ingest": w_ingest,
          "consolidate": w_consolidate, "footprint": w_footprint, "web": w_web}


# ---- the section -------------------------------------------------------------

def _load(la):
    return " / ".join(_num(x, 2) for x in la) if la else "?"


def section(run):
    s, m, v = run.start, run.start.get("machine") or {}, run.start.get("versions") or {}
    L = [BEGIN,
         "<!-- Generated by tools/bench_report.py at the end of `make bench`, from the",
         "     JSON lines of that run; the next run rewrites this whole section, up to",
         "     the closing marker: do not edit it by hand. -->",
         "## Latest run (generated by `make bench`)", ""]
    if run.quick:
        L += ["**QUICK (reduced sizes, not the targets' sizes)**: `make bench QUICK=1`; "
              "see each workload for its size. The figures are indicative only.", ""]
    else:
        L += ["**Full run**, at the sizes of the targets.", ""]
    dur = ""
    if run.end.get("epoch") and s.get("epoch"):
        d = run.end["epoch"] - s["epoch"]
        dur = ", %d min %02d s in all" % (d // 60, d % 60)
    cpu = m.get("cpu") or "CPU model unknown"
    mem = ", %s GiB RAM" % _num(m["mem_kib"] / 1048576, 1) if m.get("mem_kib") else ""
    deb = "Debian %s" % m["debian"] if m.get("debian") else (m.get("os") or "OS unknown")
    L += ["- Date: %s%s" % (s.get("date", "unknown"), dur),
          "- Command: `%s`%s" % (s.get("command", "?"),
                                 ", commit %s" % s["commit"] if s.get("commit") else ""),
          "- Machine: %s cores (nproc), %s, %s%s, Linux %s, %s" % (
              m.get("nproc", "?"), cpu, m.get("arch", "?"), mem, m.get("kernel", "?"), deb)]
    la0, la1 = s.get("loadavg"), run.end.get("loadavg")
    L.append("- Load average (1 / 5 / 15 min): %s at the start, %s at the end (the end "
             "includes the benchmarks' own load)" % (_load(la0), _load(la1)))
    if la0 and m.get("nproc") and la0[0] >= 0.5:
        L.append("- The machine was not idle when the run began (load %s on %s cores): "
                 "other work shared the cores, the figures are lower than on an idle "
                 "machine." % (_num(la0[0], 2), m["nproc"]))
    names = [("libzmq", "libzmq"), ("LMDB", "LMDB"), ("libsodium", "libsodium"),
             ("msgpack-c", "msgpack-c"), ("Node.js", "Node.js"),
             ("pouchdb-node", "pouchdb-node"), ("express-pouchdb", "express-pouchdb"),
             ("mosquitto", "mosquitto"), ("ab", "ab (apache2-utils)"), ("cc", "compiler")]
    L.append("- Versions: " + ", ".join("%s %s" % (label, v.get(k) or "not found")
                                        for k, label in names))
    failed = [(n, st) for n, st in run.status.items() if st["status"] != "ok"]
    ran = len(run.status)
    if not run.status:
        L.append("- Outcome: no workload ran")
    elif failed:
        L.append("- Outcome: **%d of %d workloads failed**: %s" % (
            len(failed), ran, ", ".join("%s (%s, exit status %d)" % (n, st["status"], st["exit"])
                                        for n, st in failed)))
    else:
        L.append("- Outcome: all %d workloads ran to the end" % ran)
    L += ["", "### Targets", ""] + targets(run)
    for name, script, title in WORKLOADS:
        L += ["", "### %s" % title, "",
              "`%s`, %s." % (script, _ran(run, name)), ""] + RENDER[name](run)
    L += ["", END]
    return "\n".join(L) + "\n"


def replace(doc, sec):
    """doc with its generated section replaced by sec (or inserted before
    the first '## ' heading); everything else byte for byte."""
    nb, ne = doc.count(BEGIN), doc.count(END)
    if nb or ne:
        if nb != 1 or ne != 1 or doc.index(BEGIN) > doc.index(END):
            raise ValueError("expected one %s before one %s, found %d and %d" % (BEGIN, END, nb, ne))
        a = doc.index(BEGIN)
        b = doc.index(END) + len(END)
        if doc[b:b + 1] == "\n":
            b += 1
        return doc[:a] + sec + doc[b:]
    g = re.search(r"^## ", doc, re.M)
    if not g:
        return doc + ("" if doc.endswith("\n") or not doc else "\n") + "\n" + sec
    return doc[:g.start()] + sec + "\n" + doc[g.start():]


def render(results, docpath):
    with open(results, encoding="utf-8") as f:
        run = Run(parse(f.read()))
    with open(docpath, encoding="utf-8", newline="") as f:
        doc = f.read()
    new = replace(doc, section(run))
    d = os.path.dirname(os.path.abspath(docpath))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".bench_report.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(new)
        os.chmod(tmp, os.stat(docpath).st_mode & 0o777)
        os.replace(tmp, docpath)
    except BaseException:
        os.unlink(tmp)
        raise
    bad = [n for n, st in run.status.items() if st["status"] != "ok"]
    print("bench_report: %s: generated section rewritten (%s, %d workloads, %s)" % (
        docpath, "QUICK" if run.quick else "full", len(run.status),
        "failed: " + ", ".join(bad) if bad else "none failed"))


# ---- self-test ---------------------------------------------------------------

SAMPLE = r"""
{"bench": "start", "date": "2026-01-02 03:04 UTC", "epoch": 1000.0, "quick": false, "command": "make bench", "loadavg": [1.25, 1.0, 0.75], "machine": {"arch": "x86_64", "kernel": "6.1.0", "nproc": 2, "cpu": "Test CPU", "mem_kib": 4194304, "debian": "12.11", "os": "Debian GNU/Linux 12"}, "versions": {"libzmq": "4.3.4", "LMDB": "0.9.24", "libsodium": "1.0.18", "msgpack-c": "4.0.0", "Node.js": "20.0.0", "pouchdb-node": "9.0.0", "express-pouchdb": "4.2.0", "mosquitto": "2.0.11", "ab": "2.3", "cc": "cc 12"}, "commit": "0123456789ab"}
== office
{"workload": "office", "what": "build + sign + encode a 25-value record", "n": 20000, "seconds": 0.7, "per_s": 28571, "us_each": 35.0}
{"workload": "office", "what": "size of one signed record", "bytes": 552}
{"bench": "workload", "workload": "office", "status": "ok", "exit": 0, "seconds": 5.0, "reason": ""}
{"workload": "ingest", "entries": 20786, "commits": 95, "seconds": 1.5, "entries_per_s": 13857, "decode_verify_s_apart": 1.4, "decode_verify_share": 0.9, "decode_verify_per_s_one_core": 14456}
{"workload": "relay", "peer": "tonghop", "records": 20239, "seconds": 3.1, "records_per_s": 6529, "wire_bytes": 15543552, "wire_per_record": 768.0, "record_bytes": 699.0, "wire_over_record": 1.099, "check_2024_reported_at_root": 547, "durability": "fsync per batch"}
{"workload": "relay", "peer": "mqtt", "records": 20239, "seconds": 1.1, "records_per_s": 18399, "committed": 20239, "wire_bytes_publisher_leg": 15148000, "wire_per_record_publisher_leg": 748.5, "wire_bytes_subscriber_leg": 15148000, "wire_per_record_subscriber_leg": 748.5, "wire_over_record": 1.071, "durability": "broker in memory"}
{"workload": "relay", "peer": "pouchdb", "records": 20239, "seconds": 9.3, "records_per_s": 2176, "wire_bytes": 22870000, "wire_per_record": 1130.0, "json_bytes": 905.0, "wire_over_json": 1.249, "docs_on_parent": 20239, "durability": "LevelDB default"}
{"bench": "workload", "workload": "relay", "status": "ok", "exit": 0, "seconds": 31.0, "reason": ""}
{"workload": "reconnect", "communes": 3321, "welcomed": 3321, "acknowledged": 3321, "setup_s": 0.8, "all_acknowledged_s": 5.25, "hub_cpu_s": 3.6, "hub_peak_rss_kib": 238592, "reported_at_hub": 3321}
{"bench": "workload", "workload": "reconnect", "status": "ok", "exit": 0, "seconds": 10.0, "reason": ""}
{"workload": "consolidate", "what": "fill", "scope": "VN", "reports": 40140, "children": 63}
{"workload": "consolidate", "mode": "in-process", "what": "store walk", "ms": 3.2, "units": 10035, "best_of": 3}
{"workload": "consolidate", "mode": "in-process", "what": "rollup", "ms": 106.25, "units": 10035, "best_of": 3}
{"workload": "consolidate", "mode": "whole process", "what": "rollup", "ms": 472, "best_of": 3}
{"workload": "consolidate", "mode": "whole process", "what": "export CSV", "failed": "exit status 254"}
{"bench": "workload", "workload": "consolidate", "status": "failed", "exit": 1, "seconds": 19.0, "reason": "consolidate.sh: export CSV failed (exit status 254)"}
{"bench": "workload", "workload": "footprint", "status": "timed out", "exit": 124, "seconds": 900.0, "reason": ""}
{"workload": "web", "page": "dashboard", "what": "province dashboard /hub", "concurrency": 64, "requests": 80, "failed": 0, "non_2xx": 0, "rps": 228.0, "ms_p50": 124.0, "ms_p90": 200.0, "ms_p99": 278.0, "ms_max": 280.0}
{"bench": "workload", "workload": "web", "status": "failed", "exit": 1, "seconds": 4.0, "reason": "web.sh: the node's web did not start"}
not json {
{"bench": "end", "date": "2026-01-02 03:14 UTC", "epoch": 1600.0, "loadavg": [2.5, 1.5, 1.0]}
"""

DOC = ("# Benchmarks\n\nAn intro paragraph,\nwith two lines.\n\n"
       "## 2026-11-23 — history\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\ntrailing text  \n"
       "no final newline")


def selftest():
    fails = []

    def check(cond, what):
        if not cond:
            fails.append(what)

    run = Run(parse(SAMPLE))
    sec = section(run)
    first = replace(DOC, sec)
    check(first.count(BEGIN) == 1 and first.count(END) == 1, "one marker pair inserted")
    check(first.index(BEGIN) > first.index("with two lines.") and
          first.index(END) < first.index("## 2026-11-23"), "inserted after the intro")
    check(first.replace(sec + "\n", "", 1) == DOC, "the rest byte-identical after insertion")
    # measured numbers, and no others
    for s in ("6,529", "5.25 s", "106.2 ms", "**Full run**", "Test CPU", "1.25 / 1.00 / 0.75",
              "not measured: footprint timed out (exit status 124", "**missed** by 6.2 %",
              "met, 47.5 % under", "failed: exit status 254", "4.2.0", "make bench",
              "**3 of 6 workloads failed**", "10 min 00 s"):
        check(s in sec, "the section shows %r" % s)
    check("QUICK" not in sec, "a full run does not say QUICK")
    check("not measured: web printed no result for post" not in sec and
          "not measured: web failed" in sec, "a failed workload says why")
    # a second run replaces the section, it does not append one
    quick = SAMPLE.replace('"quick": false', '"quick": true').replace("6529", "1829") \
                  .replace('"scope": "VN"', '"scope": "38"').replace('"communes": 3321', '"communes": 1000')
    sec2 = section(Run(parse(quick)))
    second = replace(first, sec2)
    check(second.count(BEGIN) == 1 and second.count(END) == 1, "replaced, not appended")
    check(second == replace(DOC, sec2), "the rest byte-identical after replacement")
    check(replace(second, sec2) == second, "rendering twice changes nothing")
    check("6,529" not in second and "1,829" in second, "the old numbers are gone")
    check("QUICK (reduced sizes, not the targets' sizes)" in sec2, "QUICK is said")
    check("not evaluated: 1,000 communes" in sec2 and "not evaluated: the province 38" in sec2,
          "targets at other sizes are not judged")
    for bad in (DOC + "\n" + BEGIN + "\n", DOC + END + BEGIN, first + sec):
        try:
            replace(bad, sec)
            check(False, "malformed markers refused")
        except ValueError:
            pass
    # the whole path: files on disk
    with tempfile.TemporaryDirectory() as d:
        res, doc = os.path.join(d, "r.jsonl"), os.path.join(d, "b.md")
        with open(res, "w") as f:
            f.write(SAMPLE)
        with open(doc, "w", newline="") as f:
            f.write(first)
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):
            render(res, doc)
        with open(doc, newline="") as f:
            check(f.read() == first, "render() writes the file in place")
    if fails:
        for f in fails:
            print("bench_report selftest: FAILED: " + f, file=sys.stderr)
        return 1
    print("bench_report selftest: ok")
    return 0


def main(argv):
    if argv[:1] == ["--selftest"]:
        return selftest()
    if argv[:1] == ["start"]:
        quick = "--quick" in argv
        cmd = argv[argv.index("--command") + 1] if "--command" in argv else "tools/bench.sh"
        print(json.dumps(start_line(cmd, quick), ensure_ascii=False))
        return 0
    if argv[:1] == ["end"]:
        print(json.dumps(end_line()))
        return 0
    if argv[:1] == ["status"] and len(argv) in (5, 6):
        print(json.dumps(status_line(*argv[1:]), ensure_ascii=False))
        return 0
    if argv[:1] == ["render"] and len(argv) == 3:
        try:
            render(argv[1], argv[2])
        except (OSError, ValueError) as e:
            print("bench_report: %s" % e, file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
