// Users in the page: the first-run set-up on a new server, signing out and in, a viewer who
// sees no edit, delete or move buttons and gets the server's clear refusal when it tries
// anyway, and the history naming people by their display names.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  launchBrowser, openApp, row, screenshot, startServer,
} from './support/harness.mjs';

let server;
let browser;
const contexts = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

/** A request with the browser's session cookie, as the page's own origin would send it. */
async function asSession(context, method, path, body) {
  const cookie = (await context.cookies()).find((c) => c.name === 'printdesk_session');
  assert.ok(cookie, 'the page is signed in');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  const res = await fetch(`${server.baseUrl}/api/v1${path}`, {
    method,
    headers: {
      Cookie: `printdesk_session=${cookie.value}`,
      Origin: server.baseUrl,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

test('first run, sign out and in, a viewer sees no edit buttons, the history names people', { timeout: 300000 }, async () => {
  // A new server on this machine: open, and offering the first-run set-up.
  const first = await openApp(browser, server.baseUrl);
  contexts.push(first.context);
  const { page, context } = first;
  await page.locator('#setupBtn').waitFor();
  await page.locator('#setupBtn').click();
  const setup = page.locator('#setupDialog');
  await setup.waitFor();
  await setup.locator('#setupUsername').fill('anna');
  await setup.locator('#setupDisplayName').fill('Anna Berg');
  await setup.locator('#setupPassword').fill('anna-password-1');
  await setup.locator('#setupPassword2').fill('anna-password-2');
  await setup.locator('#setupSubmitBtn').click();
  await setup.locator('#setupPasswordError:not([hidden])').waitFor();
  await setup.locator('#setupPassword2').fill('anna-password-1');
  await screenshot(page, 'users-first-run.png');
  await setup.locator('#setupSubmitBtn').click();
  // The page starts afresh, signed in as the first admin.
  await page.locator('#userName', { hasText: 'Anna Berg' }).waitFor();
  assert.equal(await page.locator('#userRole').textContent(), 'Admin');
  assert.equal(await page.locator('#setupBtn').isVisible(), false);
  assert.equal(await page.locator('#newJobBtn').isVisible(), true);

  // Anna makes a job and a viewer; her edits are hers in the history.
  const job = (await asSession(context, 'POST', '/jobs', { job_name: 'Benchy' })).body;
  const edited = await asSession(context, 'PUT', `/jobs/${job.id}`, { notes: 'second layer checked' });
  assert.equal(edited.status, 200);
  // Anna adds Vera, a viewer, on the Access page, and makes a token for the shop-floor phone.
  await page.locator('.app-nav a[href="#access"]').click();
  await page.locator('#accessPage:not([hidden])').waitFor();
  await page.locator('#usersBody tr[data-username="anna"]').waitFor();
  await page.locator('#newUserName').fill('vera');
  await page.locator('#newUserDisplayName').fill('Vera Viewer');
  await page.locator('#newUserRole').selectOption('viewer');
  await page.locator('#newUserPassword').fill('short');
  await page.locator('#addUserBtn').click();
  await page.locator('#newUserPasswordError', { hasText: 'at least 8 characters' }).waitFor();
  await page.locator('#newUserPassword').fill('vera-password-1');
  await page.locator('#addUserBtn').click();
  await page.locator('#usersBody tr[data-username="vera"]').waitFor();
  await page.locator('#newTokenName').fill('shop-floor-phone');
  await page.locator('#addTokenBtn').click();
  await page.locator('#newTokenSecret:not([hidden])').waitFor();
  const secret = (await page.locator('#newTokenValue').textContent()).trim();
  assert.match(secret, /^pd_/);
  const withToken = () => fetch(`${server.baseUrl}/api/v1/jobs`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal((await withToken()).status, 200);
  await screenshot(page, 'users-access.png');
  await page.locator('#tokensBody tr', { hasText: 'shop-floor-phone' }).locator("button[data-action='revoke-token']").click();
  await page.locator('#confirmOkBtn').click();
  await page.locator('#tokensBody', { hasText: 'No tokens yet.' }).waitFor();
  assert.equal((await withToken()).status, 401, 'revoked at once');
  await page.locator('.app-nav a[href="#jobs"]').click();
  // Without a session the API is closed now.
  assert.equal((await fetch(`${server.baseUrl}/api/v1/jobs`)).status, 401);

  // Sign out: the page asks to sign in.
  await page.locator('#signOutBtn').click();
  const signIn = page.locator('#signInDialog[open]');
  await signIn.waitFor();
  await signIn.locator('#signInUsername').fill('vera');
  await signIn.locator('#signInPassword').fill('wrong-password');
  await signIn.locator('#signInSubmitBtn').click();
  await signIn.locator('#signInError', { hasText: 'The username or the password is wrong.' }).waitFor();
  await signIn.locator('#signInPassword').fill('vera-password-1');
  await signIn.locator('#signInPassword').press('Enter');
  await page.locator('#signInDialog').waitFor({ state: 'hidden' });
  await page.locator('#userName', { hasText: 'Vera Viewer' }).waitFor();
  assert.equal(await page.locator('#userRole').textContent(), 'Viewer');
  // Live updates follow the new session at once.
  await page.locator('#connectionStatus[data-state="live"]').waitFor({ timeout: 10000 });

  // A viewer reads, and sees nothing that would change a job.
  const benchy = row(page, job.id);
  await benchy.waitFor();
  for (const action of ['edit-job', 'delete-job', 'start-job']) {
    assert.equal(await benchy.locator(`button[data-action='${action}']`).isVisible(), false, action);
  }
  assert.equal(await page.locator('#newJobBtn').isVisible(), false);
  assert.equal(await benchy.locator('input.row-select').isVisible(), false);
  assert.equal(await page.locator('.app-nav a[href="#access"]').isVisible(), false, 'admins only');
  await screenshot(page, 'users-viewer.png');

  // The history names Anna by her display name.
  await benchy.locator("button[data-action='job-history']").click();
  const items = page.locator('#historyList .history-item');
  await items.nth(1).waitFor();
  assert.equal(await items.nth(0).locator('.history-who strong').textContent(), 'Anna Berg', 'the edit');
  assert.equal(await items.nth(1).locator('.history-who strong').textContent(), 'Anna Berg', 'the creation');
  await page.keyboard.press('Escape');

  // Trying anyway through the API: refused, saying which role it takes.
  const refused = await page.evaluate(async (id) => {
    const res = await fetch(`/api/v1/jobs/${id}`, {
      method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{"notes":"x"}',
    });
    return { status: res.status, body: await res.json() };
  }, job.id);
  assert.equal(refused.status, 403);
  assert.match(refused.body.detail, /needs the operator role/);
  assert.deepEqual(page.problems.errors, []);
});

/** Signs in through the API; the `Cookie` header value of the session. */
async function signInApi(username, password) {
  const res = await fetch(`${server.baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: server.baseUrl },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 204);
  return res.headers.get('set-cookie').split(';')[0];
}

test('the conflict dialog names who changed the job', { timeout: 300000 }, async () => {
  const anna = await signInApi('anna', 'anna-password-1');
  const asAnna = async (method, path, body) => {
    const res = await fetch(`${server.baseUrl}/api/v1${path}`, {
      method,
      headers: { Cookie: anna, Origin: server.baseUrl, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status}`);
    return res.json();
  };
  await asAnna('POST', '/users', {
    username: 'olaf', display_name: 'Olaf Krause', role: 'operator', password: 'olaf-password-1',
  });
  const job = await asAnna('POST', '/jobs', { job_name: 'Gear housing' });

  // Olaf signs in on his page and starts editing.
  const olaf = await openApp(browser, server.baseUrl, { ready: '#signInDialog[open]' });
  contexts.push(olaf.context);
  const { page } = olaf;
  await page.locator('#signInUsername').fill('olaf');
  await page.locator('#signInPassword').fill('olaf-password-1');
  await page.locator('#signInSubmitBtn').click();
  await page.locator('#userName', { hasText: 'Olaf Krause' }).waitFor();
  await row(page, job.id).locator("button[data-action='edit-job']").click();
  const form = page.locator('#editJobModal');
  await form.waitFor();
  await form.locator('#notes').fill('Use the 0.6 mm nozzle');

  // Anna changes the customer meanwhile; Olaf's save meets her change.
  await asAnna('PUT', `/jobs/${job.id}`, { is_business: true, customer_name: 'ACME' });
  await form.locator('#saveJobBtn').click();
  const intro = page.locator('#conflictDialog #conflictIntro', { hasText: 'Anna Berg' });
  await intro.waitFor();
  assert.match(await intro.textContent(), /^Anna Berg changed .*Customer.* while you were editing/);
  assert.deepEqual(page.problems.errors, []);
});

test('an admin makes an operator a viewer with a new password: the open page signs in again and loses its edit buttons; the user changes their own password', { timeout: 300000 }, async () => {
  const anna = await signInApi('anna', 'anna-password-1');
  const asAnna = async (method, path, body) => {
    const res = await fetch(`${server.baseUrl}/api/v1${path}`, {
      method,
      headers: { Cookie: anna, Origin: server.baseUrl, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status}`);
    return res.json();
  };
  await asAnna('POST', '/users', {
    username: 'pia', display_name: 'Pia Paul', role: 'operator', password: 'pia-password-1',
  });
  const job = await asAnna('POST', '/jobs', { job_name: 'Bracket' });

  // Pia works on her page, live.
  const pia = await openApp(browser, server.baseUrl, { ready: '#signInDialog[open]' });
  contexts.push(pia.context);
  const { page } = pia;
  await page.locator('#signInUsername').fill('pia');
  await page.locator('#signInPassword').fill('pia-password-1');
  await page.locator('#signInSubmitBtn').click();
  await page.locator('#userName', { hasText: 'Pia Paul' }).waitFor();
  await page.locator('#connectionStatus[data-state="live"]').waitFor({ timeout: 10000 });
  await row(page, job.id).locator("button[data-action='edit-job']").waitFor();

  // Anna, on the Access page, makes her a viewer with a new password.
  const admin = await openApp(browser, server.baseUrl, { ready: '#signInDialog[open]', hash: '#access' });
  contexts.push(admin.context);
  await admin.page.locator('#signInUsername').fill('anna');
  await admin.page.locator('#signInPassword').fill('anna-password-1');
  await admin.page.locator('#signInSubmitBtn').click();
  const piaRow = admin.page.locator('#usersBody tr[data-username="pia"]');
  await piaRow.locator("button[data-action='edit-user']").click();
  const dialog = admin.page.locator('#userEditDialog[open]');
  await dialog.waitFor();
  assert.equal(await dialog.locator('#userEditTitle').textContent(), 'Edit pia');
  assert.equal(await dialog.locator('#userEditDisplayName').inputValue(), 'Pia Paul');
  await dialog.locator('#userEditRole').selectOption('viewer');
  await dialog.locator('#userEditPassword').fill('short');
  await dialog.locator('#userEditSaveBtn').click();
  await dialog.locator('#userEditPasswordError', { hasText: 'at least 8 characters' }).waitFor();
  await dialog.locator('#userEditPassword').fill('pia-password-2');
  await screenshot(admin.page, 'users-edit.png');
  await dialog.locator('#userEditSaveBtn').click();
  await admin.page.locator('#userEditDialog').waitFor({ state: 'hidden' });
  await piaRow.locator('td', { hasText: 'Viewer' }).waitFor();

  // Pia's page: the server closed its live connection, so it asks her to sign in again (not a
  // reconnect loop), and the old password no longer works.
  const signIn = page.locator('#signInDialog[open]');
  await signIn.waitFor({ timeout: 5000 });
  assert.match(await page.locator('#signInIntro').textContent(), /ended/);
  await signIn.locator('#signInUsername').fill('pia');
  await signIn.locator('#signInPassword').fill('pia-password-1');
  await signIn.locator('#signInSubmitBtn').click();
  await signIn.locator('#signInError:not([hidden])').waitFor();
  await signIn.locator('#signInPassword').fill('pia-password-2');
  await signIn.locator('#signInSubmitBtn').click();
  await page.locator('#signInDialog').waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.body.dataset.role === 'viewer');
  assert.equal(await page.locator('#userRole').textContent(), 'Viewer');
  await page.locator('#connectionStatus[data-state="live"]').waitFor({ timeout: 10000 });
  await row(page, job.id).waitFor();
  assert.equal(await row(page, job.id).locator("button[data-action='edit-job']").isVisible(), false);
  assert.equal(await page.locator('#newJobBtn').isVisible(), false);

  // Pia changes her own name and password: the current one is asked for.
  await page.locator('#accountBtn').click();
  const account = page.locator('#accountDialog[open]');
  await account.waitFor();
  assert.equal(await account.locator('#accountDisplayName').inputValue(), 'Pia Paul');
  await account.locator('#accountDisplayName').fill('Pia P.');
  await account.locator('#accountPassword').fill('pia-password-3');
  await account.locator('#accountPassword2').fill('pia-password-3');
  await account.locator('#accountCurrentPassword').fill('not-my-password');
  await account.locator('#accountSaveBtn').click();
  await account.locator('#accountCurrentPasswordError:not([hidden])').waitFor();
  await account.locator('#accountCurrentPassword').fill('pia-password-2');
  await screenshot(page, 'users-account.png');
  await account.locator('#accountSaveBtn').click();
  await page.locator('#accountDialog').waitFor({ state: 'hidden' });
  await page.locator('#userName', { hasText: 'Pia P.' }).waitFor();
  // This page stays signed in; the new password is the one that signs in now.
  await page.reload();
  await page.locator('#userName', { hasText: 'Pia P.' }).waitFor();
  await signInApi('pia', 'pia-password-3');
  assert.deepEqual(page.problems.errors, []);
  assert.deepEqual(admin.page.problems.errors, []);
});
