// Test harness: the real printdesk binary on a free port with a fresh SQLite database, an API
// client to seed and check data, and Debian's chromium driven by playwright-core.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const FRONTEND_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** PRINTDESK_BIN, else the debug binary of CARGO_TARGET_DIR (as `just test-browser` builds it), else target/. */
export function serverBinary() {
  if (process.env.PRINTDESK_BIN) return path.resolve(process.env.PRINTDESK_BIN);
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(REPO_ROOT, 'target');
  return path.join(targetDir, 'debug', 'printdesk');
}

export const SCREENSHOT_DIR = path.resolve(
  process.env.SCREENSHOT_DIR || path.join(FRONTEND_DIR, 'tests', 'artifacts'),
);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the server. Returns `{ baseUrl, port, dir, api, logs, stop }`.
 * Its output is kept in `logs()` and printed when it fails to start.
 * `port` and `dir` restart a stopped server on the same address and database.
 * `env`: extra environment (e.g. `PRINTDESK_API_TOKENS`); `token`: the bearer token `api` sends
 * (and the start-up probe: with tokens configured, a 401 also means "up").
 */
export async function startServer({ port: fixedPort, dir: fixedDir, env = {}, token = null } = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) {
    throw new Error(`printdesk binary not found at ${bin}; build it (cargo build -p printdesk) or set PRINTDESK_BIN`);
  }
  const dir = fixedDir ?? await mkdtemp(path.join(os.tmpdir(), 'printdesk-browser-'));
  const port = fixedPort ?? await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['--bind', `127.0.0.1:${port}`, '--database-url', `sqlite://${path.join(dir, 'pd.db')}`], {
    cwd: dir,
    // No printer monitor: the tests add printers with made-up LAN addresses, which a monitor
    // would try to reach. A test that watches a printer on loopback passes PRINTDESK_MONITOR.
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', PRINTDESK_MONITOR: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const deadline = Date.now() + 30000;
  for (;;) {
    if (exited) throw new Error(`printdesk exited during start-up (${JSON.stringify(exited)}):\n${output}`);
    try {
      const res = await fetch(`${baseUrl}/api/v1/jobs?limit=1`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
      if (res.ok || (token && res.status === 401)) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`printdesk did not answer on ${baseUrl} within 30 s:\n${output}`);
    }
    await sleep(100);
  }

  /** Stops the server (SIGTERM, SIGKILL after 5 s; `crash`: SIGKILL at once). */
  async function stop({ keepData = false, crash = false } = {}) {
    if (!exited) {
      const gone = once(child, 'exit').catch(() => {});
      child.kill(crash ? 'SIGKILL' : 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    if (!keepData) await rm(dir, { recursive: true, force: true });
  }

  return { baseUrl, port, dir, api: apiClient(baseUrl, { token }), logs: () => output, stop };
}

/** A small client for seeding and checking through the API (`token`: sent as Bearer). */
export function apiClient(baseUrl, { token = null } = {}) {
  async function call(method, urlPath, body, headers = {}) {
    const res = await fetch(`${baseUrl}/api/v1${urlPath}`, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = text; }
    return { status: res.status, body: json, etag: res.headers.get('etag'), headers: res.headers };
  }
  const expect = (res, status, what) => {
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return {
    call,
    async createJob(fields) { return expect(await call('POST', '/jobs', fields), 201, 'create job'); },
    async getJob(id) { return expect(await call('GET', `/jobs/${id}`), 200, 'get job'); },
    async updateJob(id, patch, version) {
      const headers = version === undefined ? {} : { 'If-Match': `"${version}"` };
      return expect(await call('PUT', `/jobs/${id}`, patch, headers), 200, 'update job');
    },
    async listJobs(query = '') { return expect(await call('GET', `/jobs${query}`), 200, 'list jobs'); },
    /** The status workflow, as the page's buttons use it. */
    async setStatus(id, status, { force = false, version } = {}) {
      const headers = version === undefined ? {} : { 'If-Match': `"${version}"` };
      return expect(await call('POST', `/jobs/${id}/status`, { status, force }, headers), 200, `status → ${status}`);
    },
    async createPrinter(fields) { return expect(await call('POST', '/printers', fields), 201, 'create printer'); },
    /** Whether the server has the WebSocket route yet (an upgrade-less GET is not a 404 then). */
    async hasWebSocket() { return (await call('GET', '/ws')).status !== 404; },
  };
}

/** Debian's chromium, headless, no downloads. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * A fresh context and page on the app. `page.problems` collects page errors, CSP violations
 * and JavaScript dialogs (alert/confirm: the page must never raise one).
 * `ready`: the selector that says the page is up (default: the pager has its text).
 * `setup(context)`: runs before the page opens (init scripts, routes).
 * `contextOptions`: more for the browser context, e.g. `{ locale: 'de-DE', timezoneId: 'Europe/Berlin' }`.
 */
export async function openApp(browser, baseUrl, {
  viewport = { width: 1280, height: 800 }, hash = '#jobs', ready = '#pagerInfo:not(:empty)', setup = null,
  contextOptions = {},
} = {}) {
  const context = await browser.newContext({
    viewport, baseURL: baseUrl, acceptDownloads: true, ...contextOptions,
  });
  if (setup) await setup(context);
  const page = await context.newPage();
  const problems = { errors: [], csp: [], dialogs: [] };
  page.on('pageerror', (e) => problems.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.csp.push(m.text());
  });
  page.on('dialog', async (d) => {
    problems.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.problems = problems;
  await page.goto(`/${hash}`);
  await page.waitForSelector(ready);
  return { context, page, problems };
}

export const row = (page, id) => page.locator(`#jobsBody tr[data-job-id="${id}"]`);

/** Opens the edit modal from the job's row and waits for it. */
export async function openEditor(page, id) {
  await row(page, id).locator("button[data-action='edit-job']").click();
  await page.locator('#editJobModal[open]').waitFor();
  return page.locator('#editJobModal');
}

export async function screenshot(page, name, { docs = null, ...options } = {}) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file, ...options });
  if (docs && process.env.PRINTDESK_UPDATE_DOCS === '1') {
    const target = path.join(REPO_ROOT, 'docs', 'screenshots', docs);
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(file, target);
  }
  return file;
}

/** The page raised no error, no CSP violation and no alert/confirm (`problems` from `openApp`). */
export function assertClean(problems) {
  assert.deepEqual(problems.errors, [], 'page errors');
  assert.deepEqual(problems.csp, [], 'CSP violations');
  assert.deepEqual(problems.dialogs, [], 'JavaScript dialogs');
}
