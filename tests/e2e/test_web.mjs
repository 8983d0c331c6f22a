// The web interface in a browser (Chromium through playwright-core): province
// hub 80 of the 2025 tree <- commune 25459, each daemon with its web server on
// 127.0.0.1. The clerk of 25459 enters dvcq-nam 2026 in the browser (a rule
// violation first, a hostile text throughout), the province sees it on its
// dashboard, drills down and exports; forged POSTs are refused; a third office
// with "login = required" asks for a login. Screenshots of every page and the
// daemons' logs go to BUILD_DIR/test-output/e2e/.
//
// node tests/e2e/test_web.mjs BUILD_DIR   (from tools/run-e2e.sh)
import fs from 'node:fs';
import path from 'node:path';
import {
    Abort, ROOT, TMP, atCleanup, bad, cleanup, expect, expectEq, fastSync, freshDir,
    lastLine, launchBrowser, need, ok, published, run, sanitizerReports, screenshot, setWeb, started,
    startDaemon, stopAll, summary, tail, waitFor,
} from './lib.mjs';

const BUILD = path.resolve(process.argv[2] || 'build/asan');
const OUT = freshDir(path.join(BUILD, 'test-output', 'e2e'));
const HUB = path.join(BUILD, 'tonghop-hub');
const NODE = path.join(BUILD, 'tonghop-node');

const FORM = 'dvcq-nam';
const PERIOD = process.env.E2E_PERIOD || '2026';
const PROVINCE = '80';
const COMMUNE = '25459';
const XSS = '<script>alert(1)</script><b>xss</b>';
const RAW_SCRIPT = '<script>alert(1)</script>';
const TT01_TYPED = '1.234';      // Vietnamese format, as the clerk types it
const TT01_NUMBER = 1234;
const PASSWORD = 'Mật-khẩu-đúng-2026';

// The complete valid report of tests/integration/test_consolidation.sh
// (report()), TT01, CCHC02, CCHC01 filled in by reportValues().
const REPORT_WORDS =
    'TT01=$1 TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 ' +
    'CCHC01=$3 CCHC02=$2 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 GS03=1 ' +
    'DC01=có KTR01=0 KTR02=0 DG01=tot ND01=Tốt ND02=Chưa ND03=Tiếp';

function reportValues(tt01, cchc02, cchc01, overrides = {}) {
    const v = {};
    for (const w of REPORT_WORDS.split(' ')) {
        const i = w.indexOf('=');
        v[w.slice(0, i)] = w.slice(i + 1).replace('$1', tt01).replace('$2', cchc02).replace('$3', cchc01);
    }
    return { ...v, ...overrides };
}

// ---- the form definition (config/forms/dvcq-nam.ini) -------------------------------

function readForm(file) {
    const indicators = {};
    const rules = {};
    let cur = null;
    let lastKey = null;
    for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
        if (/^\s*[;#]/.test(raw) || raw.trim() === '') continue;
        const sec = /^\[(\w+)\s*([^\]]*)\]/.exec(raw);
        if (sec) {
            cur = {};
            lastKey = null;
            if (sec[1] === 'indicator') indicators[sec[2].trim()] = cur;
            else if (sec[1] === 'rule') rules[sec[2].trim()] = cur;
            continue;
        }
        if (!cur) continue;
        if (/^\s/.test(raw) && lastKey) {          // continuation line
            cur[lastKey] += ' ' + raw.trim();
            continue;
        }
        const kv = /^([\w.]+)\s*=\s*(.*)$/.exec(raw);
        if (kv) {
            lastKey = kv[1];
            cur[lastKey] = kv[2].replace(/\s+;.*$/, '').trim();
        }
    }
    for (const ind of Object.values(indicators)) {
        ind.entered = ind.agg !== 'ratio';
        ind.options = (ind.options || '').split('|').map((o) => o.split(':')[0].trim()).filter(Boolean);
    }
    return { indicators, rules };
}

// ---- small helpers ---------------------------------------------------------------

let shotNo = 0;
const dialogs = [];
const rawPages = [];   // [{url, html}] of every page loaded in a browser

/** Screenshot with a running number, so that the files sort in visiting order;
    html: the page as received, saved next to it (NN-NAME.html). */
function shot(page, name, html) {
    shotNo++;
    const base = `${String(shotNo).padStart(2, '0')}-${name}`;
    if (typeof html === 'string') fs.writeFileSync(path.join(OUT, `${base}.html`), html);
    return screenshot(page, OUT, base);
}

/** A Vietnamese-format number ("1.234", "12,5") as a JS number, NaN if not one. */
function parseVN(s) {
    const t = String(s ?? '').trim();
    if (!/^-?\d{1,3}(\.\d{3})*(,\d+)?$|^-?\d+(,\d+)?$/.test(t)) return NaN;
    return Number(t.replace(/\./g, '').replace(',', '.'));
}

async function newPage(ctx) {
    const page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    page.setDefaultNavigationTimeout(30000);
    page.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()} at ${page.url()}`);
        d.dismiss().catch(() => {});
    });
    return page;
}

/** textContent of the first element matching sel, null if none (no waiting). */
function textOf(page, sel) {
    return page.evaluate((s) => document.querySelector(s)?.textContent ?? null, sel);
}

function attrOf(page, sel, name) {
    return page.evaluate(([s, n]) => document.querySelector(s)?.getAttribute(n) ?? null, [sel, name]);
}

function countOf(page, sel) {
    return page.evaluate((s) => document.querySelectorAll(s).length, sel);
}

/** The checks every page gets, then its screenshot: HTTP status, lang="vi",
    UTF-8 HTML, no injected markup of the hostile text (neither in the bytes
    received nor in the DOM). */
async function pageChecks(page, resp, name, status = 200) {
    const url = page.url();
    let html = null;
    if (!resp) {
        bad(`${name}: a response`, url);
    } else {
        expectEq(resp.status(), status, `${name}: HTTP ${status}`, url);
        const ct = resp.headers()['content-type'] || '';
        expect(/^text\/html/i.test(ct) && /charset=utf-8/i.test(ct), `${name}: text/html; charset=utf-8`, ct);
        try { html = await resp.text(); } catch (e) { bad(`${name}: body readable`, e.message); }
        if (html !== null) {
            rawPages.push({ url, html });
            expect(!html.includes(RAW_SCRIPT) && !html.includes('<b>xss</b>'),
                `${name}: the hostile text is escaped in the HTML`,
                () => html.slice(Math.max(0, html.indexOf('xss') - 300), html.indexOf('xss') + 100));
        }
    }
    expectEq(await page.evaluate(() => document.documentElement.getAttribute('lang')), 'vi', `${name}: lang="vi"`);
    const injected = await page.evaluate(() => ({
        b: [...document.querySelectorAll('b')].filter((e) => e.textContent === 'xss').length,
        script: [...document.querySelectorAll('script')].filter((e) => e.textContent.includes('alert(1)')).length,
    }));
    expect(injected.b === 0 && injected.script === 0, `${name}: no element made from the hostile text`, injected);
    await shot(page, name, html);
}

/** goto + pageChecks. */
async function visit(page, url, name, status = 200) {
    const resp = await page.goto(url);
    await pageChecks(page, resp, name, status);
    return resp;
}

/** Clicks sel and waits for the page it leads to. */
async function clickNav(page, sel) {
    const [resp] = await Promise.all([page.waitForNavigation(), page.click(sel)]);
    return resp;
}

/** Submits the form (its first submit button, or requestSubmit() when it has
    none) and waits for the page it leads to. */
async function submitNav(page, formSel) {
    const button = page.locator(`${formSel} button:not([type="button"]):not([type="reset"]), ${formSel} input[type="submit"]`).first();
    const go = (await button.count()) ? button.click() : page.locator(formSel).evaluate((f) => f.requestSubmit());
    const [resp] = await Promise.all([page.waitForNavigation(), go]);
    return resp;
}

/** A request outside the browser: no cookie unless given; redirects not followed. */
async function http(url, { method = 'GET', cookie, form } = {}) {
    const headers = {};
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(form).toString();
    }
    const r = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(20000) });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: r.status, headers: r.headers, text, json };
}

async function sessionCookie(ctx, base) {
    const c = (await ctx.cookies(base)).find((k) => k.name === 'th_session');
    return c ? { ...c, header: `th_session=${c.value}` } : null;
}

/** Waits until GET base/ answers (any status when anyStatus, else 200); stops
    early when the daemon dies. */
async function waitWeb(d, base, seconds, anyStatus = false) {
    d.lastAnswer = 'no answer';
    const r = await waitFor(async () => {
        if (!d.alive()) return { dead: true };
        try {
            const res = await fetch(`${base}/`, { redirect: 'manual', signal: AbortSignal.timeout(3000) });
            await res.arrayBuffer();
            d.lastAnswer = `HTTP ${res.status}${res.headers.get('location') ? ` -> ${res.headers.get('location')}` : ''}`;
            return anyStatus || res.status === 200 ? { status: res.status } : false;
        } catch (e) {
            d.lastAnswer = `no answer (${e.cause?.code || e.name})`;
            return false;
        }
    }, seconds, 300);
    return r && !r.dead ? r : null;
}

function daemonDetail(d) {
    const state = d.alive() ? 'still running' : `exited ${JSON.stringify(d.result)}`;
    return `GET / gave: ${d.lastAnswer}; ${d.name}: ${state}; last lines of ${d.log}:\n${tail(d.log, 12)}`;
}

/** {status, body} of a JSON endpoint through the browser context (its cookie). */
async function apiGet(ctx, url) {
    const r = await ctx.request.get(url, { maxRedirects: 0, failOnStatusCode: false });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: r.status(), headers: r.headers(), text, json };
}

/** Nothing stored according to /api/report: 404, or an empty document. */
function nothingStored(r) {
    if (r.status === 404) return true;
    if (r.status !== 200 || r.json === undefined) return false;
    const j = r.json;
    return j === null || (typeof j === 'object' && !j.rev && (!j.values || Object.keys(j.values).length === 0));
}

/** Fills #entry with values (CODE -> text), selects by option value. Returns
    the codes that have no field. */
async function fillEntry(page, values) {
    const missing = [];
    for (const [code, value] of Object.entries(values)) {
        const el = page.locator(`#entry [name="v_${code}"]`);
        if ((await el.count()) !== 1) {
            missing.push(code);
            continue;
        }
        const tag = await el.evaluate((e) => e.tagName.toLowerCase());
        if (tag === 'select') await el.selectOption({ value });
        else await el.fill(value);
    }
    return missing;
}

/** The values now in #entry (CODE -> value) for the given codes. */
function entryValues(page, codes) {
    return page.evaluate((cs) => Object.fromEntries(cs.map((c) => {
        const e = document.querySelector(`#entry [name="v_${c}"]`);
        return [c, e ? e.value : null];
    })), codes);
}

/** Differences between typed and shown values; numbers compare by value. */
function diffValues(wanted, shown, def) {
    const out = [];
    for (const [c, w] of Object.entries(wanted)) {
        const s = shown[c];
        const numeric = def.indicators[c] && ['int', 'decimal'].includes(def.indicators[c].type);
        const same = numeric ? parseVN(s) === parseVN(w) : s === w;
        if (!same) out.push(`${c}: typed ${JSON.stringify(w)}, shown ${JSON.stringify(s)}`);
    }
    return out;
}

// ---- the scenario ----------------------------------------------------------------

let browserP = null;
const browser = () => (browserP ??= launchBrowser());

async function setupPair(def) {
    for (const b of [HUB, NODE]) {
        need(fs.existsSync(b) && (fs.statSync(b).mode & 0o111) !== 0, `binary ${path.basename(b)} is built`, b);
    }
    const P = path.join(TMP, `p${PROVINCE}`);
    const C = path.join(TMP, `c${COMMUNE}`);
    let r = run(HUB, ['init', '--dir', P, '--unit', PROVINCE, '--bind', 'tcp://127.0.0.1:*']);
    need(r.code === 0, `init province hub ${PROVINCE}`, r.stdout + r.stderr);
    const pk = lastLine(r.stdout);
    setWeb(P, 0);
    fastSync(P);
    const pd = startDaemon('hub-p80', HUB, P, OUT);
    const pep = await published(P, 'collector');
    need(pep, 'the province publishes the address it bound (daemon.json)', () => daemonDetail(pd));
    r = run(NODE, ['init', '--dir', C, '--unit', COMMUNE, '--parent', pep, '--parent-key', pk]);
    need(r.code === 0, `init commune ${COMMUNE}`, r.stdout + r.stderr);
    const ck = lastLine(r.stdout);
    r = run(HUB, ['enroll', '--dir', P, '--unit', COMMUNE, '--key', ck]);
    need(r.code === 0, `enroll ${COMMUNE} at the province`, r.stdout + r.stderr);
    setWeb(C, 0);
    fastSync(C);
    const cd = startDaemon(`node-c${COMMUNE}`, NODE, C, OUT);
    const pweb = await published(P, 'web');
    const cweb = await published(C, 'web');
    need(pweb && cweb, 'both daemons publish their web address', () => daemonDetail(pweb ? cd : pd));
    const PBASE = pweb.replace(/\/$/, '');
    const CBASE = cweb.replace(/\/$/, '');
    need(await waitWeb(pd, PBASE, 30), `province web answers 200 on ${PBASE}/`, () => daemonDetail(pd));
    need(await waitWeb(cd, CBASE, 30), `commune web answers 200 on ${CBASE}/`, () => daemonDetail(cd));
    return { P, C, PBASE, CBASE, def };
}

async function scenario(def) {
    const env = await setupPair(def);
    const { C, P, PBASE, CBASE } = env;
    const b = await browser();
    const cctx = await b.newContext({ locale: 'vi-VN' });
    const pctx = await b.newContext({ locale: 'vi-VN' });
    const cpage = await newPage(cctx);
    const ppage = await newPage(pctx);
    const reportPath = `/report?form=${FORM}&period=${PERIOD}`;
    const reportUrl = CBASE + reportPath;
    let where = cpage;
    try {
        // a. the commune's home lists the form and period; the session cookie
        await visit(cpage, `${CBASE}/`, 'commune-home');
        const ck = await sessionCookie(cctx, CBASE);
        expect(ck && ck.httpOnly && ck.sameSite === 'Strict', 'commune: session cookie th_session, HttpOnly, SameSite=Strict', ck);
        need(await countOf(cpage, 'table#reports'), 'commune home: table#reports');
        const links = await cpage.$$eval('#reports a.open', (as) => as.map((a) => a.getAttribute('href')));
        const link = links.find((h) => {
            const u = new URL(h, CBASE);
            return u.pathname === '/report' && u.searchParams.get('form') === FORM && u.searchParams.get('period') === PERIOD;
        });
        need(link, `commune home: a.open link to ${FORM} ${PERIOD}`, links);
        let resp = await clickNav(cpage, `#reports a.open[href="${link}"]`);
        await pageChecks(cpage, resp, 'commune-report-empty');
        const u = new URL(cpage.url());
        expect(u.pathname === '/report' && u.searchParams.get('form') === FORM && u.searchParams.get('period') === PERIOD,
            'the link opens the report page', cpage.url());
        need(await countOf(cpage, 'form#entry'), 'report page: form#entry');
        expectEq((await attrOf(cpage, 'form#entry', 'method') || '').toLowerCase(), 'post', 'form#entry method="post"');
        expect(await attrOf(cpage, '#entry input[type="hidden"][name="csrf"]', 'value'), 'form#entry carries a csrf token');
        expect(await countOf(cpage, '#entry button[name="action"][value="draft"]') === 1 &&
               await countOf(cpage, '#entry button[name="action"][value="submit"]') === 1,
            'form#entry has the "draft" and "submit" buttons');
        expect((await textOf(cpage, '#entry button[value="submit"]') || '').includes('Nộp báo cáo') &&
               (await textOf(cpage, '#entry button[value="draft"]') || '').includes('Lưu nháp'),
            'the buttons read "Lưu nháp" and "Nộp báo cáo"');
        // one field of the right kind per entered indicator
        const kinds = await cpage.evaluate((codes) => Object.fromEntries(codes.map((c) => {
            const els = document.querySelectorAll(`#entry [name="v_${c}"]`);
            if (els.length !== 1) return [c, { n: els.length }];
            const e = els[0];
            return [c, { n: 1, tag: e.tagName.toLowerCase(), options: e.tagName === 'SELECT' ? [...e.options].map((o) => o.value) : null }];
        })), Object.keys(def.indicators));
        const wrong = [];
        for (const [code, ind] of Object.entries(def.indicators)) {
            const k = kinds[code];
            if (!ind.entered) continue;
            if (k.n !== 1) { wrong.push(`${code}: ${k.n} fields`); continue; }
            const want = { int: 'input', decimal: 'input', bool: 'select', enum: 'select', text: 'textarea' }[ind.type];
            if (k.tag !== want) wrong.push(`${code} (${ind.type}): <${k.tag}>, wanted <${want}>`);
            else if (ind.type === 'bool' && !(k.options.includes('có') && k.options.includes('không')))
                wrong.push(`${code}: options ${JSON.stringify(k.options)}`);
            else if (ind.type === 'enum' && k.options.filter(Boolean).sort().join('|') !== [...ind.options].sort().join('|'))
                wrong.push(`${code}: options ${JSON.stringify(k.options)}, wanted ${JSON.stringify(ind.options)}`);
        }
        expect(wrong.length === 0, `one field of the right kind per entered indicator of ${FORM}`, wrong.join('\n'));

        // b. a rule violation (R02) with a hostile text: rejected, nothing stored
        const r02 = def.rules.R02;
        const badValues = reportValues(TT01_TYPED, '12', '10', { ND01: XSS });
        const missing = await fillEntry(cpage, badValues);
        need(missing.length === 0, 'every field of the report can be filled', missing);
        await shot(cpage, 'commune-report-filled-invalid');
        resp = await clickNav(cpage, '#entry button[name="action"][value="submit"]');
        await pageChecks(cpage, resp, 'commune-report-rejected', 422);
        expectEq(resp?.request().method(), 'POST', 'the rejected submit is answered on the POST itself');
        const problems = await textOf(cpage, 'div.problems');
        expect(problems !== null && problems.includes(r02.message), 'div.problems lists the R02 message', problems);
        const ferrs = await cpage.$$eval('p.field-error', (ps) => ps.map((p) => ({ code: p.dataset.code, text: p.textContent })));
        expect(ferrs.some((f) => ['CCHC01', 'CCHC02'].includes(f.code) && f.text.includes(r02.message)),
            'p.field-error at CCHC01/CCHC02 with the R02 message', ferrs);
        const kept = diffValues(badValues, await entryValues(cpage, Object.keys(badValues)), def);
        expect(kept.length === 0, 'the typed values are kept on the rejected page', kept.join('\n'));
        expectEq(await cpage.locator('#entry [name="v_ND01"]').inputValue(), XSS, 'the hostile text is kept verbatim');
        let api = await apiGet(cctx, `${CBASE}/api/report?form=${FORM}&period=${PERIOD}`);
        expect(nothingStored(api), '/api/report: nothing stored after the rejected submit', api);
        let cli = run(NODE, ['show', '--dir', C, '--form', FORM, '--period', PERIOD, '--json']);
        expect(cli.code === 1 && /no report/.test(cli.stderr), 'CLI show: nothing stored after the rejected submit', cli);

        // c. corrected and submitted: stored as revision 1, the text stays text
        const goodValues = reportValues(TT01_TYPED, '9', '10', { ND01: XSS });
        await fillEntry(cpage, goodValues);
        await shot(cpage, 'commune-report-filled-valid');
        resp = await clickNav(cpage, '#entry button[name="action"][value="submit"]');
        await pageChecks(cpage, resp, 'commune-report-submitted');
        const post = resp?.request().redirectedFrom();
        const postStatus = post ? (await post.response())?.status() : null;
        expect(post && post.method() === 'POST' && postStatus === 303, 'the submit answers 303 to the report page', { post: post?.method(), postStatus });
        const back = new URL(cpage.url());
        expect(back.pathname === '/report' && back.searchParams.get('form') === FORM && back.searchParams.get('period') === PERIOD,
            'redirected back to the same report', cpage.url());
        const notice = await textOf(cpage, 'div.notice.ok');
        expect(notice !== null && /(^|\D)1(\D|$)/.test(notice), 'div.notice.ok with revision 1', notice);
        expectEq(await countOf(cpage, 'table#history tbody tr'), 1, 'table#history: one revision');
        const sync = await textOf(cpage, 'div#sync');
        expect(sync !== null && sync.trim() !== '', 'div#sync tells the sync state', sync);
        const nd01 = await cpage.locator('#entry [name="v_ND01"]').evaluate((e) => ({ text: e.textContent, value: e.value, b: e.querySelectorAll('b').length }));
        expect(nd01.text.includes('<b>xss</b>') && nd01.value === XSS && nd01.b === 0,
            'the text field shows the literal <b>xss</b>, no b element in it', nd01);
        api = await apiGet(cctx, `${CBASE}/api/report?form=${FORM}&period=${PERIOD}`);
        expect(api.status === 200 && api.json?.rev === 1 && api.json?.values?.TT01 === TT01_NUMBER &&
               api.json?.values?.CCHC02 === 9 && api.json?.values?.ND01 === XSS,
            `/api/report: rev 1 stored, TT01 = ${TT01_NUMBER}, ND01 verbatim`, api.text);
        expect(/json/i.test(api.headers['content-type'] || ''), '/api/report is JSON', api.headers['content-type']);
        cli = run(NODE, ['show', '--dir', C, '--form', FORM, '--period', PERIOD, '--json']);
        let shown;
        try { shown = JSON.parse(cli.stdout); } catch { shown = null; }
        expect(cli.code === 0 && shown?.rev === 1 && shown?.values?.ND01 === XSS, 'CLI show: the same revision 1', cli);

        // d. the province's dashboard
        where = ppage;
        const dash = `${PBASE}/hub?form=${FORM}&period=${PERIOD}`;
        const arrived = await waitFor(async () => {
            const r = await ppage.goto(dash);
            if (!r || r.status() !== 200) return false;
            const cls = await attrOf(ppage, `#completeness tr[data-unit="${COMMUNE}"]`, 'class');
            return cls && /\b(on_time|late)\b/.test(cls) ? cls : false;
        }, 30, 500);
        const presp = await ppage.goto(dash);
        await pageChecks(ppage, presp, 'province-dashboard');
        const clsNow = await attrOf(ppage, `#completeness tr[data-unit="${COMMUNE}"]`, 'class');
        expect(arrived, `dashboard: ${COMMUNE} on_time or late within 30 s`, `class now: ${clsNow}`);
        const pck = await sessionCookie(pctx, PBASE);
        expect(pck && pck.httpOnly && pck.sameSite === 'Strict', 'province: session cookie th_session, HttpOnly, SameSite=Strict', pck);
        expect(/\bmissing\b/.test(await attrOf(ppage, '#completeness tr[data-unit="25480"]', 'class') || ''),
            'dashboard: 25480 (never reports) is missing');
        expectEq((await textOf(ppage, '#rollup tr[data-code="TT01"] td.value'))?.trim(), TT01_TYPED,
            'dashboard: rollup TT01 = what the clerk typed');
        expectEq((await textOf(ppage, '#rollup tr[data-code="CCHC02"] td.value'))?.trim(), '9', 'dashboard: rollup CCHC02 = 9');
        const rollup = await apiGet(pctx, `${PBASE}/api/rollup?form=${FORM}&period=${PERIOD}`);
        const rcli = run(HUB, ['rollup', '--dir', P, '--form', FORM, '--period', PERIOD, '--format', 'json']);
        let rdoc;
        try { rdoc = JSON.parse(rcli.stdout); } catch { rdoc = null; }
        expect(rollup.status === 200 && rollup.json?.values?.TT01 === TT01_NUMBER && rdoc &&
               JSON.stringify(rollup.json.values) === JSON.stringify(rdoc.values),
            '/api/rollup: TT01 = 1234, the same values as the CLI rollup', { api: rollup.text.slice(0, 600), cli: rcli.stdout.slice(0, 600) });
        const compl = await apiGet(pctx, `${PBASE}/api/completeness?form=${FORM}&period=${PERIOD}`);
        const child = compl.json?.children?.find((c) => c.unit === COMMUNE);
        expect(compl.status === 200 && compl.json?.totals?.reported === 1 && child?.reported === 1,
            `/api/completeness: 1 reported, ${COMMUNE} among them`, compl.text.slice(0, 600));
        const exports = {};
        for (const fmt of ['xlsx', 'csv', 'html']) {
            const href = await attrOf(ppage, `a.export[data-format="${fmt}"]`, 'href');
            const eu = href ? new URL(href, PBASE) : null;
            if (expect(eu && eu.pathname === '/export' && eu.searchParams.get('format') === fmt &&
                       eu.searchParams.get('form') === FORM && eu.searchParams.get('period') === PERIOD,
                `dashboard: a.export link for ${fmt}`, href)) exports[fmt] = eu.href;
        }
        // the report as it stood at a date: the dashboard's form, then both snapshots
        expectEq(await countOf(ppage, 'form#export-as-of input[name="as_of"]'), 1, 'dashboard: an "as of" export form');
        const snap = (asOf) => http(`${PBASE}/export?form=${FORM}&period=${PERIOD}&format=csv${asOf ? `&as_of=${asOf}` : ''}`);
        const before = await snap('2020-01-01'), nowCsv = await snap('');
        expect(before.status === 200 && /"0\/\d+ đơn vị đã báo cáo/.test(before.text),
            'export as of 01/01/2020: nobody had reported', before.text.slice(0, 400));
        expect(nowCsv.status === 200 && /"1\/\d+ đơn vị đã báo cáo/.test(nowCsv.text),
            'export now: the commune has reported', nowCsv.text.slice(0, 400));
        expectEq((await snap('hôm-qua')).status, 400, 'export with a bad as_of: 400');
        // the commune sees the receipt
        const st = await waitFor(async () => {
            const r = await apiGet(cctx, `${CBASE}/api/status`);
            return r.status === 200 && r.json?.pending === 0 ? r : false;
        }, 15, 300);
        expect(st, 'commune /api/status: nothing pending once the province has the report',
            st ? '' : (await apiGet(cctx, `${CBASE}/api/status`)).text);
        where = cpage;
        await visit(cpage, `${CBASE}/status`, 'commune-status');
        const linkText = await textOf(cpage, 'div#link');
        expect(linkText !== null && linkText.trim() !== '', 'status page: div#link', linkText);
        const forms = await apiGet(cctx, `${CBASE}/api/forms`);
        expect(forms.status === 200 && Array.isArray(forms.json) && forms.json.some((f) => f.id === FORM),
            `/api/forms lists ${FORM}`, forms.text.slice(0, 300));

        // e. drill down, exports
        where = ppage;
        const drill = ppage.locator(`a.drill[href*="unit=${COMMUNE}"]`).first();
        need(await drill.count(), `dashboard: a.drill link to ${COMMUNE}`);
        resp = await Promise.all([ppage.waitForNavigation(), drill.click()]).then(([r]) => r);
        await pageChecks(ppage, resp, 'province-unit-25459');
        const du = new URL(ppage.url());
        expect(du.pathname === '/hub/unit' && du.searchParams.get('unit') === COMMUNE && du.searchParams.get('form') === FORM &&
               du.searchParams.get('period') === PERIOD, 'the drill link opens /hub/unit of the commune', ppage.url());
        const shownValues = await ppage.$$eval('#values tr[data-code]', (trs) => Object.fromEntries(
            trs.map((tr) => [tr.dataset.code, tr.querySelector('td.value')?.textContent.trim() ?? null])));
        expect(shownValues.TT01 === TT01_TYPED && shownValues.CCHC01 === '10' && shownValues.CCHC02 === '9' && shownValues.TT02 === '100',
            'unit page: the values as received', shownValues);
        const ndCell = await ppage.evaluate(() => {
            const td = document.querySelector('#values tr[data-code="ND01"] td.value');
            return td ? { text: td.textContent, b: td.querySelectorAll('b').length, script: td.querySelectorAll('script').length }
                : { missing: 'td.value', row: document.querySelector('#values tr[data-code="ND01"]')?.outerHTML ?? null };
        });
        expect(ndCell.text?.includes(XSS) && ndCell.b === 0 && ndCell.script === 0,
            'unit page: ND01 shown as literal text', ndCell);
        const ret = await ppage.evaluate(() => {
            const f = document.querySelector('form#return');
            if (!f) return null;
            const h = (n) => f.querySelector(`input[type="hidden"][name="${n}"]`)?.value ?? null;
            return { method: (f.getAttribute('method') || '').toLowerCase(), action: f.getAttribute('action'),
                reason: !!f.querySelector('textarea[name="reason"]'), form: h('form'), period: h('period'), unit: h('unit'), csrf: h('csrf') };
        });
        expect(ret && ret.method === 'post' && ret.action === '/hub/return' && ret.reason && ret.form === FORM &&
               ret.period === PERIOD && ret.unit === COMMUNE && ret.csrf,
            'unit page: form#return posts to /hub/return with reason, form, period, unit, csrf', ret);
        const wantType = {
            xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
            csv: 'text/csv',
            html: 'text/html',
        };
        for (const [fmt, href] of Object.entries(exports)) {
            const r = await pctx.request.get(href, { failOnStatusCode: false });
            const body = await r.body();
            const h = r.headers();
            const ct = h['content-type'] || '';
            expect(r.status() === 200 && ct.toLowerCase().startsWith(wantType[fmt]), `export ${fmt}: 200 ${wantType[fmt]}`,
                { status: r.status(), ct });
            if (fmt === 'xlsx') {
                expect(/^\s*attachment/i.test(h['content-disposition'] || ''), 'export xlsx: Content-Disposition attachment',
                    h['content-disposition']);
                expect(body.subarray(0, 4).toString('latin1') === 'PK\x03\x04', 'export xlsx: a zip (OOXML) file',
                    body.subarray(0, 16).toString('hex'));
            } else if (fmt === 'csv') {
                expect(body.toString('utf8').includes('TT01'), 'export csv: has the TT01 row', body.toString('utf8').slice(0, 400));
            } else {
                const t = body.toString('utf8');
                expect(t.includes(TT01_TYPED) && !t.includes(RAW_SCRIPT), 'export html: TT01 total, hostile text escaped',
                    t.slice(0, 400));
            }
        }
        if (exports.html) await visit(ppage, exports.html, 'province-export-html');

        // f. forged POSTs are refused; the page never carries the raw script
        where = cpage;
        resp = await cpage.goto(reportUrl);
        await pageChecks(cpage, resp, 'commune-report-before-forgery');
        const rowsBefore = await countOf(cpage, 'table#history tbody tr');
        const token = await attrOf(cpage, '#entry input[name="csrf"]', 'value');
        const cookie = (await sessionCookie(cctx, CBASE))?.header;
        need(token && cookie, 'a csrf token and a session cookie to forge with', { token, cookie });
        const forged = { ...reportValues('7', '9', '10'), action: 'submit' };
        const vform = (extra) => ({ ...Object.fromEntries(Object.entries(forged).map(([k, v]) => [k === 'action' ? k : `v_${k}`, v])), ...extra });
        let h = await http(reportUrl, { method: 'POST', form: vform({}) });
        expectEq(h.status, 403, 'POST without cookie nor csrf: 403');
        h = await http(reportUrl, { method: 'POST', cookie, form: vform({}) });
        expectEq(h.status, 403, 'POST with the cookie, without csrf: 403');
        h = await http(reportUrl, { method: 'POST', cookie, form: vform({ csrf: token.split('').reverse().join('') + 'x' }) });
        expectEq(h.status, 403, 'POST with the cookie and a wrong csrf: 403');
        h = await http(reportUrl, { method: 'POST', form: vform({ csrf: token }) });
        expectEq(h.status, 403, 'POST with a valid csrf token but no cookie: 403');
        // control: the same request with both passes the check (an invalid report, so 422)
        h = await http(reportUrl, { method: 'POST', cookie, form: { ...vform({ csrf: token }), v_CCHC02: '12' } });
        expectEq(h.status, 422, 'control: cookie + csrf pass the check (invalid values -> 422)', h.text.slice(0, 300));
        // request limits: a body over 256 KiB is refused before it is read
        h = await http(reportUrl, { method: 'POST', cookie, form: { ...vform({ csrf: token }), v_ND01: 'x'.repeat(300 * 1024) } });
        expectEq(h.status, 413, 'a 300 KiB POST is refused (413)', h.text.slice(0, 200));
        api = await apiGet(cctx, `${CBASE}/api/report?form=${FORM}&period=${PERIOD}`);
        expect(api.json?.rev === 1 && api.json?.values?.TT01 === TT01_NUMBER, 'nothing stored by the forged POSTs', api.text.slice(0, 300));
        resp = await cpage.goto(reportUrl);
        await pageChecks(cpage, resp, 'commune-report-after-forgery');
        expectEq(await countOf(cpage, 'table#history tbody tr'), rowsBefore, 'history unchanged by the forged POSTs');
        h = await http(reportUrl, { cookie });
        expect(h.status === 200 && h.text.includes('alert(1)') && !h.text.includes(RAW_SCRIPT),
            'the report page carries the hostile text, escaped', h.text.slice(0, 200));
        const rawHits = rawPages.filter((p) => p.html.includes(RAW_SCRIPT)).map((p) => p.url);
        expect(rawHits.length === 0, 'no page loaded carried the raw <script>alert(1)</script>', rawHits);
    } catch (e) {
        if (!(e instanceof Abort)) bad('scenario stopped by an error', e);
        await shot(where, 'failure-scenario').catch(() => {});
    } finally {
        await cctx.close().catch(() => {});
        await pctx.close().catch(() => {});
    }
}

// g. an office with "login = required"
async function loginScenario() {
    const L = path.join(TMP, 'login80');
    let r = run(HUB, ['init', '--dir', L, '--unit', PROVINCE, '--bind', 'tcp://127.0.0.1:*']);
    need(r.code === 0, 'init a second hub office 80 for the login', r.stdout + r.stderr);
    setWeb(L, 0, true);
    fastSync(L);
    const ini = fs.readFileSync(path.join(L, 'tonghop.ini'), 'utf8');
    need(/^\[web\][^[]*^listen = 127\.0\.0\.1:0\nlogin = required$/m.test(ini) &&
         (ini.match(/^login\s*=/gm) || []).length === 1,
        'tonghop.ini: [web] listen then "login = required", one login line', ini);
    r = run(HUB, ['user', 'add', '--dir', L, '--name', 'canbo'], { input: `${PASSWORD}\n` });
    need(r.code === 0, 'user add reads the password from stdin', r.stdout + r.stderr);
    const d = startDaemon('hub-login80', HUB, L, OUT);
    const lweb = await published(L, 'web');
    need(lweb, 'the login office publishes its web address', () => daemonDetail(d));
    const LBASE = lweb.replace(/\/$/, '');
    need(await waitWeb(d, LBASE, 30, true), `login office web answers on ${LBASE}/`, () => daemonDetail(d));

    let h = await http(`${LBASE}/`);
    const loc = h.headers.get('location');
    expect(h.status === 303 && loc && new URL(loc, LBASE).pathname === '/login', 'GET / without a session: 303 to /login',
        { status: h.status, loc });
    h = await http(`${LBASE}/hub?form=${FORM}&period=${PERIOD}`);
    expect(h.status === 303 && new URL(h.headers.get('location') || '/x', LBASE).pathname === '/login',
        'GET /hub without a session: 303 to /login', { status: h.status, loc: h.headers.get('location') });
    h = await http(`${LBASE}/api/status`);
    expect(h.status === 401 && /json/i.test(h.headers.get('content-type') || '') && h.json !== undefined,
        'GET /api/status without a session: 401 JSON', { status: h.status, ct: h.headers.get('content-type'), body: h.text.slice(0, 200) });

    const b = await browser();
    const ctx = await b.newContext({ locale: 'vi-VN' });
    const page = await newPage(ctx);
    try {
        let resp = await page.goto(`${LBASE}/`);
        await pageChecks(page, resp, 'login-page');
        expectEq(new URL(page.url()).pathname, '/login', 'the browser lands on /login');
        const f = await page.evaluate(() => {
            const fm = document.querySelector('form#login');
            return fm && { method: (fm.getAttribute('method') || '').toLowerCase(), user: !!fm.querySelector('input[name="user"]'),
                password: fm.querySelector('input[name="password"]')?.type ?? null,
                csrf: fm.querySelector('input[type="hidden"][name="csrf"]')?.value ?? null };
        });
        need(f && f.method === 'post' && f.user && f.password === 'password' && f.csrf,
            'form#login: post, user, password (hidden input), csrf', f);
        const ck = await sessionCookie(ctx, LBASE);
        expect(ck && ck.httpOnly && ck.sameSite === 'Strict', 'login office: session cookie th_session, HttpOnly, SameSite=Strict', ck);
        h = await http(`${LBASE}/login`, { method: 'POST', cookie: ck?.header, form: { user: 'canbo', password: PASSWORD } });
        expectEq(h.status, 403, 'POST /login without csrf: 403');

        await page.fill('#login [name="user"]', 'canbo');
        await page.fill('#login [name="password"]', `${PASSWORD}-sai`);
        resp = await submitNav(page, '#login');
        await pageChecks(page, resp, 'login-wrong-password', 401);
        expect((await textOf(page, 'div.problems')) !== null, 'wrong password: div.problems');
        const after = await sessionCookie(ctx, LBASE);
        h = await http(`${LBASE}/api/status`, { cookie: after?.header });
        expectEq(h.status, 401, 'still no access after a wrong password');

        await page.fill('#login [name="user"]', 'canbo');
        await page.fill('#login [name="password"]', PASSWORD);
        resp = await submitNav(page, '#login');
        await pageChecks(page, resp, 'login-ok');
        expect(new URL(page.url()).pathname !== '/login' &&
               (await countOf(page, 'table#reports, table#completeness')) > 0,
            'the right password gets in (home or dashboard visible)', page.url());
        const inCk = await sessionCookie(ctx, LBASE);
        h = await http(`${LBASE}/api/status`, { cookie: inCk?.header });
        expect(h.status === 200 && h.json?.unit === PROVINCE, '/api/status with the logged-in session: 200', h.text.slice(0, 200));
        h = await http(`${LBASE}/api/status`);
        expectEq(h.status, 401, '/api/status without the cookie: still 401');

        // login throttling: 5 failures for one name, then that name waits
        const ctx2 = await b.newContext({ locale: 'vi-VN' });
        const p2 = await newPage(ctx2);
        try {
            await p2.goto(`${LBASE}/login`);
            const codes = [];
            let last = null;
            for (let i = 0; i < 6; i++) {
                await p2.fill('#login [name="user"]', 'khach');
                await p2.fill('#login [name="password"]', `doan-mo-${i}`);
                last = await submitNav(p2, '#login');
                codes.push(last ? last.status() : 0);
            }
            expectEq(codes.join(','), '401,401,401,401,401,429', 'five failed logins for one name, then 429 for it');
            expect(/Đăng nhập sai quá nhiều lần\. Hãy thử lại sau \d+ phút\./.test((await textOf(p2, 'div.problems')) || ''),
                'the 429 page says to wait, in Vietnamese', await textOf(p2, 'div.problems'));
            await pageChecks(p2, last, 'login-throttled', 429);
            await p2.fill('#login [name="user"]', 'canbo');
            await p2.fill('#login [name="password"]', PASSWORD);
            const r3 = await submitNav(p2, '#login');
            expect(r3 && r3.status() !== 429 && new URL(p2.url()).pathname !== '/login',
                'another name still logs in meanwhile', { status: r3 && r3.status(), url: p2.url() });
        } finally {
            await ctx2.close().catch(() => {});
        }
    } catch (e) {
        if (!(e instanceof Abort)) bad('login scenario stopped by an error', e);
        await shot(page, 'failure-login').catch(() => {});
    } finally {
        await ctx.close().catch(() => {});
    }
}

// ---- main ---------------------------------------------------------------------------

async function main() {
    const def = readForm(path.join(ROOT, 'config', 'forms', `${FORM}.ini`));
    const entered = Object.entries(def.indicators).filter(([, i]) => i.entered);
    const required = entered.filter(([, i]) => i.required === 'yes').map(([c]) => c);
    const sample = reportValues('1', '1', '1');
    const uncovered = required.filter((c) => !(c in sample));
    need(required.length > 0 && uncovered.length === 0, `the test's report covers every required indicator of ${FORM}.ini`, uncovered);
    need(def.rules.R02?.expr === 'CCHC02 <= CCHC01' && def.rules.R02.message, 'rule R02 is CCHC02 <= CCHC01 with a message', def.rules.R02);

    try { await scenario(def); } catch (e) { if (!(e instanceof Abort)) bad('scenario setup failed', e); }
    try { await loginScenario(); } catch (e) { if (!(e instanceof Abort)) bad('login scenario failed', e); }
    expect(dialogs.length === 0, 'no dialog (alert) fired during the whole test', dialogs);
}

try {
    await main();
} catch (e) {
    if (!(e instanceof Abort)) bad('test stopped by an error', e);
}
const daemons = started();
await cleanup();   // browser, then SIGTERM to every daemon (SIGKILL after 10 s)
for (const d of daemons) {
    const res = d.result;
    expect(res && res.code === 0, `${d.name} stops cleanly on SIGTERM`, () => `${JSON.stringify(res)}\n${tail(d.log, 8)}`);
}
const dirty = sanitizerReports(daemons.map((d) => d.log));
expect(dirty.length === 0, "no sanitizer report in the daemons' logs", dirty);
summary();
