// The page in German and English (a browser in de-DE shows no English word; the switch is
// remembered), the exports' language, time zone and delimiter, and the safety rules of the
// page: unsaved forms ask before closing, Fail asks (with a reason for the notes), a double
// Enter makes one move, `/` and `n`, page numbers.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertClean, FRONTEND_DIR, launchBrowser, openApp, openEditor, row, startServer,
} from './support/harness.mjs';

const GERMAN = { locale: 'de-DE', timezoneId: 'Europe/Berlin' };

let server;
let browser;
let api;
const contexts = [];

async function app(options) {
  const opened = await openApp(browser, server.baseUrl, options);
  contexts.push(opened.context);
  return opened;
}

const unique = (label) => `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const catalog = (lang) => JSON.parse(readFileSync(path.join(FRONTEND_DIR, 'i18n', `${lang}.json`), 'utf8'));
const forms = (entry) => (typeof entry === 'string' ? [entry] : Object.values(entry));

/**
 * The English the page could show: each English message that German words differently, cut at
 * its placeholders, the pieces with more than 3 letters that no German message contains ("Admin"
 * is in "Administrator", "Start" in "Starten": those cannot tell the languages apart).
 */
function englishPieces() {
  const en = catalog('en');
  const de = catalog('de');
  const german = Object.values(de).flatMap(forms);
  const pieces = new Set();
  for (const [key, entry] of Object.entries(en)) {
    if (JSON.stringify(entry) === JSON.stringify(de[key])) continue;
    for (const text of forms(entry)) {
      for (const piece of text.split(/\{\w+\}/)) {
        const trimmed = piece.trim();
        if ((trimmed.match(/\p{L}/gu) ?? []).length <= 3) continue;
        if (german.some((g) => g.includes(trimmed))) continue;
        pieces.add(trimmed);
      }
    }
  }
  return [...pieces];
}

/** The page's text and its attributes people read (titles, placeholders, labels). */
async function renderedText(page) {
  return page.evaluate(() => {
    const parts = [document.title, document.body.textContent];
    for (const el of document.querySelectorAll('[title], [placeholder], [aria-label], [data-label]')) {
      for (const attr of ['title', 'placeholder', 'aria-label', 'data-label']) {
        if (el.hasAttribute(attr)) parts.push(el.getAttribute(attr));
      }
    }
    return parts.join('\n');
  });
}

/** Fails with the English pieces found on the page, where. */
async function assertNoEnglish(page, where, pieces) {
  const text = await renderedText(page);
  const found = pieces.filter((piece) => text.includes(piece));
  assert.deepEqual(found, [], `English on the page (${where})`);
}

const missingKeys = (page) => page.evaluate(async () => [...(await import('/js/i18n.js')).missingKeys]);

before(async () => {
  server = await startServer();
  api = server.api;
  browser = await launchBrowser();
  await api.createPrinter({
    id: 'prusa-werkstatt', name: 'Prusa Werkstatt', printer_type: 'prusa', location: 'Regal 2',
  });
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  if (browser) await browser.close();
  if (server) await server.stop();
});

describe('the page in German', () => {
  test('a de-DE browser sees German everywhere: jobs in every status, the form, errors, a conflict, toasts, printers, access', async () => {
    const tag = unique('Halter');
    const pending = await api.createJob({ job_name: `${tag} wartend`, printer_id: 'prusa-werkstatt' });
    const running = await api.createJob({ job_name: `${tag} läuft`, is_business: true, customer_name: 'Müller GmbH' });
    await api.setStatus(running.id, 'running');
    const completed = await api.createJob({ job_name: `${tag} fertig`, file_name: 'halter_v2.3mf' });
    await api.setStatus(completed.id, 'running');
    await api.setStatus(completed.id, 'completed');
    const failed = await api.createJob({ job_name: `${tag} kaputt`, notes: 'Düse prüfen' });
    await api.setStatus(failed.id, 'failed');
    const pieces = englishPieces();
    assert.ok(pieces.length > 200, 'the English catalog is read');

    const { page, problems } = await app({ contextOptions: GERMAN });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    await row(page, completed.id).waitFor();
    assert.match(await page.locator('#jobsSummary').textContent(), /^\d+ Aufträge insgesamt$/);
    assert.equal(await row(page, pending.id).locator('.cell-status').innerText(), 'Wartend');
    assert.equal(await row(page, running.id).locator('.cell-status').innerText(), 'Läuft');
    assert.equal(await row(page, failed.id).locator('.cell-status').innerText(), 'Fehlgeschlagen');
    assert.equal(await row(page, pending.id).locator('.status-actions button').allTextContents().then((t) => t.join(',')), 'Starten,Fehlschlag');
    assert.match(await row(page, pending.id).locator('.cell-updated').innerText(), /gerade eben|vor \d+ Sekunden/);
    await assertNoEnglish(page, 'jobs', pieces);

    // Plurals and numbers as German writes them.
    const formatted = await page.evaluate(async () => {
      const { t } = await import('/js/i18n.js');
      return [t('jobs.summary.total', { count: 20019 }), t('jobs.summary.filtered', { count: 1 })];
    });
    assert.deepEqual(formatted, ['20.019 Aufträge insgesamt', '1 Auftrag passt zu den Filtern']);
    await page.locator('#filterStatus').selectOption('failed');
    await page.locator('#jobsSummary', { hasText: /(passt|passen) zu den Filtern/ }).waitFor();

    // The form, then a 400 with a field error: the page's own words, not the server's detail.
    await page.locator('#clearFiltersBtn').click();
    const modal = await openEditor(page, pending.id);
    assert.equal(await modal.locator('#editJobTitle').textContent(), 'Auftrag bearbeiten');
    await assertNoEnglish(page, 'edit form', pieces);
    await modal.locator('#jobName').fill('   ');
    await modal.locator('#saveJobBtn').click();
    const nameError = modal.locator('#jobNameError');
    await nameError.waitFor();
    assert.equal(await nameError.textContent(), 'Name darf nicht leer sein');
    assert.match(await modal.locator('#formErrorSummary').textContent(), /Nicht gespeichert: Ein Feld muss korrigiert werden/);
    await assertNoEnglish(page, 'field error', pieces);

    // A 412: someone else saved first.
    await modal.locator('#jobName').fill(`${tag} neu`);
    const current = await api.getJob(pending.id);
    await api.updateJob(pending.id, { notes: 'Von jemand anderem' }, current.version);
    await modal.locator('#saveJobBtn').click();
    await page.locator('#conflictDialog[open]').waitFor();
    await page.locator('#conflictIntro', { hasText: /hat .* geändert, während Sie bearbeitet haben/ }).waitFor();
    await assertNoEnglish(page, 'conflict', pieces);
    await page.locator('#conflictOverwriteBtn').click();
    await page.locator('#editJobModal').waitFor({ state: 'hidden' });
    const toast = page.locator('.toast.success', { hasText: `„${tag} neu“ gespeichert.` });
    await toast.waitFor();
    await assertNoEnglish(page, 'toast', pieces);

    // A refused move (409) reads in German too.
    const refused = page.locator('.toast.error');
    await page.evaluate(async (id) => {
      const { jobsApi } = await import('/js/api.js');
      const { toastError } = await import('/js/toast.js');
      try { await jobsApi.setStatus(id, 'completed'); } catch (err) { toastError(err.message); }
    }, failed.id);
    assert.match(await refused.last().textContent(), /nicht erlaubt \(erlaubt: Wartend\)/);

    // The history.
    await row(page, pending.id).locator("button[data-action='job-history']").click();
    await page.locator('#historyList li').first().waitFor();
    assert.match(await page.locator('#historyStatus').textContent(), /Änderungen, neueste zuerst/);
    await assertNoEnglish(page, 'history', pieces);
    await page.keyboard.press('Escape');

    // Printers, with a printer.
    await page.goto('/#printers');
    await page.locator('[data-printer-id="prusa-werkstatt"]').waitFor();
    assert.match(await page.locator('#printersSummary').textContent(), /^1 Drucker, 0 online$/);
    assert.match(await page.locator('[data-printer-id="prusa-werkstatt"]').innerText(), /Manueller Drucker: nicht verbunden/);
    await assertNoEnglish(page, 'printers', pieces);
    await page.locator("[data-printer-id='prusa-werkstatt'] button[data-action='edit-printer']").click();
    await page.locator('#printerModal[open]').waitFor();
    await page.locator('#connectionKind').selectOption('octoprint');
    await page.locator('#savePrinterBtn').click();
    await page.locator('#connBaseUrlError:not([hidden])').waitFor();
    assert.match(await page.locator('#connBaseUrlError').textContent(), /^Adresse ist für diese Verbindung erforderlich$/);
    await assertNoEnglish(page, 'printer form', pieces);
    await page.locator('#printerModal [data-close].btn').click();
    await page.locator('#confirmDialog[open]').waitFor();
    await page.locator('#confirmOkBtn').click();
    await page.locator('#printerModal').waitFor({ state: 'hidden' });

    // Access (an open server: no users yet, everyone is admin).
    await page.goto('/#access');
    await page.locator('#tokensBody tr').first().waitFor();
    await assertNoEnglish(page, 'access', pieces);

    assert.deepEqual(await missingKeys(page), [], 'every key the page asked for is in the catalog');
    assertClean(problems);
  });

  test('a printer\'s connection problem reads in German on its card', async () => {
    await api.createPrinter({
      id: 'x1c-halle', name: 'X1C Halle', printer_type: 'bambu_lab',
      connection: { kind: 'bambu_lab', host: '10.0.0.9', serial: 'SER9', access_code: 'code-9' },
    });
    // The server's socket is stood in for by one that sends the monitor's sentences.
    let socket = null;
    const { page, problems } = await app({
      contextOptions: GERMAN,
      setup: async (context) => {
        await context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
          socket = ws;
          ws.send(JSON.stringify({ type: 'hello', seq: 0 }));
        });
      },
    });
    await page.goto('/#printers');
    const card = page.locator('[data-printer-id="x1c-halle"]');
    await card.waitFor();
    const status = {
      state: 'error', online: false, file: null, progress: null, remaining_s: null,
      job_id: null, last_seen: null,
    };
    const say = (error) => socket.send(JSON.stringify({ type: 'printer_status', printer_id: 'x1c-halle', status: { ...status, error } }));
    say('printer not reachable: nothing answers at 10.0.0.9:8883 (connection refused)');
    await card.locator('.printer-error', { hasText: 'Drucker nicht erreichbar (unter 10.0.0.9:8883 antwortet nichts (Verbindung abgelehnt))' }).waitFor();
    say('access code refused');
    await card.locator('.printer-error', { hasText: 'Zugangscode abgelehnt' }).waitFor();
    say('certificate changed (now 0123456789abcdef…); clear the stored fingerprint to trust the new one');
    await card.locator('.printer-error', { hasText: 'Zertifikat geändert: den gespeicherten Fingerabdruck löschen, um dem neuen zu vertrauen (0123456789abcdef)' }).waitFor();
    await assertNoEnglish(page, 'printer problems', englishPieces());
    assert.deepEqual(await missingKeys(page), []);
    assertClean(problems);
  });

  test('the office in German: the customer warning, the Reports view, its months and totals', async () => {
    const tag = unique('Bürobedarf');
    for (let i = 0; i < 2; i += 1) {
      const job = await api.createJob({
        job_name: `${tag} ${i}`, printer_id: 'prusa-werkstatt', is_business: true, customer_name: 'Köhler Bürotechnik GmbH',
      });
      const running = await api.setStatus(job.id, 'running');
      await api.setStatus(job.id, 'completed', { version: running.version });
    }
    const { page, problems } = await app({ contextOptions: GERMAN });
    const pieces = englishPieces();

    // A new name close to an existing one warns in German.
    await page.locator('#newJobBtn').click();
    const modal = page.locator('#editJobModal[open]');
    await modal.waitFor();
    await modal.locator('#customerName').fill('Koehler Buerotechnik GmbH');
    const warning = page.locator('#customerSimilar');
    await warning.waitFor({ state: 'visible' });
    assert.match(await warning.locator('.customer-similar-text').textContent(), /„Köhler Bürotechnik GmbH“/);
    await assertNoEnglish(page, 'customer warning', pieces);
    await page.locator('#customerSimilarUse').click();
    assert.equal(await modal.locator('#customerName').inputValue(), 'Köhler Bürotechnik GmbH');
    await page.keyboard.press('Escape');
    await page.locator('#confirmDialog[open]').waitFor();
    await page.locator('#confirmOkBtn').click();
    await page.locator('#editJobModal').waitFor({ state: 'hidden' });

    // The Reports view, grouped by month: German words, the API's totals.
    await page.locator("a[href='#reports']").click();
    await page.locator('#reportsPage[data-loaded]').waitFor();
    await page.locator('#reportGroupBy').selectOption('month');
    await page.waitForFunction(() => document.querySelector('#reportsPage[data-loaded]')
      && document.querySelector('#reportGroupBy').value === 'month');
    await page.waitForTimeout(300);
    await page.locator('#reportsPage[data-loaded]').waitFor();
    const summary = (await api.call('GET', '/reports/summary?group_by=month&tz=Europe%2FBerlin')).body;
    const totals = page.locator('#reportFoot tr.report-totals');
    await page.waitForFunction((jobs) => document.querySelector('#reportFoot tr.report-totals .report-jobs')?.textContent
      === new Intl.NumberFormat('de-DE').format(jobs), summary.totals.jobs);
    assert.equal(await totals.locator('.report-completed').textContent(), new Intl.NumberFormat('de-DE').format(summary.totals.completed));
    assert.equal(await page.locator('#reportChart g.report-bar').count(), summary.rows.length, 'one bar per row');
    const month = new Intl.DateTimeFormat('de-DE', { month: 'long', timeZone: 'Europe/Berlin' }).format(new Date());
    assert.match(await page.locator('#reportBody').innerText(), new RegExp(month), 'month names in German');
    await assertNoEnglish(page, 'reports', pieces);
    assert.deepEqual(await missingKeys(page), []);
    assertClean(problems);
  });

  test('the language switch is remembered across reloads', async () => {
    const { page, problems } = await app();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.locator('.app-nav a[href="#jobs"]').textContent(), 'Jobs');
    await Promise.all([page.waitForEvent('load'), page.locator('#langSwitch').selectOption('de')]);
    await page.waitForSelector('#pagerInfo:not(:empty)');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    assert.equal(await page.locator('.app-nav a[href="#jobs"]').textContent(), 'Aufträge');
    await page.reload();
    await page.waitForSelector('#pagerInfo:not(:empty)');
    assert.equal(await page.locator('.app-nav a[href="#jobs"]').textContent(), 'Aufträge', 'still German');
    assert.equal(await page.locator('#langSwitch').inputValue(), 'de');
    assert.equal(await page.title(), 'Aufträge · printdesk');
    await Promise.all([page.waitForEvent('load'), page.locator('#langSwitch').selectOption('en')]);
    await page.waitForSelector('#pagerInfo:not(:empty)');
    assert.equal(await page.locator('.app-nav a[href="#jobs"]').textContent(), 'Jobs');
    assertClean(problems);
  });

  test('the exports send the language, the time zone, the sort, the filters and the delimiter a German spreadsheet splits on', async () => {
    const tag = unique('Export');
    await api.createJob({ job_name: `${tag} b`, is_business: true, customer_name: 'Müller GmbH' });
    await api.createJob({ job_name: `${tag} a`, is_business: true, customer_name: 'Müller GmbH' });
    const { page, problems } = await app({ contextOptions: GERMAN, hash: `#jobs?q=${tag}&is_business=true` });
    await page.locator('#jobsBody tr[data-job-id]').nth(1).waitFor();
    await page.locator('.sort-btn[data-sort="job_name"]').click();
    await page.locator('#jobsBody tr[data-job-id]').first().filter({ hasText: `${tag} a` }).waitFor();

    const csv = new URL(await page.locator('#exportCsvLink').getAttribute('href'), server.baseUrl);
    assert.equal(csv.pathname, '/api/v1/jobs/export.csv');
    assert.equal(csv.searchParams.get('lang'), 'de');
    assert.equal(csv.searchParams.get('tz'), 'Europe/Berlin');
    assert.equal(csv.searchParams.get('delimiter'), ';');
    assert.equal(csv.searchParams.get('sort'), 'job_name:asc');
    assert.equal(csv.searchParams.get('q'), tag);
    assert.equal(csv.searchParams.get('is_business'), 'true');
    assert.equal(csv.searchParams.has('limit') || csv.searchParams.has('offset'), false);

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#exportCsvLink').click()]);
    const text = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
    const lines = text.trim().split(/\r?\n/);
    assert.equal(lines.length, 3, 'the header and the two filtered jobs');
    assert.ok(lines[0].includes(';'), 'split on ;');
    assert.ok(lines[1].includes(`${tag} a`) && lines[2].includes(`${tag} b`), 'in the order on screen');

    const xlsx = new URL(await page.locator('#exportXlsxLink').getAttribute('href'), server.baseUrl);
    assert.equal(xlsx.pathname, '/api/v1/jobs/export.xlsx');
    assert.equal(xlsx.searchParams.get('lang'), 'de');
    assert.equal(xlsx.searchParams.get('tz'), 'Europe/Berlin');
    assert.equal(xlsx.searchParams.has('delimiter'), false, 'the workbook has no delimiter');
    assert.equal(xlsx.searchParams.get('sort'), 'job_name:asc');
    const [book] = await Promise.all([page.waitForEvent('download'), page.locator('#exportXlsxLink').click()]);
    assert.match(book.suggestedFilename(), /^printdesk-jobs-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const bytes = readFileSync(await book.path());
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'a zip: the workbook');
    assertClean(problems);

    const english = await app({ hash: `#jobs?q=${tag}` });
    await english.page.locator('#jobsBody tr[data-job-id]').first().waitFor();
    const enCsv = new URL(await english.page.locator('#exportCsvLink').getAttribute('href'), server.baseUrl);
    assert.equal(enCsv.searchParams.get('lang'), 'en');
    assert.equal(enCsv.searchParams.get('delimiter'), ',');
  });
});

describe('safety', () => {
  test('a form with unsaved changes asks before Esc or Cancel discards it; a clean form closes at once', async () => {
    const job = await api.createJob({ job_name: unique('Deckel') });
    const { page, problems } = await app();
    const confirm = page.locator('#confirmDialog');

    // Clean: Esc closes at once.
    let modal = await openEditor(page, job.id);
    await page.keyboard.press('Escape');
    await modal.waitFor({ state: 'hidden' });
    assert.equal(await confirm.evaluate((d) => d.open), false, 'nothing to ask');

    // Dirty: Esc asks; keeping the edits keeps the text.
    modal = await openEditor(page, job.id);
    await modal.locator('#notes').fill('halb getippt');
    await page.keyboard.press('Escape');
    await page.locator('#confirmDialog[open]').waitFor();
    assert.equal(await page.locator('#confirmTitle').textContent(), 'Discard your changes?');
    assert.equal(await page.locator('#confirmCancelBtn').textContent(), 'Keep editing');
    await page.locator('#confirmCancelBtn').click();
    await confirm.waitFor({ state: 'hidden' });
    assert.ok(await modal.isVisible(), 'the form stays open');
    assert.equal(await modal.locator('#notes').inputValue(), 'halb getippt');

    // Esc again asks again; Cancel (the button) too; discarding closes without saving.
    await page.keyboard.press('Escape');
    await page.locator('#confirmDialog[open]').waitFor();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    assert.ok(await modal.isVisible(), 'Esc on the question keeps editing');
    await modal.locator('.modal-foot [data-close]').click();
    await page.locator('#confirmDialog[open]').waitFor();
    await page.locator('#confirmOkBtn').click();
    await modal.waitFor({ state: 'hidden' });
    assert.equal((await api.getJob(job.id)).notes, null, 'nothing saved');

    // A new job with a typed name, and the bulk edit with a ticked field, ask too.
    await page.locator('#newJobBtn').click();
    await page.locator('#editJobModal[open]').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#editJobModal').waitFor({ state: 'hidden' });
    await page.locator('#newJobBtn').click();
    await page.locator('#jobName').fill('Neu');
    await page.keyboard.press('Escape');
    await page.locator('#confirmDialog[open]').waitFor();
    await page.locator('#confirmOkBtn').click();
    await page.locator('#editJobModal').waitFor({ state: 'hidden' });

    await row(page, job.id).locator('input.row-select').check();
    await page.locator('#editSelectedBtn').click();
    await page.locator('#bulkEditDialog[open]').waitFor();
    await page.locator('#bulkCustomer').fill('Huber');
    await page.keyboard.press('Escape');
    await page.locator('#confirmDialog[open]').waitFor();
    await page.locator('#confirmOkBtn').click();
    await page.locator('#bulkEditDialog').waitFor({ state: 'hidden' });
    assertClean(problems);

    // Closing the tab with changes: the browser's own question.
    await openEditor(page, job.id);
    await page.locator('#jobName').fill('Nicht gespeichert');
    const asked = page.waitForEvent('dialog');
    await page.close({ runBeforeUnload: true });
    // (The harness answers it: it stays on the page.)
    assert.equal((await asked).type(), 'beforeunload');
  });

  test('Enter twice fast on Start makes one move: the job runs, it is not completed', async () => {
    const job = await api.createJob({ job_name: unique('Doppel') });
    const { page, problems } = await app();
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/status')) posts.push(r.postDataJSON()); });
    await row(page, job.id).locator("button[data-action='start-job']").focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await row(page, job.id).locator('.cell-status', { hasText: 'Running' }).waitFor();
    await page.waitForTimeout(800);
    assert.deepEqual(posts.map((p) => p.status), ['running'], 'one move');
    assert.equal((await api.getJob(job.id)).status, 'running', 'not completed');
    assertClean(problems);
  });

  test('while a move runs its buttons are disabled; the form\'s save too', async () => {
    const job = await api.createJob({ job_name: unique('Langsam') });
    const { page, problems } = await app();
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/v1/jobs/*/status', async (route) => { await held; await route.continue(); });
    await row(page, job.id).locator("button[data-action='start-job']").click();
    await page.waitForTimeout(100);
    assert.deepEqual(await row(page, job.id).locator('.status-actions button').evaluateAll((bs) => bs.map((b) => b.disabled)), [true, true]);
    release();
    await row(page, job.id).locator('.cell-status', { hasText: 'Running' }).waitFor();
    await row(page, job.id).locator("button[data-action='complete-job']:not([disabled])").waitFor();
    assert.equal((await api.getJob(job.id)).status, 'running');

    let releaseSave;
    const saveHeld = new Promise((resolve) => { releaseSave = resolve; });
    const puts = [];
    await page.route(`**/api/v1/jobs/${job.id}`, async (route) => {
      if (route.request().method() === 'PUT') { puts.push(1); await saveHeld; }
      await route.continue();
    });
    const modal = await openEditor(page, job.id);
    await modal.locator('#jobName').fill('Langsam gespeichert');
    await modal.locator('#jobName').press('Enter');
    await modal.locator('#jobName').press('Enter');
    assert.equal(await modal.locator('#saveJobBtn').isDisabled(), true);
    releaseSave();
    await modal.waitFor({ state: 'hidden' });
    assert.equal(puts.length, 1, 'one save');
    assertClean(problems);
  });

  test('Fail asks first; its reason lands in the notes; a reason past the notes limit is refused', async () => {
    const job = await api.createJob({ job_name: unique('Brücke'), notes: 'Erste Schicht ok' });
    const { page, problems } = await app();
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/status')) posts.push(r.postDataJSON()); });

    await row(page, job.id).locator("button[data-action='fail-job']").click();
    await page.locator('#failDialog[open]').waitFor();
    assert.match(await page.locator('#failMessage').textContent(), /will be marked as failed/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'failReason');
    await page.locator('#failCancelBtn').click();
    await page.locator('#failDialog').waitFor({ state: 'hidden' });
    assert.equal(posts.length, 0, 'cancelled: nothing sent');
    assert.equal((await api.getJob(job.id)).status, 'pending');

    await row(page, job.id).locator("button[data-action='fail-job']").click();
    await page.locator('#failDialog[open]').waitFor();
    await page.locator('#failReason').fill('Düse verstopft');
    await page.locator('#failOkBtn').click();
    await row(page, job.id).locator('.cell-status', { hasText: 'Failed' }).waitFor();
    await page.locator('.toast.success', { hasText: 'the reason is in its notes' }).waitFor();
    const stored = await api.getJob(job.id);
    assert.equal(stored.status, 'failed');
    assert.equal(stored.notes, 'Erste Schicht ok\nFailed: Düse verstopft');

    // Without a reason: failed, notes untouched.
    const plain = await api.createJob({ job_name: unique('Ohne Grund') });
    await row(page, plain.id).locator("button[data-action='fail-job']").click();
    await page.locator('#failDialog[open]').waitFor();
    await page.locator('#failOkBtn').click();
    await row(page, plain.id).locator('.cell-status', { hasText: 'Failed' }).waitFor();
    assert.equal((await api.getJob(plain.id)).notes, null);

    // Notes near their limit: the reason would not fit, and the dialog says by how much.
    const full = await api.createJob({ job_name: unique('Voll'), notes: 'x'.repeat(980) });
    await row(page, full.id).locator("button[data-action='fail-job']").click();
    await page.locator('#failDialog[open]').waitFor();
    await page.locator('#failReason').fill('Filament gerissen');
    const error = page.locator('#failReasonError');
    await error.waitFor();
    assert.match(await error.textContent(), /would be \d+ characters over their limit of 1000/);
    assert.equal(await page.locator('#failOkBtn').isDisabled(), true);
    await page.locator('#failReason').fill('Riss');
    assert.equal(await error.isVisible(), false);
    await page.locator('#failOkBtn').click();
    await row(page, full.id).locator('.cell-status', { hasText: 'Failed' }).waitFor();
    await page.locator('.toast.success', { hasText: 'the reason is in its notes' }).last().waitFor();
    const fullStored = await api.getJob(full.id);
    assert.equal([...fullStored.notes].length <= 1000, true);
    assert.ok(fullStored.notes.endsWith('\nFailed: Riss'));
    assertClean(problems);
  });

  test('`/` focuses the search and `n` opens a new job, but not while typing, with modifiers, in a dialog or for viewers', async () => {
    const { page, problems } = await app();
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'jobSearch');
    assert.equal(await page.locator('#jobSearch').inputValue(), '', 'the / is not typed');
    await page.keyboard.type('no');
    assert.equal(await page.locator('#jobSearch').inputValue(), 'no', '`n` in the search is a letter');
    assert.equal(await page.locator('#editJobModal').evaluate((d) => d.open), false);
    await page.locator('#jobSearch').fill('');
    await page.locator('#jobSearch').blur();

    await page.keyboard.press('Alt+n');
    assert.equal(await page.locator('#editJobModal').evaluate((d) => d.open), false, 'not with a modifier');
    await page.keyboard.press('n');
    await page.locator('#editJobModal[open]').waitFor();
    assert.equal(await page.locator('#editJobTitle').textContent(), 'New job');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'jobName');
    assert.equal(await page.locator('#jobName').inputValue(), '', 'the n is not typed');
    await page.keyboard.press('Escape');
    await page.locator('#editJobModal').waitFor({ state: 'hidden' });

    // A dialog is open: `/` does not leave it.
    await page.locator('#newJobBtn').click();
    await page.locator('#editJobModal[open]').waitFor();
    await page.locator('#editJobModal .modal-foot [data-close]').focus();
    await page.keyboard.press('/');
    assert.notEqual(await page.evaluate(() => document.activeElement.id), 'jobSearch');
    await page.keyboard.press('Escape');
    await page.locator('#editJobModal').waitFor({ state: 'hidden' });

    // A viewer cannot create: `n` does nothing.
    await page.evaluate(() => { document.body.dataset.role = 'viewer'; });
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('n');
    await page.waitForTimeout(200);
    assert.equal(await page.locator('#editJobModal').evaluate((d) => d.open), false, 'not for viewers');
    assertClean(problems);
  });

  test('page numbers and "go to page" reach any page', async () => {
    const tag = unique('Seite');
    for (let i = 1; i <= 55; i += 1) await api.createJob({ job_name: `${tag} ${String(i).padStart(2, '0')}` });
    const { page, problems } = await app({ hash: `#jobs?q=${tag}&limit=10&sort=job_name:asc` });
    await page.locator('#pagerInfo', { hasText: '1–10 of 55' }).waitFor();
    const numbers = () => page.locator('#pageNumbers').evaluate((nav) => [...nav.children].map((c) => c.textContent));
    assert.deepEqual(await numbers(), ['1', '2', '3', '…', '6']);
    assert.equal(await page.locator('#pageNumbers [aria-current="page"]').textContent(), '1');

    await page.locator('#pageNumbers button[data-page="3"]').click();
    await page.locator('#pagerInfo', { hasText: '21–30 of 55' }).waitFor();
    assert.match(page.url(), /offset=20/);
    assert.deepEqual(await numbers(), ['1', '2', '3', '4', '5', '6']);
    assert.equal(await page.locator('#jobsBody tr[data-job-id]').first().locator('.job-name').textContent(), `${tag} 21`);

    await page.locator('#pageJumpInput').fill('6');
    await page.locator('#pageJumpInput').press('Enter');
    await page.locator('#pagerInfo', { hasText: '51–55 of 55' }).waitFor();
    assert.deepEqual(await numbers(), ['1', '…', '4', '5', '6']);

    await page.locator('#pageJumpInput').fill('99');
    await page.locator('#pageJumpInput').press('Enter');
    await page.waitForTimeout(200);
    assert.equal(await page.locator('#pagerInfo').textContent(), '51–55 of 55', 'past the end: the last page');

    await page.locator('#pageJumpInput').fill('2');
    await page.locator('#pageJumpInput').press('Enter');
    await page.locator('#pagerInfo', { hasText: '11–20 of 55' }).waitFor();
    assertClean(problems);
  });
});
