// "Edit selected" (#bulkEditDialog): one change to many jobs with POST /jobs/bulk-edit, all or
// nothing. Only the fields the user touched are sent (each has a "change" box that touching the
// field ticks); each job's version goes along in `if_versions`, so nothing someone else changed
// meanwhile is overwritten unseen.

import { fieldErrorText, jobsApi } from './api.js';
import { byId, h, trapFocus } from './dom.js';
import { charCount, fieldLabel } from './format.js';
import { fillPrinterSelect, loadPrinters, setSelectValue } from './printers.js';
import { toastError, toastSuccess } from './toast.js';
import { NOTES_MAX } from './edit-modal.js';
import { t } from './i18n.js';
import { guardDialog } from './unsaved.js';

/** API field → the control's id; each has a `bulkUse…` box and a `.bulk-field` around it. */
const FIELDS = {
  status: 'bulkStatus',
  is_business: 'bulkBusiness',
  customer_name: 'bulkCustomer',
  printer_id: 'bulkPrinter',
  notes: 'bulkNotes',
};

/** Shown in a select when the selected jobs disagree; must be replaced before it is sent. */
const MIXED = '__mixed__';

/** How the footer names a field ("Sets status, printer."): `bulk.noun.<field>`. */
const noun = (field) => t(`bulk.noun.${field}`);

/** A select the selected jobs disagree on: `bulk.mixed_hint.<field>`. */
const mixedHint = (field) => t(`bulk.mixed_hint.${field}`);

/** Why one job refused the change, by its status (the server's `detail` is English). */
function failureReason(failure) {
  if (failure.status === 412) return t('bulk.failure.changed');
  if (failure.status === 404) return t('bulk.failure.gone');
  if (failure.status === 409) return t('problem.transition-not-allowed');
  return t('bulk.failure.refused', { status: String(failure.status ?? '?') });
}

export class BulkEditDialog {
  /**
   * @param {object} table  the JobsTable: `selectedJobs()`, `saved(job)`, `clearSelection()`
   */
  constructor(table) {
    this.table = table;
    this.dialog = byId('bulkEditDialog');
    this.form = byId('bulkEditForm');
    this.meta = byId('bulkEditMeta');
    this.summary = byId('bulkErrorSummary');
    this.applyBtn = byId('bulkApplyBtn');
    this.footNote = byId('bulkEditWillChange');
    this.controls = Object.fromEntries(Object.entries(FIELDS).map(([f, id]) => [f, byId(id)]));
    this.boxes = Object.fromEntries(Object.keys(FIELDS).map((f) => [f, this.form.querySelector(`input.bulk-use[data-field="${f}"]`)]));
    this.notesCounter = byId('bulkNotesCounter');
    /** The jobs being edited: `{id, job_name, version}` as they were when the dialog opened. */
    this.targets = [];
    this.saving = false;
    this.trigger = null;
    this.bind();
  }

  bind() {
    trapFocus(this.dialog);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.apply();
    });
    // Esc, Cancel and × ask first once a field is ticked.
    this.requestClose = guardDialog(this.dialog, {
      isDirty: () => this.chosen().length > 0,
      close: () => this.close(),
    });
    for (const btn of this.dialog.querySelectorAll('[data-close]')) btn.addEventListener('click', () => this.requestClose());
    this.dialog.addEventListener('close', () => {
      if (this.dialog.open) return;
      // The bar's button is gone once the selection is cleared (after a successful edit).
      const usable = (el) => el && el.isConnected && !el.disabled && el.getClientRects().length > 0;
      const target = [this.trigger, byId('selectAll')].find(usable) ?? byId('jobSearch');
      target.focus();
      this.trigger = null;
    });
    for (const [field, control] of Object.entries(this.controls)) {
      // Touching a field means "change it".
      const touched = () => {
        this.include(field, !(control.tagName === 'SELECT' && control.value === MIXED));
      };
      control.addEventListener('input', touched);
      control.addEventListener('change', touched);
      this.boxes[field].addEventListener('change', () => this.include(field, this.boxes[field].checked, { focus: true }));
    }
    this.controls.notes.addEventListener('input', () => this.syncCounter());
  }

  get isOpen() { return this.dialog.open; }

  /** Opens the dialog on the selected rows. */
  open(trigger = null) {
    const jobs = this.table.selectedJobs();
    if (jobs.length === 0) return;
    this.trigger = trigger;
    this.targets = jobs.map((j) => ({ id: j.id, job_name: j.job_name, version: j.version }));
    this.setSaving(false);
    this.hideSummary();
    fillPrinterSelect(this.controls.printer_id);
    this.prefill(jobs);
    for (const field of Object.keys(FIELDS)) this.include(field, false);
    this.meta.textContent = t('bulk.meta', { count: jobs.length });
    if (!this.dialog.open) this.dialog.showModal();
    this.controls.status.focus();
    loadPrinters().then(() => {
      if (this.isOpen) fillPrinterSelect(this.controls.printer_id);
    }).catch(() => {});
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** Puts the value the selected jobs share into each field ("mixed" when they differ). */
  prefill(jobs) {
    const shared = (field) => {
      const values = new Set(jobs.map((j) => j[field] ?? null));
      return values.size === 1 ? [...values][0] : MIXED;
    };
    const selectValue = (select, value, mixedLabel) => {
      select.querySelector(`option[value="${MIXED}"]`)?.remove();
      if (value === MIXED) {
        select.prepend(h('option', { value: MIXED, disabled: true, text: mixedLabel }));
        select.value = MIXED;
      } else {
        setSelectValue(select, value);
      }
    };
    const status = shared('status');
    selectValue(this.controls.status, status, t('bulk.mixed.status'));
    const business = shared('is_business');
    selectValue(this.controls.is_business, business === MIXED ? MIXED : String(Boolean(business)), t('bulk.mixed.is_business'));
    const printer = shared('printer_id');
    selectValue(this.controls.printer_id, printer === MIXED ? MIXED : printer ?? '', t('bulk.mixed.printer_id'));
    for (const field of ['customer_name', 'notes']) {
      const value = shared(field);
      const input = this.controls[field];
      input.value = value === MIXED || value === null ? '' : value;
      input.placeholder = value === MIXED ? t('bulk.mixed.text') : (field === 'notes' ? t('bulk.no_notes') : t('bulk.no_customer'));
    }
    this.syncCounter();
  }

  /** Marks `field` as changed (sent) or not. */
  include(field, on, { focus = false } = {}) {
    this.boxes[field].checked = on;
    const wrap = this.boxes[field].closest('.bulk-field');
    wrap.classList.toggle('is-on', on);
    wrap.querySelector('.bulk-state').textContent = on ? t('bulk.will_change') : t('bulk.unchanged');
    this.clearFieldError(field);
    if (on && focus) this.controls[field].focus();
    this.syncFoot();
  }

  chosen() {
    return Object.keys(FIELDS).filter((f) => this.boxes[f].checked);
  }

  syncFoot() {
    const fields = this.chosen();
    const n = this.targets.length;
    this.applyBtn.disabled = this.saving || fields.length === 0;
    if (!this.saving) this.applyBtn.textContent = t('bulk.apply_to', { count: n });
    this.footNote.textContent = fields.length === 0
      ? t('bulk.foot.none')
      : t('bulk.foot.sets', { fields: fields.map(noun).join(', ') });
  }

  syncCounter() {
    const count = charCount(this.controls.notes.value);
    this.notesCounter.textContent = t('fail.counter', { used: String(count), max: String(NOTES_MAX) });
    this.notesCounter.classList.toggle('over', count > NOTES_MAX);
  }

  setSaving(saving) {
    this.saving = saving;
    this.form.toggleAttribute('aria-busy', saving);
    this.applyBtn.textContent = saving ? t('common.saving') : t('bulk.apply_to', { count: this.targets.length });
    this.applyBtn.disabled = saving || this.chosen().length === 0;
  }

  /** The `changes` object: only the ticked fields. Null when a ticked select is still "mixed". */
  changes() {
    const changes = {};
    let missing = null;
    for (const field of this.chosen()) {
      const control = this.controls[field];
      if (control.tagName === 'SELECT' && control.value === MIXED) {
        this.showFieldError(field, mixedHint(field));
        missing ??= control;
        continue;
      }
      if (field === 'is_business') changes.is_business = control.value === 'true';
      else if (field === 'status') changes.status = control.value;
      else if (field === 'printer_id') changes.printer_id = control.value || null;
      else {
        const v = control.value;
        changes[field] = v.trim() === '' ? null : v;
      }
    }
    if (missing) {
      missing.focus();
      return null;
    }
    return changes;
  }

  async apply() {
    if (this.saving) return;
    this.hideSummary();
    const changes = this.changes();
    if (!changes || Object.keys(changes).length === 0) return;
    const ids = this.targets.map((t) => t.id);
    const ifVersions = Object.fromEntries(this.targets.map((t) => [t.id, t.version]));
    this.setSaving(true);
    try {
      const jobs = await jobsApi.bulkEdit(ids, changes, ifVersions);
      this.setSaving(false);
      for (const job of jobs) this.table.saved(job);
      const changed = jobs.filter((j) => j.version > (ifVersions[j.id] ?? 0)).length;
      toastSuccess(changed === jobs.length
        ? t('bulk.done', { count: jobs.length })
        : t('bulk.done_partly', { count: changed, unchanged: jobs.length - changed }));
      this.table.clearSelection();
      this.close();
    } catch (err) {
      this.setSaving(false);
      this.failed(err);
    }
  }

  /** Nothing was saved: say which jobs failed and why. */
  failed(err) {
    const failures = Array.isArray(err.problem?.failures) ? err.problem.failures : [];
    if (failures.length === 0) {
      // The request as a whole was refused (a field's type, a network failure …).
      for (const { field, message } of err.fieldErrors) {
        if (FIELDS[field]) this.showFieldError(field, fieldErrorText(field, message, fieldLabel(field)));
      }
      this.showSummary(t('bulk.nothing_saved', { reason: err.message }));
      toastError(t('bulk.nothing_saved', { reason: err.message }));
      return;
    }
    const names = new Map(this.targets.map((t) => [t.id, t.job_name]));
    let refreshed = 0;
    const items = failures.map((f) => {
      const current = f.current && typeof f.current === 'object' ? f.current : null;
      if (current) {
        // Stale: show the job as it is now, and apply against that version next time.
        this.table.saved(current);
        const target = this.targets.find((t) => t.id === f.id);
        if (target) target.version = current.version;
        refreshed += 1;
      }
      const name = current?.job_name ?? names.get(f.id) ?? f.id;
      const fieldErrors = Array.isArray(f.errors) ? f.errors.filter((e) => e && e.field) : [];
      const reason = fieldErrors.length
        ? fieldErrors.map((e) => fieldErrorText(e.field, e.message, fieldLabel(e.field))).join('; ')
        : failureReason(f);
      return h('li', { dataset: { jobId: f.id, status: String(f.status ?? '') } },
        h('strong', { class: 'failure-name', text: name }), h('span', { class: 'failure-reason', text: ` — ${reason}` }));
    });
    const n = failures.length;
    const intro = t('bulk.failures.intro', { count: n });
    const outro = refreshed > 0 ? t('bulk.failures.refreshed', { count: refreshed }) : t('bulk.failures.fix');
    this.showSummary(intro, items, outro);
    toastError(intro);
  }

  showSummary(text, items = [], after = '') {
    this.summary.replaceChildren(h('p', { class: 'summary-title', text }));
    if (items.length) this.summary.append(h('ul', { id: 'bulkFailures' }, items));
    if (after) this.summary.append(h('p', { class: 'summary-after', text: after }));
    this.summary.hidden = false;
    this.summary.scrollIntoView({ block: 'nearest' });
  }

  hideSummary() {
    this.summary.hidden = true;
    this.summary.replaceChildren();
    for (const field of Object.keys(FIELDS)) this.clearFieldError(field);
  }

  showFieldError(field, message) {
    const el = byId(`${FIELDS[field]}Error`);
    el.textContent = message;
    el.hidden = false;
    this.controls[field].setAttribute('aria-invalid', 'true');
  }

  clearFieldError(field) {
    const el = byId(`${FIELDS[field]}Error`);
    el.textContent = '';
    el.hidden = true;
    this.controls[field].removeAttribute('aria-invalid');
  }
}
