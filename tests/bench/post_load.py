#!/usr/bin/env python3
"""post_load.py: N form POSTs over C keep-alive connections, each with its
own figures (TT01 differs, so that every POST is a new revision, durably
stored), for tests/bench/web.sh. ab cannot vary a body, and an unchanged
report is (rightly) not stored again.

    post_load.py URL PATH BODY_FILE COOKIE N C

Prints one JSON line: requests, seconds, rps, latency percentiles (ms)
and the status codes seen."""
import asyncio, json, sys, time, urllib.parse


async def worker(host, port, path, body, cookie, jobs, lat, codes):
    r, w = await asyncio.open_connection(host, port)
    while True:
        try:
            n = jobs.pop()
        except IndexError:
            break
        b = body.replace("v_TT01=10", "v_TT01=%d" % n).encode()
        req = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nCookie: %s\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
               % (path, host, port, cookie, len(b))).encode() + b
        t0 = time.perf_counter()
        w.write(req)
        await w.drain()
        head = await r.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await r.readexactly(length)
        lat.append((time.perf_counter() - t0) * 1000)
        codes[status] = codes.get(status, 0) + 1
    w.close()


async def main():
    url, path, body_file, cookie, n, c = sys.argv[1:7]
    u = urllib.parse.urlparse(url)
    body = open(body_file).read()
    jobs = list(range(int(n), 0, -1))
    lat, codes = [], {}
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(u.hostname, u.port, path, body, cookie, jobs, lat, codes)
                           for _ in range(int(c))))
    secs = time.perf_counter() - t0
    lat.sort()
    pct = lambda p: round(lat[min(len(lat) - 1, int(len(lat) * p / 100))], 1)
    print(json.dumps({"requests": len(lat), "seconds": round(secs, 3),
                      "rps": round(len(lat) / secs, 1), "ms_p50": pct(50), "ms_p90": pct(90),
                      "ms_p99": pct(99), "ms_max": round(lat[-1], 1),
                      "status": {str(k): v for k, v in codes.items()}}))


asyncio.run(main())
