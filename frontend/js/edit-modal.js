// The job form (#editJobModal): edit or create a job, show the server's verdict at each field,
// resolve a 412 conflict, and notice live changes to the job being edited.

import { fieldErrorText, jobsApi } from './api.js';
import { choose } from './dialogs.js';
import { byId, clear, h, trapFocus } from './dom.js';
import {
  EDITABLE_FIELDS, NOTES_MAX, actorName, charCount, fieldLabel, formatRelative, formatValue,
} from './format.js';
import { fillPrinterSelect, loadPrinters, printerName, setSelectValue } from './printers.js';
import { formatList, t } from './i18n.js';
import { toastError, toastInfo, toastSuccess } from './toast.js';
import { guardDialog } from './unsaved.js';

/** `a`, `a and b`, `a, b and c` in the page's language. */
const listOf = (items) => formatList(items);

export { NOTES_MAX } from './format.js';

/** API field → id of its input. */
const INPUT_IDS = {
  job_name: 'jobName',
  status: 'jobStatus',
  is_business: 'isBusinessJob',
  customer_name: 'customerName',
  notes: 'notes',
  file_name: 'fileName',
  printer_id: 'printerId',
};

const NEW_JOB = Object.freeze({
  job_name: '',
  status: 'pending',
  is_business: false,
  customer_name: null,
  notes: null,
  file_name: null,
  printer_id: null,
});

/** Blank or whitespace-only text is "no value" (the API stores null). */
const nullable = (v) => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** A job's editable fields as the form would read them back (the baseline for "what changed"). */
export function formValuesOf(job) {
  return {
    job_name: job.job_name ?? '',
    status: job.status ?? 'pending',
    is_business: Boolean(job.is_business),
    customer_name: nullable(job.customer_name),
    notes: nullable(typeof job.notes === 'string' ? job.notes.replace(/\r\n?/g, '\n') : job.notes),
    file_name: nullable(job.file_name),
    printer_id: job.printer_id || null,
  };
}

/** The fields of `values` that differ from `base`. */
export function diff(base, values) {
  const patch = {};
  for (const field of EDITABLE_FIELDS) {
    if (values[field] !== base[field]) patch[field] = values[field];
  }
  return patch;
}

export class EditJobModal {
  /**
   * @param {object} callbacks
   * @param {(job: object) => void} callbacks.onSaved     a job was updated by this form
   * @param {(job: object) => void} callbacks.onCreated   a job was created by this form
   * @param {(job: object) => void} callbacks.onShowHistory
   */
  constructor({ onSaved, onCreated, onShowHistory }) {
    this.onSaved = onSaved;
    this.onCreated = onCreated;
    this.onShowHistory = onShowHistory;

    this.dialog = byId('editJobModal');
    this.form = byId('editJobForm');
    this.title = byId('editJobTitle');
    this.meta = byId('editJobMeta');
    this.notice = byId('editJobNotice');
    this.noticeReloadBtn = byId('noticeReloadBtn');
    this.summary = byId('formErrorSummary');
    this.saveBtn = byId('saveJobBtn');
    this.historyBtn = byId('jobHistoryBtn');
    this.customerField = byId('customerField');
    this.notesCounter = byId('notesCounter');
    this.conflictDialog = byId('conflictDialog');
    this.inputs = Object.fromEntries(Object.entries(INPUT_IDS).map(([f, id]) => [f, byId(id)]));

    this.mode = null; // 'edit' | 'create' | null (closed)
    this.job = null; // the job as the form was (re)based on
    this.base = null; // formValuesOf(this.job)
    this.latest = null; // a newer state seen live while the form was dirty
    this.saving = false;
    this.gone = false;
    this.trigger = null;

    this.bind();
  }

  bind() {
    trapFocus(this.dialog);
    trapFocus(this.conflictDialog);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.save();
    });
    // Enter saves from any field but the notes (where it is a new line); Ctrl/Cmd+Enter saves anywhere.
    this.form.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || e.isComposing || e.defaultPrevented) return;
      const t = e.target;
      const isField = t instanceof HTMLInputElement || t instanceof HTMLSelectElement;
      if ((t instanceof HTMLTextAreaElement && (e.ctrlKey || e.metaKey)) || isField) {
        e.preventDefault();
        this.form.requestSubmit();
      }
    });
    // Esc, Cancel and × ask first while the form has changes.
    this.requestClose = guardDialog(this.dialog, {
      isDirty: () => Boolean(this.mode) && !this.gone && this.isDirty(),
      close: () => this.close(),
    });
    for (const btn of this.dialog.querySelectorAll('[data-close]')) {
      btn.addEventListener('click', () => this.requestClose());
    }
    this.dialog.addEventListener('close', () => this.closed());
    this.inputs.is_business.addEventListener('change', () => this.syncBusiness());
    this.inputs.notes.addEventListener('input', () => this.syncCounter());
    for (const [field, input] of Object.entries(this.inputs)) {
      const clearIt = () => this.clearFieldError(field);
      input.addEventListener('input', clearIt);
      input.addEventListener('change', clearIt);
    }
    // A business job's customer rule involves both fields.
    this.inputs.is_business.addEventListener('change', () => this.clearFieldError('customer_name'));
    this.noticeReloadBtn.addEventListener('click', () => {
      if (this.latest) this.rebase(this.latest, { keepMine: false });
      this.hideNotice();
      this.inputs.job_name.focus();
    });
    this.historyBtn.addEventListener('click', () => {
      if (this.job) this.onShowHistory(this.latest ?? this.job);
    });
  }

  get isOpen() { return this.dialog.open; }
  get jobId() { return this.mode === 'edit' && this.job ? this.job.id : null; }

  // ---- opening and closing ---------------------------------------------------------------

  /** Opens the form on an existing job. */
  openEdit(job, trigger = null) {
    this.mode = 'edit';
    this.trigger = trigger;
    this.title.textContent = t('jobform.edit_job');
    this.saveBtn.textContent = t('common.save');
    this.historyBtn.hidden = false;
    this.prepare(job);
  }

  /** Opens an empty form that creates a job. */
  openCreate(trigger = null) {
    this.mode = 'create';
    this.trigger = trigger;
    this.title.textContent = t('jobs.new_job');
    this.saveBtn.textContent = t('jobform.create');
    this.historyBtn.hidden = true;
    this.prepare(null);
  }

  prepare(job) {
    this.gone = false;
    this.latest = null;
    this.setSaving(false);
    this.clearErrors();
    this.hideNotice();
    fillPrinterSelect(this.inputs.printer_id);
    this.rebase(job, { keepMine: false });
    if (!this.dialog.open) this.dialog.showModal();
    this.inputs.job_name.focus();
    if (job) this.inputs.job_name.select();
    // Printers may have been added since the page loaded.
    loadPrinters().then(() => {
      if (this.isOpen) fillPrinterSelect(this.inputs.printer_id);
    }).catch(() => {});
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  closed() {
    // The close event is queued: the form may have been opened again before it ran.
    if (this.dialog.open) return;
    if (this.conflictDialog.open) this.conflictDialog.close('cancel');
    const jobId = this.jobId;
    this.mode = null;
    // Give focus back to what opened the form (its row may have been re-rendered meanwhile).
    let target = this.trigger && this.trigger.isConnected ? this.trigger : null;
    if (!target && jobId) {
      target = document.querySelector(`tr[data-job-id="${CSS.escape(jobId)}"] button[data-action="edit-job"]`);
    }
    (target ?? byId('newJobBtn')).focus();
    this.trigger = null;
  }

  // ---- the form's values -----------------------------------------------------------------

  /** Puts `job` (or a blank job) into the form and makes it the baseline. */
  rebase(job, { keepMine }) {
    const mine = keepMine ? this.changes() : {};
    this.job = job;
    this.base = formValuesOf(job ?? NEW_JOB);
    this.latest = null;
    this.fill({ ...this.base, ...mine });
    this.renderMeta();
  }

  fill(values) {
    const i = this.inputs;
    i.job_name.value = values.job_name;
    i.status.value = values.status;
    i.is_business.checked = values.is_business;
    i.customer_name.value = values.customer_name ?? '';
    i.notes.value = values.notes ?? '';
    i.file_name.value = values.file_name ?? '';
    setSelectValue(i.printer_id, values.printer_id ?? '');
    this.syncBusiness();
    this.syncCounter();
  }

  /** The form as API values. */
  values() {
    const i = this.inputs;
    return {
      job_name: i.job_name.value,
      status: i.status.value,
      is_business: i.is_business.checked,
      customer_name: nullable(i.customer_name.value),
      notes: nullable(i.notes.value),
      file_name: nullable(i.file_name.value),
      printer_id: i.printer_id.value || null,
    };
  }

  /** Only what the user changed. */
  changes() {
    return this.base ? diff(this.base, this.values()) : {};
  }

  isDirty() {
    return Object.keys(this.changes()).length > 0;
  }

  renderMeta() {
    if (this.mode === 'create' || !this.job) {
      this.meta.textContent = t('jobform.required_hint');
      return;
    }
    this.meta.textContent = t('jobform.meta', { version: this.job.version, updated: formatRelative(this.job.updated_at) });
  }

  syncBusiness() {
    const business = this.inputs.is_business.checked;
    const customer = this.inputs.customer_name;
    customer.required = business;
    customer.setAttribute('aria-required', String(business));
    this.customerField.classList.toggle('is-required', business);
  }

  syncCounter() {
    const n = charCount(this.inputs.notes.value);
    this.notesCounter.textContent = t('fail.counter', { used: String(n), max: String(NOTES_MAX) });
    this.notesCounter.classList.toggle('over', n > NOTES_MAX);
    this.notesCounter.classList.toggle('near', n > NOTES_MAX * 0.9 && n <= NOTES_MAX);
  }

  // ---- saving ----------------------------------------------------------------------------

  setSaving(saving) {
    this.saving = saving;
    this.saveBtn.disabled = saving || this.gone;
    this.form.toggleAttribute('aria-busy', saving);
    const idle = this.mode === 'create' ? t('jobform.create') : t('common.save');
    this.saveBtn.textContent = saving ? t('common.saving') : idle;
  }

  async save() {
    if (this.saving || !this.mode) return;
    if (this.gone) {
      toastError(t('jobform.gone_cannot_save'));
      return;
    }
    this.clearErrors();
    const creating = this.mode === 'create';
    let body;
    if (creating) {
      body = Object.fromEntries(Object.entries(this.values()).filter(([, v]) => v !== null));
    } else {
      body = this.changes();
      if (Object.keys(body).length === 0) {
        toastInfo(t('jobform.nothing_changed'));
        this.close();
        return;
      }
    }

    this.setSaving(true);
    try {
      if (creating) {
        const job = await jobsApi.create(body);
        this.setSaving(false);
        this.onCreated(job);
        toastSuccess(t('jobform.created', { name: job.job_name }));
      } else {
        const job = await jobsApi.update(this.job.id, body, this.job.version);
        this.setSaving(false);
        this.onSaved(job);
        toastSuccess(t('jobform.saved', { name: job.job_name }));
      }
      this.close();
    } catch (err) {
      this.setSaving(false);
      await this.failed(err);
    }
  }

  /** Shows why a save failed; the form stays open with the user's input. */
  async failed(err) {
    if (err.isValidation) {
      this.showErrors(err);
      return;
    }
    if (err.isConflict && this.mode === 'edit') {
      await this.resolveConflict(err.current);
      return;
    }
    if (err.isNotFound && this.mode === 'edit') {
      this.markGone(t('jobform.gone_notice'));
      toastError(t('jobform.gone_toast'));
      return;
    }
    if (err.isNetwork) {
      this.showSummary(t('jobform.network_summary', { reason: err.message }));
      toastError(t('jobform.network_toast'));
      return;
    }
    this.showSummary(t('form.not_saved', { reason: err.message }));
    toastError(t('form.not_saved', { reason: err.message }));
  }

  // ---- errors ----------------------------------------------------------------------------

  showErrors(err) {
    const unplaced = [];
    let first = null;
    for (const { field, message } of err.fieldErrors) {
      if (INPUT_IDS[field]) {
        this.showFieldError(field, message);
        first ??= this.inputs[field];
      } else {
        unplaced.push(fieldErrorText(field, message, fieldLabel(field)));
      }
    }
    // Messages that have a field are shown there; the rest are listed in the summary.
    const placed = err.fieldErrors.length - unplaced.length;
    const text = unplaced.length === 0 && placed > 0
      ? t('form.fields_need_attention.saved', { count: placed })
      : t('form.not_saved', { reason: err.message || t('problem.validation') });
    this.showSummary(text, unplaced);
    (first ?? this.inputs.job_name).focus();
  }

  showFieldError(field, message) {
    const input = this.inputs[field];
    const el = byId(`${INPUT_IDS[field]}Error`);
    el.textContent = fieldErrorText(field, message, fieldLabel(field));
    el.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.closest('.field')?.classList.add('has-error');
  }

  clearFieldError(field) {
    const input = this.inputs[field];
    if (input.getAttribute('aria-invalid') !== 'true') return;
    const el = byId(`${INPUT_IDS[field]}Error`);
    el.textContent = '';
    el.hidden = true;
    input.removeAttribute('aria-invalid');
    input.closest('.field')?.classList.remove('has-error');
    if (!this.form.querySelector('[aria-invalid="true"]')) this.summary.hidden = true;
  }

  clearErrors() {
    for (const field of Object.keys(INPUT_IDS)) this.clearFieldError(field);
    this.summary.hidden = true;
    clear(this.summary);
  }

  showSummary(text, items = []) {
    this.summary.replaceChildren(h('p', { text }));
    if (items.length) this.summary.append(h('ul', {}, items.map((t) => h('li', { text: t }))));
    this.summary.hidden = false;
  }

  // ---- notices (live changes, deletion) --------------------------------------------------

  showNotice(text, { reload = false, tone = 'info' } = {}) {
    this.notice.querySelector('.notice-text').textContent = text;
    this.noticeReloadBtn.hidden = !reload;
    this.notice.dataset.tone = tone;
    this.notice.hidden = false;
  }

  hideNotice() {
    this.notice.hidden = true;
  }

  markGone(text) {
    this.gone = true;
    this.saveBtn.disabled = true;
    this.showNotice(text, { tone: 'danger' });
  }

  /** A live event: warn about (or take in) changes to the job being edited. */
  onJobEvent(event) {
    if (!this.isOpen || this.mode !== 'edit' || this.saving || event.job_id !== this.jobId) return;
    if (event.type === 'job_deleted') {
      this.markGone(t('jobform.live.deleted', { who: capitalise(actorName(event.actor)) }));
      return;
    }
    const job = event.job;
    if (!job || job.version <= this.job.version) return;
    const labels = Object.keys(event.changes || {}).map(fieldLabel);
    const fields = labels.length ? listOf(labels) : t('jobform.live.it');
    const who = capitalise(actorName(event.actor));
    if (!this.isDirty()) {
      this.rebase(job, { keepMine: false });
      this.showNotice(t('jobform.live.changed', { who, fields }));
    } else {
      this.latest = job;
      this.showNotice(t('jobform.live.changed_dirty', { who, fields }), { reload: true, tone: 'warning' });
    }
  }

  // ---- 412 -------------------------------------------------------------------------------

  /** Who made the changes between the version this form opened and `current` (the history). */
  async whoChanged(current, from) {
    const since = Math.max(1, Math.min(20, current.version - from));
    try {
      const data = await jobsApi.history(current.id, { limit: since });
      const names = [...new Set((data.events ?? []).map((e) => actorName(e.actor)))]
        .map((name) => capitalise(name));
      return names.length ? listOf(names) : t('actor.Someone');
    } catch {
      return t('actor.Someone');
    }
  }

  /** Someone saved first: show what changed meanwhile; reload the form or overwrite. */
  async resolveConflict(current) {
    if (!current || typeof current !== 'object') {
      this.showSummary(t('jobform.conflict_no_current'));
      return;
    }
    const base = this.base;
    const theirs = formValuesOf(current);
    const mine = this.changes();
    const rows = byId('conflictRows');
    rows.replaceChildren();
    let theirCount = 0;
    for (const field of EDITABLE_FIELDS) {
      const theyChanged = theirs[field] !== base[field];
      const iChanged = field in mine;
      if (!theyChanged && !iChanged) continue;
      if (theyChanged) theirCount += 1;
      const clash = theyChanged && iChanged && theirs[field] !== mine[field];
      const value = (v) => formatValue(field, v, printerName);
      rows.append(h('tr', { class: clash ? 'clash' : null, dataset: { field } },
        h('th', { scope: 'row', text: fieldLabel(field) }),
        h('td', { class: 'was', text: value(base[field]) }),
        h('td', { class: theyChanged ? 'now changed' : 'now' }, theyChanged ? value(theirs[field]) : h('span', { class: 'subtle', text: t('bulk.unchanged') })),
        h('td', { class: iChanged ? 'mine changed' : 'mine' }, iChanged ? value(mine[field]) : h('span', { class: 'subtle', text: t('conflict.not_edited') })),
      ));
    }
    const changedLabels = EDITABLE_FIELDS
      .filter((field) => theirs[field] !== base[field])
      .map((field) => fieldLabel(field));
    const intro = byId('conflictIntro');
    const from = this.job.version;
    const say = (who) => {
      intro.textContent = theirCount > 0
        ? t('conflict.intro', { who, fields: listOf(changedLabels), from, to: current.version })
        : t('conflict.intro_no_field', { who, from, to: current.version });
    };
    say(t('actor.Someone'));
    // The names come from the history; the dialog does not wait for them.
    this.whoChanged(current, from).then((who) => {
      if (this.conflictDialog.open) say(who);
    });

    const choice = await choose(this.conflictDialog);
    if (!this.isOpen) return;
    if (choice === 'reload') {
      this.rebase(current, { keepMine: false });
      this.clearErrors();
      this.showNotice(t('conflict.reloaded'));
      this.inputs.job_name.focus();
    } else if (choice === 'overwrite') {
      this.rebase(current, { keepMine: true });
      this.hideNotice();
      await this.save();
    } else {
      this.inputs.job_name.focus();
    }
  }
}

function capitalise(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
