// Who is using the page. When the server answers 401, ask GET /setup how to get in: on the
// first run (no user yet, this machine) create the first admin (#setupDialog); on a server
// with users sign in (#signInDialog: the session cookie, HttpOnly, is the browser's to keep);
// otherwise ask for an API token (#tokenDialog), kept in sessionStorage for this tab's
// session and sent as `Authorization: Bearer …` (the WebSocket sends it as the subprotocol
// `printdesk.bearer.<token>`, see live.js; with a session the browser sends the cookie).
// GET /session tells who is signed in: the header shows the name, and `body[data-role]`
// hides what the role may not do (css/access.css); the server refuses it anyway (403).

import {
  fieldErrorText, onUnauthorized, request, setTokenProvider,
} from './api.js';
import { byId, trapFocus } from './dom.js';
import { fieldLabel } from './format.js';
import { t } from './i18n.js';

const STORAGE_KEY = 'printdesk.apiToken';

let memoryToken = null; // when sessionStorage is unavailable (privacy modes)
const listeners = new Set();

/** The token this session uses, or null. */
export function getToken() {
  try {
    return sessionStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return memoryToken;
  }
}

function storeToken(token) {
  memoryToken = token || null;
  try {
    if (token) sessionStorage.setItem(STORAGE_KEY, token);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch { /* memoryToken holds it */ }
  for (const fn of listeners) fn(getToken());
}

/** `fn(token)` after the token changed (the live connection reconnects with it). */
export function onTokenChanged(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Characters a token may have to be sent at all: visible ASCII without spaces (HTTP header and
 * WebSocket subprotocol rules). The tokens `printdesk token create` prints are of this kind.
 */
const TOKEN_SHAPE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

class TokenDialog {
  constructor() {
    this.dialog = byId('tokenDialog');
    this.form = byId('tokenForm');
    this.input = byId('apiToken');
    this.error = byId('tokenError');
    this.intro = byId('tokenIntro');
    this.submitBtn = byId('tokenSubmitBtn');
    this.cancelBtn = byId('tokenCancelBtn');
    /** The promise every waiting request shares while the dialog is open. */
    this.pending = null;
    this.resolve = null;
    this.checking = false;

    trapFocus(this.dialog);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.cancelBtn.addEventListener('click', () => this.finish(false));
    // Esc closes the dialog: the waiting requests fail with their 401.
    this.dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      this.finish(false);
    });
    this.input.addEventListener('input', () => this.showError(''));
  }

  /** Resolves true once a working token is stored, false when the user gives up. */
  ask(error) {
    if (!this.pending) {
      this.pending = new Promise((resolve) => { this.resolve = resolve; });
      this.input.value = '';
      this.setChecking(false);
      const hadToken = Boolean(getToken());
      // A token that stopped working (revoked, server restarted with other tokens) is dropped.
      if (hadToken) storeToken(null);
      this.intro.textContent = hadToken ? t('token.intro.refused') : t('token.intro.required');
      this.showError(hadToken ? t('token.error.refused') : '');
      if (!this.dialog.open) this.dialog.showModal();
      this.input.focus();
    }
    return this.pending;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
    if (text) this.input.setAttribute('aria-invalid', 'true');
    else this.input.removeAttribute('aria-invalid');
  }

  setChecking(checking) {
    this.checking = checking;
    this.submitBtn.disabled = checking;
    this.submitBtn.textContent = checking ? t('token.checking') : t('token.use_token');
    this.form.toggleAttribute('aria-busy', checking);
  }

  /** Tries the token on a cheap request: kept when the server accepts it, refused with its reason. */
  async submit() {
    if (this.checking) return;
    const token = this.input.value.trim();
    if (!token) {
      this.showError(t('token.error.empty'));
      this.input.focus();
      return;
    }
    if (!TOKEN_SHAPE.test(token)) {
      this.showError(t('token.error.shape'));
      this.input.focus();
      return;
    }
    this.setChecking(true);
    try {
      await request('GET', '/jobs', { query: { limit: 1 }, token, authRetry: false });
    } catch (err) {
      this.setChecking(false);
      if (!this.dialog.open) return;
      this.showError(err.isUnauthorized ? t('token.error.refused') : t('token.error.unchecked', { reason: err.message }));
      this.input.select();
      return;
    }
    this.setChecking(false);
    storeToken(token);
    this.finish(true);
  }

  finish(ok) {
    const resolve = this.resolve;
    this.pending = null;
    this.resolve = null;
    this.input.value = '';
    if (this.dialog.open) this.dialog.close();
    if (resolve) resolve(ok);
  }
}

/** The dialog's fields' errors: `field` → the element that shows it. */
function showFieldErrors(error, elements, fallback) {
  for (const el of Object.values(elements)) {
    el.textContent = '';
    el.hidden = true;
  }
  let shown = false;
  for (const { field, message } of error?.fieldErrors ?? []) {
    const el = elements[field];
    if (!el) continue;
    const label = field === 'display_name' ? t('setup.your_name') : fieldLabel(field);
    el.textContent = t('fielderror.sentence', { text: fieldErrorText(field, message, label) });
    el.hidden = false;
    shown = true;
  }
  if (!shown && error) {
    fallback.textContent = error.message;
    fallback.hidden = false;
  }
}

/** A modal form that resolves true once it did its job, false when given up. */
class GateDialog {
  constructor(id) {
    this.dialog = byId(id);
    this.pending = null;
    this.resolve = null;
    trapFocus(this.dialog);
    this.dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      this.finish(false);
    });
  }

  open(focus) {
    if (!this.pending) {
      this.pending = new Promise((resolve) => { this.resolve = resolve; });
      if (!this.dialog.open) this.dialog.showModal();
      focus.focus();
    }
    return this.pending;
  }

  finish(ok) {
    const resolve = this.resolve;
    this.pending = null;
    this.resolve = null;
    if (this.dialog.open) this.dialog.close();
    if (resolve) resolve(ok);
  }
}

class SignInDialog extends GateDialog {
  constructor(tokenDialog) {
    super('signInDialog');
    this.tokenDialog = tokenDialog;
    this.form = byId('signInForm');
    this.username = byId('signInUsername');
    this.password = byId('signInPassword');
    this.error = byId('signInError');
    this.submitBtn = byId('signInSubmitBtn');
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    byId('signInTokenBtn').addEventListener('click', async () => {
      const resolve = this.resolve;
      this.resolve = null;
      this.finish(false);
      const ok = await this.tokenDialog.ask({ message: '' });
      if (resolve) resolve(ok);
    });
    for (const input of [this.username, this.password]) {
      input.addEventListener('input', () => this.showError(''));
    }
  }

  ask(ended) {
    byId('signInIntro').textContent = ended ? t('signin.intro.ended') : t('signin.intro');
    this.password.value = '';
    this.showError('');
    return this.open(this.username.value ? this.password : this.username);
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
    if (text) this.password.setAttribute('aria-invalid', 'true');
    else this.password.removeAttribute('aria-invalid');
  }

  async submit() {
    if (this.submitBtn.disabled) return;
    const username = this.username.value.trim();
    if (!username || !this.password.value) {
      this.showError(t('signin.error.empty'));
      (username ? this.password : this.username).focus();
      return;
    }
    this.submitBtn.disabled = true;
    this.submitBtn.textContent = t('signin.signing_in');
    try {
      await request('POST', '/session', {
        body: { username, password: this.password.value }, token: null, authRetry: false,
      });
    } catch (err) {
      // 401 here is the wrong name or password (the server does not say which).
      this.showError(err.isUnauthorized ? t('signin.error.refused') : err.message);
      this.password.select();
      return;
    } finally {
      this.submitBtn.disabled = false;
      this.submitBtn.textContent = t('signin.sign_in');
    }
    // The session speaks for this tab now, not a token typed earlier.
    storeToken(null);
    this.password.value = '';
    this.finish(true);
  }
}

class SetupDialog extends GateDialog {
  constructor() {
    super('setupDialog');
    this.form = byId('setupForm');
    this.inputs = {
      username: byId('setupUsername'),
      display_name: byId('setupDisplayName'),
      password: byId('setupPassword'),
    };
    this.again = byId('setupPassword2');
    this.errors = {
      username: byId('setupUsernameError'),
      display_name: byId('setupDisplayNameError'),
      password: byId('setupPasswordError'),
    };
    this.error = byId('setupError');
    this.submitBtn = byId('setupSubmitBtn');
    byId('setupCancelBtn').addEventListener('click', () => this.finish(false));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
  }

  ask() {
    showFieldErrors(null, this.errors, this.error);
    this.error.hidden = true;
    return this.open(this.inputs.username);
  }

  async submit() {
    if (this.submitBtn.disabled) return;
    this.error.hidden = true;
    if (this.inputs.password.value !== this.again.value) {
      showFieldErrors({ fieldErrors: [{ field: 'password', message: 'and its repetition differ' }] }, this.errors, this.error);
      this.again.focus();
      return;
    }
    const body = {
      username: this.inputs.username.value.trim(),
      password: this.inputs.password.value,
    };
    const displayName = this.inputs.display_name.value.trim();
    if (displayName) body.display_name = displayName;
    this.submitBtn.disabled = true;
    try {
      await request('POST', '/setup', { body, token: null, authRetry: false });
    } catch (err) {
      showFieldErrors(err, this.errors, this.error);
      return;
    } finally {
      this.submitBtn.disabled = false;
    }
    storeToken(null);
    this.finish(true);
  }
}

const signedInListeners = new Set();

/** `fn()` after the user signed in (the live connection reconnects with the new session). */
export function onSignedIn(fn) {
  signedInListeners.add(fn);
  return () => signedInListeners.delete(fn);
}

/** Who the page is signed in as (GET /session's answer), or null. */
let session = null;

/** GET /session's answer (who the page is signed in as), or null before the page knows. */
export function currentSession() { return session; }

/** The signed-in user's (or token's) role, or null before the page knows. */
export function currentRole() { return session?.role ?? null; }

/** Shows who is signed in; on an open server, `firstRun` offers the first-run set-up. */
function showSession(info, firstRun = false) {
  session = info;
  if (info) {
    document.body.dataset.role = info.role;
    document.body.dataset.via = info.via;
  } else {
    delete document.body.dataset.role;
    delete document.body.dataset.via;
  }
  const open = info?.via === 'open';
  // An open server (no user, no token yet) has nobody to show, only the set-up to offer.
  byId('userBox').hidden = !info || (open && !firstRun);
  byId('setupBtn').hidden = !(open && firstRun);
  byId('userName').textContent = open ? '' : (info?.display_name ?? info?.actor ?? '');
  byId('userRole').textContent = open || !info?.role ? '' : t(`role.${info.role}`);
  byId('signOutBtn').hidden = info?.via !== 'session';
}

/** Asks the server who this page is, and shows it. */
export async function refreshSession() {
  let info = null;
  try {
    ({ data: info } = await request('GET', '/session', { authRetry: false }));
  } catch {
    showSession(null);
    return;
  }
  let firstRun = false;
  if (info.via === 'open') {
    try {
      ({ data: { first_run: firstRun } } = await request('GET', '/setup', { authRetry: false }));
    } catch { /* nothing to offer */ }
  }
  showSession(info, firstRun);
}

/** Wires the token into every API request, the 401 prompts, and the signed-in user. */
export function setupAuth() {
  const tokenDialog = new TokenDialog();
  const signIn = new SignInDialog(tokenDialog);
  const setup = new SetupDialog();
  setTokenProvider(getToken);
  let pending = null;
  onUnauthorized((error) => {
    pending ??= (async () => {
      let how = { first_run: false, sign_in: false };
      try {
        ({ data: how } = await request('GET', '/setup', { token: null, authRetry: false }));
      } catch { /* a token is the way left */ }
      let ok;
      if (how.first_run) ok = await setup.ask();
      else if (how.sign_in && !getToken()) ok = await signIn.ask(/ended/.test(error.detail ?? ''));
      else ok = await tokenDialog.ask(error);
      if (ok) {
        await refreshSession();
        for (const fn of signedInListeners) fn();
      }
      return ok;
    })().finally(() => { pending = null; });
    return pending;
  });
  // Offered on an open server: once the first admin exists, the page starts afresh signed in.
  byId('setupBtn').addEventListener('click', async () => {
    if (await setup.ask()) window.location.reload();
  });
  byId('signOutBtn').addEventListener('click', async () => {
    try {
      await request('DELETE', '/session', { token: null, authRetry: false });
    } finally {
      window.location.reload();
    }
  });
  refreshSession();
}
