#!/usr/bin/env python3
"""chaos_proxy.py: a seeded TCP proxy that cuts and restores a link, and
counts the bytes it forwards. Python 3 standard library only.

    chaos_proxy.py --listen PORT (--to HOST:PORT | --to-run FILE) --seed N
                   [--up-ms A:B] [--down-ms C:D] [--stats FILE] [--latency-ms L]
                   [--rate-kbps R]

Forwards bytes both ways between each client that connects to
127.0.0.1:PORT and HOST:PORT. --listen 0 lets the kernel pick the port
(never a port chosen beforehand: it could be taken meanwhile); the port is
in the stats file. --to-run FILE follows a tonghop daemon: FILE is its
data directory's daemon.json, read at every new connection, so the proxy
keeps its own port while the hub behind it restarts on a new one; while no
daemon holds the file (flock), clients are reset as if nobody listened. With --down-ms it alternates "up" periods
(length drawn uniformly in [A, B] ms) and "down" periods (in [C, D] ms),
drawn from random.Random(N): the same seed gives the same schedule.
Entering "down" closes every open connection abruptly (RST, whatever is in
flight is lost) and, until "up" again, every new connection is accepted and
reset at once. Without --down-ms the link never goes down: a pure byte
counter. --latency-ms L holds every chunk L ms before passing it on, so
that a cut loses what was "on the wire" in the last L ms, as on a slow link
(bytes are counted when passed on). --rate-kbps R throttles each
direction of each connection to R kilobytes a second, as a slow rural line.

--stats FILE is rewritten (atomically) at least every 200 ms, on SIGUSR2
and on exit:
    {"port": the port it listens on, "up_bytes": client->server bytes, "down_bytes": server->client bytes,
     "cuts": down periods entered, "connections": connections forwarded,
     "cut_connections": connections closed by a cut, "refused": connections
     reset while down, "state": "up"|"down", "calm": bool}
It is first written once the proxy listens, so its existence means ready.

Signals: SIGTERM / SIGINT exit cleanly (status 0); SIGUSR1 ends the chaos
(the link goes up, if it was down, and stays up); SIGUSR2 writes the stats;
SIGHUP, for a loss on purpose: the first one makes the link a black hole
(connections stay open, every byte read is dropped, as on a line that died
silently), the next one resets every connection, as a cut does, and ends
the black hole; and so on.
Events go to stderr, one line each, with a monotonic time stamp.
"""
import argparse
import asyncio
import fcntl
import json
import os
import random
import signal
import socket
import struct
import sys
import time

T0 = time.monotonic()


def log(msg):
    sys.stderr.write("%9.3f chaos: %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def ms_range(text):
    try:
        a, b = (int(x) for x in text.split(":", 1))
    except ValueError:
        raise argparse.ArgumentTypeError("expected A:B in milliseconds, got %r" % text)
    if a < 0 or b < a:
        raise argparse.ArgumentTypeError("expected 0 <= A <= B, got %r" % text)
    return a, b


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % text)
    return host, int(port)


def run_target(path):
    """(host, port) of the collector a live tonghop daemon published in
    its daemon.json, or None (no daemon holds the file, or none yet)."""
    try:
        with open(path, "rb") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                return None          # nobody holds it: no daemon
            except BlockingIOError:
                pass
            ep = json.loads(f.read() or b"{}").get("collector", "")
    except (OSError, ValueError):
        return None
    if not ep.startswith("tcp://"):
        return None
    host, _, port = ep[6:].rpartition(":")
    return (host, int(port)) if port.isdigit() else None


def reset(writer):
    """Closes a connection abruptly: RST, buffered data dropped."""
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class Conn:
    def __init__(self, proxy, cw, sw):
        self.proxy, self.cw, self.sw = proxy, cw, sw
        self.tasks = []
        self.done = False
        self.half = 0   # directions that ended with an orderly FIN

    def cut(self):
        if self.done:
            return
        self.done = True
        reset(self.cw)
        reset(self.sw)
        for t in self.tasks:
            if t is not asyncio.current_task():
                t.cancel()
        self.proxy.conns.discard(self)


class Proxy:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.up = True
        self.calm = args.down_ms is None
        self.calm_ev = None   # made in run(), inside the loop
        self.conns = set()
        self.s = {"up_bytes": 0, "down_bytes": 0, "cuts": 0, "connections": 0,
                  "cut_connections": 0, "refused": 0, "dropped_bytes": 0}
        self.blackhole = False
        self.stop_ev = None
        self.port = args.listen

    # ---- forwarding ------------------------------------------------------
    async def pump(self, conn, reader, writer, key):
        """Forwards one direction; with --latency-ms, through a delay line
        whose content a cut loses like data in flight on a real link."""
        lat = self.args.latency_ms / 1000.0
        line = asyncio.Queue() if lat > 0 else None
        late = asyncio.ensure_future(self.deliver(conn, line, writer, key)) if line else None
        if late:
            conn.tasks.append(late)
        try:
            while True:
                data = await reader.read(65536)
                if conn.done:
                    return
                if self.blackhole and data:
                    self.s["dropped_bytes"] += len(data)
                    continue
                if line:
                    line.put_nowait((asyncio.get_running_loop().time() + lat, data))
                    if not data:
                        return   # deliver() passes the FIN on
                    continue
                if not data:
                    break
                writer.write(data)
                self.s[key] += len(data)
                await writer.drain()
                await self.throttle(len(data))
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            conn.cut()
            return
        except asyncio.CancelledError:
            return
        self.eof(conn, writer)

    async def throttle(self, n):
        """--rate-kbps: the time n bytes take on the slow line."""
        rate = getattr(self.args, "rate_kbps", 0) or 0
        if rate > 0:
            await asyncio.sleep(n / (rate * 1000.0))

    async def deliver(self, conn, line, writer, key):
        loop = asyncio.get_running_loop()
        try:
            while True:
                due, data = await line.get()
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                if conn.done:
                    return
                if self.blackhole and data:
                    self.s["dropped_bytes"] += len(data)
                    continue
                if not data:
                    break
                writer.write(data)
                self.s[key] += len(data)
                await writer.drain()
                await self.throttle(len(data))
        except (ConnectionError, OSError):
            conn.cut()
            return
        except asyncio.CancelledError:
            return
        self.eof(conn, writer)

    def eof(self, conn, writer):
        """One direction ended in order: pass the FIN on; close when both did."""
        try:
            if not conn.done and writer.can_write_eof():
                writer.write_eof()
        except OSError:
            conn.cut()
            return
        conn.half += 1
        if conn.half == 2 and not conn.done:
            conn.done = True
            self.conns.discard(conn)
            for w in (conn.cw, conn.sw):
                w.close()

    async def on_client(self, cr, cw):
        if not self.up:
            self.s["refused"] += 1
            reset(cw)
            return
        to = self.args.to or run_target(self.args.to_run)
        if to is None:
            reset(cw)   # the daemon is not running: as if nobody listened
            return
        try:
            sr, sw = await asyncio.open_connection(*to)
        except OSError:
            reset(cw)   # the parent is not there: the client sees a reset
            return
        if not self.up:   # went down while connecting
            self.s["refused"] += 1
            reset(sw)
            reset(cw)
            return
        self.s["connections"] += 1
        conn = Conn(self, cw, sw)
        self.conns.add(conn)
        conn.tasks += [asyncio.ensure_future(self.pump(conn, cr, sw, "up_bytes")),
                       asyncio.ensure_future(self.pump(conn, sr, cw, "down_bytes"))]

    # ---- the schedule ----------------------------------------------------
    async def wait_calm(self, ms):
        """Sleeps ms; True if SIGUSR1 (calm) came meanwhile."""
        try:
            await asyncio.wait_for(self.calm_ev.wait(), ms / 1000.0)
            return True
        except asyncio.TimeoutError:
            return self.calm_ev.is_set()

    async def chaos(self):
        if self.args.down_ms is None:
            return
        up_a, up_b = self.args.up_ms
        dn_a, dn_b = self.args.down_ms
        while True:
            if await self.wait_calm(self.rng.randint(up_a, up_b)):
                break
            ms = self.rng.randint(dn_a, dn_b)
            self.up = False
            self.s["cuts"] += 1
            n = len(self.conns)
            for c in list(self.conns):
                c.cut()
            self.s["cut_connections"] += n
            log("down for %d ms, cut %d connection(s)" % (ms, n))
            calm = await self.wait_calm(ms)
            self.up = True
            log("up")
            if calm:
                break
        self.up = True
        log("calm: staying up")

    def on_hup(self):
        if not self.blackhole:
            self.blackhole = True
            log("black hole: dropping every byte")
            return
        n = len(self.conns)
        for c in list(self.conns):
            c.cut()
        self.s["cut_connections"] += n
        self.blackhole = False
        log("black hole ends: cut %d connection(s)" % n)

    def on_calm(self):
        self.calm = True
        self.calm_ev.set()

    # ---- stats -----------------------------------------------------------
    def write_stats(self):
        if not self.args.stats:
            return
        d = dict(self.s)
        d["port"] = self.port
        d["state"] = "up" if self.up else "down"
        d["calm"] = self.calm
        tmp = "%s.tmp.%d" % (self.args.stats, os.getpid())
        with open(tmp, "w") as f:
            json.dump(d, f)
            f.write("\n")
        os.replace(tmp, self.args.stats)

    async def stats_loop(self):
        while True:
            self.write_stats()
            await asyncio.sleep(0.1)

    # ---- main ------------------------------------------------------------
    async def run(self):
        loop = asyncio.get_running_loop()
        self.calm_ev = asyncio.Event()
        self.stop_ev = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_ev.set)
        loop.add_signal_handler(signal.SIGUSR1, self.on_calm)
        loop.add_signal_handler(signal.SIGUSR2, self.write_stats)
        loop.add_signal_handler(signal.SIGHUP, self.on_hup)
        server = await asyncio.start_server(self.on_client, "127.0.0.1", self.args.listen,
                                            reuse_address=True)
        self.port = server.sockets[0].getsockname()[1]
        to = "%s:%d" % self.args.to if self.args.to else "the daemon of " + self.args.to_run
        log("listening on 127.0.0.1:%d, forwarding to %s, seed %d, up %s, down %s, latency %d ms"
            % (self.port, to, self.args.seed, self.args.up_ms, self.args.down_ms,
               self.args.latency_ms))
        self.write_stats()
        tasks = [asyncio.ensure_future(self.chaos()), asyncio.ensure_future(self.stats_loop())]
        await self.stop_ev.wait()
        server.close()
        for t in tasks:
            t.cancel()
        for c in list(self.conns):
            c.cut()
        self.write_stats()
        log("stopped: %s" % json.dumps(self.s))


def main():
    ap = argparse.ArgumentParser(description="Seeded TCP proxy that cuts and restores links.")
    ap.add_argument("--listen", type=int, required=True,
                    help="port on 127.0.0.1 (0: the kernel picks; see the stats file)")
    to = ap.add_mutually_exclusive_group(required=True)
    to.add_argument("--to", type=host_port, help="HOST:PORT to forward to")
    to.add_argument("--to-run", metavar="FILE",
                    help="forward to the collector published in a tonghop daemon.json")
    ap.add_argument("--seed", type=int, default=0, help="seed of the up/down schedule")
    ap.add_argument("--up-ms", type=ms_range, default=(1000, 5000), help="A:B up lengths")
    ap.add_argument("--down-ms", type=ms_range, default=None,
                    help="C:D down lengths (none: never down)")
    ap.add_argument("--latency-ms", type=int, default=0,
                    help="delay every chunk by this many ms each way: a cut loses what is "
                         "in the delay line, as on a slow link (default 0)")
    ap.add_argument("--rate-kbps", type=float, default=0,
                    help="throttle each direction to this many kB/s (default: no limit)")
    ap.add_argument("--stats", help="JSON file rewritten every 100 ms, on SIGUSR2 and on exit")
    args = ap.parse_args()
    try:
        asyncio.run(Proxy(args).run())
    except OSError as e:
        log("error: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
