// End-to-end tests of the real JHE Desktop window (Tauri + WebKitGTK), driven through
// tauri-driver → WebKitWebDriver, under Xvfb (see run.sh). The app runs its built-in demo
// exchange in-process; a second, separate sandbox process serves as the reference for row counts
// and for the wrong-API-key sign-in.
//
// Env: JHE_APP_BIN (the app, built with tauri/custom-protocol), JHE_SANDBOX_BIN, TAURI_DRIVER,
// JHE_TEST_EXPORT_DIR (also read by the app: "Choose folder…" hands out DIR/1, DIR/2, …),
// SCREENSHOT_DIR (default docs/screenshots).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Session, waitForPort } from './webdriver.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const APP = process.env.JHE_APP_BIN;
const SANDBOX = process.env.JHE_SANDBOX_BIN;
const DRIVER = process.env.TAURI_DRIVER || 'tauri-driver';
const EXPORT_DIR = process.env.JHE_TEST_EXPORT_DIR;
const SHOTS = process.env.SCREENSHOT_DIR || join(ROOT, 'docs/screenshots');
const PORT = Number(process.env.TAURI_DRIVER_PORT || 4444);
const STUDY = 30006;
const SLEEP_EPISODE = 'omh:sleep-episode:1.1';

let driver;
let sandbox;
let sandboxInfo;
/** The reference sandbox's data arguments (kept for its restart). */
let sandboxArgs = [];
let wd;
let demoHour;
/** The participant with sleep episodes whom the tests open. */
let sleeper;
const procs = [];

function startProcess(cmd, args, opts = {}) {
  // Its own process group, so teardown can end it with everything it started (tauri-driver →
  // WebKitWebDriver → the app).
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let log = '';
  p.stdout.on('data', (d) => (log += d));
  p.stderr.on('data', (d) => (log += d));
  p.log = () => log;
  procs.push(p);
  return p;
}

/** Pids of running processes whose executable is `bin` (the app, wherever in the tree it is). */
function pidsOf(bin) {
  const out = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === bin) out.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Ends every process the tests started, their process groups and any app left behind: an app
 * that outlives its session must never keep `node --test` (and CI) waiting on its output pipe. */
async function killAll() {
  const signal = (sig) => {
    for (const p of procs) {
      try {
        process.kill(-p.pid, sig);
      } catch {
        // already gone
      }
    }
    for (const pid of APP ? pidsOf(resolve(APP)) : []) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const end = Date.now() + 5_000;
  while (Date.now() < end && (procs.some((p) => p.exitCode === null && p.signalCode === null) || (APP && pidsOf(resolve(APP)).length))) {
    await sleep(100);
  }
  signal('SIGKILL');
  for (const p of procs) {
    p.stdout?.destroy();
    p.stderr?.destroy();
  }
}

async function shot(name) {
  mkdirSync(SHOTS, { recursive: true });
  // Let the last render settle (fonts, the chart's layout).
  await sleep(600);
  const file = join(SHOTS, `${name}.png`);
  // The X screen as a person sees it (WebKitWebDriver's own screenshot can hang under Xvfb).
  try {
    execFileSync('import', ['-window', 'root', file], { timeout: 30_000 });
  } catch {
    writeFileSync(file, await wd.screenshot());
  }
}

async function clickText(tag, text) {
  const el = await wd.waitForXPath(`//${tag}[normalize-space(.)=${JSON.stringify(text)}]`);
  await wd.click(el);
}

async function notBusy() {
  await wd.until(async () => (await wd.findAll('main[aria-busy="true"]')).length === 0, 'the screen finished loading', 60_000);
}

/** Rows of a CSV file (without the header), quotes respected. */
function csvRows(path) {
  const s = readFileSync(path, 'utf8');
  let rows = 0;
  let inQuotes = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === '\n' && !inQuotes) rows++;
  }
  if (s.length && !s.endsWith('\n')) rows++;
  return rows - 1;
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function checkExportFolder(dir, ext) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const data = manifest.files.filter((f) => f.role === 'data');
  assert.ok(data.length > 0, 'the export has data files');
  let rows = 0;
  for (const f of data) {
    const p = join(dir, f.name);
    assert.ok(f.name.endsWith(`.${ext}`), `${f.name} is .${ext}`);
    assert.equal(statSync(p).size, f.bytes, `${f.name}: size as in the manifest`);
    assert.equal(sha256(p), f.sha256, `${f.name}: SHA-256 as in the manifest`);
    if (ext === 'csv') assert.equal(csvRows(p), f.rows, `${f.name}: CSV rows as in the manifest`);
    rows += f.rows;
  }
  assert.equal(rows, manifest.total_rows, 'data rows add up to the manifest total');
  // Everything the server counted arrived; what was not written is listed as a problem.
  assert.equal(manifest.total_fetched, manifest.server_total, 'fetched = the server’s count');
  assert.equal(
    manifest.total_observations + manifest.problems_count,
    manifest.server_total - manifest.duplicates_dropped,
    'written + malformed = the server’s count',
  );
  assert.deepEqual(manifest.server_total_mismatches, []);
  return manifest;
}

/** `_summary=count` on the reference sandbox, signed in like the app (practitioner API key). */
async function sandboxCount(params) {
  const who = sandboxInfo.practitioners.find((p) => p.email === 'manager_mary@example.com');
  const tok = await fetch(`${sandboxInfo.url}/o/token/`, {
    method: 'POST',
    headers: { authorization: `Basic ${who.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  }).then((r) => r.json());
  const q = new URLSearchParams({ ...params, _summary: 'count' });
  const b = await fetch(`${sandboxInfo.url}/FHIR/R5/Observation?${q}`, {
    headers: { authorization: `Bearer ${tok.access_token}` },
  }).then((r) => r.json());
  return b.total;
}

describe('JHE Desktop', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    assert.ok(APP && existsSync(APP), `JHE_APP_BIN must point to the built app (got ${APP})`);
    assert.ok(SANDBOX && existsSync(SANDBOX), `JHE_SANDBOX_BIN must point to jhe-sandbox (got ${SANDBOX})`);
    assert.ok(EXPORT_DIR, 'JHE_TEST_EXPORT_DIR must be set');
    mkdirSync(EXPORT_DIR, { recursive: true });
    // The data ends at a fixed hour, so the sandbox started again later (same seed, same port)
    // serves the same data: the "network comes back" test.
    const end = new Date();
    end.setUTCMinutes(0, 0, 0);
    sandboxArgs = ['--end', end.toISOString().replace('.000Z', 'Z')];
    sandboxInfo = await startSandbox(['--port', '0']);
    driver = startProcess(DRIVER, ['--port', String(PORT)], { env: { ...process.env } });
    await waitForPort(`http://127.0.0.1:${PORT}`);
    await startApp();
  });

  after(async () => {
    // Bounded: a driver that does not answer within 15 s is killed with the rest.
    if (wd) await wd.quit(15_000);
    await killAll();
  });

  test('About says which version this is and lists the licences of the bundled software', async () => {
    await wd.waitFor('button.btn.demo');
    await wd.click(await wd.find('#open-about'));
    const version = await wd.until(
      () => wd.exec('const v = document.querySelector(".about-version"); return v ? v.textContent.trim() : null'),
      'the About facts',
      15_000,
    );
    assert.match(version, /^\d+\.\d+\.\d+/);
    const facts = await wd.exec('return document.querySelector(".about-facts").innerText');
    assert.match(facts, /web view \d/, `the webview version is reported: ${facts}`);
    assert.match(facts, /Server\s+not signed in|Server\s+Not signed in/i);
    await wd.click(await wd.find('#show-licenses'));
    const n = await wd.until(
      () => wd.exec('return document.querySelectorAll("#licenses li").length || null'),
      'the licence list (licenses.json under the CSP)',
      15_000,
    );
    assert.ok(n > 100, `bundled packages listed: ${n}`);
    await shot('about');
    await wd.click(await wd.find('#about-close'));
    await wd.until(async () => (await wd.findAll('.dialog.about')).length === 0 || null, 'the dialog closed', 5_000);
  });

  test('the sign-in screen offers the demo; the demo opens the studies', async () => {
    const demo = await wd.waitFor('button.btn.demo');
    await shot('sign-in');
    demoHour = Math.floor(Date.now() / 3_600_000);
    await wd.click(demo);
    await wd.waitFor(`[data-study="${STUDY}"]`, { timeout: 120_000 });
    await notBusy();
    const banner = await wd.exec('return document.body.innerText');
    assert.match(banner, /Your studies/);
    assert.match(banner, /Demo/i, 'the demo is labelled as demo data');
    await shot('studies');
  });

  test(`study ${STUDY}: the participants table sorts and searches`, async () => {
    await wd.click(await wd.find(`[data-study="${STUDY}"]`));
    await wd.waitFor('[data-pid]', { timeout: 120_000 });
    await notBusy();
    await shot('study-overview');
    const count = async () => (await wd.findAll('[data-pid]')).length;
    const before = await count();
    assert.ok(before >= 5, `participants listed (${before})`);

    // Who stopped uploading is answered without scrolling sideways at 1280×800.
    const inView = await wd.exec(
      'return ["name", "days", "last", "first"].map(k => { const r = document.querySelector(`button.sort[data-sort="${k}"]`).getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; })',
    );
    assert.deepEqual(inView, [true, true, true, true], 'name and upload columns in view');
    // The demo has participants to nudge: three who stopped uploading (5, 12, 30 days ago) and one
    // who never uploaded, in the summary boxes and in the "need attention" list.
    const box = (k) => wd.exec(`return Number(document.querySelector('.summary .tile[data-box="${k}"] strong').textContent.replace(/,/g, ""))`);
    assert.ok((await box('stale')) >= 3, `stopped uploading: ${await box('stale')}`);
    assert.ok((await box('never')) >= 1, `never uploaded: ${await box('never')}`);
    const attention = await wd.exec('const a = document.querySelector(".attention"); return a ? a.innerText : ""');
    assert.match(attention, /need attention/);
    assert.match(attention, /(no data|never|stopped|no upload)/i, `the attention list says why: ${attention}`);
    // A summary box filters the table: "with consent pending" shows exactly that many, again shows all.
    const showing = () => wd.exec('return Number(/Showing ([\\d,]+) of/.exec(document.body.innerText)[1].replace(/,/g, ""))');
    const all = await showing();
    const n = Number(await wd.exec('return document.querySelector(\'.summary .tile[data-box="pending"] strong\').textContent.replace(/,/g, "")'));
    await wd.click(await wd.find('.summary .tile[data-box="pending"]'));
    await wd.until(async () => (await showing()) === n || null, 'the box filters the table', 10_000);
    await wd.click(await wd.find('.summary .tile[data-box="pending"]'));
    await wd.until(async () => (await showing()) === all || null, 'clicked again: everyone', 10_000);

    // Who stopped uploading longest ago comes first when sorted by "Last upload".
    await wd.click(await wd.find('button.sort[data-sort="days"]'));
    const uploads = await wd.exec(`return [...document.querySelectorAll("[data-pid]")]
      .sort((a, b) => Number(a.getAttribute("aria-rowindex")) - Number(b.getAttribute("aria-rowindex")))
      .map((r) => ({ stale: r.classList.contains("stale"), text: r.children[2].textContent.trim() }));`);
    // "Never" (no upload at all) goes last, as rows without a value do in either direction.
    const daysOf = (t) => (/never/i.test(t) ? null : /today/i.test(t) ? 0 : /yesterday/i.test(t) ? 1 : Number((/(\d+)/.exec(t) ?? [0, NaN])[1]));
    const upDays = uploads.map((u) => daysOf(u.text));
    const firstNever = upDays.indexOf(null);
    const sorted = firstNever < 0 ? upDays : upDays.slice(0, firstNever);
    assert.ok(firstNever < 0 || upDays.slice(firstNever).every((d) => d === null), `"Never" last: ${JSON.stringify(uploads)}`);
    assert.ok(sorted.every((d) => !Number.isNaN(d)), `every upload cell reads as days: ${JSON.stringify(uploads)}`);
    assert.deepEqual(sorted, [...sorted].sort((a, b) => b - a), `longest without upload first: ${JSON.stringify(uploads)}`);
    assert.ok(uploads[0].stale, 'the first row is flagged as stale');

    const ids = () => wd.exec('return [...document.querySelectorAll("[data-pid]")].map(e => Number(e.dataset.pid))');
    const sortId = await wd.find('button.sort[data-sort="id"]');
    await wd.click(sortId);
    const header = () => wd.exec('return document.querySelector("button.sort[data-sort=id]").closest("[role=columnheader]").getAttribute("aria-sort")');
    const s1 = await header();
    const asc = await ids();
    await wd.click(await wd.find('button.sort[data-sort="id"]'));
    const s2 = await header();
    const desc = await ids();
    assert.notEqual(s1, s2, 'aria-sort changes');
    assert.deepEqual([...asc].sort((a, b) => a - b), asc.slice().sort((a, b) => a - b));
    assert.deepEqual(desc, [...desc].sort((a, b) => (s2 === 'descending' ? b - a : a - b)), 'rows follow the sort');

    // Search for one participant by name.
    const name = await wd.exec('return document.querySelector("[data-open]").textContent.trim()');
    await wd.type(await wd.find('#participant-search'), name);
    await wd.until(async () => (await count()) < before, 'the search filters the table');
    const names = await wd.exec('return [...document.querySelectorAll("[data-open]")].map(e => e.textContent.trim())');
    assert.ok(names.includes(name), `${name} is found`);
  });

  let patientId;
  test('a participant shows charts (SVG from Rust) and stats, their sleep episodes too', async () => {
    // Someone who consented to the sleep episode and has nights of it: the first such row.
    await wd.exec(
      'const e = document.querySelector("#participant-search"); e.value = ""; e.dispatchEvent(new Event("input", { bubbles: true })); return true',
    );
    await wd.until(async () => (await wd.findAll('[data-pid]')).length > 1 || null, 'everyone listed again', 10_000);
    sleeper = await wd.exec(`const heads = [...document.querySelectorAll(".thead [role=columnheader]")];
      const k = heads.findIndex((h) => h.querySelector('button.sort[data-sort="type:${SLEEP_EPISODE}"]'));
      if (k < 0) return null;
      const row = [...document.querySelectorAll("[data-pid]")].find((r) => { const c = r.children[k]; return c && c.classList.contains("consent-consented") && Number(c.textContent.replace(/[^0-9]/g, "")) > 0; });
      return row ? Number(row.dataset.pid) : null;`);
    assert.ok(sleeper, 'a participant of the demo has sleep episodes');
    const btn = await wd.find(`[data-open="${sleeper}"]`);
    patientId = sleeper;
    await wd.click(btn);
    await wd.waitFor('article.type-card svg', { timeout: 60_000 });
    await notBusy();
    // The sleep episode (a type JHE's own demo seeds) has its title and a chart, not raw codes or zeros.
    const sleep = await wd.exec(`const a = document.querySelector('article.type-card[data-code="${SLEEP_EPISODE}"]');
      return a ? { title: a.querySelector("h2")?.textContent.trim(), svg: !!a.querySelector("svg"), text: a.innerText } : null;`);
    assert.ok(sleep, 'the participant has a sleep-episode card');
    assert.match(sleep.title, /^Sleep episode/);
    assert.ok(sleep.svg, `the sleep-episode card shows a chart: ${sleep.text}`);
    assert.doesNotMatch(sleep.text, /could not be drawn|not summarised/);
    // The glucose card reads as a clinician expects: time in ranges and the daily pattern (AGP).
    const cgm = await wd.exec(`const a = document.querySelector('article.type-card[data-code="omh:blood-glucose:4.0"]');
      return a ? { bands: a.querySelectorAll(".bands .band").length, agp: !!a.querySelector("figure.profile svg polygon"), caption: a.querySelector("figure.profile figcaption")?.textContent ?? "" } : null;`);
    assert.ok(cgm, 'the participant has a glucose card');
    assert.ok(cgm.bands >= 2, `time in ranges drawn: ${JSON.stringify(cgm)}`);
    assert.ok(cgm.agp, 'the daily pattern (AGP) is drawn');
    assert.match(cgm.caption, /^All \d+ days laid over one day/);
    const charts = await wd.exec(
      'return [...document.querySelectorAll("article.type-card")].map(a => ({code: a.dataset.code, svg: !!a.querySelector("svg"), texts: a.querySelectorAll("svg text").length, lines: a.querySelectorAll("svg polyline, svg rect").length}))',
    );
    assert.ok(charts.length >= 2, `cards: ${JSON.stringify(charts)}`);
    const drawn = charts.filter((c) => c.svg);
    assert.ok(drawn.length >= 1, 'at least one chart is drawn');
    for (const c of drawn) assert.ok(c.texts > 3 && c.lines > 0, `chart ${c.code} has axis labels and data`);
    await shot('participant');
    await wd.exec('document.querySelector("article.type-card figure.profile").scrollIntoView({ block: "center" }); return true');
    await shot('participant-agp');
    await wd.exec('window.scrollTo(0, 0); document.querySelector("main")?.scrollTo?.(0, 0); return true');

    // The raw readings of the first type, paged from Rust (get_rows).
    const show = await wd.waitForXPath('(//article[contains(@class,"type-card")]//button[starts-with(normalize-space(.),"Show all")])[1]');
    await wd.click(show);
    await wd.waitFor('.readings [role="row"][aria-rowindex="2"]', { timeout: 30_000 });
    const cells = await wd.exec(
      'return [...document.querySelector(".readings [role=row][aria-rowindex=\'2\']").children].map(c => c.textContent.trim())',
    );
    assert.ok(cells.length >= 2 && /\d{4}-\d\d-\d\d/.test(cells[0]), `a reading with its time: ${JSON.stringify(cells)}`);
    await wd.click(show);
  });

  test('export the participant to CSV', async () => {
    await wd.click(await wd.find('#export-participant'));
    await wd.waitFor('.dialog form');
    await wd.click(await wd.find('input[name="format"][value="csv"]'));
    await wd.click(await wd.find('input[name="dates"]'));
    await clickText('button', 'Choose folder…');
    await wd.until(async () => (await wd.text(await wd.find('#export-folder'))).includes(EXPORT_DIR), 'the folder is chosen');
    await shot('export-dialog');
    await wd.click(await wd.find('#export-start'));
    await wd.waitFor('.export-done', { timeout: 180_000 });
    await shot('export-done');
    const dir = join(EXPORT_DIR, '1');
    const m = checkExportFolder(dir, 'csv');
    assert.deepEqual(m.filters.patient_ids, [patientId]);
    const ref = await sandboxCount({ patient: String(patientId), 'patient._has:Group:member:_id': String(STUDY) });
    if (Math.floor(Date.now() / 3_600_000) === demoHour) assert.equal(m.server_total, ref, 'rows match the reference sandbox');
    await clickText('button', 'Close');
  });

  test('export the study to Parquet', async () => {
    await clickText('button', 'Back to the study').catch(async () => {
      await wd.click(await wd.find('button.back'));
    });
    await wd.waitFor('#export-study', { timeout: 60_000 });
    await wd.click(await wd.find('#export-study'));
    await wd.waitFor('.dialog form');
    await wd.click(await wd.find('input[name="format"][value="parquet"]'));
    await wd.click(await wd.find('input[name="dates"]'));
    await clickText('button', 'Choose folder…');
    await wd.until(async () => (await wd.text(await wd.find('#export-folder'))).includes(EXPORT_DIR), 'the folder is chosen');
    await wd.click(await wd.find('#export-start'));
    // Progress streams from Rust through a Channel: the bar moves before the export ends.
    const progress = await wd.until(
      () => wd.exec('const b = document.querySelector("#export-bar"); return b && b.value > 0 ? [b.value, b.max] : (document.querySelector(".export-done") ? "done" : null)'),
      'export progress',
      600_000,
    );
    assert.ok(Array.isArray(progress), `progress events arrived before the end (${JSON.stringify(progress)})`);
    await wd.waitFor('.export-done', { timeout: 600_000 });
    const dir = join(EXPORT_DIR, '2');
    const m = checkExportFolder(dir, 'parquet');
    assert.equal(m.study_id, STUDY);
    const ref = await sandboxCount({ 'patient._has:Group:member:_id': String(STUDY) });
    if (Math.floor(Date.now() / 3_600_000) === demoHour) assert.equal(m.server_total, ref, 'rows match the reference sandbox');
    else console.log('# the hour changed between the two sandboxes started: reference count skipped');
    assert.ok(readdirSync(dir).includes('data_dictionary.csv'));
    await clickText('button', 'Close');
  });

  /** Waits for "Report saved", then reads the file the app wrote. */
  async function writtenReport() {
    await wd.waitFor('.report-done', { timeout: 300_000 });
    const path = (await wd.exec('return document.querySelector(".report-done .report-path").textContent.trim()')).trim();
    assert.ok(path.startsWith(EXPORT_DIR), `the report is where the dialog put it: ${path}`);
    const html = readFileSync(path, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html, /<script|src="http|href="http/i, 'self-contained, no scripts');
    assert.equal(statSync(path).mode & 0o777, 0o600, 'readable by this user only');
    return html;
  }

  test('a participant the attention list flags shows time in range and the AGP, and their report is written', async () => {
    await wd.waitFor('.attention-list li[data-attention]', { timeout: 60_000 });
    const flagged = await wd.exec(`const li = [...document.querySelectorAll(".attention-list li[data-attention]")].find((l) => /no upload/i.test(l.textContent));
      return li ? { id: Number(li.dataset.attention), name: li.querySelector("button").textContent.trim() } : null;`);
    assert.ok(flagged, 'someone is flagged for not uploading');
    await wd.click(await wd.find(`.attention-list li[data-attention="${flagged.id}"] button`));
    await wd.waitFor('article.type-card[data-code="omh:blood-glucose:4.0"] .bands', { timeout: 60_000 });
    await notBusy();
    const cgm = await wd.exec(`const a = document.querySelector('article.type-card[data-code="omh:blood-glucose:4.0"]');
      return { legend: a.querySelector(".band-legend").innerText, metrics: [...a.querySelectorAll(".metrics .metric")].map((m) => m.innerText.replace(/\\s+/g, " ").trim()), agp: !!a.querySelector("figure.profile svg") };`);
    assert.match(cgm.legend, /In range: 70–180\s*[\d.]+ %/, `the TIR bar with its values: ${cgm.legend}`);
    assert.ok(cgm.metrics.some((m) => /^GMI [\d.]+ ?%/.test(m)), `GMI shown: ${JSON.stringify(cgm.metrics)}`);
    assert.ok(cgm.agp, 'the AGP is drawn');
    await wd.click(await wd.find('#write-report'));
    const html = await writtenReport();
    await shot('participant-report-written');
    assert.ok(html.includes(flagged.name), 'the report names the participant');
    assert.match(html, /Daily pattern \(AGP\)/);
    assert.match(html, /In range: 70–180/);
    assert.match(html, /Data quality/);
    assert.match(html, /<svg/);
  });

  test('the study report holds every participant', async () => {
    await wd.click(await wd.find('button.back'));
    await wd.waitFor('#write-report', { timeout: 60_000 });
    const ids = await wd.exec('return [...document.querySelectorAll("[data-pid]")].map(e => Number(e.dataset.pid))');
    await wd.click(await wd.find('#write-report'));
    const html = await writtenReport();
    assert.match(html, /study report/);
    assert.match(html, /\(live\)/);
    for (const id of ids) assert.ok(html.includes(`<td class="num">${id}</td>`), `participant ${id} is in the report`);
  });

  test('the exported folder opens offline and shows the chart again', async () => {
    await clickText('button', 'Sign out');
    await wd.waitFor('button.btn.demo');
    await clickText('button', 'Open an exported file or folder…');
    await wd.waitFor('[data-pid]', { timeout: 60_000 });
    await notBusy();
    const text = await wd.exec('return document.body.innerText');
    assert.match(text, /Offline|offline|files/);
    await shot('offline-study');
    // A report from the files alone, with the export's data-quality findings.
    await wd.click(await wd.find('#write-report'));
    const studyReport = await writtenReport();
    assert.match(studyReport, /export opened offline/);
    assert.match(studyReport, /Data quality/);
    await wd.type(await wd.find('#participant-search'), String(patientId));
    const open = await wd.waitFor(`[data-open="${patientId}"]`);
    await wd.click(open);
    await wd.waitFor('article.type-card svg', { timeout: 60_000 });
    await notBusy();
    await shot('offline-participant');
    // The same analysis from the files: time in ranges, the AGP, and the participant's report.
    const cgm = await wd.exec(`const a = document.querySelector('article.type-card[data-code="omh:blood-glucose:4.0"]');
      return a ? { legend: a.querySelector(".band-legend")?.innerText ?? "", agp: !!a.querySelector("figure.profile svg") } : null;`);
    assert.ok(cgm, 'the glucose card offline');
    assert.match(cgm.legend, /In range: 70–180\s*[\d.]+ %/, `offline TIR: ${cgm.legend}`);
    assert.ok(cgm.agp, 'the AGP offline');
    await wd.click(await wd.find('#write-report'));
    const report = await writtenReport();
    assert.match(report, /export opened offline/);
    assert.match(report, /Daily pattern \(AGP\)/);
    assert.ok(report.includes(`Participant ${patientId}`), 'offline, the participant is named by id');
    await clickText('button', 'Close files');
    await wd.waitFor('button.btn.demo');
  });

  test('an encrypted export is one .tar.age file that opens offline only with its passphrase', async () => {
    const pass = 'a passphrase for the e2e';
    await wd.click(await wd.find('button.btn.demo'));
    await wd.waitFor(`[data-study="${STUDY}"]`, { timeout: 120_000 });
    await wd.click(await wd.find(`[data-study="${STUDY}"]`));
    await wd.waitFor('#export-study', { timeout: 120_000 });
    await notBusy();
    await wd.click(await wd.find('#export-study'));
    await wd.waitFor('.dialog form');
    await wd.click(await wd.find('input[name="encrypt"]'));
    await wd.type(await wd.waitFor('input[name="passphrase"]'), pass);
    await wd.type(await wd.find('input[name="passphrase-again"]'), pass);
    await clickText('button', 'Choose folder…');
    await wd.until(async () => (await wd.text(await wd.find('#export-folder'))).includes(EXPORT_DIR), 'the folder is chosen');
    await shot('export-encrypted');
    await wd.click(await wd.find('#export-start'));
    await wd.waitFor('#export-sealed-note', { timeout: 600_000 });
    await shot('export-encrypted-done');
    // The third folder chosen (after the participant's CSV and the study's Parquet): one file.
    const dir = join(EXPORT_DIR, '3');
    const files = readdirSync(dir);
    assert.equal(files.length, 1, `one file and nothing else: ${files}`);
    assert.match(files[0], new RegExp(`^study-${STUDY}_.*\\.tar\\.age$`));
    const file = join(dir, files[0]);
    assert.ok(readFileSync(file).subarray(0, 22).toString() === 'age-encryption.org/v1\n', 'an age file');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'readable by this user only');
    await clickText('button', 'Close');
    await clickText('button', 'Sign out');
    await wd.waitFor('button.btn.demo');

    await clickText('button', 'Open an exported file or folder…');
    const input = await wd.waitFor('#open-passphrase', { timeout: 60_000 });
    assert.match(await wd.text(await wd.find('#unlock')), /is encrypted/);
    await wd.type(input, 'not the passphrase');
    await wd.click(await wd.find('#open-passphrase-go'));
    await wd.waitFor('#unlock-wrong', { timeout: 60_000 });
    await shot('open-encrypted-wrong');
    await wd.type(await wd.find('#open-passphrase'), pass);
    await wd.click(await wd.find('#open-passphrase-go'));
    await wd.waitFor('[data-pid]', { timeout: 60_000 });
    await notBusy();
    assert.match(await wd.exec('return document.querySelector(".banner.offline").innerText'), /\.tar\.age/);
    await shot('offline-encrypted');
    await clickText('button', 'Close files');
    await wd.waitFor('button.btn.demo');
  });

  test('a wrong API key shows the plain error', async () => {
    await wd.type(await wd.find('#server-url'), sandboxInfo.url);
    const useKey = await wd.findAll('#api-key');
    if (useKey.length === 0) await clickText('button', 'Use an API key');
    await wd.type(await wd.waitFor('#api-key'), 'bm90LWEtcmVhbC1rZXk6bm9wZQ==');
    await clickText('button', 'Sign in');
    const err = await wd.until(async () => {
      const t = await wd.exec('return document.body.innerText');
      return /Sign-in failed/.test(t) ? t : null;
    }, 'the sign-in error', 60_000);
    assert.match(err, /What to do/);
    await shot('sign-in-error');
  });

  test('the right API key signs in to the sandbox and opens its study', async () => {
    // The same form, now with manager_mary's real practitioner API key for the external sandbox.
    const who = sandboxInfo.practitioners.find((p) => p.email === 'manager_mary@example.com');
    await wd.exec(
      'const e = document.querySelector("#api-key"); e.value = ""; e.dispatchEvent(new Event("input", { bubbles: true })); return true',
    );
    await wd.type(await wd.find('#api-key'), who.apiKey);
    await clickText('button', 'Sign in');
    await wd.waitFor(`[data-study="${STUDY}"]`, { timeout: 120_000 });
    await notBusy();
    const text = await wd.exec('return document.body.innerText');
    assert.match(text, /Your studies/);
    assert.doesNotMatch(text, /Demo data/, 'a real sign-in is not labelled as demo data');
    await wd.click(await wd.find(`[data-study="${STUDY}"]`));
    await wd.waitFor('[data-pid]', { timeout: 120_000 });
    await notBusy();
    const rows = (await wd.findAll('[data-pid]')).length;
    assert.ok(rows >= 5, `participants of the signed-in server listed (${rows})`);
    // The study opened is saved on this computer in the background (its encrypted copy).
    await wd.waitFor('#remove-copy', { timeout: 180_000 });
    const status = await wd.exec('return document.querySelector(".copy-status").innerText');
    assert.match(status, /Saved on this computer for offline use · last synced just now/);
    assert.match(status, /\+[\d,]+ readings from \d+ participants, 0 removed/);
  });

  // The keychain is the real one: run.sh starts GNOME Keyring's Secret Service in the test's D-Bus
  // session, and the app (a release-like build) keeps its sign-in there.
  test('restarted after the sign-in, the app continues as ManagerMary Richmond without the key; after "Sign out" it does not', async () => {
    const text = () => wd.exec('return document.body.innerText');
    assert.doesNotMatch(await text(), /could not be kept/, 'the sign-in was kept in the keychain');
    await restartApp();
    const go = await wd.waitFor('#continue-sign-in', { timeout: 60_000 });
    const offered = await text();
    // The real JHE seed names her "ManagerMary Richmond" (first name "ManagerMary").
    assert.match(offered, /Continue as ManagerMary Richmond/);
    assert.match(offered, new RegExp(sandboxInfo.url.replace(/^https?:\/\//, '').replace(/[.]/g, '\\.')));
    assert.equal((await wd.findAll('#api-key')).length, 0, 'no key is asked for');
    await shot('continue-as');
    await wd.click(go);
    await wd.waitFor(`[data-study="${STUDY}"]`, { timeout: 120_000 });
    await notBusy();
    assert.match(await text(), /Your studies/);

    await clickText('button', 'Sign out');
    // The server's study is kept on this computer: keep it (the next test opens it offline).
    await wd.click(await wd.waitFor('#signout-keep'));
    await wd.waitFor('#server-url');
    await restartApp();
    const url = await wd.waitFor('#server-url', { timeout: 60_000 });
    // The app asked its keychain by now (the address of the last server is filled in after it).
    await wd.until(async () => (await wd.exec('return document.querySelector("#server-url").value')) || null, 'the last address', 15_000);
    await sleep(500);
    assert.equal((await wd.findAll('#continue-sign-in')).length, 0, 'after "Sign out" nothing is continued');
    assert.ok(url);
  });

  test('with the server gone, the saved study opens offline, marked so; when it is back with new data, the study gets a badge and a notification', async () => {
    const text = () => wd.exec('return document.body.innerText');
    // Cut the network: the server stops.
    await stopSandbox();
    await restartApp();
    await wd.click(await wd.waitFor(`[data-copy="${STUDY}"]`, { timeout: 60_000 }));
    await wd.waitFor('[data-pid]', { timeout: 60_000 });
    await notBusy();
    const offline = await text();
    assert.match(offline, /Offline — last synced (just now|\d+ minutes? ago)\./);
    assert.ok((await wd.findAll('[data-pid]')).length >= 5, 'the participants are there');
    await shot('offline-copy');

    // The server comes back (same data, same address) with 12 new uploads.
    sandboxInfo = await startSandbox(['--port', new URL(sandboxInfo.url).port]);
    const up = await fetch(`${sandboxInfo.url}/_sandbox/uploads`, { method: 'POST', body: JSON.stringify({ count: 12 }) }).then((r) => r.json());
    assert.equal(up.added, 12);
    await clickText('button', 'Close');
    const who = sandboxInfo.practitioners.find((p) => p.email === 'manager_mary@example.com');
    const url = await wd.waitFor('#server-url', { timeout: 30_000 });
    await wd.exec('const e = document.querySelector("#server-url"); e.value = ""; e.dispatchEvent(new Event("input", { bubbles: true })); return true');
    await wd.type(url, sandboxInfo.url);
    if ((await wd.findAll('#api-key')).length === 0) await clickText('button', 'Use an API key');
    await wd.type(await wd.waitFor('#api-key'), who.apiKey);
    await clickText('button', 'Sign in');
    // The background check runs right after signing in: the badge, and the notification.
    const badge = await wd.waitFor(`[data-news="${STUDY}"]`, { timeout: 120_000 });
    const said = (await wd.text(badge)).trim();
    assert.match(said, new RegExp(`^12 new readings from ${up.patients.length} participants?$`));
    const log = join(EXPORT_DIR, 'notifications.log');
    await wd_until(() => existsSync(log) && /12 new readings/.test(readFileSync(log, 'utf8')), 'the desktop notification', 30_000);
    assert.match(readFileSync(log, 'utf8'), /CGM & Wearables Demo: new data\t12 new readings from/);
    await shot('new-data-badge');
    await clickText('button', 'Sign out');
    await wd.click(await wd.waitFor('#signout-keep'));
    await wd.waitFor('#server-url');
  });

  // Dark mode as a person turns it on: GTK's "prefer dark theme" setting (read from
  // $XDG_CONFIG_HOME/gtk-3.0/settings.ini when no settings daemon runs, as under Xvfb), which
  // WebKitGTK passes on as `prefers-color-scheme: dark`. Screenshots of the same screens, dark.
  test('in dark mode the sign-in, the study table and a participant are drawn dark', async () => {
    const gtk = join(process.env.XDG_CONFIG_HOME || join(process.env.HOME, '.config'), 'gtk-3.0');
    mkdirSync(gtk, { recursive: true });
    writeFileSync(join(gtk, 'settings.ini'), '[Settings]\ngtk-application-prefer-dark-theme=1\n');
    await restartApp();
    const demo = await wd.waitFor('button.btn.demo', { timeout: 60_000 });
    assert.equal(await wd.exec('return matchMedia("(prefers-color-scheme: dark)").matches'), true, 'the webview is in dark mode');
    // The page itself is dark: its background is darker than its text.
    const lum = await wd.exec(`const l = (c) => { const [r, g, b] = c.match(/\\d+/g).map(Number); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const s = getComputedStyle(document.body); return [l(s.backgroundColor), l(s.color)];`);
    assert.ok(lum[0] < lum[1], `dark background, light text: ${JSON.stringify(lum)}`);
    await wd.until(async () => (await wd.exec('return document.querySelector("#server-url").value')) || null, 'the last address', 15_000);
    await shot('sign-in-dark');
    await wd.click(demo);
    await wd.waitFor(`[data-study="${STUDY}"]`, { timeout: 120_000 });
    await notBusy();
    await wd.click(await wd.find(`[data-study="${STUDY}"]`));
    await wd.waitFor('[data-pid]', { timeout: 120_000 });
    await notBusy();
    await shot('study-overview-dark');
    await wd.type(await wd.find('#participant-search'), String(sleeper));
    await wd.click(await wd.waitFor(`[data-open="${sleeper}"]`));
    await wd.waitFor(`article.type-card[data-code="${SLEEP_EPISODE}"] svg`, { timeout: 60_000 });
    await notBusy();
    await shot('participant-dark');
  });
});

/** Starts the reference sandbox (`extra`: its port) and returns its info file's contents. */
async function startSandbox(extra) {
  const infoFile = join(EXPORT_DIR, '..', 'sandbox-info.json');
  rmSync(infoFile, { force: true });
  sandbox = startProcess(SANDBOX, [...extra, ...sandboxArgs, '--info-file', infoFile]);
  await wd_until(() => existsSync(infoFile) && readFileSync(infoFile, 'utf8').trim().endsWith('}'), 'the reference sandbox started', 120_000, () => sandbox.log());
  return JSON.parse(readFileSync(infoFile, 'utf8'));
}

/** Stops the reference sandbox (its whole process group) and waits until it is gone. */
async function stopSandbox() {
  const p = sandbox;
  try {
    process.kill(-p.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  const end = Date.now() + 15_000;
  while (p.exitCode === null && p.signalCode === null && Date.now() < end) await sleep(100);
}

/** Starts the app in a new WebDriver session. */
async function startApp() {
  wd = await Session.start(`http://127.0.0.1:${PORT}`, { 'tauri:options': { application: APP } });
  // The first command right after the session opens sometimes races the window: retry once.
  try {
    await wd.findAll('body');
  } catch {
    await sleep(1000);
    await wd.findAll('body');
  }
}

/** Closes the app's window (the app exits with it) and starts the app again. */
async function restartApp() {
  await wd.quit(15_000);
  await wd_until(() => pidsOf(APP).length === 0, 'the app exited with its window', 20_000);
  await startApp();
}

async function wd_until(fn, what, timeout, log) {
  const end = Date.now() + timeout;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}\n${log ? log() : ''}`);
    await sleep(200);
  }
}
