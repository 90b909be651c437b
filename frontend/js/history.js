// A job's audit trail (#historyDialog): who changed what, when — field: old → new.

import { jobsApi } from './api.js';
import { byId, h, trapFocus } from './dom.js';
import {
  EDITABLE_FIELDS, actorName, fieldLabel, formatDateTime, formatRelative, formatValue,
} from './format.js';
import { t } from './i18n.js';
import { printerName } from './printers.js';

const PAGE = 50;

const KIND = {
  job_created: { label: t('history.kind.created'), class: 'created' },
  job_updated: { label: t('history.kind.updated'), class: 'updated' },
  job_deleted: { label: t('history.kind.deleted'), class: 'deleted' },
};

const isEmpty = (v) => v === null || v === undefined || v === '';

/** A value in a change line; "no value" is shown plainly, not as struck-out or added text. */
function valueSpan(className, field, v) {
  return isEmpty(v)
    ? h('span', { class: 'history-none', text: field === 'printer_id' ? t('history.no_printer') : t('history.empty') })
    : h('span', { class: className, text: formatValue(field, v, printerName) });
}

/** One event as a list item; every value is text. */
export function renderEvent(event) {
  const kind = KIND[event.type] ?? { label: event.type, class: 'other' };
  const value = (field, v) => formatValue(field, v, printerName);
  const head = h('div', { class: 'history-head' },
    h('span', { class: `badge history-kind kind-${kind.class}`, text: kind.label }),
    h('span', { class: 'history-who' }, t('history.by'), ' ', h('strong', { text: actorName(event.actor) })),
    h('time', { class: 'history-when', datetime: event.at, title: formatRelative(event.at), text: formatDateTime(event.at) }));

  const changes = Object.entries(event.changes || {});
  let body = null;
  if (event.type === 'job_created') {
    const job = event.job || {};
    const shown = EDITABLE_FIELDS.filter((f) => job[f] !== null && job[f] !== undefined && job[f] !== '' && job[f] !== false);
    body = h('ul', { class: 'history-changes' }, shown.map((f) => h('li', {},
      h('span', { class: 'history-field', text: `${fieldLabel(f)}:` }), ' ',
      h('span', { class: 'history-new', text: value(f, job[f]) }))));
  } else if (event.type === 'job_deleted') {
    body = h('p', { class: 'history-note', text: event.job ? t('jobs.delete.done', { name: event.job.job_name }) : t('history.deleted') });
  } else if (changes.length) {
    body = h('ul', { class: 'history-changes' }, changes.map(([f, c]) => h('li', {},
      h('span', { class: 'history-field', text: `${fieldLabel(f)}:` }), ' ',
      valueSpan('history-old', f, c?.old),
      h('span', { class: 'history-arrow', 'aria-label': t('history.changed_to'), text: ' → ' }),
      valueSpan('history-new', f, c?.new))));
  }
  return h('li', { class: `history-item kind-${kind.class}`, dataset: { seq: String(event.seq ?? '') } }, head, body);
}

export class HistoryDialog {
  constructor() {
    this.dialog = byId('historyDialog');
    this.list = byId('historyList');
    this.status = byId('historyStatus');
    this.subtitle = byId('historySubtitle');
    this.moreBtn = byId('historyMoreBtn');
    this.jobId = null;
    this.offset = 0;
    this.total = 0;
    this.loadSeq = 0;
    trapFocus(this.dialog);
    this.moreBtn.addEventListener('click', () => this.load());
    this.dialog.addEventListener('close', () => {
      if (!this.dialog.open) this.jobId = null; // not when it was opened again meanwhile
    });
  }

  get isOpen() { return this.dialog.open; }

  /** Opens the trail of `job` (which may be deleted). */
  open(job) {
    this.jobId = job.id;
    this.offset = 0;
    this.total = 0;
    this.subtitle.textContent = job.job_name;
    this.list.replaceChildren();
    this.moreBtn.hidden = true;
    if (!this.dialog.open) this.dialog.showModal();
    this.load();
  }

  async load() {
    const seq = ++this.loadSeq;
    const jobId = this.jobId;
    this.status.textContent = t('history.loading');
    this.moreBtn.disabled = true;
    try {
      const page = await jobsApi.history(jobId, { limit: PAGE, offset: this.offset });
      if (seq !== this.loadSeq || jobId !== this.jobId) return;
      const known = new Set([...this.list.children].map((li) => li.dataset.seq));
      for (const event of page.events || []) {
        if (!known.has(String(event.seq))) this.list.append(renderEvent(event));
      }
      this.offset += (page.events || []).length;
      this.total = page.total_count ?? this.offset;
      this.moreBtn.hidden = this.offset >= this.total;
      this.renderStatus();
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.status.textContent = err.isNotFound
        ? t('history.none_available')
        : t('history.load_failed', { reason: err.message });
    } finally {
      this.moreBtn.disabled = false;
    }
  }

  renderStatus() {
    this.status.textContent = this.total === 0
      ? t('history.no_changes')
      : t('history.count', { count: this.total });
  }

  /** A live event for the job on screen goes on top. */
  onJobEvent(event) {
    if (!this.isOpen || event.job_id !== this.jobId) return;
    if ([...this.list.children].some((li) => li.dataset.seq === String(event.seq))) return;
    this.list.prepend(renderEvent(event));
    this.offset += 1;
    this.total += 1;
    this.renderStatus();
  }
}
