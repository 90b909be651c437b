// API tokens in the page: a server with tokens configured answers 401; the page asks for a
// token, refuses a wrong one with the server's reason, keeps the right one for the tab's
// session, sends it on every request and as the WebSocket subprotocol, and the audit trail
// names the token as the actor.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import {
  launchBrowser, openApp, openEditor, row, screenshot, startServer,
} from './support/harness.mjs';

const TOKEN = `pd_${crypto.randomBytes(24).toString('hex')}`;
const WRONG = `pd_${crypto.randomBytes(24).toString('hex')}`;
const HASH = crypto.createHash('sha256').update(TOKEN).digest('hex');
const STORAGE_KEY = 'printdesk.apiToken';

let server;
let browser;
let supported = false;
const contexts = [];

async function app(options) {
  const opened = await openApp(browser, server.baseUrl, options);
  contexts.push(opened.context);
  return opened;
}

before(async () => {
  server = await startServer({ env: { PRINTDESK_API_TOKENS: `tester:${HASH}` }, token: TOKEN });
  browser = await launchBrowser();
  // A server without authentication ignores the setting and answers 200 without a token.
  const probe = await fetch(`${server.baseUrl}/api/v1/jobs?limit=1`);
  supported = probe.status === 401;
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

test('a server with tokens: prompt, wrong token refused, right token loads the jobs, live updates, actor in the history', { timeout: 300000 }, async (t) => {
  if (!supported) {
    t.skip('waiting on server auth: with PRINTDESK_API_TOKENS set, GET /api/v1/jobs still answers 200 without a token');
    return;
  }
  const { api } = server;
  // What the server says to a request without a token and to one with a wrong token.
  const bare = await fetch(`${server.baseUrl}/api/v1/jobs`);
  assert.equal(bare.status, 401);
  assert.match(bare.headers.get('www-authenticate') || '', /^Bearer/);
  const refused = await api.call('GET', '/jobs', undefined, { Authorization: `Bearer ${WRONG}` });
  assert.equal(refused.status, 401);
  const wrongDetail = refused.body.detail;
  assert.ok(wrongDetail, 'the 401 has a detail');

  const seeded = await api.createJob({ job_name: 'Seeded with a token', status: 'running' });

  const { page, problems } = await app({ ready: '#tokenDialog[open]' });
  const sent = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/v1/')) sent.push({ method: r.method(), path: new URL(r.url()).pathname, auth: r.headers().authorization ?? null });
  });
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws));

  // The prompt: a password field and where tokens come from.
  const dialog = page.locator('#tokenDialog');
  assert.equal(await page.locator('#apiToken').getAttribute('type'), 'password');
  assert.match(await dialog.textContent(), /printdesk token create NAME/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'apiToken');
  await page.waitForTimeout(250);
  await screenshot(page, 'token-dialog.png');

  // A wrong token is refused with the server's reason; the dialog stays.
  await page.locator('#apiToken').fill(WRONG);
  await page.locator('#tokenSubmitBtn').click();
  const error = page.locator('#tokenError');
  await error.waitFor();
  assert.equal(await error.textContent(), wrongDetail);
  assert.equal(await page.locator('#apiToken').getAttribute('aria-invalid'), 'true');
  assert.ok(await dialog.isVisible(), 'the dialog stays open');
  assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), STORAGE_KEY), null, 'a refused token is not kept');
  await screenshot(page, 'token-dialog-refused.png');

  // The right one: the dialog closes and the jobs load.
  await page.locator('#apiToken').fill(TOKEN);
  await page.locator('#apiToken').press('Enter');
  await dialog.waitFor({ state: 'hidden' });
  await row(page, seeded.id).waitFor();
  assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), STORAGE_KEY), TOKEN, 'kept for the session');
  assert.doesNotMatch(await page.evaluate(() => localStorage.length ? JSON.stringify(localStorage) : ''), new RegExp(TOKEN), 'never in localStorage');

  // Live updates over the authenticated WebSocket.
  await page.locator('#connectionStatus[data-state="live"]').waitFor({ timeout: 10000 });
  const created = await api.createJob({ job_name: 'Arrived over the authenticated socket' });
  await row(page, created.id).waitFor({ timeout: 3000 });
  assert.ok(sockets.length >= 1);

  // An edit made through the page: sent with the token, recorded as "tester".
  const modal = await openEditor(page, seeded.id);
  await modal.locator('#notes').fill('checked by the tester');
  await modal.locator('#saveJobBtn').click();
  await page.locator('.toast.success').waitFor();
  const put = sent.find((r) => r.method === 'PUT');
  assert.equal(put?.auth, `Bearer ${TOKEN}`);
  // And a status move.
  await row(page, seeded.id).locator("button[data-action='complete-job']").click();
  await row(page, seeded.id).locator('.cell-status', { hasText: 'Completed' }).waitFor();

  await row(page, seeded.id).locator("button[data-action='job-history']").click();
  const items = page.locator('#historyList .history-item');
  await items.nth(2).waitFor();
  assert.equal(await items.nth(0).locator('.history-who strong').textContent(), 'tester', 'the status move');
  assert.equal(await items.nth(1).locator('.history-who strong').textContent(), 'tester', 'the edit');
  assert.match(await items.nth(1).textContent(), /checked by the tester/);
  const history = await api.call('GET', `/jobs/${seeded.id}/history`);
  assert.equal(history.body.events[1].actor, 'tester');
  await page.keyboard.press('Escape');

  // Every API request from the token check on carried it.
  const first = sent.findIndex((r) => r.auth === `Bearer ${TOKEN}`);
  assert.ok(first >= 0);
  assert.deepEqual(sent.slice(first).filter((r) => r.auth !== `Bearer ${TOKEN}`), [], 'requests without the token');

  // The export sends the token too (a plain link could not).
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#exportCsvLink').click()]);
  const csv = (await readFile(await download.path(), 'utf8')).replace(/^\uFEFF/, '');
  assert.match(csv, /^ID,Name,/, 'headed in the page\'s language');
  assert.match(csv, /Seeded with a token/);
  // The Excel export too.
  const [book] = await Promise.all([page.waitForEvent('download'), page.locator('#exportXlsxLink').click()]);
  assert.match(book.suggestedFilename(), /\.xlsx$/);
  assert.equal((await readFile(await book.path())).subarray(0, 2).toString('latin1'), 'PK');

  // A reload in the same tab keeps the token: no prompt.
  await page.reload();
  await row(page, seeded.id).waitFor();
  assert.ok(await dialog.isHidden());
  await page.locator('#connectionStatus[data-state="live"]').waitFor({ timeout: 10000 });

  assert.deepEqual(problems.errors, []);
  assert.deepEqual(problems.csp, []);
  assert.deepEqual(problems.dialogs, []);
});

test('a stored token the server no longer accepts: the prompt shows why, and Cancel leaves a retry', { timeout: 300000 }, async (t) => {
  if (!supported) {
    t.skip('waiting on server auth: with PRINTDESK_API_TOKENS set, GET /api/v1/jobs still answers 200 without a token');
    return;
  }
  const { page, problems } = await app({
    ready: '#tokenDialog[open]',
    setup: (context) => context.addInitScript(([k, v]) => {
      if (!sessionStorage.getItem(k)) sessionStorage.setItem(k, v);
    }, [STORAGE_KEY, WRONG]),
  });
  const error = page.locator('#tokenError');
  await error.waitFor();
  assert.match(await error.textContent(), /\S/);
  assert.match(await page.locator('#tokenIntro').textContent(), /no longer accepts/);

  await page.locator('#tokenCancelBtn').click();
  await page.locator('#tokenDialog').waitFor({ state: 'hidden' });
  await page.locator('#jobsBody .empty.error').waitFor();
  assert.equal(await page.locator('#jobsSummary').textContent(), 'Could not load jobs');

  // "Try again" asks again; the right token loads the list.
  await page.locator('#jobsBody .empty.error button').click();
  await page.locator('#tokenDialog[open]').waitFor();
  await page.locator('#apiToken').fill(TOKEN);
  await page.locator('#tokenSubmitBtn').click();
  await page.locator('#pagerInfo:not(:empty)').waitFor();
  await page.locator('#jobsBody .empty.error').waitFor({ state: 'detached' });
  await page.locator('#connectionStatus[data-state="live"]').waitFor({ timeout: 10000 });
  assert.deepEqual(problems.errors, []);
  assert.deepEqual(problems.csp, []);
});
