// Changing users: an admin edits a user on the Access page (#userEditDialog: display name,
// role, a new password; PATCH /users/{username}), and signed-in users change their own name or
// password from the header's user box (#accountDialog: PATCH /account, a new password only
// with the current one). A new password or role signs the user out on their other devices; the
// server says so, and closes their live connections.

import { request } from './api.js';
import { currentSession, refreshSession } from './auth.js';
import { byId, h, trapFocus } from './dom.js';
import { t } from './i18n.js';
import { toastSuccess } from './toast.js';

/** Shows `error`'s field messages at their fields (`errors[field]`), the rest in `fallback`. */
function showFieldErrors(error, errors, fallback) {
  for (const el of [...Object.values(errors), fallback]) {
    el.textContent = '';
    el.hidden = true;
  }
  if (!error) return;
  let shown = false;
  for (const { field, message } of error.fieldErrors ?? []) {
    const el = errors[field];
    if (!el) continue;
    el.textContent = `${message[0].toUpperCase()}${message.slice(1)}.`;
    el.hidden = false;
    shown = true;
  }
  if (!shown) {
    fallback.textContent = error.message;
    fallback.hidden = false;
  }
}

/** A modal form: `open()` shows it, Esc and Cancel close it. */
class FormDialog {
  constructor(prefix) {
    this.dialog = byId(`${prefix}Dialog`);
    this.form = byId(`${prefix}Form`);
    this.saveBtn = byId(`${prefix}SaveBtn`);
    this.error = byId(`${prefix}Error`);
    trapFocus(this.dialog);
    byId(`${prefix}CancelBtn`).addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (this.saveBtn.disabled) return;
      this.saveBtn.disabled = true;
      try {
        await this.submit();
      } finally {
        this.saveBtn.disabled = false;
      }
    });
  }
}

/** The Access page's "Edit" button of a user's row. */
export function editUserButton(onClick) {
  return h('button', {
    type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'edit-user' }, text: t('useredit.edit'),
    on: { click: onClick },
  });
}

/** The admin's dialog: change a user. `onSaved()` after a change (the list is read again). */
export class UserEditDialog extends FormDialog {
  constructor(onSaved) {
    super('userEdit');
    this.onSaved = onSaved;
    this.inputs = {
      display_name: byId('userEditDisplayName'),
      role: byId('userEditRole'),
      password: byId('userEditPassword'),
    };
    this.errors = {
      display_name: byId('userEditDisplayNameError'),
      role: byId('userEditRoleError'),
      password: byId('userEditPasswordError'),
    };
    this.user = null;
  }

  open(user) {
    this.user = user;
    byId('userEditTitle').textContent = t('useredit.title', { username: user.username });
    this.inputs.display_name.value = user.display_name;
    this.inputs.role.value = user.role;
    this.inputs.password.value = '';
    showFieldErrors(null, this.errors, this.error);
    this.dialog.showModal();
    this.inputs.display_name.focus();
  }

  async submit() {
    const user = this.user;
    const body = {};
    const name = this.inputs.display_name.value.trim();
    if (name !== user.display_name) body.display_name = name;
    if (this.inputs.role.value !== user.role) body.role = this.inputs.role.value;
    if (this.inputs.password.value) body.password = this.inputs.password.value;
    if (!Object.keys(body).length) {
      this.dialog.close();
      return;
    }
    let changed;
    try {
      ({ data: changed } = await request('PATCH', `/users/${encodeURIComponent(user.username)}`, { body }));
    } catch (err) {
      showFieldErrors(err, this.errors, this.error);
      return;
    }
    this.dialog.close();
    toastSuccess(body.role || body.password
      ? t('useredit.saved_signed_out', { name: changed.display_name })
      : t('useredit.saved', { name: changed.display_name }));
    // Admins who change themselves see their new name (and role) in the header at once.
    if (changed.username === currentSession()?.username) await refreshSession();
    await this.onSaved();
  }
}

/** The signed-in user's own dialog. `onSaved()` after a change (the header shows the new name). */
export class AccountDialog extends FormDialog {
  constructor(onSaved) {
    super('account');
    this.onSaved = onSaved;
    this.inputs = {
      display_name: byId('accountDisplayName'),
      password: byId('accountPassword'),
      current_password: byId('accountCurrentPassword'),
    };
    this.again = byId('accountPassword2');
    this.errors = {
      display_name: byId('accountDisplayNameError'),
      password: byId('accountPasswordError'),
      current_password: byId('accountCurrentPasswordError'),
    };
    this.displayName = '';
  }

  open(displayName) {
    this.displayName = displayName ?? '';
    this.form.reset();
    this.inputs.display_name.value = this.displayName;
    showFieldErrors(null, this.errors, this.error);
    this.dialog.showModal();
    this.inputs.display_name.focus();
  }

  async submit() {
    const body = {};
    const name = this.inputs.display_name.value.trim();
    if (name !== this.displayName) body.display_name = name;
    const password = this.inputs.password.value;
    if (password) {
      if (password !== this.again.value) {
        showFieldErrors({ fieldErrors: [{ field: 'password', message: t('account.passwords_differ') }] }, this.errors, this.error);
        this.again.focus();
        return;
      }
      body.password = password;
      body.current_password = this.inputs.current_password.value;
    }
    if (!Object.keys(body).length) {
      this.dialog.close();
      return;
    }
    try {
      await request('PATCH', '/account', { body });
    } catch (err) {
      showFieldErrors(err, this.errors, this.error);
      return;
    }
    this.dialog.close();
    toastSuccess(body.password ? t('account.saved_password') : t('account.saved'));
    await this.onSaved();
  }
}

/** Wires the header's "My account" button: `who()` is GET /session's answer (or null). */
export function setupAccount(who, onSaved) {
  const dialog = new AccountDialog(onSaved);
  byId('accountBtn').addEventListener('click', () => dialog.open(who()?.display_name));
}
