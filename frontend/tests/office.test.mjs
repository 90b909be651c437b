// The office parts of the page in headless Chromium against the real server: the customers'
// autocomplete and the close-name warning in the job form, the customer and date filters of
// the job list (address bar, quick ranges, `tz`, the export link), and the Reports view
// (totals as the API's summary, one bar per row).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertClean, launchBrowser, openApp, startServer } from './support/harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';

let server;
let browser;
let api;
const contexts = [];

async function app(options) {
  const opened = await openApp(browser, server.baseUrl, options);
  contexts.push(opened.context);
  return opened;
}

const hashParams = (page) => new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '');

before(async () => {
  server = await startServer();
  api = server.api;
  browser = await launchBrowser();
  await api.createPrinter({ id: 'prusa-mk4-1', name: 'Prusa MK4 #1', printer_type: 'prusa' });
  for (let i = 0; i < 3; i += 1) {
    await api.createJob({ job_name: `Gehäuse ${i}`, is_business: true, customer_name: 'Müller GmbH', printer_id: 'prusa-mk4-1' });
  }
  await api.createJob({ job_name: 'Schild', is_business: true, customer_name: 'ACME' });
  await api.createJob({ job_name: 'Vase', customer_name: XSS });
  await api.createJob({ job_name: 'Benchy' });
  // Two of them printed: they have completed_at (today).
  const { jobs } = await api.listJobs('?customer=M%C3%BCller%20GmbH&sort=job_name:asc');
  for (const job of jobs.slice(0, 2)) {
    const running = await api.setStatus(job.id, 'running');
    await api.setStatus(job.id, 'completed', { version: running.version });
  }
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

describe('office: customers, date filters, reports', { timeout: 600000 }, () => {
  test('the job form suggests customers and warns about a name close to an existing one', async () => {
    const { page, problems } = await app();
    await page.locator('#newJobBtn').click();
    const modal = page.locator('#editJobModal[open]');
    await modal.waitFor();
    const input = modal.locator('#customerName');
    assert.equal(await input.getAttribute('role'), 'combobox');

    // Accents and case ignored: `mül` finds Müller GmbH, with its jobs.
    await input.fill('MUL');
    const options = modal.locator('.customer-suggestions li[role="option"]');
    await options.first().waitFor();
    assert.equal(await options.count(), 1);
    assert.equal(await options.first().locator('.customer-suggestion-name').textContent(), 'Müller GmbH');
    assert.equal(await options.first().locator('.customer-suggestion-count').textContent(), '3 jobs');
    assert.equal(await input.getAttribute('aria-expanded'), 'true');

    // Keyboard: ↓ highlights, Enter takes it (and does not submit the form).
    await input.press('ArrowDown');
    assert.equal(await options.first().getAttribute('aria-selected'), 'true');
    assert.equal(await input.getAttribute('aria-activedescendant'), await options.first().getAttribute('id'));
    await input.press('Enter');
    assert.equal(await input.inputValue(), 'Müller GmbH');
    assert.equal(await modal.count(), 1, 'the form is still open');
    assert.equal(await input.getAttribute('aria-expanded'), 'false');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('#customerSimilar').isHidden(), true, 'an existing name is no warning');

    // A new name close to an existing one: the warning, and "use it" takes the existing name.
    await input.fill('Mueller GmbH');
    const warning = page.locator('#customerSimilar');
    await warning.waitFor({ state: 'visible' });
    assert.equal(await warning.locator('.customer-similar-text').textContent(),
      'Similar to existing customer “Müller GmbH” (3 jobs).');
    await page.locator('#customerSimilarUse').click();
    assert.equal(await input.inputValue(), 'Müller GmbH');
    assert.equal(await warning.isHidden(), true);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'customerName');

    for (const close of ['muller gmbh', 'Müller  GmbH', 'Müler GmbH']) {
      await input.fill(close);
      await warning.waitFor({ state: 'visible' });
    }
    await input.fill('Schmidt KG');
    await page.waitForTimeout(700);
    assert.equal(await warning.isHidden(), true, 'a name close to none');

    // Names are text: a customer called like markup is shown as written.
    await input.fill('<');
    await options.first().waitFor();
    assert.equal(await options.first().locator('.customer-suggestion-name').textContent(), XSS);
    assert.equal(await modal.locator('.customer-suggestions img').count(), 0);
    // Escape closes the list, not the form.
    await input.press('Escape');
    assert.equal(await input.getAttribute('aria-expanded'), 'false');
    assert.equal(await modal.count(), 1, 'the form is still open');
    assertClean(problems);
  });

  test('customer and date filters: in the address bar, quick ranges, tz sent, export link', async () => {
    const { page, problems } = await app();
    const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    const lists = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/api/v1/jobs') lists.push(url.searchParams);
    });

    // The customer filter with the same suggestions.
    const customer = page.locator('#filterCustomer');
    await customer.fill('mül');
    await page.locator('#officeFilters .customer-suggestions li[role="option"]').first().click();
    await page.waitForFunction(() => document.querySelector('#jobsSummary')?.textContent.startsWith('3 '));
    assert.equal(hashParams(page).get('customer'), 'Müller GmbH');
    assert.equal(await page.locator('#jobsBody tr[data-job-id]').count(), 3);

    // A quick range: this month, in the browser's zone, sent with tz.
    await page.locator('#filterCompletedQuick').selectOption('this-month');
    await page.waitForFunction(() => document.querySelector('#jobsSummary')?.textContent.startsWith('2 '));
    const now = new Date();
    const month = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
    const params = hashParams(page);
    assert.equal(params.get('completed_from'), `${month}-01`);
    assert.match(params.get('completed_to'), new RegExp(`^${month}-(28|29|30|31)$`));
    assert.equal(params.get('tz'), null, 'the zone is the browser\'s, not the address bar\'s');
    const last = lists.at(-1);
    assert.equal(last.get('tz'), zone);
    assert.equal(last.get('completed_from'), `${month}-01`);
    assert.equal(last.get('customer'), 'Müller GmbH');
    const listed = await api.listJobs(`?${new URLSearchParams({
      customer: 'Müller GmbH', completed_from: params.get('completed_from'), completed_to: params.get('completed_to'), tz: zone,
    })}`);
    assert.equal(listed.total_count, 2);
    assert.equal(await page.locator('#jobsBody tr[data-job-id]').count(), 2);

    // The export takes the same filters.
    const href = new URL(await page.locator('#exportCsvLink').getAttribute('href'), server.baseUrl);
    assert.equal(href.searchParams.get('customer'), 'Müller GmbH');
    assert.equal(href.searchParams.get('completed_from'), `${month}-01`);
    assert.equal(href.searchParams.get('tz'), zone);

    // Last month: nothing; the created range by its date inputs.
    await page.locator('#filterCompletedQuick').selectOption('last-month');
    await page.locator('#jobsBody .empty-title').waitFor();
    await page.locator('#filterCompletedQuick').selectOption('clear');
    await page.waitForFunction(() => document.querySelector('#jobsSummary')?.textContent.startsWith('3 '));
    assert.equal(hashParams(page).get('completed_from'), null);
    const today = `${month}-${String(now.getDate()).padStart(2, '0')}`;
    await page.locator('#filterCreatedFrom').fill(today);
    await page.waitForFunction((d) => location.hash.includes(`created_from=${d}`), today);
    assert.equal(await page.locator('#jobsBody tr[data-job-id]').count(), 3);

    // The address bar restores every filter.
    await page.reload();
    await page.waitForSelector('#pagerInfo:not(:empty)');
    assert.equal(await page.locator('#filterCustomer').inputValue(), 'Müller GmbH');
    assert.equal(await page.locator('#filterCreatedFrom').inputValue(), today);
    assert.equal(await page.locator('#jobsBody tr[data-job-id]').count(), 3);

    // Clear filters clears them too.
    await page.locator('#clearFiltersBtn').click();
    await page.waitForFunction(() => location.hash === '#jobs');
    assert.equal(await page.locator('#filterCustomer').inputValue(), '');
    assert.equal(await page.locator('#filterCreatedFrom').inputValue(), '');
    assertClean(problems);
  });

  test('the Reports view: totals as the API\'s summary and the list, one bar per row', async () => {
    const { page, problems } = await app();
    const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    await page.locator("a[href='#reports']").click();
    const section = page.locator('#reportsPage[data-loaded]');
    await section.waitFor();

    const check = async (query) => {
      const summary = (await api.call('GET', `/reports/summary?${new URLSearchParams({ ...query, tz: zone })}`)).body;
      const rows = page.locator('#reportBody tr[data-key]');
      assert.equal(await rows.count(), summary.rows.length, JSON.stringify(query));
      assert.equal(await page.locator('#reportChart g.report-bar').count(), summary.rows.length, 'one bar per row');
      const totals = page.locator('#reportFoot tr.report-totals');
      assert.equal(await totals.locator('.report-jobs').textContent(), String(summary.totals.jobs));
      assert.equal(await totals.locator('.report-completed').textContent(), String(summary.totals.completed));
      assert.equal(await totals.locator('.report-business').textContent(), String(summary.totals.business));
      assert.equal(await totals.locator('.report-private').textContent(), String(summary.totals.private));
      const list = { ...query };
      if (list.from) { list.created_from = list.from; delete list.from; }
      if (list.to) { list.created_to = list.to; delete list.to; }
      delete list.group_by;
      const listed = await api.listJobs(`?${new URLSearchParams({ ...list, tz: zone })}`);
      assert.equal(summary.totals.jobs, listed.total_count, 'the summary counts the list\'s jobs');
      return summary;
    };

    const all = await check({ group_by: 'customer' });
    assert.equal(all.totals.jobs, 6);
    assert.equal(await page.locator('#reportBody tr').filter({ hasText: 'Müller GmbH' }).locator('.report-jobs').textContent(), '3');
    assert.equal(await page.locator('#reportBody img').count(), 0, 'names as text');

    // By printer: the printer's name beside its id.
    await page.locator('#reportGroupBy').selectOption('printer');
    await page.waitForFunction(() => location.hash.includes('group_by=printer'));
    await section.waitFor();
    await check({ group_by: 'printer' });
    const printerRow = page.locator('#reportBody tr[data-key="prusa-mk4-1"]');
    assert.equal(await printerRow.locator('.report-printer-name').textContent(), 'Prusa MK4 #1');
    assert.equal(await printerRow.locator('.report-printer-id').textContent(), 'prusa-mk4-1');

    // The list's status and printer filters narrow the report too.
    await page.locator('#reportStatus').selectOption('completed');
    await page.locator('#reportPrinter').selectOption('prusa-mk4-1');
    await page.waitForFunction(() => location.hash.includes('status=completed') && location.hash.includes('printer_id=prusa-mk4-1'));
    await section.waitFor();
    const narrowed = await check({ group_by: 'printer', status: 'completed', printer_id: 'prusa-mk4-1' });
    assert.equal(narrowed.totals.jobs, narrowed.totals.completed, 'completed jobs only');
    assert.ok(narrowed.totals.jobs < all.totals.jobs, 'fewer than all');
    await page.locator('#reportStatus').selectOption('');
    await page.locator('#reportPrinter').selectOption('');
    await page.waitForFunction(() => !location.hash.includes('status=') && !location.hash.includes('printer_id='));
    await section.waitFor();

    // A quick range and business jobs only: in the address bar, totals still the API's.
    await page.locator('#reportCreatedQuick').selectOption('this-month');
    await page.locator('#reportBusiness').selectOption('true');
    await page.waitForFunction(() => location.hash.includes('is_business=true') && location.hash.includes('from='));
    await section.waitFor();
    const params = hashParams(page);
    const business = await check({
      group_by: 'printer', from: params.get('from'), to: params.get('to'), is_business: 'true',
    });
    assert.equal(business.totals.jobs, 4);

    // By month: the print time formatted, one bar.
    await page.locator('#reportGroupBy').selectOption('month');
    await page.waitForFunction(() => location.hash.includes('group_by=month'));
    await section.waitFor();
    await check({ group_by: 'month', from: params.get('from'), to: params.get('to'), is_business: 'true' });
    assert.match(await page.locator('#reportFoot .report-print-time').textContent(), /^\d+ h \d\d min$/);

    // "Show these jobs" opens the list with the same filters.
    await page.locator('#reportJobsBtn').click();
    await page.waitForFunction(() => location.hash.startsWith('#jobs'));
    await page.waitForFunction(() => document.querySelector('#jobsSummary')?.textContent.startsWith('4 '));
    assert.equal(await page.locator('#filterCreatedFrom').inputValue(), params.get('from'));
    assertClean(problems);
  });
});
