// Shared helpers of the browser tests (tests/e2e/test_*.mjs), in the style of
// tests/integration/lib.sh: each check prints "ok   - NAME" or "FAIL - NAME"
// (with indented details); summary() prints "N passed, N failed" and sets
// process.exitCode. Every daemon started through startDaemon() and every
// closer given to atCleanup() is stopped at the end, also on SIGINT/SIGTERM
// and on uncaught errors; the temporary directory TMP is removed then.
//
// Run from tools/run-e2e.sh BUILD_DIR (node tests/e2e/test_x.mjs BUILD_DIR).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the commands run there, as the integration tests do). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A temporary directory of this test, removed at the end. */
export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tonghop-e2e.'));

// ---- checks ----------------------------------------------------------------

let PASS = 0;
let FAIL = 0;
let stopping = false;   // interrupted: the counts are final, stay quiet

function indent(detail) {
    if (detail === undefined || detail === '') return;
    const text = typeof detail === 'string' ? detail : inspect(detail);
    for (const line of text.replace(/\s+$/, '').split('\n')) console.log(`       ${line}`);
}

function inspect(v) {
    if (v instanceof Error) {
        // playwright's messages carry the whole browser log: keep the message
        // and its call log, and the frames of the tests
        const msg = String(v.message).split('\nBrowser logs:')[0].replace(/\x1b\[[0-9;]*m/g, '');
        const frames = String(v.stack || '').split('\n').filter((l) => /^\s+at .*tests\/e2e\//.test(l));
        return [`${v.name}: ${msg}`, ...frames.map((l) => l.trim())].join('\n');
    }
    try { return JSON.stringify(v, null, 2); } catch { return String(v); }
}

export function ok(name) {
    if (stopping) return true;
    PASS++;
    console.log(`ok   - ${name}`);
    return true;
}

/** detail: text, any value (shown as JSON), or a function returning one. */
export function bad(name, detail) {
    if (stopping) return false;
    FAIL++;
    console.log(`FAIL - ${name}`);
    try { indent(typeof detail === 'function' ? detail() : detail); } catch (e) { indent(e); }
    return false;
}

/** ok(name) when cond is truthy, bad(name, detail) otherwise; returns !!cond. */
export function expect(cond, name, detail) {
    return cond ? ok(name) : bad(name, detail);
}

/** expect(actual === wanted) with both shown on failure. */
export function expectEq(actual, wanted, name, detail) {
    if (actual === wanted) return ok(name);
    const more = typeof detail === 'function' ? detail() : detail;
    return bad(`${name}: ${JSON.stringify(actual)} != ${JSON.stringify(wanted)}`, more);
}

export function counts() {
    return { passed: PASS, failed: FAIL };
}

/** Prints "N passed, N failed" and sets the exit status (1 if any failed). */
let summarized = false;
export function summary() {
    if (!summarized) console.log(`${PASS} passed, ${FAIL} failed`);
    summarized = true;
    process.exitCode = FAIL > 0 || PASS === 0 ? 1 : 0;
    return FAIL === 0;
}

/** Thrown by need(): the rest of a scenario makes no sense after this failure. */
export class Abort extends Error {}

/** expect(), and when it fails, throws Abort to skip what depends on it. */
export function need(cond, name, detail) {
    if (!expect(cond, name, detail)) throw new Abort(name);
    return cond;
}

// ---- processes ---------------------------------------------------------------

/** What the daemon running on data directory DIR publishes in DIR/daemon.json
    (node/runfile.h): FIELD "collector" (a hub's bound ZeroMQ endpoint) or
    "web" ("http://127.0.0.1:PORT/"). No port is chosen by a test: hubs bind
    tcp://127.0.0.1:*, the web listens on port 0, and the daemon says which
    port the kernel gave it. Resolves to null if nothing within `seconds`. */
export async function published(dir, field, seconds = 30) {
    return waitFor(() => {
        try {
            const v = JSON.parse(fs.readFileSync(path.join(dir, 'daemon.json'), 'utf8') || '{}')[field];
            return v || false;
        } catch {
            return false;
        }
    }, seconds, 100);
}

/** Runs BIN ARGS to completion (stdin = opts.input). {code, stdout, stderr};
    code is -1 when BIN could not be run, 128+N when killed by signal N. */
export function run(bin, args, opts = {}) {
    const r = spawnSync(bin, args, {
        cwd: ROOT,
        input: opts.input ?? '',
        encoding: 'utf8',
        env: { ...process.env, ...(opts.env || {}) },
        timeout: (opts.seconds ?? 120) * 1000,
        maxBuffer: 64 * 1024 * 1024,
    });
    let code = r.status;
    let stderr = r.stderr ?? '';
    if (r.error) {
        code = -1;
        stderr += `${stderr ? '\n' : ''}${r.error.message}`;
    } else if (code === null) {
        code = 128 + (os.constants.signals[r.signal] ?? 0);
        stderr += `${stderr ? '\n' : ''}killed by ${r.signal}`;
    }
    return { code, stdout: r.stdout ?? '', stderr };
}

/** The last line of a text that is not empty ('' if none). */
export function lastLine(text) {
    const lines = String(text).split('\n').map((l) => l.trim()).filter(Boolean);
    return lines.length ? lines[lines.length - 1] : '';
}

/** The last n lines of a file ('' if it cannot be read). */
export function tail(file, n = 15) {
    try {
        return fs.readFileSync(file, 'utf8').replace(/\s+$/, '').split('\n').slice(-n).join('\n');
    } catch {
        return '';
    }
}

const daemons = [];   // every daemon started, running or not

/** Starts "BIN run --dir DIR" with TONGHOP_LOG=info, stdout and stderr
    appended to OUTDIR/NAME.log. Returns a handle {name, pid, log, alive(),
    exited (a promise of {code, signal})}; it is stopped by stopAll(). */
export function startDaemon(name, bin, dir, outDir) {
    const log = path.join(outDir, `${name}.log`);
    const fd = fs.openSync(log, 'a');
    let child;
    try {
        child = spawn(bin, ['run', '--dir', dir], {
            cwd: ROOT,
            env: { ...process.env, TONGHOP_LOG: 'info' },
            stdio: ['ignore', fd, fd],
        });
    } finally {
        fs.closeSync(fd);
    }
    const d = { name, bin, dir, log, child, pid: child.pid, result: null };
    d.exited = new Promise((resolve) => {
        child.on('error', (e) => {
            d.result = d.result ?? { code: -1, signal: null, error: e.message };
            resolve(d.result);
        });
        child.on('exit', (code, signal) => {
            d.result = { code, signal };
            resolve(d.result);
        });
    });
    d.alive = () => d.result === null;
    daemons.push(d);
    return d;
}

/** SIGTERM, then waits; SIGKILL after `seconds` (10). Resolves to
    {code, signal, killed} (killed: it needed SIGKILL). */
export async function stopDaemon(d, seconds = 10) {
    if (!d.alive()) return { ...d.result, killed: false };
    try { d.child.kill('SIGTERM'); } catch { /* gone */ }
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), seconds * 1000); });
    let r = await Promise.race([d.exited, late]);
    clearTimeout(timer);
    if (r) return { ...r, killed: false };
    try { d.child.kill('SIGKILL'); } catch { /* gone */ }
    r = await d.exited;
    return { ...r, killed: true };
}

/** Stops every daemon still running; resolves to {NAME: result}. */
export async function stopAll(seconds = 10) {
    const res = await Promise.all(daemons.map(async (d) => [d.name, await stopDaemon(d, seconds)]));
    return Object.fromEntries(res);
}

/** The daemons started so far (handles of startDaemon). */
export function started() {
    return daemons.slice();
}

// ---- cleanup ------------------------------------------------------------------

const closers = [];
let cleaning = null;

/** fn (async allowed) runs at cleanup, before the daemons are stopped. */
export function atCleanup(fn) {
    closers.push(fn);
}

function rmTmp() {
    try { fs.rmSync(TMP, { recursive: true, force: true }); } catch { /* best effort */ }
}

/** Runs the closers (newest first, 15 s each at most), stops every daemon,
    removes TMP. Safe to call more than once. */
export function cleanup() {
    if (!cleaning) {
        cleaning = (async () => {
            for (const fn of closers.splice(0).reverse()) {
                let timer;
                await Promise.race([
                    Promise.resolve().then(fn).catch(() => {}),
                    new Promise((r) => { timer = setTimeout(r, 15000); }),
                ]);
                clearTimeout(timer);
            }
            await stopAll();
            rmTmp();
        })();
    }
    return cleaning;
}

process.on('exit', () => {
    // last resort, synchronous: nothing may outlive the test
    if (!summarized) summary();
    for (const d of daemons) if (d.alive()) try { d.child.kill('SIGKILL'); } catch { /* gone */ }
    rmTmp();
});
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
    process.on(sig, () => {
        bad(`interrupted by ${sig}`);
        stopping = true;
        cleanup().finally(() => {
            summary();
            process.exit(128 + n);
        });
    });
}
let crashed = false;
function onCrash(err) {
    if (crashed) return;
    crashed = true;
    bad('uncaught error', err);
    stopping = true;
    cleanup().finally(() => {
        summary();
        process.exit(1);
    });
}
process.on('uncaughtException', onCrash);
process.on('unhandledRejection', onCrash);

// ---- office configuration ------------------------------------------------------

/** Link timings for tests (seconds matter, not minutes), as fast_sync of
    tests/integration/lib.sh: edits DIR/tonghop.ini. */
export function fastSync(dir) {
    const file = path.join(dir, 'tonghop.ini');
    const text = fs.readFileSync(file, 'utf8')
        .replace(/^heartbeat_ms = .*$/gm, 'heartbeat_ms = 200')
        .replace(/^timeout_ms = .*$/gm, 'timeout_ms = 1500')
        .replace(/^retry_max_ms = .*$/gm, 'retry_max_ms = 800')
        .replace(/^poll_ms = .*$/gm, 'poll_ms = 100');
    fs.writeFileSync(file, text);
}

/** Sets "listen = 127.0.0.1:PORT" (listen: a port or "IP:PORT") in the [web]
    section of DIR/tonghop.ini. With login (true, or a mode string), also puts
    "login = required" (or "login = MODE") on the line right after it, in
    place of any login line of [web] (init writes "login = auto", and of two
    the last would win). */
export function setWeb(dir, listen, login) {
    const file = path.join(dir, 'tonghop.ini');
    const addr = typeof listen === 'number' || /^\d+$/.test(String(listen)) ? `127.0.0.1:${listen}` : String(listen);
    const mode = login === true ? 'required' : login || null;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const out = [];
    let section = '';
    let webSeen = false;
    let listenSet = false;
    const put = () => {
        out.push(`listen = ${addr}`);
        if (mode) out.push(`login = ${mode}`);
        listenSet = true;
    };
    for (const line of lines) {
        const m = /^\s*\[([^\]]*)\]/.exec(line);
        if (m) {
            if (section === 'web' && !listenSet) put();
            section = m[1].trim();
            out.push(line);
            if (section === 'web') webSeen = true;
            continue;
        }
        if (section === 'web' && /^listen\s*=/.test(line)) {
            if (!listenSet) put();
            continue;
        }
        if (section === 'web' && mode && /^login\s*=/.test(line)) continue;
        out.push(line);
    }
    if (section === 'web' && !listenSet) put();
    if (!webSeen) {
        if (out.length && out[out.length - 1] !== '') out.push('');
        out.push('[web]');
        put();
        out.push('');
    }
    fs.writeFileSync(file, out.join('\n'));
}

// ---- waiting, browser, files ----------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls the (async) predicate fn until it returns something truthy, at most
    `seconds`; an exception counts as "not yet". Resolves to that value, or
    to false on time-out. */
export async function waitFor(fn, seconds, everyMs = 200) {
    const end = Date.now() + seconds * 1000;
    for (;;) {
        try {
            const v = await fn();
            if (v) return v;
        } catch { /* not yet */ }
        if (Date.now() >= end) return false;
        await sleep(everyMs);
    }
}

/** Saves a full-page screenshot as OUTDIR/NAME.png; a failure is a failed check. */
export async function screenshot(page, outDir, name) {
    const file = path.join(outDir, `${name}.png`);
    try {
        await page.screenshot({ path: file, fullPage: true, timeout: 20000 });
        return file;
    } catch (e) {
        bad(`screenshot ${name}`, e.message);
        return null;
    }
}

/** Chromium through playwright-core (no downloaded browser): the Debian one,
    or $CHROMIUM. Closed at cleanup. */
export async function launchBrowser() {
    let pw;
    try {
        pw = await import('playwright-core');
    } catch (e) {
        throw new Error(`playwright-core is not installed (npm ci --prefix tests/e2e): ${e.message}`);
    }
    const browser = await pw.chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: ['--no-sandbox'],
        timeout: 60000,
        // the signals are ours (cleanup() closes the browser, then the daemons)
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
    });
    atCleanup(() => browser.close());
    return browser;
}

/** Empties and creates dir (the output directory of a test). */
export function freshDir(dir) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

/** No ASan/UBSan/LSan report in these files (as sanitizer_clean of lib.sh);
    returns the names of the files with one. */
export function sanitizerReports(files) {
    const re = /ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer/;
    return files.filter((f) => {
        try { return re.test(fs.readFileSync(f, 'utf8')); } catch { return false; }
    });
}
