// API tokens: when the server answers 401, ask for a token (#tokenDialog), keep it in
// sessionStorage for this tab's session, and send it as `Authorization: Bearer …` (the
// WebSocket sends it as the subprotocol `printdesk.bearer.<token>`, see live.js).

import { onUnauthorized, request, setTokenProvider } from './api.js';
import { byId, trapFocus } from './dom.js';

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
      this.intro.textContent = hadToken
        ? 'The server no longer accepts the token this page was using. Enter a valid API token to continue.'
        : 'This printdesk server requires an API token. Enter yours to continue.';
      this.showError(hadToken ? error.message : '');
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
    this.submitBtn.textContent = checking ? 'Checking…' : 'Use token';
    this.form.toggleAttribute('aria-busy', checking);
  }

  /** Tries the token on a cheap request: kept when the server accepts it, refused with its reason. */
  async submit() {
    if (this.checking) return;
    const token = this.input.value.trim();
    if (!token) {
      this.showError('Enter a token.');
      this.input.focus();
      return;
    }
    if (!TOKEN_SHAPE.test(token)) {
      this.showError('A token has no spaces or special characters; copy it exactly as printdesk printed it.');
      this.input.focus();
      return;
    }
    this.setChecking(true);
    try {
      await request('GET', '/jobs', { query: { limit: 1 }, token, authRetry: false });
    } catch (err) {
      this.setChecking(false);
      if (!this.dialog.open) return;
      this.showError(err.isUnauthorized
        ? `${err.message || 'The server refused this token.'}`
        : `The token could not be checked: ${err.message}`);
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

/** Wires the token into every API request and the 401 prompt. */
export function setupAuth() {
  const dialog = new TokenDialog();
  setTokenProvider(getToken);
  onUnauthorized((error) => dialog.ask(error));
}
