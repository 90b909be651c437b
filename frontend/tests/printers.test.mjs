// The Printers page in headless Chromium against the real server: adding a printer of each
// connection kind, editing, secrets that never come back, field errors, deleting a printer
// whose jobs are kept, live status and printer changes, keyboard use, screenshots.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  assertClean, launchBrowser, openApp, row, screenshot, startServer,
} from './support/harness.mjs';

let server;
let browser;
let api;
const contexts = [];

const PRINTERS_READY = '#printersPage[data-loaded]';

async function app(options = {}) {
  const opened = await openApp(browser, server.baseUrl, { hash: '#printers', ready: PRINTERS_READY, ...options });
  contexts.push(opened.context);
  return opened;
}

const card = (page, id) => page.locator(`#printerCards [data-printer-id="${id}"]`);

async function openAdd(page) {
  await page.locator('#addPrinterBtn').click();
  await page.locator('#printerModal[open]').waitFor();
  return page.locator('#printerModal');
}

async function saveAndWaitClosed(page) {
  await page.locator('#savePrinterBtn').click();
  await page.locator('#printerModal').waitFor({ state: 'hidden' });
}

async function getPrinter(id) {
  const res = await api.call('GET', `/printers/${id}`);
  assert.equal(res.status, 200, `GET /printers/${id}`);
  return res.body;
}

before(async () => {
  server = await startServer();
  api = server.api;
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

describe('printers page', { timeout: 600000 }, () => {
  test('the nav opens the page; a printer of each kind is added through it', async () => {
    const { page, problems } = await app({ hash: '#jobs', ready: '#pagerInfo:not(:empty)' });
    await page.locator("nav a[href='#printers']").click();
    await page.locator('#printersPage').waitFor();
    assert.equal(await page.locator('#jobs').isVisible(), false, 'the jobs page is hidden');
    assert.equal(await page.locator("nav a[href='#printers']").getAttribute('aria-current'), 'page');

    const kinds = [
      {
        id: 'x1c-kind', name: 'X1C kind', kind: 'bambu_lab',
        fields: { '#connHost': '192.168.1.50', '#connSerial': '01S00C123456789', '#connAccessCode': 'bambu-SECRET-1' },
        secret: 'bambu-SECRET-1', check: (c) => assert.deepEqual([c.host, c.port, c.serial, c.access_code], ['192.168.1.50', 8883, '01S00C123456789', 'set']),
      },
      {
        id: 'octo-kind', name: 'Octo kind', kind: 'octoprint',
        fields: { '#connBaseUrl': 'http://192.168.1.61', '#connApiKey': 'octo-SECRET-2' },
        secret: 'octo-SECRET-2', check: (c) => assert.deepEqual([c.base_url, c.api_key], ['http://192.168.1.61', 'set']),
      },
      {
        id: 'moon-kind', name: 'Moon kind', kind: 'moonraker',
        fields: { '#connBaseUrl': 'http://192.168.1.62:7125' },
        secret: null, check: (c) => assert.deepEqual([c.base_url, c.api_key], ['http://192.168.1.62:7125', null]),
      },
      {
        id: 'prusa-kind', name: 'Prusa kind', kind: 'prusalink',
        fields: { '#connBaseUrl': 'http://192.168.1.63', '#connUsername': 'maker', '#connPassword': 'prusa-SECRET-3' },
        secret: 'prusa-SECRET-3', check: (c) => assert.deepEqual([c.username, c.password, c.api_key], ['maker', 'set', null]),
      },
      { id: 'manual-kind', name: 'Manual kind', kind: '', fields: {}, secret: null, check: (c) => assert.equal(c, null) },
    ];
    const responses = [];
    page.on('response', async (res) => {
      if (res.url().includes('/api/v1/printers')) responses.push(await res.text().catch(() => ''));
    });
    for (const k of kinds) {
      const modal = await openAdd(page);
      await modal.locator('#printerName').fill(k.name);
      assert.equal(await modal.locator('#printerId').inputValue(), k.id, 'the id is made from the name');
      await modal.locator('#connectionKind').selectOption(k.kind);
      for (const [sel, value] of Object.entries(k.fields)) await modal.locator(sel).fill(value);
      await saveAndWaitClosed(page);
      await card(page, k.id).waitFor();
      const stored = await getPrinter(k.id);
      assert.equal(stored.name, k.name);
      if (k.kind) assert.equal(stored.connection.kind, k.kind);
      k.check(stored.connection);
      assert.equal(stored.monitoring, Boolean(k.kind), 'monitoring is on for a connected printer');
      if (k.secret) {
        assert.ok(!JSON.stringify(stored).includes(k.secret), 'the API never returns the secret');
        // The page never renders it back: not in the DOM, not in an input reopened on it.
        assert.ok(!(await page.content()).includes(k.secret), 'the secret is not in the DOM');
        await card(page, k.id).locator("button[data-action='edit-printer']").click();
        await page.locator('#printerModal[open]').waitFor();
        for (const input of await page.locator('#printerModal input[type=password]').all()) {
          assert.equal(await input.inputValue(), '', 'a secret field starts empty');
        }
        const secretSel = Object.keys(k.fields).find((s) => /AccessCode|ApiKey|Password/.test(s));
        assert.equal(await page.locator(secretSel).getAttribute('placeholder'), 'set');
        assert.ok(!(await page.content()).includes(k.secret), 'not in the DOM of the open dialog either');
        await page.keyboard.press('Escape');
        await page.locator('#printerModal').waitFor({ state: 'hidden' });
      }
    }
    assert.ok(responses.length >= kinds.length, 'the page talked to the printer API');
    for (const body of responses) {
      for (const k of kinds) if (k.secret) assert.ok(!body.includes(k.secret), 'no API response holds a secret');
    }
    // The card shows name, type and connection.
    const text = await card(page, 'octo-kind').innerText();
    assert.match(text, /Octo kind/);
    assert.match(text, /OctoPrint/);
    // The test server runs without the monitor (its addresses are made up): nothing is known yet.
    assert.equal(await card(page, 'octo-kind').locator('.printer-state').innerText(), 'Unknown');
    assert.equal(await card(page, 'manual-kind').locator('.printer-state').innerText(), 'Unknown', 'a manual printer is not monitored');
    // The jobs page's printer filter and the job form know the new printers.
    assert.ok(await page.locator('#filterPrinter option[value="prusa-kind"]').count() === 1);
    assertClean(problems);
  });

  test('edit the name and the connection: only what changed is sent; the secret is kept', async () => {
    await api.createPrinter({
      id: 'edit-me', name: 'Edit me', printer_type: 'bambu_lab',
      connection: { kind: 'bambu_lab', host: '10.0.0.5', serial: 'SER1', access_code: 'keep-THIS-code' },
    });
    const { page, problems } = await app();
    const patches = [];
    page.on('request', (req) => {
      if (req.method() === 'PATCH') patches.push(JSON.parse(req.postData()));
    });
    await card(page, 'edit-me').locator("button[data-action='edit-printer']").click();
    await page.locator('#printerModal[open]').waitFor();
    assert.equal(await page.locator('#printerModal #printerId').getAttribute('readonly'), '', 'the id is fixed');
    await page.locator('#printerName').fill('Edited X1C');
    await page.locator('#connHost').fill('10.0.0.6');
    await page.locator('#printerLocation').fill('Shelf <b>2</b>');
    await saveAndWaitClosed(page);
    await page.locator('[data-printer-id="edit-me"] .printer-name', { hasText: 'Edited X1C' }).waitFor();
    assert.deepEqual(patches, [{ name: 'Edited X1C', location: 'Shelf <b>2</b>', connection: { host: '10.0.0.6' } }]);
    const stored = await getPrinter('edit-me');
    assert.equal(stored.connection.host, '10.0.0.6');
    assert.equal(stored.connection.access_code, 'set', 'the access code was kept');
    // A location is text, never markup.
    assert.match(await card(page, 'edit-me').locator('.printer-meta').innerText(), /Shelf <b>2<\/b>/);
    assert.equal(await card(page, 'edit-me').locator('b').count(), 0);

    // Typing a secret sends it; monitoring off pauses without losing the settings.
    await card(page, 'edit-me').locator("button[data-action='edit-printer']").click();
    await page.locator('#printerModal[open]').waitFor();
    await page.locator('#connAccessCode').fill('new-CODE-9');
    await page.locator('#printerMonitoring').uncheck();
    await saveAndWaitClosed(page);
    await card(page, 'edit-me').filter({ hasText: 'monitoring paused' }).waitFor();
    assert.deepEqual(patches[1], { connection: { access_code: 'new-CODE-9' }, monitoring: false });
    const paused = await getPrinter('edit-me');
    assert.equal(paused.monitoring, false);
    assert.equal(paused.connection.host, '10.0.0.6');
    assertClean(problems);
  });

  test('field errors are shown at their fields; nothing is saved', async () => {
    const { page, problems } = await app();
    const before = (await api.call('GET', '/printers')).body.printers.length;
    const modal = await openAdd(page);
    await modal.locator('#printerName').fill('   ');
    await modal.locator('#printerId').fill('Not An Id!');
    await modal.locator('#connectionKind').selectOption('bambu_lab');
    await modal.locator('#connPort').fill('70000');
    await page.locator('#savePrinterBtn').click();
    await page.locator('#printerNameError:not([hidden])').waitFor();
    for (const sel of ['#printerName', '#printerModal #printerId', '#connHost', '#connSerial', '#connAccessCode', '#connPort']) {
      assert.equal(await page.locator(sel).getAttribute('aria-invalid'), 'true', `${sel} is marked`);
      assert.ok((await page.locator(`#printerModal ${sel.split(' ').pop()}Error`).innerText()).length > 0, `${sel} has its message`);
    }
    assert.match(await page.locator('#connHostError').innerText(), /Host .*required/i);
    assert.ok(await page.locator('#printerErrorSummary').isVisible());
    assert.equal((await api.call('GET', '/printers')).body.printers.length, before, 'nothing saved');
    // Fixing one field clears its message.
    await page.locator('#connHost').fill('10.1.1.1');
    assert.equal(await page.locator('#connHostError').isVisible(), false);
    await page.keyboard.press('Escape');
    assertClean(problems);
  });

  test('delete a printer with jobs: the count is asked about, the jobs stay as Manual', async () => {
    await api.createPrinter({ id: 'doomed', name: 'Doomed MK3', printer_type: 'prusa' });
    const jobs = [
      await api.createJob({ job_name: 'Kept job one', printer_id: 'doomed' }),
      await api.createJob({ job_name: 'Kept job two', printer_id: 'doomed' }),
    ];
    const { page, problems } = await app();
    await card(page, 'doomed').locator("button[data-action='delete-printer']").click();
    await page.locator('#confirmDialog[open]').waitFor();
    assert.match(await page.locator('#confirmMessage').innerText(), /2 jobs will lose their printer.*kept/);
    await page.locator('#confirmOkBtn').click();
    await card(page, 'doomed').waitFor({ state: 'detached' });
    assert.equal((await api.call('GET', '/printers/doomed')).status, 404);
    for (const job of jobs) assert.equal((await api.getJob(job.id)).printer_id, null, 'the job is kept without printer');
    assert.equal(await page.locator('#filterPrinter option[value="doomed"]').count(), 0, 'gone from the filter');
    await page.locator("nav a[href='#jobs']").click();
    for (const job of jobs) {
      await row(page, job.id).locator('.cell-printer', { hasText: 'Manual' }).waitFor();
    }
    assertClean(problems);
  });

  test('keyboard only: open, fill, switch kind, save with Enter, Esc closes and focus returns', async () => {
    const { page, problems } = await app();
    await page.locator('#addPrinterBtn').focus();
    await page.keyboard.press('Enter');
    await page.locator('#printerModal[open]').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'printerName', 'focus starts at the name');
    await page.keyboard.type('Keyboard Voron');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'printerId');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'printerType');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Rack 3');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'connectionKind');
    // Moonraker is the third kind below "not connected".
    for (let i = 0; i < 3; i += 1) await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('#connectionKind').inputValue(), 'moonraker');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'connBaseUrl', 'the kind\'s own fields follow');
    await page.keyboard.type('http://10.9.9.9:7125');
    // Focus stays inside the dialog.
    for (let i = 0; i < 12; i += 1) {
      await page.keyboard.press('Tab');
      assert.ok(await page.evaluate(() => Boolean(document.activeElement.closest('#printerModal'))), 'focus is trapped');
    }
    await page.locator('#connBaseUrl').focus();
    await page.keyboard.press('Enter');
    await page.locator('#printerModal').waitFor({ state: 'hidden' });
    await card(page, 'keyboard-voron').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'addPrinterBtn', 'focus returns');
    const stored = await getPrinter('keyboard-voron');
    assert.deepEqual([stored.location, stored.printer_type, stored.connection.kind], ['Rack 3', 'klipper', 'moonraker']);

    await card(page, 'keyboard-voron').locator("button[data-action='edit-printer']").focus();
    await page.keyboard.press('Enter');
    await page.locator('#printerModal[open]').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#printerModal').waitFor({ state: 'hidden' });
    assert.equal(
      await page.evaluate(() => document.activeElement.closest('[data-printer-id]')?.dataset.printerId),
      'keyboard-voron',
      'Esc returns focus to the card',
    );
    assertClean(problems);
  });

  test('Test connection (monitor off): field errors at their fields, a closed loopback port named, nothing saved', async () => {
    const { page, problems } = await app();
    const modal = await openAdd(page);
    await modal.locator('#printerName').fill('Probe only');
    await modal.locator('#connectionKind').selectOption('octoprint');
    await modal.locator('#testConnectionBtn').click();
    await modal.locator('#connBaseUrlError').waitFor();
    assert.match(await modal.locator('#connBaseUrlError').innerText(), /Address is required/);
    assert.match(await modal.locator('#connApiKeyError').innerText(), /API key is required/);
    assert.equal(await modal.locator('#printerErrorSummary').innerText(), 'Not tested: 2 fields need attention.');
    assert.equal(await modal.locator('#connectionTestResult').isVisible(), false);

    // A loopback port that was free a moment ago: nothing answers there.
    const port = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); });
    });
    await modal.locator('#connBaseUrl').fill(`http://127.0.0.1:${port}`);
    await modal.locator('#connApiKey').fill('probe-key');
    assert.equal(await modal.locator('#printerErrorSummary').isVisible(), false, 'fixed fields clear the summary');
    // By keyboard: the button follows the kind's settings.
    await modal.locator('#connApiKey').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'testConnectionBtn');
    await page.keyboard.press('Enter');
    const result = modal.locator('#connectionTestResult[data-outcome="unreachable"]');
    await result.waitFor({ timeout: 12000 });
    assert.match(
      await result.innerText(),
      new RegExp(`^Not connected: printer not reachable \\(nothing answers at 127\\.0\\.0\\.1:${port} \\(connection refused\\)\\)$`, 'i'),
    );
    assert.doesNotMatch(await page.content(), /probe-key"/, 'the typed secret is not put in the page');
    await page.keyboard.press('Escape');
    // The typed values are unsaved: Esc asks before they go.
    await page.locator('#confirmDialog[open]').waitFor();
    await page.locator('#confirmOkBtn').click();
    await page.locator('#printerModal').waitFor({ state: 'hidden' });
    const listed = (await api.call('GET', '/printers')).body.printers;
    assert.ok(listed.every((p) => p.name !== 'Probe only'), 'testing saved nothing');
    assertClean(problems);
  });

  test('live status: printer_status fills the card; printer_changed updates filters and forms', async () => {
    await api.createPrinter({
      id: 'live-x1c', name: 'Live X1C', printer_type: 'bambu_lab',
      connection: { kind: 'bambu_lab', host: '10.0.0.7', serial: 'SER7', access_code: 'code-7' },
    });
    const job = await api.createJob({ job_name: 'Benchy on live', printer_id: 'live-x1c' });
    // The server's socket is stood in for by one that speaks the documented messages.
    let socket = null;
    const { page, problems } = await app({
      setup: async (context) => {
        await context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
          socket = ws;
          ws.send(JSON.stringify({ type: 'hello', seq: 0 }));
        });
      },
    });
    await page.locator('#connectionStatus[data-state="live"]').waitFor();
    const status = {
      state: 'printing', online: true, file: 'Benchy.gcode.3mf', progress: 37, remaining_s: 1500,
      job_id: job.id, last_seen: new Date().toISOString(), error: null,
    };
    socket.send(JSON.stringify({ type: 'printer_status', printer_id: 'live-x1c', status }));
    const c = card(page, 'live-x1c');
    await c.locator('.printer-state', { hasText: 'Printing' }).waitFor();
    assert.match(await c.innerText(), /online/);
    assert.match(await c.innerText(), /Benchy\.gcode\.3mf/);
    assert.match(await c.innerText(), /37 % · 25 min left/);
    assert.equal(await c.locator('progress').getAttribute('value'), '37');
    assert.match(await c.innerText(), /Last seen/);

    // The certificate changed: the error in words, and the action that trusts the new one.
    socket.send(JSON.stringify({
      type: 'printer_status', printer_id: 'live-x1c',
      status: { ...status, state: 'error', online: false, error: 'certificate changed: the printer showed a different certificate' },
    }));
    await c.locator('.printer-error', { hasText: 'certificate changed' }).waitFor();
    const patches = [];
    page.on('request', (req) => { if (req.method() === 'PATCH') patches.push(JSON.parse(req.postData())); });
    await c.locator("button[data-action='trust-certificate']").click();
    await page.locator('.toast.success', { hasText: 'next certificate will be trusted' }).waitFor();
    assert.deepEqual(patches, [{ connection: { tls_fingerprint: null } }]);

    // The current job opens on the jobs page.
    socket.send(JSON.stringify({ type: 'printer_status', printer_id: 'live-x1c', status }));
    await c.locator('a.printer-job-link').click();
    await page.locator('#editJobModal[open]').waitFor();
    assert.equal(await page.locator('#jobName').inputValue(), 'Benchy on live');
    assert.ok(await page.locator('#jobs').isVisible());
    await page.keyboard.press('Escape');

    // Another instance created, renamed and deleted printers.
    const other = {
      id: 'from-elsewhere', name: 'From elsewhere', printer_type: 'other', location: null,
      created_at: new Date().toISOString(), connection: null, monitoring: false, status: { state: 'unknown', online: false },
    };
    socket.send(JSON.stringify({ type: 'printer_changed', printer_id: other.id, printer: other }));
    await page.locator('#filterPrinter option[value="from-elsewhere"]').waitFor({ state: 'attached' });
    assert.equal(await page.locator('#editJobModal #printerId option[value="from-elsewhere"]').count(), 1, 'the job form knows it');
    socket.send(JSON.stringify({ type: 'printer_changed', printer_id: other.id, printer: { ...other, name: 'Renamed elsewhere' } }));
    await page.locator('#filterPrinter option[value="from-elsewhere"]', { hasText: 'Renamed elsewhere' }).waitFor({ state: 'attached' });
    socket.send(JSON.stringify({ type: 'printer_changed', printer_id: other.id, printer: null }));
    await page.locator('#filterPrinter option[value="from-elsewhere"]').waitFor({ state: 'detached' });
    await page.locator("nav a[href='#printers']").click();
    assert.equal(await card(page, 'from-elsewhere').count(), 0);
    assertClean(problems);
  });

  test('a printer added in one browser appears in another\'s filter without reload', async () => {
    const first = await app();
    const second = await app({ hash: '#jobs', ready: '#pagerInfo:not(:empty)' });
    await second.page.locator('#connectionStatus[data-state="live"]').waitFor();
    const modal = await openAdd(first.page);
    await modal.locator('#printerName').fill('Seen elsewhere');
    await saveAndWaitClosed(first.page);
    await second.page.locator('#filterPrinter option[value="seen-elsewhere"]').waitFor({ state: 'attached', timeout: 5000 });
    assertClean(first.problems);
    assertClean(second.problems);
  });
});

describe('print times on the jobs page', { timeout: 600000 }, () => {
  test('Started, Completed and a live Duration; sorting by started_at and completed_at', async () => {
    await api.createPrinter({ id: 'times-mk4', name: 'Times MK4', printer_type: 'prusa' });
    const done = await api.createJob({ job_name: 'Times done', printer_id: 'times-mk4' });
    await api.setStatus(done.id, 'running');
    await new Promise((r) => setTimeout(r, 1100));
    await api.setStatus(done.id, 'completed');
    const running = await api.createJob({ job_name: 'Times running' });
    await api.setStatus(running.id, 'running');
    const never = await api.createJob({ job_name: 'Times never' });

    const { page, problems } = await app({ hash: '#jobs?q=Times', ready: '#pagerInfo:not(:empty)' });
    await row(page, never.id).waitFor();
    const cells = async (id) => row(page, id).evaluate((tr) => ({
      started: tr.querySelector('.cell-started').textContent,
      completed: tr.querySelector('.cell-completed').textContent,
      duration: tr.querySelector('.cell-duration').textContent,
    }));
    const d = await cells(done.id);
    assert.notEqual(d.started, '—');
    assert.notEqual(d.completed, '—');
    assert.match(d.duration, /^\d+ s$/, 'completed − started');
    assert.deepEqual(await cells(never.id), { started: '—', completed: '—', duration: '—' });
    const r1 = (await cells(running.id)).duration;
    assert.match(r1, /^\d+ s$/);
    await page.waitForFunction(
      ([id, before]) => document.querySelector(`tr[data-job-id="${id}"] .cell-duration`).textContent !== before,
      [running.id, r1],
      { timeout: 4000 },
    );

    // The edit form's status change keeps print times true (the server's PUT).
    await row(page, never.id).locator("button[data-action='edit-job']").click();
    await page.locator('#editJobModal[open]').waitFor();
    await page.locator('#jobStatus').selectOption('running');
    await page.locator('#saveJobBtn').click();
    await page.locator('#editJobModal').waitFor({ state: 'hidden' });
    assert.ok((await api.getJob(never.id)).started_at, 'PUT to running set started_at');
    await page.waitForFunction((id) => document.querySelector(`tr[data-job-id="${id}"] .cell-started`).textContent !== '—', never.id);

    // Sorting: newest start first, then ascending; never-finished jobs last both ways.
    const order = () => page.locator('#jobsBody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.jobId));
    await page.locator("button.sort-btn[data-sort='started_at']").click();
    await page.waitForFunction(() => location.hash.includes('sort=started_at%3Adesc') || location.hash.includes('sort=started_at:desc'));
    await page.waitForFunction((id) => document.querySelector('#jobsBody tr')?.dataset.jobId === id, never.id);
    assert.deepEqual(await order(), [never.id, running.id, done.id]);
    await page.locator("button.sort-btn[data-sort='completed_at']").click();
    await page.waitForFunction(() => /sort=completed_at(%3A|:)desc/.test(location.hash));
    await page.waitForFunction((id) => document.querySelector('#jobsBody tr')?.dataset.jobId === id, done.id);
    assert.equal((await order())[0], done.id, 'the finished job first; unfinished ones last');
    await page.locator("button.sort-btn[data-sort='completed_at']").click();
    await page.waitForFunction(() => /sort=completed_at(%3A|:)asc/.test(location.hash));
    await page.waitForTimeout(300);
    assert.equal((await order())[0], done.id, 'unfinished jobs last ascending too');
    assertClean(problems);
  });

  test('an auto-created job shows the auto badge with its printer\'s name', async () => {
    // Monitoring creates such jobs; the page is given one by a stand-in socket event.
    await api.createPrinter({ id: 'auto-x1', name: 'Auto X1', printer_type: 'bambu_lab' });
    let socket = null;
    const { page, problems } = await app({
      hash: '#jobs',
      ready: '#pagerInfo:not(:empty)',
      setup: async (context) => {
        await context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
          socket = ws;
          ws.send(JSON.stringify({ type: 'hello', seq: 0 }));
        });
      },
    });
    await page.locator('#connectionStatus[data-state="live"]').waitFor();
    const now = new Date().toISOString();
    const job = {
      id: '0193a0a0-0000-7000-8000-00000000a070', job_name: 'Benchy', status: 'running', is_business: false,
      customer_name: null, notes: null, file_name: 'Benchy.gcode.3mf', printer_id: 'auto-x1', version: 1,
      created_at: now, updated_at: now, started_at: now, completed_at: null, auto_created: true, discovery_time: now,
    };
    socket.send(JSON.stringify({ seq: 1, type: 'job_created', at: now, job_id: job.id, actor: 'monitor:auto-x1', job, changes: {} }));
    const badge = row(page, job.id).locator('.badge-auto');
    await badge.waitFor();
    assert.match(await badge.innerText(), /auto\s*·?\s*Auto X1/);
    assert.notEqual(await row(page, job.id).locator('.cell-duration').innerText(), '—', 'a running duration');
    assertClean(problems);
  });
});

describe('printers page screenshots', { timeout: 600000 }, () => {
  // A server of its own, so the pictures show a small fleet rather than the tests' printers.
  let shot;
  before(async () => { shot = await startServer(); });
  after(async () => { await shot?.stop(); });

  test('1280 px and 390 px (one column of compact cards)', async () => {
    const { api } = shot;
    await api.createPrinter({ id: 'moon-kind', name: 'Voron 2.4', printer_type: 'klipper', location: 'Rack 1',
      connection: { kind: 'moonraker', base_url: 'http://192.168.1.62:7125' } });
    await api.createPrinter({ id: 'octo-kind', name: 'Ender 3 (OctoPrint)', printer_type: 'octoprint',
      connection: { kind: 'octoprint', base_url: 'http://192.168.1.61', api_key: 'shot-octo' } });
    await api.createPrinter({ id: 'manual-1', name: 'Form 3 (manual)', printer_type: 'other', location: 'Resin room' });
    await api.createPrinter({ id: 'shot-x1c', name: 'Bambu X1C #1', printer_type: 'bambu_lab', location: 'Shop floor',
      connection: { kind: 'bambu_lab', host: '192.168.1.50', serial: '01S00C123456789', access_code: 'shot-code' } });
    await api.createPrinter({ id: 'shot-mk4', name: 'Prusa MK4 #2', printer_type: 'prusa', location: 'Bench 2',
      connection: { kind: 'prusalink', base_url: 'http://192.168.1.63', api_key: 'shot-key' } });
    const job = await api.createJob({ job_name: 'Gear housing v3', printer_id: 'shot-mk4', file_name: 'gear_housing_v3.bgcode' });
    const statuses = {
      'shot-x1c': { state: 'printing', online: true, file: 'Architectural_model_L3.gcode.3mf', progress: 62, remaining_s: 2820, job_id: null, last_seen: new Date().toISOString(), error: null },
      'shot-mk4': { state: 'printing', online: true, file: 'gear_housing_v3.bgcode', progress: 18, remaining_s: 9240, job_id: job.id, last_seen: new Date().toISOString(), error: null },
      'moon-kind': { state: 'idle', online: true, file: null, progress: null, remaining_s: null, job_id: null, last_seen: new Date().toISOString(), error: null },
      'octo-kind': { state: 'offline', online: false, file: null, progress: null, remaining_s: null, job_id: null, last_seen: new Date(Date.now() - 3600e3).toISOString(), error: 'the printer did not answer at http://192.168.1.61' },
    };
    const setup = async (context) => {
      await context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
        ws.send(JSON.stringify({ type: 'hello', seq: 0 }));
        setTimeout(() => {
          for (const [id, status] of Object.entries(statuses)) ws.send(JSON.stringify({ type: 'printer_status', printer_id: id, status }));
        }, 300);
      });
    };
    for (const [viewport, name] of [[{ width: 1280, height: 800 }, 'printers-page.png'], [{ width: 390, height: 844 }, 'printers-page-phone.png']]) {
      const opened = await openApp(browser, shot.baseUrl, { viewport, setup, hash: '#printers', ready: PRINTERS_READY });
      contexts.push(opened.context);
      const { page, problems } = opened;
      await card(page, 'shot-mk4').locator('.printer-state', { hasText: 'Printing' }).waitFor();
      await page.mouse.move(0, 0);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `no sideways scrolling at ${viewport.width}`);
      if (viewport.width === 390) {
        const boxes = await page.locator('#printerCards > li').evaluateAll((lis) => lis.map((li) => li.getBoundingClientRect().x));
        assert.ok(boxes.every((x) => x === boxes[0]), 'one column');
      }
      await page.waitForTimeout(200);
      await screenshot(page, name, { docs: name });
      assertClean(problems);
    }
  });
});
