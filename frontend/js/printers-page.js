// The Printers page (#printersPage): one card per printer with its live status, and the
// add / edit dialog (#printerModal) with each connection kind's own settings.

import { fieldErrorText, printersApi } from './api.js';
import { confirmDialog } from './dialogs.js';
import { byId, clear, h, trapFocus } from './dom.js';
import { fieldLabel as jobFieldLabel, formatDuration, timeElement } from './format.js';
import { locale, t } from './i18n.js';
import {
  getPrinter, getPrinters, onPrinterStatus, onPrintersChanged, removePrinter, upsertPrinter,
} from './printers.js';
import { toastError, toastInfo, toastSuccess } from './toast.js';
import { guardDialog } from './unsaved.js';

export const PRINTER_TYPES = {
  bambu_lab: 'Bambu Lab',
  prusa: 'Prusa',
  octoprint: 'OctoPrint',
  klipper: 'Klipper',
  other: t('printerform.other'),
};

const STATES = ['unknown', 'connecting', 'offline', 'idle', 'printing', 'paused', 'finished', 'failed', 'error'];

export const STATE_LABELS = Object.fromEntries(STATES.map((s) => [s, t(`printer.state.${s}`)]));

const KIND_LABELS = {
  bambu_lab: 'Bambu Lab',
  octoprint: 'OctoPrint',
  moonraker: 'Moonraker',
  prusalink: 'PrusaLink',
};

/** Each kind's settings (the API's names), in form order. */
const KIND_SETTINGS = {
  bambu_lab: ['host', 'port', 'serial', 'access_code', 'ca_pem'],
  octoprint: ['base_url', 'api_key'],
  moonraker: ['base_url', 'api_key'],
  prusalink: ['base_url', 'username', 'password', 'api_key'],
};

/** Write-only settings: shown as "set", sent only when typed. */
const SECRETS = new Set(['access_code', 'api_key', 'password']);

/** API field → the id of its input in the dialog. */
const INPUT_IDS = {
  name: 'printerName',
  id: 'printerId',
  printer_type: 'printerType',
  location: 'printerLocation',
  connection: 'connectionKind',
  'connection.kind': 'connectionKind',
  'connection.host': 'connHost',
  'connection.port': 'connPort',
  'connection.serial': 'connSerial',
  'connection.access_code': 'connAccessCode',
  'connection.ca_pem': 'connCaPem',
  'connection.tls_fingerprint': 'trustCertBtn',
  'connection.base_url': 'connBaseUrl',
  'connection.username': 'connUsername',
  'connection.password': 'connPassword',
  'connection.api_key': 'connApiKey',
  monitoring: 'printerMonitoring',
};

/** A printer field's name (`field.<name>` in the catalog, shared with the job's fields). */
const fieldLabel = (field) => jobFieldLabel(field);

const NO_STATUS = Object.freeze({ state: 'unknown', online: false });

/** The status error says the printer showed another certificate than the stored one. */
export const certificateChanged = (printer) => printer?.connection?.kind === 'bambu_lab'
  && /certificate/i.test(printer.status?.error ?? '') && /chang|differ|new/i.test(printer.status?.error ?? '');

/** A slug from a name, as the id field suggests it: "Prusa MK4 #2" → "prusa-mk4-2". */
export function slugFrom(name) {
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

// ---- the cards ---------------------------------------------------------------------------

export class PrintersPage {
  /**
   * @param {object} options
   * @param {(id: string) => string|null} options.jobName  a job's name, when the page knows it
   * @param {(printer: object) => void} options.onDeleted  a printer was deleted from this page
   */
  constructor({ jobName = () => null, onDeleted = () => {} } = {}) {
    this.jobName = jobName;
    this.onDeleted = onDeleted;
    this.section = byId('printersPage');
    this.list = byId('printerCards');
    this.summary = byId('printersSummary');
    this.loaded = false;
    this.dialog = new PrinterDialog();

    byId('addPrinterBtn').addEventListener('click', (e) => this.dialog.open(null, e.currentTarget));
    this.list.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-action]');
      if (!button) return;
      const printer = getPrinter(button.closest('[data-printer-id]')?.dataset.printerId);
      if (!printer) return;
      if (button.dataset.action === 'edit-printer') this.dialog.open(printer, button);
      else if (button.dataset.action === 'delete-printer') this.remove(printer, button);
      else if (button.dataset.action === 'trust-certificate') trustCertificate(printer);
    });
    onPrintersChanged(() => { this.loaded = true; this.render(); });
    onPrinterStatus((printer) => this.renderCard(printer));
  }

  /** The cards for the printers as they now are; a focused button keeps its focus. */
  render() {
    const printers = getPrinters();
    const cards = printers.map((p) => {
      const card = this.cardOf(p.id) ?? h('li', { class: 'printer-card', dataset: { printerId: p.id } });
      this.fillCard(card, p);
      return card;
    });
    if (cards.length === 0) {
      this.list.replaceChildren(h('li', { class: 'printer-empty' },
        h('p', { class: 'empty-title', text: this.loaded ? t('printers.empty') : t('printers.loading_printers') }),
        this.loaded ? h('p', { class: 'subtle', text: t('printers.empty_hint') }) : null));
    } else {
      for (const stale of [...this.list.children]) if (!cards.includes(stale)) stale.remove();
      cards.forEach((card, i) => {
        if (this.list.children[i] !== card) this.list.insertBefore(card, this.list.children[i] ?? null);
      });
    }
    this.section.toggleAttribute('data-loaded', this.loaded);
    this.renderSummary();
  }

  renderSummary() {
    const printers = getPrinters();
    const n = printers.length;
    const live = printers.filter((p) => p.status?.online).length;
    this.summary.textContent = n === 0 ? t('printers.none') : t('printers.summary', { count: n, online: live });
  }

  renderCard(printer) {
    const card = this.cardOf(printer.id);
    if (!card) {
      this.render();
      return;
    }
    this.fillCard(card, printer);
    this.renderSummary();
  }

  cardOf(id) {
    return this.list.querySelector(`[data-printer-id="${CSS.escape(id)}"]`);
  }

  /** Writes a printer into its card; every value goes in as text. */
  fillCard(card, printer) {
    const status = printer.status ?? NO_STATUS;
    const state = STATE_LABELS[status.state] ? status.state : 'unknown';
    const watched = Boolean(printer.connection) && printer.monitoring;
    card.dataset.state = state;
    card.dataset.online = String(Boolean(status.online));

    const meta = [PRINTER_TYPES[printer.printer_type] ?? printer.printer_type];
    if (printer.location) meta.push(printer.location);
    let reach;
    const kind = printer.connection ? KIND_LABELS[printer.connection.kind] ?? printer.connection.kind : '';
    if (!printer.connection) reach = t('printers.card.manual');
    else if (!printer.monitoring) reach = t('printers.card.paused', { kind });
    else reach = t(status.online ? 'printers.card.online' : 'printers.card.offline', { kind });

    const parts = [
      h('div', { class: 'printer-card-head' },
        h('div', { class: 'printer-title' },
          h('h2', { class: 'printer-name', text: printer.name }),
          h('p', { class: 'printer-meta subtle', text: meta.join(' · ') })),
        h('span', { class: `badge printer-state state-${state}`, text: STATE_LABELS[state] })),
      h('p', { class: `printer-online ${watched && status.online ? 'is-online' : 'is-offline'}` },
        h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), reach),
    ];

    if (status.file || typeof status.progress === 'number') {
      const progress = typeof status.progress === 'number' ? Math.max(0, Math.min(100, status.progress)) : null;
      const line = [];
      if (progress !== null) line.push(t('printers.card.percent', { percent: Math.round(progress) }));
      if (typeof status.remaining_s === 'number') line.push(t('printers.card.left', { duration: formatDuration(status.remaining_s) }));
      parts.push(h('div', { class: 'printer-print' },
        status.file ? h('p', { class: 'printer-file file', title: status.file, text: status.file }) : null,
        progress !== null
          ? h('progress', { class: 'printer-progress', max: '100', value: String(progress), 'aria-label': t('printers.card.progress_of', { name: printer.name }) })
          : null,
        line.length ? h('p', { class: 'printer-remaining subtle', text: line.join(' · ') }) : null));
    }
    if (status.job_id) {
      parts.push(h('p', { class: 'printer-job' }, t('printers.card.job'), ' ',
        h('a', {
          href: `#jobs?job=${encodeURIComponent(status.job_id)}`,
          class: 'printer-job-link',
          text: this.jobName(status.job_id) ?? t('printers.card.open_job'),
        })));
    }
    if (status.last_seen) {
      parts.push(h('p', { class: 'printer-last-seen subtle' }, t('printers.card.last_seen'), ' ', timeElement(status.last_seen)));
    }
    if (status.error) parts.push(h('p', { class: 'printer-error', role: 'status', text: status.error }));

    const actions = h('div', { class: 'printer-actions' });
    if (certificateChanged(printer)) {
      actions.append(h('button', {
        type: 'button', class: 'btn btn-small', dataset: { action: 'trust-certificate' },
        text: t('printerform.trust_the_new_certificate'), 'aria-label': t('printers.card.trust_aria', { name: printer.name }),
      }));
    }
    actions.append(
      h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'edit-printer' }, text: t('jobs.row.edit'), 'aria-label': t('printers.card.edit_aria', { name: printer.name }) }),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger-text', dataset: { action: 'delete-printer' }, text: t('jobs.row.delete'), 'aria-label': t('printers.card.delete_aria', { name: printer.name }) }),
    );
    parts.push(actions);

    // Keep the focused button across a redraw (a status tick must not steal it).
    const focused = card.contains(document.activeElement) ? document.activeElement.dataset?.action : null;
    card.replaceChildren(...parts);
    if (focused) card.querySelector(`button[data-action="${focused}"]`)?.focus();
  }

  async remove(printer, button) {
    let count;
    try {
      count = await printersApi.jobCount(printer.id);
    } catch (err) {
      toastError(t('jobs.delete.failed', { reason: err.message }));
      return;
    }
    const jobs = count === 0 ? t('printers.delete.no_jobs') : t('printers.delete.jobs', { count });
    const ok = await confirmDialog({
      title: t('printers.delete.title'),
      message: t('printers.delete.message', { name: printer.name, jobs }),
      confirmLabel: t('printers.delete.confirm'),
    });
    if (!ok) {
      if (button.isConnected) button.focus();
      return;
    }
    try {
      await printersApi.remove(printer.id);
    } catch (err) {
      if (!err.isNotFound) {
        toastError(t('jobs.delete.failed', { reason: err.message }));
        return;
      }
    }
    removePrinter(printer.id);
    toastSuccess(t('jobs.delete.done', { name: printer.name }));
    byId('addPrinterBtn').focus();
    this.onDeleted(printer);
  }
}

async function trustCertificate(printer) {
  try {
    const saved = await printersApi.update(printer.id, { connection: { tls_fingerprint: null } });
    upsertPrinter(saved);
    toastSuccess(t('printers.trust.done', { name: printer.name }));
    return saved;
  } catch (err) {
    toastError(t('printers.trust.failed', { reason: err.message }));
    return null;
  }
}

// ---- the dialog --------------------------------------------------------------------------

/** Blank text is "no value". */
const text = (input) => input.value.trim();

export class PrinterDialog {
  constructor() {
    this.dialog = byId('printerModal');
    this.form = byId('printerForm');
    this.body = byId('printerModalBody');
    this.title = byId('printerModalTitle');
    this.meta = byId('printerModalMeta');
    this.saveBtn = byId('savePrinterBtn');
    this.template = byId('printerFormFields');
    this.printer = null; // null: adding
    this.trigger = null;
    this.saving = false;
    this.idTouched = false;
    this.testRun = 0; // bumped by each test and each change: only the latest result shows

    trapFocus(this.dialog);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.save();
    });
    this.form.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || e.isComposing || e.defaultPrevented) return;
      const t = e.target;
      if (t instanceof HTMLInputElement && t.type !== 'checkbox') {
        e.preventDefault();
        this.form.requestSubmit();
      }
    });
    // Esc, Cancel and × ask first while the form has changes.
    this.snapshot = null;
    this.requestClose = guardDialog(this.dialog, {
      isDirty: () => this.snapshot !== null && this.snapshot !== this.formState(),
      close: () => this.close(),
    });
    for (const btn of this.dialog.querySelectorAll('[data-close]')) btn.addEventListener('click', () => this.requestClose());
    this.dialog.addEventListener('close', () => this.closed());
    onPrintersChanged(() => this.printerChanged());
    onPrinterStatus((p) => { if (this.printer && p.id === this.printer.id) this.syncCertificate(p); });
  }

  /** An element of the open form (the fields exist only while the dialog is open). */
  el(id) {
    return this.body.querySelector(`#${CSS.escape(id)}`);
  }

  /** Opens the dialog on `printer`, or empty to add one. */
  open(printer, trigger = null) {
    this.printer = printer;
    this.trigger = trigger;
    this.saving = false;
    this.body.replaceChildren(this.template.content.cloneNode(true));
    this.bindFields();
    this.title.textContent = printer ? t('printerform.edit_title') : t('printerform.add_printer');
    this.meta.textContent = printer ? t('printerform.meta', { id: printer.id }) : t('printerform.add_meta');
    this.saveBtn.textContent = printer ? t('common.save') : t('printerform.add_printer');
    this.fill(printer);
    this.snapshot = this.formState();
    this.setSaving(false);
    if (!this.dialog.open) this.dialog.showModal();
    this.el('printerName').focus();
    if (printer) this.el('printerName').select();
  }

  /** Every value the form holds, as one string: what "unsaved changes" compares. */
  formState() {
    return JSON.stringify([...this.body.querySelectorAll('input, select, textarea')]
      .map((el) => (el.type === 'checkbox' ? el.checked : el.value)));
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  closed() {
    if (this.dialog.open) return;
    this.snapshot = null;
    const id = this.printer?.id;
    // The fields go with the dialog (their ids are also the job form's; see index.html).
    clear(this.body);
    let target = this.trigger?.isConnected ? this.trigger : null;
    if (!target && id) {
      target = document.querySelector(`[data-printer-id="${CSS.escape(id)}"] button[data-action="edit-printer"]`);
    }
    (target ?? byId('addPrinterBtn')).focus();
    this.printer = null;
    this.trigger = null;
  }

  bindFields() {
    this.idTouched = false;
    this.el('connectionKind').addEventListener('change', () => this.syncKind({ kindChanged: true }));
    this.el('printerName').addEventListener('input', () => {
      if (!this.printer && !this.idTouched) this.el('printerId').value = slugFrom(this.el('printerName').value);
    });
    this.el('printerId').addEventListener('input', () => { this.idTouched = true; });
    this.typeTouched = false;
    this.el('printerType').addEventListener('change', () => { this.typeTouched = true; });
    this.el('trustCertBtn').addEventListener('click', async () => {
      if (!this.printer) return;
      const saved = await trustCertificate(this.printer);
      if (saved) {
        this.printer = saved;
        this.syncCertificate(saved);
        this.el('connCaPem')?.focus();
      }
    });
    for (const [field, id] of Object.entries(INPUT_IDS)) {
      const input = this.el(id);
      if (!input) continue;
      const clearIt = () => this.clearFieldError(field);
      input.addEventListener('input', clearIt);
      input.addEventListener('change', clearIt);
    }
    this.el('testConnectionBtn').addEventListener('click', () => this.testConnection());
    // A result is about the values it tested: changing one makes it stale.
    const fieldset = this.body.querySelector('.conn-fieldset');
    const stale = (e) => {
      if (e.target.id === 'printerMonitoring') return;
      this.testRun += 1;
      this.el('connectionTestResult').hidden = true;
    };
    fieldset.addEventListener('input', stale);
    fieldset.addEventListener('change', stale);
  }

  /**
   * "Test connection": the connection as the form holds it, tried once by the server (about
   * 10 s at most). Secrets not typed are the stored printer's, which the server fills in: they
   * never come back to the page.
   */
  async testConnection() {
    const connection = this.connectionValues();
    const button = this.el('testConnectionBtn');
    if (!connection || !button || button.disabled) return;
    this.clearErrors();
    this.testRun += 1;
    const run = this.testRun;
    const result = this.el('connectionTestResult');
    const show = (outcome, label, detail) => {
      if (run !== this.testRun || !result.isConnected) return;
      result.dataset.outcome = outcome;
      result.replaceChildren(h('strong', { text: label }), detail ? ` ${detail}` : '');
      result.hidden = false;
    };
    button.disabled = true;
    show('testing', t('printerform.test.testing'), t('printerform.test.testing_detail'));
    try {
      const found = await printersApi.testConnection(connection, this.printer?.id ?? null);
      if (found.reachable) {
        // The state in the page's words; why a printer was not reached is the server's detail.
        const state = STATE_LABELS[found.state];
        show('reachable', t('printerform.test.connected'), state
          ? t('printerform.test.reached', { state: state.toLocaleLowerCase(locale) })
          : found.detail);
      } else {
        show('unreachable', t('printerform.test.not_connected'), found.detail);
        // The stored certificate no longer matches: offer to trust the new one here too.
        const trust = this.el('trustCertBtn');
        if (run === this.testRun && trust && this.printer?.connection?.tls_fingerprint
          && /^certificate changed/i.test(found.detail ?? '')) trust.hidden = false;
      }
    } catch (err) {
      if (run !== this.testRun || !result.isConnected) return;
      if (err.fieldErrors?.length) {
        result.hidden = true;
        this.showErrors(err, 'tested');
      } else {
        show('unreachable', t('printerform.test.not_tested'), err.message);
      }
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  }

  /** Puts `printer`'s values into the fields (secrets never: they show as "set"). */
  fill(printer) {
    const conn = printer?.connection ?? null;
    this.el('printerName').value = printer?.name ?? '';
    const idInput = this.el('printerId');
    idInput.value = printer?.id ?? '';
    idInput.readOnly = Boolean(printer);
    this.el('printerIdHint').textContent = printer ? t('printerform.id_hint_fixed') : t('printerform.id_hint_new');
    this.el('printerType').value = printer?.printer_type ?? 'other';
    this.el('printerLocation').value = printer?.location ?? '';
    this.el('connectionKind').value = conn?.kind ?? '';
    for (const input of this.body.querySelectorAll('[data-setting]')) {
      const setting = input.dataset.setting;
      const value = conn ? conn[setting] : null;
      if (SECRETS.has(setting)) {
        input.value = '';
        const stored = value === 'set';
        input.placeholder = stored ? t('printerform.secret.set') : '';
        input.dataset.stored = String(stored);
        this.el(`${input.id}Hint`).textContent = stored
          ? t('printerform.secret.stored_hint')
          : t('printerform.secret.new_hint');
      } else {
        input.value = value === null || value === undefined ? '' : String(value);
      }
    }
    this.el('printerMonitoring').checked = conn ? Boolean(printer.monitoring) : true;
    this.syncKind({ kindChanged: false });
    this.syncCertificate(printer);
  }

  /** Shows the chosen kind's settings only. A new kind starts from empty settings. */
  syncKind({ kindChanged }) {
    const kind = this.el('connectionKind').value;
    for (const group of this.body.querySelectorAll('[data-kinds]')) {
      group.hidden = !group.dataset.kinds.split(' ').includes(kind);
    }
    if (kindChanged) {
      const storedKind = this.printer?.connection?.kind ?? '';
      for (const input of this.body.querySelectorAll('[data-setting]')) {
        if (kind !== storedKind && SECRETS.has(input.dataset.setting)) {
          input.placeholder = '';
          input.dataset.stored = 'false';
        }
      }
      if (kind && !storedKind) this.el('printerMonitoring').checked = true;
      // A new printer's type follows the kind until it is chosen by hand.
      if (!this.printer && !this.typeTouched) {
        const type = { bambu_lab: 'bambu_lab', octoprint: 'octoprint', moonraker: 'klipper', prusalink: 'prusa' }[kind];
        this.el('printerType').value = type ?? 'other';
      }
    }
    this.syncCertificate(this.printer);
  }

  /** The Bambu certificate: its fingerprint, and "trust the new one" when it changed. */
  syncCertificate(printer) {
    const field = this.el('certField');
    if (!field) return;
    const conn = printer?.connection;
    const sameKind = conn?.kind === 'bambu_lab' && this.el('connectionKind').value === 'bambu_lab';
    field.hidden = !sameKind;
    if (!sameKind) return;
    this.el('tlsFingerprint').textContent = conn.tls_fingerprint
      ? conn.tls_fingerprint.replace(/(..)(?!$)/g, '$1:')
      : t('printerform.fingerprint_none');
    const changed = certificateChanged(printer);
    const button = this.el('trustCertBtn');
    button.hidden = !changed || !conn.tls_fingerprint;
  }

  /** The printer was changed or deleted elsewhere while the dialog is open. */
  printerChanged() {
    if (!this.dialog.open || !this.printer) return;
    const now = getPrinter(this.printer.id);
    if (!now) {
      toastInfo(t('printerform.deleted_meanwhile', { name: this.printer.name }));
      this.close();
    } else {
      this.syncCertificate(now);
    }
  }

  /** The connection as the form holds it; `null` when not connected. */
  connectionValues() {
    const kind = this.el('connectionKind').value;
    if (!kind) return null;
    const values = { kind };
    for (const setting of KIND_SETTINGS[kind]) {
      const input = this.body.querySelector(`[data-setting="${setting}"]`);
      if (SECRETS.has(setting)) {
        // Not trimmed: a secret is sent exactly as typed, and only when typed.
        if (input.value !== '') values[setting] = input.value;
      } else {
        const v = setting === 'ca_pem' ? input.value.trim() : text(input);
        if (v === '') continue;
        values[setting] = setting === 'port' && /^\d+$/.test(v) ? Number(v) : v;
      }
    }
    return values;
  }

  /** The request body: everything when adding, only what changed when editing. */
  requestBody() {
    const name = text(this.el('printerName'));
    const type = this.el('printerType').value;
    const location = text(this.el('printerLocation')) || null;
    const connection = this.connectionValues();
    const monitoring = this.el('printerMonitoring').checked;
    const p = this.printer;
    if (!p) {
      const body = { name, printer_type: type };
      const id = text(this.el('printerId'));
      if (id) body.id = id;
      if (location) body.location = location;
      if (connection) {
        body.connection = connection;
        body.monitoring = monitoring;
      }
      return body;
    }
    const patch = {};
    if (name !== p.name) patch.name = name;
    if (type !== p.printer_type) patch.printer_type = type;
    if (location !== (p.location ?? null)) patch.location = location;
    const stored = p.connection ?? null;
    if (!connection) {
      if (stored) patch.connection = null;
    } else if (!stored || stored.kind !== connection.kind) {
      patch.connection = connection;
    } else {
      // Same kind: merged setting by setting; a cleared optional setting is sent as null.
      const change = {};
      for (const setting of KIND_SETTINGS[connection.kind]) {
        if (SECRETS.has(setting)) {
          if (setting in connection) change[setting] = connection[setting];
        } else if (setting in connection) {
          if (connection[setting] !== stored[setting]) change[setting] = connection[setting];
        } else if (stored[setting] !== null && stored[setting] !== undefined) {
          change[setting] = null;
        }
      }
      if (Object.keys(change).length) patch.connection = change;
    }
    if (connection && (monitoring !== Boolean(p.monitoring) || !stored)) patch.monitoring = monitoring;
    return patch;
  }

  async save() {
    if (this.saving) return;
    this.clearErrors();
    const body = this.requestBody();
    const p = this.printer;
    if (p && Object.keys(body).length === 0) {
      this.close();
      toastInfo(t('printerform.nothing_changed'));
      return;
    }
    this.setSaving(true);
    try {
      const saved = p ? await printersApi.update(p.id, body) : await printersApi.create(body);
      upsertPrinter(saved);
      this.close();
      toastSuccess(p ? t('jobform.saved', { name: saved.name }) : t('printerform.added', { name: saved.name }));
    } catch (err) {
      this.setSaving(false);
      if (err.fieldErrors.length) this.showErrors(err);
      else if (err.status === 409) this.showErrors({ fieldErrors: [{ field: 'id', message: 'is taken by another printer' }], message: err.message });
      else if (err.isNotFound && p) {
        removePrinter(p.id);
        this.close();
        toastError(t('printerform.gone_toast'));
      } else {
        this.showSummary(t('form.not_saved', { reason: err.message }));
        toastError(t('form.not_saved', { reason: err.message }));
      }
    }
  }

  setSaving(on) {
    this.saving = on;
    this.saveBtn.disabled = on;
    this.form.toggleAttribute('aria-busy', on);
  }

  // ---- errors (as on the job form: at each field, the rest in the summary) -----------------

  /** `verb`: what did not happen ("saved", "tested"), for the summary. */
  showErrors(err, verb = 'saved') {
    const unplaced = [];
    let first = null;
    for (const { field, message } of err.fieldErrors) {
      const input = INPUT_IDS[field] ? this.el(INPUT_IDS[field]) : null;
      if (input && !input.closest('[hidden]')) {
        this.showFieldError(field, input, message);
        first ??= input;
      } else {
        unplaced.push(fieldErrorText(field, message, fieldLabel(field)));
      }
    }
    const placed = err.fieldErrors.length - unplaced.length;
    const summary = unplaced.length === 0 && placed > 0
      ? t(`form.fields_need_attention.${verb}`, { count: placed })
      : t(verb === 'tested' ? 'form.not_tested' : 'form.not_saved', { reason: err.message || t('problem.validation') });
    this.showSummary(summary, unplaced);
    (first ?? this.el('printerName')).focus();
  }

  showFieldError(field, input, message) {
    const el = this.el(`${input.id === 'trustCertBtn' ? 'connTlsFingerprint' : input.id}Error`);
    if (!el) return;
    el.textContent = fieldErrorText(field, message, fieldLabel(field));
    el.hidden = false;
    el.dataset.field = field;
    input.setAttribute('aria-invalid', 'true');
    input.closest('.field')?.classList.add('has-error');
  }

  clearFieldError(field) {
    const id = INPUT_IDS[field];
    const input = id ? this.el(id) : null;
    if (!input || input.getAttribute('aria-invalid') !== 'true') return;
    for (const el of this.body.querySelectorAll('.field-error:not([hidden])')) {
      if (el.dataset.field && INPUT_IDS[el.dataset.field] === id) {
        el.textContent = '';
        el.hidden = true;
      }
    }
    input.removeAttribute('aria-invalid');
    input.closest('.field')?.classList.remove('has-error');
    if (!this.body.querySelector('[aria-invalid="true"]')) this.el('printerErrorSummary').hidden = true;
  }

  clearErrors() {
    for (const el of this.body.querySelectorAll('.field-error')) {
      el.textContent = '';
      el.hidden = true;
    }
    for (const el of this.body.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
    for (const el of this.body.querySelectorAll('.has-error')) el.classList.remove('has-error');
    const summary = this.el('printerErrorSummary');
    summary.hidden = true;
    clear(summary);
  }

  showSummary(message, items = []) {
    const summary = this.el('printerErrorSummary');
    summary.replaceChildren(h('p', { text: message }));
    if (items.length) summary.append(h('ul', {}, items.map((t) => h('li', { text: t }))));
    summary.hidden = false;
  }
}
