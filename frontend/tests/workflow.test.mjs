// The job workflow in the page: status moves on each row (only the allowed ones), Reopen
// behind a confirmation, multi-select with an all-or-nothing bulk edit, and the CSV export of
// the current filters.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { assertClean, launchBrowser, openApp, row, startServer } from './support/harness.mjs';

let server;
let browser;
let api;
const contexts = [];

async function app(options) {
  const opened = await openApp(browser, server.baseUrl, options);
  contexts.push(opened.context);
  return opened;
}

/** The status moves a row offers, as `data-action` names in button order. */
async function moves(page, id) {
  return row(page, id).locator('.status-actions button').evaluateAll((bs) => bs.map((b) => b.dataset.action));
}

/** Requests to the status endpoint: `{url, body, ifMatch}`. */
function recordStatusPosts(page) {
  const posts = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && /\/api\/v1\/jobs\/[^/]+\/status$/.test(new URL(r.url()).pathname)) {
      posts.push({ url: r.url(), body: r.postDataJSON(), ifMatch: r.headers()['if-match'] });
    }
  });
  return posts;
}

const unique = (label) => `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

before(async () => {
  server = await startServer();
  api = server.api;
  browser = await launchBrowser();
  await api.createPrinter({ id: 'prusa-mk4-1', name: 'Prusa MK4 #1', printer_type: 'prusa' });
  await api.createPrinter({ id: 'bambu-x1c-1', name: 'Bambu X1C #1', printer_type: 'bambu_lab' });
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

describe('status workflow', { timeout: 600000 }, () => {
  test('each row offers only the allowed moves, and a move sets the status and its timestamps', async () => {
    const tag = unique('wf');
    const pending = await api.createJob({ job_name: `${tag} pending` });
    const running = await api.createJob({ job_name: `${tag} running`, status: 'running' });
    const failed = await api.createJob({ job_name: `${tag} failed`, status: 'failed' });
    const completed = await api.createJob({ job_name: `${tag} completed`, status: 'completed' });
    const { page, problems } = await app({ hash: `#jobs?q=${tag}` });
    await row(page, completed.id).waitFor();

    assert.deepEqual(await moves(page, pending.id), ['start-job', 'fail-job']);
    assert.deepEqual(await moves(page, running.id), ['complete-job', 'fail-job']);
    assert.deepEqual(await moves(page, failed.id), ['retry-job']);
    assert.deepEqual(await moves(page, completed.id), ['reopen-job']);
    assert.equal(await row(page, pending.id).locator('.status-actions button').allTextContents().then((t) => t.join(',')), 'Start,Fail');
    assert.equal(await row(page, failed.id).locator("button[data-action='retry-job']").textContent(), 'Retry');

    const posts = recordStatusPosts(page);

    // pending → running (Start): started_at is set.
    await row(page, pending.id).locator("button[data-action='start-job']").click();
    await page.locator('.toast.success', { hasText: 'Started' }).waitFor();
    await row(page, pending.id).locator('.cell-status', { hasText: 'Running' }).waitFor();
    assert.deepEqual(await moves(page, pending.id), ['complete-job', 'fail-job']);
    let stored = await api.getJob(pending.id);
    assert.equal(stored.status, 'running');
    assert.ok(stored.started_at, 'started_at set');
    assert.equal(stored.completed_at, null);
    assert.equal(stored.version, 2);
    assert.deepEqual(posts.at(-1).body, { status: 'running', force: false });
    assert.equal(posts.at(-1).ifMatch, '"1"');
    const startedAt = stored.started_at;

    // running → completed (Complete): completed_at is set, started_at kept.
    await row(page, pending.id).locator("button[data-action='complete-job']").click();
    await row(page, pending.id).locator('.cell-status', { hasText: 'Completed' }).waitFor();
    assert.deepEqual(await moves(page, pending.id), ['reopen-job']);
    stored = await api.getJob(pending.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.started_at, startedAt);
    assert.ok(stored.completed_at, 'completed_at set');
    assert.equal(posts.at(-1).ifMatch, '"2"', 'the new version is the next If-Match');

    // running → failed (Fail), then failed → pending (Retry) clears completed_at.
    await row(page, running.id).locator("button[data-action='fail-job']").click();
    await page.locator('#failOkBtn').click(); // Fail asks first
    await row(page, running.id).locator('.cell-status', { hasText: 'Failed' }).waitFor();
    stored = await api.getJob(running.id);
    assert.equal(stored.status, 'failed');
    assert.ok(stored.completed_at, 'completed_at set on failing');
    await row(page, running.id).locator("button[data-action='retry-job']").click();
    await row(page, running.id).locator('.cell-status', { hasText: 'Pending' }).waitFor();
    assert.deepEqual(await moves(page, running.id), ['start-job', 'fail-job']);
    stored = await api.getJob(running.id);
    assert.equal(stored.status, 'pending');
    assert.equal(stored.completed_at, null, 'a retry clears completed_at');

    // Focus stays in the row after its buttons were redrawn (keyboard users keep their place).
    assert.equal(await page.evaluate(() => document.activeElement?.closest('tr')?.dataset.jobId), running.id);
    assertClean(problems);
  });

  test('a refused move (409) shows the server’s reason; a stale row (412) is refreshed', async () => {
    const tag = unique('wf409');
    const job = await api.createJob({ job_name: `${tag} plate` });
    const stale = await api.createJob({ job_name: `${tag} stale` });
    // This page gets no live updates, so its rows can go stale.
    const { page, problems } = await app({
      hash: `#jobs?q=${tag}`,
      setup: (context) => context.routeWebSocket(/\/api\/v1\/ws/, () => {}),
    });
    await row(page, stale.id).waitFor();

    // 409: the server refuses the move (the request is bent into one the table lacks).
    await page.route(`**/api/v1/jobs/${job.id}/status`, (route) => route.continue({
      postData: JSON.stringify({ status: 'completed', force: false }),
    }));
    await row(page, job.id).locator("button[data-action='start-job']").click();
    const refused = page.locator('.toast.error', { hasText: 'This status change is not allowed' });
    await refused.waitFor();
    assert.match(await refused.textContent(), /allowed moves: Running and Failed/);
    assert.equal((await api.getJob(job.id)).version, 1, 'nothing saved');
    assert.deepEqual(await moves(page, job.id), ['start-job', 'fail-job'], 'the row is unchanged');
    await page.unroute(`**/api/v1/jobs/${job.id}/status`);

    // 412: someone started and renamed the job; this page still shows it pending.
    const started = await api.updateJob(stale.id, { job_name: `${tag} stale (renamed)`, status: 'running' }, 1);
    await row(page, stale.id).locator("button[data-action='start-job']").click();
    const told = page.locator('.toast.info', { hasText: 'someone else changed' });
    await told.waitFor();
    assert.match(await told.textContent(), /now Running/);
    await row(page, stale.id).locator('.job-name', { hasText: '(renamed)' }).waitFor();
    assert.match(await row(page, stale.id).locator('.cell-status').textContent(), /Running/);
    assert.deepEqual(await moves(page, stale.id), ['complete-job', 'fail-job'], 'the row offers the moves of its real status');
    const stored = await api.getJob(stale.id);
    assert.equal(stored.version, 2, 'the stale move saved nothing');
    // The edit's pending → running set started_at (a workflow move); the stale move did not.
    assert.equal(stored.started_at, started.started_at);
    assertClean(problems);
  });

  test('Reopen asks first and sends force; Cancel sends nothing', async () => {
    const tag = unique('reopen');
    const job = await api.createJob({ job_name: `${tag} bracket` });
    await api.setStatus(job.id, 'running');
    const done = await api.setStatus(job.id, 'completed');
    assert.ok(done.completed_at);
    const { page, problems } = await app({ hash: `#jobs?q=${tag}` });
    await row(page, job.id).waitFor();
    const posts = recordStatusPosts(page);

    await row(page, job.id).locator("button[data-action='reopen-job']").click();
    const confirm = page.locator('#confirmDialog');
    await confirm.waitFor();
    assert.match(await page.locator('#confirmTitle').textContent(), /Reopen/);
    assert.match(await page.locator('#confirmMessage').textContent(), new RegExp(`${tag} bracket`));
    await page.locator('#confirmCancelBtn').click();
    await confirm.waitFor({ state: 'hidden' });
    await page.waitForTimeout(200);
    assert.equal(posts.length, 0, 'nothing sent after Cancel');
    assert.equal((await api.getJob(job.id)).status, 'completed');

    await row(page, job.id).locator("button[data-action='reopen-job']").click();
    await confirm.waitFor();
    await page.locator('#confirmOkBtn').click();
    await page.locator('.toast.success', { hasText: 'Reopened' }).waitFor();
    await row(page, job.id).locator('.cell-status', { hasText: 'Pending' }).waitFor();
    assert.equal(posts.length, 1);
    assert.deepEqual(posts[0].body, { status: 'pending', force: true });
    assert.equal(posts[0].ifMatch, `"${done.version}"`);
    const stored = await api.getJob(job.id);
    assert.equal(stored.status, 'pending');
    assert.equal(stored.completed_at, null, 'reopening clears completed_at');
    assert.equal(stored.started_at, done.started_at, 'started_at is kept');
    assert.deepEqual(await moves(page, job.id), ['start-job', 'fail-job']);
    assertClean(problems);
  });
});

describe('select and edit several jobs', { timeout: 600000 }, () => {
  test('row checkboxes + Edit selected: only touched fields are sent, all jobs saved at once', async () => {
    const tag = unique('bulk');
    const a = await api.createJob({ job_name: `${tag} A`, status: 'running' });
    const b = await api.createJob({ job_name: `${tag} B`, notes: 'old notes' });
    const c = await api.createJob({ job_name: `${tag} C`, is_business: true, customer_name: 'Keep GmbH' });
    const untouched = await api.createJob({ job_name: `${tag} D` });
    await api.updateJob(b.id, { file_name: 'b.3mf' }, 1); // B is at version 2
    const { page, problems } = await app({ hash: `#jobs?q=${tag}` });
    await row(page, untouched.id).waitFor();

    assert.ok(await page.locator('#bulkBar').isHidden(), 'no bar without a selection');
    for (const job of [a, b, c]) await row(page, job.id).locator('input.row-select').check();
    await page.locator('#bulkBar').waitFor();
    assert.equal(await page.locator('#selectionCount').textContent(), '3 selected');
    assert.equal(await page.locator('#selectAll').evaluate((el) => el.indeterminate), true, 'select-all shows a partial selection');
    assert.ok(await row(page, a.id).evaluate((tr) => tr.classList.contains('is-selected')));

    let sent = null;
    page.on('request', (r) => { if (r.url().endsWith('/api/v1/jobs/bulk-edit')) sent = r.postDataJSON(); });
    await page.locator('#editSelectedBtn').click();
    const dialog = page.locator('#bulkEditDialog');
    await dialog.waitFor();
    assert.match(await page.locator('#bulkEditMeta').textContent(), /3 jobs selected/);
    assert.ok(await page.locator('#bulkApplyBtn').isDisabled(), 'nothing to apply before a field is touched');

    await page.locator('#bulkBusiness').selectOption('true');
    await page.locator('#bulkCustomer').fill('ACME Prototyping');
    await page.locator('#bulkPrinter').selectOption('prusa-mk4-1');
    await page.locator('#bulkNotes').fill('Order 4711');
    assert.equal(await page.locator('#bulkUseStatus').isChecked(), false, 'status untouched');
    assert.equal(await page.locator('#bulkUseCustomer').isChecked(), true, 'typing ticks the field');
    assert.equal(await page.locator('#bulkApplyBtn').textContent(), 'Apply to 3 jobs');
    await page.locator('#bulkApplyBtn').click();

    await page.locator('.toast.success', { hasText: 'Updated 3 jobs' }).waitFor();
    await dialog.waitFor({ state: 'hidden' });
    assert.deepEqual([...sent.ids].sort(), [a.id, b.id, c.id].sort());
    assert.deepEqual(sent.changes, {
      is_business: true, customer_name: 'ACME Prototyping', printer_id: 'prusa-mk4-1', notes: 'Order 4711',
    });
    assert.deepEqual(sent.if_versions, { [a.id]: 1, [b.id]: 2, [c.id]: 1 });

    for (const job of [a, b, c]) {
      const stored = await api.getJob(job.id);
      assert.equal(stored.is_business, true);
      assert.equal(stored.customer_name, 'ACME Prototyping');
      assert.equal(stored.printer_id, 'prusa-mk4-1');
      assert.equal(stored.notes, 'Order 4711');
      assert.equal(stored.version, job.id === b.id ? 3 : 2);
      await row(page, job.id).locator('.customer', { hasText: 'ACME Prototyping' }).waitFor();
    }
    assert.equal((await api.getJob(a.id)).status, 'running', 'status untouched');
    assert.equal((await api.getJob(untouched.id)).version, 1, 'unselected job untouched');
    assert.match(await row(page, a.id).locator('.cell-printer').textContent(), /Prusa MK4 #1/);
    // The selection is done with.
    await page.locator('#bulkBar').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#jobsBody input.row-select:checked').count(), 0);
    assertClean(problems);
  });

  test('select all, and a change one job cannot take: that job is named, nothing is saved', async () => {
    const tag = unique('bulkfail');
    const withCustomer = await api.createJob({ job_name: `${tag} has customer`, customer_name: 'Studio Nord' });
    const without = await api.createJob({ job_name: `${tag} no customer` });
    const other = await api.createJob({ job_name: `${tag} also has one`, customer_name: 'Hofer' });
    const { page, problems } = await app({ hash: `#jobs?q=${tag}` });
    await row(page, other.id).waitFor();

    await page.locator('#selectAll').check();
    assert.equal(await page.locator('#selectionCount').textContent(), '3 selected');
    assert.equal(await page.locator('#jobsBody input.row-select:checked').count(), 3);
    await page.locator('#editSelectedBtn').click();
    await page.locator('#bulkEditDialog').waitFor();
    await page.locator('#bulkBusiness').selectOption('true');
    let status = null;
    page.on('response', (r) => { if (r.url().endsWith('/bulk-edit')) status = r.status(); });
    await page.locator('#bulkApplyBtn').click();

    const failures = page.locator('#bulkFailures li');
    await failures.first().waitFor();
    assert.equal(status, 400);
    assert.equal(await failures.count(), 1, 'only the failing job is listed');
    const item = page.locator(`#bulkFailures li[data-job-id="${without.id}"]`);
    assert.match(await item.textContent(), new RegExp(`${tag} no customer`));
    assert.match(await item.textContent(), /customer/i);
    assert.match(await page.locator('#bulkErrorSummary').textContent(), /Nothing was saved/);
    await page.locator('.toast.error', { hasText: 'Nothing was saved' }).waitFor();
    assert.ok(await page.locator('#bulkEditDialog').isVisible(), 'the dialog stays open');
    for (const job of [withCustomer, without, other]) {
      const stored = await api.getJob(job.id);
      assert.equal(stored.version, 1, `${job.job_name}: nothing saved`);
      assert.equal(stored.is_business, false);
    }

    // Giving every job a customer as well makes the change acceptable for all of them.
    await page.locator('#bulkCustomer').fill('Walk-in');
    await page.locator('#bulkApplyBtn').click();
    await page.locator('.toast.success', { hasText: 'Updated 3 jobs' }).waitFor();
    for (const job of [withCustomer, without, other]) {
      const stored = await api.getJob(job.id);
      assert.equal(stored.is_business, true);
      assert.equal(stored.customer_name, 'Walk-in');
    }
    assertClean(problems);
  });

  test('a job changed meanwhile (412): it is named and refreshed, and applying again saves', async () => {
    const tag = unique('bulk412');
    const first = await api.createJob({ job_name: `${tag} first` });
    const second = await api.createJob({ job_name: `${tag} second` });
    const { page, problems } = await app({ hash: `#jobs?q=${tag}` });
    await row(page, second.id).waitFor();
    await page.locator('#selectAll').check();
    await page.locator('#editSelectedBtn').click();
    await page.locator('#bulkEditDialog').waitFor();
    await page.locator('#bulkStatus').selectOption('failed');

    // Someone edits the second job while the dialog is open.
    await api.updateJob(second.id, { notes: 'changed elsewhere' }, 1);
    let status = null;
    page.on('response', (r) => { if (r.url().endsWith('/bulk-edit')) status = r.status(); });
    await page.locator('#bulkApplyBtn').click();
    const item = page.locator(`#bulkFailures li[data-job-id="${second.id}"]`);
    await item.waitFor();
    assert.equal(status, 412);
    assert.equal(await page.locator('#bulkFailures li').count(), 1);
    assert.match(await item.textContent(), /version 2|changed/i);
    assert.match(await page.locator('#bulkErrorSummary').textContent(), /someone else/);
    assert.equal((await api.getJob(first.id)).status, 'pending', 'nothing saved');
    assert.equal((await api.getJob(second.id)).status, 'pending');

    await page.locator('#bulkApplyBtn').click();
    await page.locator('.toast.success', { hasText: 'Updated 2 jobs' }).waitFor();
    assert.equal((await api.getJob(first.id)).status, 'failed');
    const stored = await api.getJob(second.id);
    assert.equal(stored.status, 'failed');
    assert.equal(stored.notes, 'changed elsewhere', 'the other edit is kept');
    assertClean(problems);
  });
});

describe('CSV export', { timeout: 600000 }, () => {
  test('the link carries the current filters, the sort, the language and the time zone, and downloads the matching jobs as CSV', async () => {
    const tag = unique('csv');
    const wanted = await api.createJob({
      job_name: `${tag} drone arms`, status: 'failed', is_business: true, customer_name: 'SkyWorks, Ltd', printer_id: 'bambu-x1c-1', notes: '=cmd|calc',
    });
    await api.createJob({ job_name: `${tag} other printer`, status: 'failed', is_business: true, customer_name: 'X', printer_id: 'prusa-mk4-1' });
    await api.createJob({ job_name: `${tag} private`, status: 'failed', printer_id: 'bambu-x1c-1' });
    await api.createJob({ job_name: `${tag} pending`, is_business: true, customer_name: 'Y', printer_id: 'bambu-x1c-1' });
    const { page, problems } = await app();

    const link = page.locator('#exportCsvLink');
    const plain = new URL(await link.getAttribute('href'), server.baseUrl).searchParams;
    const tz = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    assert.deepEqual(Object.fromEntries(plain), {
      sort: 'updated_at:desc', lang: 'en', tz, delimiter: ',',
    }, 'no filters: everything, in the order on screen');

    await page.locator('#jobSearch').fill(tag);
    await page.locator('#filterStatus').selectOption('failed');
    await page.locator('#filterPrinter').selectOption('bambu-x1c-1');
    await page.locator('#filterBusiness').selectOption('true');
    await page.locator(".sort-btn[data-sort='job_name']").click();
    await page.locator('#pageSize').selectOption('10');
    await page.locator('#pagerInfo', { hasText: '1–1 of 1' }).waitFor();

    const href = new URL(await link.getAttribute('href'), server.baseUrl);
    assert.equal(href.pathname, '/api/v1/jobs/export.csv');
    assert.deepEqual(Object.fromEntries(href.searchParams), {
      status: 'failed', printer_id: 'bambu-x1c-1', is_business: 'true', q: tag, sort: 'job_name:asc', lang: 'en', tz, delimiter: ',',
    });
    for (const refused of ['limit', 'offset']) assert.equal(href.searchParams.has(refused), false, `${refused} is not sent`);

    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /^printdesk-jobs-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile(await download.path(), 'utf8');
    const text = csv.replace(/^\uFEFF/, '');
    const lines = text.split('\r\n').filter(Boolean);
    assert.match(lines[0], /^ID,Name,Status,Business,Customer,/, 'headed in the page\'s language');
    assert.equal(lines.length, 2, `the header and the one matching job:\n${text}`);
    assert.ok(lines[1].startsWith(`${wanted.id},${tag} drone arms,Failed,Yes,"SkyWorks, Ltd",bambu-x1c-1,`));
    assert.match(lines[1], /,'=cmd\|calc,/, 'a formula is neutralised');
    assertClean(problems);
  });
});
