// Screenshots of the jobs page and the edit modal (CI artifacts; PRINTDESK_UPDATE_DOCS=1 also
// refreshes docs/screenshots/), and a phone-sized smoke test of the modal.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  launchBrowser, openApp, openEditor, row, screenshot, startServer,
} from './support/harness.mjs';

let server;
let browser;
const contexts = [];
const seeded = {};

async function app(options) {
  const opened = await openApp(browser, server.baseUrl, options);
  contexts.push(opened.context);
  return opened;
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const { api } = server;
  await api.createPrinter({ id: 'bambu-x1c-1', name: 'Bambu X1C #1', printer_type: 'bambu_lab', location: 'Shop floor' });
  await api.createPrinter({ id: 'prusa-mk4-2', name: 'Prusa MK4 #2', printer_type: 'prusa', location: 'Bench 2' });
  await api.createPrinter({ id: 'voron-24', name: 'Voron 2.4', printer_type: 'klipper' });
  const jobs = [
    { job_name: 'Cable clips ×20', status: 'completed', file_name: 'cable_clips_x20.gcode', printer_id: 'prusa-mk4-2' },
    { job_name: 'Drone frame arms', status: 'failed', is_business: true, customer_name: 'SkyWorks Ltd', file_name: 'arms_cf-nylon.3mf', printer_id: 'voron-24', notes: 'Layer shift at 42 %. Check belt tension before the reprint.' },
    { job_name: 'Replacement knob', status: 'pending', file_name: 'knob_m6.stl' },
    { job_name: 'Architectural model, level 3', status: 'running', is_business: true, customer_name: 'Baumann Architekten', file_name: 'level3_1-200.3mf', printer_id: 'bambu-x1c-1' },
    { job_name: 'Phone stand (walnut PLA)', status: 'completed', file_name: 'phone_stand.gcode', printer_id: 'bambu-x1c-1' },
    { job_name: 'Gear housing v3', status: 'running', is_business: true, customer_name: 'Hofer Maschinenbau GmbH', file_name: 'gear_housing_v3.3mf', printer_id: 'prusa-mk4-2', notes: 'PETG, 0.2 mm layers, 4 walls. Customer picks up Friday.' },
  ];
  for (const job of jobs) {
    const created = await api.createJob(job);
    seeded[created.job_name] = created;
  }
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

test('screenshots: jobs page and edit modal (1280×800)', { timeout: 300000 }, async () => {
  const { page, problems } = await app();
  await row(page, seeded['Gear housing v3'].id).waitFor();
  await page.mouse.move(0, 0);
  assert.ok(
    await page.locator('#jobs .table-wrap').evaluate((el) => el.scrollWidth <= el.clientWidth),
    'the table fits 1280 px without sideways scrolling',
  );
  const pageShot = await screenshot(page, 'jobs-page.png', { docs: 'jobs-page.png' });

  await openEditor(page, seeded['Gear housing v3'].id);
  await page.locator('#jobName').press('End');
  await page.waitForTimeout(250); // the opening animation
  const modalShot = await screenshot(page, 'edit-modal.png', { docs: 'edit-modal.png' });

  // The error state, for the artifacts.
  await page.locator('#customerName').fill('');
  await page.locator('#saveJobBtn').click();
  await page.locator('#customerNameError').waitFor();
  await screenshot(page, 'edit-modal-errors.png');
  await page.keyboard.press('Escape');
  // The form has unsaved changes: Esc asks before they go.
  await page.locator('#confirmDialog[open]').waitFor();
  await page.locator('#confirmOkBtn').click();

  // Several rows selected, and the bulk edit.
  await page.locator('#editJobModal').waitFor({ state: 'hidden' });
  for (const name of ['Drone frame arms', 'Replacement knob']) {
    await row(page, seeded[name].id).locator('input.row-select').check();
  }
  await page.locator('#bulkBar').waitFor();
  await page.mouse.move(0, 0);
  await page.waitForTimeout(250);
  await screenshot(page, 'jobs-selected.png');
  await page.locator('#editSelectedBtn').click();
  await page.locator('#bulkEditDialog[open]').waitFor();
  await page.locator('#bulkBusiness').selectOption('true');
  await page.locator('#bulkPrinter').selectOption('bambu-x1c-1');
  await page.waitForTimeout(250);
  const bulkShot = await screenshot(page, 'bulk-edit.png', { docs: 'bulk-edit.png' });
  // One of them has no customer: the refusal names it, nothing is saved.
  await page.locator('#bulkApplyBtn').click();
  await page.locator('#bulkFailures li').first().waitFor();
  await page.waitForTimeout(200);
  await screenshot(page, 'bulk-edit-failures.png');
  await page.keyboard.press('Escape');
  await page.locator('#confirmDialog[open]').waitFor(); // ticked fields are unsaved changes
  await page.locator('#confirmOkBtn').click();
  await page.locator('#bulkEditDialog').waitFor({ state: 'hidden' });
  await page.locator('#clearSelectionBtn').click();
  assert.equal((await server.api.getJob(seeded['Replacement knob'].id)).version, 1, 'nothing saved');
  assert.ok(bulkShot);

  assert.ok(pageShot && modalShot);
  assert.deepEqual(problems.errors, []);
  assert.deepEqual(problems.csp, []);
});

test('phone screen (390×844): cards, and the modal is usable', { timeout: 300000 }, async () => {
  const { page, problems } = await app({ viewport: { width: 390, height: 844 } });
  const id = seeded['Replacement knob'].id;
  await row(page, id).waitFor();

  // No sideways scrolling; rows are cards.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal overflow');
  assert.equal(await row(page, id).evaluate((tr) => getComputedStyle(tr).display), 'grid');
  await screenshot(page, 'phone-jobs-page.png');

  const modal = await openEditor(page, id);
  const box = await modal.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, `modal fits the width (${JSON.stringify(box)})`);
  for (const sel of ['#jobName', '#jobStatus', '#printerId', '#isBusinessJob', '#customerName', '#fileName', '#notes', '#saveJobBtn']) {
    const el = page.locator(sel);
    await el.scrollIntoViewIfNeeded();
    const b = await el.boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 390 && b.y >= 0 && b.y + b.height <= 844, `${sel} is on screen when scrolled to`);
  }
  await page.waitForTimeout(250);
  await screenshot(page, 'phone-edit-modal.png');

  await page.locator('#jobName').fill('Replacement knob (M8)');
  await page.locator('#jobStatus').selectOption('running');
  await page.locator('#saveJobBtn').click();
  await page.locator('.toast.success').waitFor();
  await page.locator('#editJobModal').waitFor({ state: 'hidden' });
  await row(page, id).locator('.job-name', { hasText: 'Replacement knob (M8)' }).waitFor();
  const stored = await server.api.getJob(id);
  assert.equal(stored.job_name, 'Replacement knob (M8)');
  assert.equal(stored.status, 'running');

  // Selecting on a phone: the bar fits, the bulk dialog fits.
  await row(page, id).locator('input.row-select').check();
  await row(page, seeded['Cable clips ×20'].id).locator('input.row-select').check();
  const bar = await page.locator('#bulkBar').boundingBox();
  assert.ok(bar.x >= 0 && bar.x + bar.width <= 390, `the selection bar fits (${JSON.stringify(bar)})`);
  for (const sel of ['#editSelectedBtn', '#clearSelectionBtn']) {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b.x >= 0 && b.x + b.width <= 390, `${sel} is on screen`);
  }
  await page.waitForTimeout(250);
  await screenshot(page, 'phone-jobs-selected.png');
  await page.locator('#editSelectedBtn').click();
  const bulk = page.locator('#bulkEditDialog');
  await bulk.waitFor();
  const bulkBox = await bulk.boundingBox();
  assert.ok(bulkBox.x >= 0 && bulkBox.x + bulkBox.width <= 390, 'the bulk dialog fits the width');
  await page.locator('#bulkStatus').selectOption('pending');
  await page.waitForTimeout(250);
  await screenshot(page, 'phone-bulk-edit.png');
  for (const sel of ['#bulkStatus', '#bulkBusiness', '#bulkCustomer', '#bulkPrinter', '#bulkNotes', '#bulkApplyBtn']) {
    const el = page.locator(sel);
    await el.scrollIntoViewIfNeeded();
    const b = await el.boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 390 && b.y >= 0 && b.y + b.height <= 844, `${sel} is on screen when scrolled to`);
  }
  await page.keyboard.press('Escape');
  assert.deepEqual(problems.errors, []);
  assert.deepEqual(problems.csp, []);
});
