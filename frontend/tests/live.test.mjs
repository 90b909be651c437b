// Live updates across a server restart: the page notices, reconnects with `since`, and gets
// the events it missed — without reloading.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, openApp, row, startServer } from './support/harness.mjs';

let server;
let browser;
let context;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await context?.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

test('after the server restarts, the page reconnects and replays what it missed', { timeout: 300000 }, async (t) => {
  if (!(await server.api.hasWebSocket())) {
    t.skip('waiting on the WebSocket endpoint GET /api/v1/ws (answers 404 on this server)');
    return;
  }
  const job = await server.api.createJob({ job_name: 'Before restart' });
  const opened = await openApp(browser, server.baseUrl);
  context = opened.context;
  const { page } = opened;
  const status = page.locator('#connectionStatus');
  await row(page, job.id).waitFor();
  await page.locator('#connectionStatus[data-state="live"]').waitFor({ timeout: 5000 });
  await page.evaluate(() => { window.__noReload = true; });

  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));

  // The server goes away; the indicator says so.
  const { port, dir } = server;
  await server.stop({ keepData: true, crash: true });
  await page.locator('#connectionStatus:not([data-state="live"])').waitFor({ timeout: 5000 });

  // It comes back, and a change lands before the page has reconnected.
  server = await startServer({ port, dir });
  await server.api.updateJob(job.id, { job_name: 'Changed while away', status: 'failed' }, 1);
  const created = await server.api.createJob({ job_name: 'Created while away' });

  await page.locator('#connectionStatus[data-state="live"]').waitFor({ timeout: 10000 });
  await row(page, job.id).locator('.job-name', { hasText: 'Changed while away' }).waitFor({ timeout: 2000 });
  await row(page, created.id).waitFor({ timeout: 2000 });
  assert.match(await row(page, job.id).locator('.cell-status').textContent(), /Failed/);
  assert.ok(sockets.some((u) => /[?&]since=\d+/.test(u)), `reconnected with since (${sockets.join(', ')})`);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'no page reload');
  assert.equal(await status.getAttribute('data-state'), 'live');
});
