// The Access page (#access, admins): users (add, sign out everywhere, delete) and API tokens
// (create, shown once, revoke). Every change is the server's: the lists are read again after
// each one, and refusals are shown at their fields or as the server's sentence.

import { fieldErrorText, request } from './api.js';
import { confirmDialog } from './dialogs.js';
import { byId, h } from './dom.js';
import { fieldLabel, formatRelative } from './format.js';
import { t } from './i18n.js';
import { toastError, toastSuccess } from './toast.js';
import { editUserButton, UserEditDialog } from './user-edit.js';

const ROLE_LABELS = { viewer: t('role.viewer'), operator: t('role.operator'), admin: t('role.admin') };

/** Shows `error`'s field messages at their fields (`errors[field]`), the rest in `fallback`. */
function showErrors(error, errors, fallback) {
  for (const el of [...Object.values(errors), fallback]) {
    el.textContent = '';
    el.hidden = true;
  }
  if (!error) return;
  let shown = false;
  for (const { field, message } of error.fieldErrors) {
    const el = errors[field];
    if (!el) continue;
    el.textContent = t('fielderror.sentence', { text: fieldErrorText(field, message, fieldLabel(field)) });
    el.hidden = false;
    shown = true;
  }
  if (!shown) {
    fallback.textContent = error.message;
    fallback.hidden = false;
  }
}

export class AccessPage {
  constructor() {
    this.usersBody = byId('usersBody');
    this.tokensBody = byId('tokensBody');
    this.userForm = byId('newUserForm');
    this.userInputs = {
      username: byId('newUserName'),
      display_name: byId('newUserDisplayName'),
      role: byId('newUserRole'),
      password: byId('newUserPassword'),
    };
    this.userErrors = {
      username: byId('newUserNameError'),
      display_name: byId('newUserDisplayNameError'),
      password: byId('newUserPasswordError'),
    };
    this.userError = byId('newUserError');
    this.tokenForm = byId('newTokenForm');
    this.tokenError = byId('newTokenError');
    this.userForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.addUser();
    });
    this.tokenForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.addToken();
    });
    this.editDialog = new UserEditDialog(() => this.load());
  }

  /** Reads both lists. */
  async load() {
    try {
      const [{ data: users }, { data: tokens }] = await Promise.all([
        request('GET', '/users'), request('GET', '/tokens'),
      ]);
      this.renderUsers(users.users);
      this.renderTokens(tokens.tokens);
    } catch (err) {
      toastError(t('access.load_failed', { reason: err.message }));
    }
  }

  renderUsers(users) {
    this.usersBody.replaceChildren(...users.map((user) => h('tr', { dataset: { username: user.username } },
      h('td', { text: user.username }),
      h('td', { text: user.display_name }),
      h('td', { text: ROLE_LABELS[user.role] ?? user.role }),
      h('td', { class: 'actions' },
        editUserButton(() => this.editDialog.open(user)),
        h('button', {
          type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'end-sessions' }, text: t('access.end_sessions'),
          on: { click: () => this.endSessions(user) },
        }),
        h('button', {
          type: 'button', class: 'btn btn-small btn-ghost btn-danger-text', dataset: { action: 'delete-user' }, text: t('jobs.row.delete'),
          on: { click: () => this.deleteUser(user) },
        })))));
  }

  renderTokens(tokens) {
    if (!tokens.length) {
      this.tokensBody.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'subtle', text: t('access.no_tokens') })));
      return;
    }
    this.tokensBody.replaceChildren(...tokens.map((token) => h('tr', { dataset: { tokenId: token.id } },
      h('td', { text: token.name }),
      h('td', { text: ROLE_LABELS[token.role] ?? token.role }),
      h('td', { text: token.user }),
      h('td', { text: formatRelative(token.created_at) }),
      h('td', { class: 'actions' },
        h('button', {
          type: 'button', class: 'btn btn-small btn-ghost btn-danger-text', dataset: { action: 'revoke-token' }, text: t('access.revoke'),
          on: { click: () => this.revoke(token) },
        })))));
  }

  async addUser() {
    const body = {
      username: this.userInputs.username.value.trim(),
      role: this.userInputs.role.value,
      password: this.userInputs.password.value,
    };
    const name = this.userInputs.display_name.value.trim();
    if (name) body.display_name = name;
    try {
      await request('POST', '/users', { body });
    } catch (err) {
      showErrors(err, this.userErrors, this.userError);
      return;
    }
    showErrors(null, this.userErrors, this.userError);
    this.userForm.reset();
    toastSuccess(t('access.user_added', { name: body.display_name ?? body.username }));
    await this.load();
  }

  async endSessions(user) {
    try {
      const { data } = await request('DELETE', `/users/${encodeURIComponent(user.username)}/sessions`);
      toastSuccess(t('access.sessions_ended', { name: user.display_name, count: data.ended }));
    } catch (err) {
      toastError(err.message);
    }
  }

  async deleteUser(user) {
    const ok = await confirmDialog({
      title: t('access.delete_user.title', { name: user.display_name }),
      message: t('access.delete_user.message', { username: user.username }),
      confirmLabel: t('access.delete_user.confirm'),
    });
    if (!ok) return;
    try {
      await request('DELETE', `/users/${encodeURIComponent(user.username)}`);
      toastSuccess(t('access.user_deleted', { name: user.display_name }));
    } catch (err) {
      toastError(err.message);
    }
    await this.load();
  }

  async addToken() {
    const body = { name: byId('newTokenName').value.trim(), role: byId('newTokenRole').value };
    const secret = byId('newTokenSecret');
    secret.hidden = true;
    try {
      const { data } = await request('POST', '/tokens', { body });
      byId('newTokenValue').textContent = data.token;
      secret.hidden = false;
    } catch (err) {
      this.tokenError.textContent = err.message;
      this.tokenError.hidden = false;
      return;
    }
    this.tokenError.hidden = true;
    this.tokenForm.reset();
    await this.load();
  }

  async revoke(token) {
    const ok = await confirmDialog({
      title: t('access.revoke_token.title', { name: token.name }),
      message: t('access.revoke_token.message'),
      confirmLabel: t('access.revoke'),
    });
    if (!ok) return;
    try {
      await request('DELETE', `/tokens/${encodeURIComponent(token.id)}`);
      toastSuccess(t('access.token_revoked', { name: token.name }));
    } catch (err) {
      toastError(err.message);
    }
    await this.load();
  }
}
