// The printer monitor end to end in headless Chromium: a simulated Bambu Lab printer (the
// monitor crate's `simulated_bambu` on a Mosquitto with TLS, all on loopback) and a server with
// its monitor on, following only the loopback printer this file adds. "Test connection" in the
// dialog (refused, reached, with the stored access code), then a print that starts on the
// printer: on its card within 2 s, a job row with the auto badge and a running duration on the
// jobs page, completed live when the print ends.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertClean, launchBrowser, openApp, startServer } from './support/harness.mjs';
import { startSimulatedBambu } from './support/simulator.mjs';

let server;
let browser;
let printer;
const contexts = [];

const PRINTERS_READY = '#printersPage[data-loaded]';
const PRINTER_ID = 'sim-p1';

async function app(options = {}) {
  const opened = await openApp(browser, server.baseUrl, { hash: '#printers', ready: PRINTERS_READY, ...options });
  contexts.push(opened.context);
  return opened;
}

const card = (page) => page.locator(`#printerCards [data-printer-id="${PRINTER_ID}"]`);

before(async () => {
  printer = await startSimulatedBambu();
  server = await startServer({ env: { PRINTDESK_MONITOR: 'true' } });
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
  await printer?.stop();
});

describe('a monitored printer', { timeout: 600000 }, () => {
  test('Test connection in the dialog: a wrong access code is refused, the right one reaches it; then added', async () => {
    const { page, problems } = await app();
    await page.locator('#addPrinterBtn').click();
    const modal = page.locator('#printerModal[open]');
    await modal.waitFor();
    await modal.locator('#printerName').fill('Sim P1');
    await modal.locator('#connectionKind').selectOption('bambu_lab');
    await modal.locator('#connHost').fill(printer.host);
    await modal.locator('#connPort').fill(String(printer.port));
    await modal.locator('#connSerial').fill(printer.serial);
    await modal.locator('#connAccessCode').fill('00000000');
    const result = modal.locator('#connectionTestResult');

    const tests = [];
    page.on('request', (req) => { if (req.url().endsWith('/api/v1/printers/test')) tests.push(JSON.parse(req.postData())); });
    await modal.locator('#testConnectionBtn').click();
    await result.and(page.locator('[data-outcome="unreachable"]')).waitFor({ timeout: 12000 });
    assert.equal(await result.innerText(), 'Not connected: access code refused');
    assert.equal(await page.locator('#printerErrorSummary').isVisible(), false, 'not a field error');

    // A change makes the result stale; the right code reaches the printer.
    await modal.locator('#connAccessCode').fill(printer.access_code);
    assert.equal(await result.isVisible(), false, 'the old result is gone once a value changes');
    await modal.locator('#testConnectionBtn').click();
    await result.and(page.locator('[data-outcome="reachable"]')).waitFor({ timeout: 12000 });
    assert.equal(await result.innerText(), 'Connected: printdesk reached the printer: it is idle');
    assert.deepEqual(tests.map((t) => t.connection.access_code), ['00000000', printer.access_code]);
    assert.ok(tests.every((t) => !('printer_id' in t)), 'a new printer has no stored secrets');

    // Nothing was saved by testing.
    assert.equal((await server.api.call('GET', '/printers')).body.printers.length, 0);
    await page.locator('#savePrinterBtn').click();
    await page.locator('#printerModal').waitFor({ state: 'hidden' });
    await card(page).waitFor();
    assertClean(problems);
  });

  test('Test connection of a saved printer uses its stored access code, never sent back', async () => {
    const { page, problems } = await app();
    await card(page).locator("button[data-action='edit-printer']").click();
    const modal = page.locator('#printerModal[open]');
    await modal.waitFor();
    assert.equal(await modal.locator('#connAccessCode').inputValue(), '', 'the secret is not shown');
    const sent = [];
    page.on('request', (req) => { if (req.url().endsWith('/api/v1/printers/test')) sent.push(JSON.parse(req.postData())); });
    await modal.locator('#testConnectionBtn').click();
    await modal.locator('#connectionTestResult[data-outcome="reachable"]').waitFor({ timeout: 12000 });
    assert.equal(sent.length, 1);
    assert.equal(sent[0].printer_id, PRINTER_ID);
    assert.equal('access_code' in sent[0].connection, false, 'the stored code stays on the server');
    await page.keyboard.press('Escape');
    assertClean(problems);
  });

  test('a print shows on the card within 2 s, creates an auto job that runs, and its end completes it live', async () => {
    const { page, problems } = await app();
    const jobs = await app({ hash: '#jobs', ready: '#pagerInfo:not(:empty)' });
    await jobs.page.locator('#connectionStatus[data-state="live"]').waitFor();
    // The monitor follows the printer added above: online and idle first (a print already
    // underway when printdesk first hears of a printer is not recorded).
    await card(page).locator('.printer-state', { hasText: 'Idle' }).waitFor({ timeout: 30000 });
    assert.match(await card(page).innerText(), /online/);

    await printer.send('start Benchy.gcode.3mf Benchy');
    await card(page).locator('.printer-state', { hasText: 'Printing' }).waitFor({ timeout: 2000 });
    await card(page).locator('.printer-file', { hasText: 'Benchy.gcode.3mf' }).waitFor({ timeout: 2000 });
    await printer.send('progress 40 12');
    await card(page).locator('.printer-remaining', { hasText: '40 %' }).waitFor({ timeout: 5000 });
    await card(page).locator('a.printer-job-link').waitFor();

    // The job row on the other page, without a reload.
    const jobRow = jobs.page.locator('#jobsBody tr', { hasText: 'Benchy' });
    await jobRow.waitFor({ timeout: 5000 });
    assert.equal(await jobRow.getAttribute('data-status'), 'running');
    assert.match(await jobRow.locator('.badge-auto').innerText(), /auto\s*·?\s*Sim P1/);
    const duration = jobRow.locator('.cell-duration');
    assert.notEqual((await duration.innerText()).trim(), '—', 'a running duration');
    assert.match(await duration.getAttribute('class'), /is-running/);

    await printer.send('finish');
    await jobs.page.locator('#jobsBody tr[data-status="completed"]', { hasText: 'Benchy' }).waitFor({ timeout: 5000 });
    await card(page).locator('.printer-state', { hasText: 'Finished' }).waitFor({ timeout: 5000 });
    assert.doesNotMatch(await duration.getAttribute('class'), /is-running/, 'the duration stopped');
    const [job] = (await server.api.call('GET', '/jobs')).body.jobs;
    assert.equal(job.status, 'completed');
    assert.equal(job.auto_created, true);
    assert.ok(job.started_at && job.completed_at);
    assertClean(problems);
    assertClean(jobs.problems);
  });
});
