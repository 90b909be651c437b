// The jobs table: filters, search, sort, paging, and live updates applied in place.

import { exportUrl, jobsApi } from './api.js';
import { byId, debounce, flash, h } from './dom.js';
import { t } from './i18n.js';
import { formatDuration, shortTimeElement, statusBadge, timeElement } from './format.js';
import { OFFICE_DEFAULTS, OFFICE_FILTER_KEYS, officeApiParams, officeMatches, officeQueryFromParams } from './office-filters.js';
import { printerName } from './printers.js';
import { compareByKey, searchMatches } from './text-order.js';
import { STATUS_ACTIONS, STATUS_ACTION_NAMES } from './workflow.js';

export const DEFAULT_QUERY = Object.freeze({
  q: '',
  status: '',
  printer_id: '',
  is_business: '',
  ...OFFICE_DEFAULTS,
  sort: 'updated_at:desc',
  limit: 25,
  offset: 0,
});

const FILTER_KEYS = ['q', 'status', 'printer_id', 'is_business', ...OFFICE_FILTER_KEYS];
const PAGE_SIZES = [10, 25, 50, 100];
const SORT_KEYS = [
  'job_name', 'status', 'customer_name', 'printer_id', 'file_name', 'updated_at', 'created_at',
  'started_at', 'completed_at',
];
/** Columns whose first click sorts newest / largest first. */
const DESC_FIRST = new Set(['updated_at', 'created_at', 'started_at', 'completed_at']);
const COLUMNS = 11;
/** How long a row's status buttons ignore presses after a move (ms). */
const MOVE_SETTLE_MS = 400;

/**
 * How long a job ran: completed − started, or the running time so far for a running job;
 * null when it never started (or the times are not both known).
 */
export function jobDurationSeconds(job, now = Date.now()) {
  const started = job.started_at ? new Date(job.started_at).getTime() : NaN;
  if (Number.isNaN(started)) return null;
  const end = job.completed_at ? new Date(job.completed_at).getTime() : (job.status === 'running' ? now : NaN);
  if (Number.isNaN(end)) return null;
  return Math.max(0, (end - started) / 1000);
}

/** A query from `URLSearchParams`, falling back to the defaults for anything invalid. */
export function queryFromParams(params) {
  const q = { ...DEFAULT_QUERY };
  for (const key of FILTER_KEYS) q[key] = params.get(key) ?? '';
  Object.assign(q, officeQueryFromParams(params));
  if (!['', 'pending', 'running', 'completed', 'failed'].includes(q.status)) q.status = '';
  if (!['', 'true', 'false'].includes(q.is_business)) q.is_business = '';
  const sort = params.get('sort') || DEFAULT_QUERY.sort;
  const [key, dir] = sort.split(':');
  q.sort = SORT_KEYS.includes(key) && ['asc', 'desc'].includes(dir) ? sort : DEFAULT_QUERY.sort;
  const limit = Number(params.get('limit'));
  q.limit = PAGE_SIZES.includes(limit) ? limit : DEFAULT_QUERY.limit;
  const offset = Number(params.get('offset'));
  q.offset = Number.isInteger(offset) && offset > 0 ? offset : 0;
  return q;
}

/** The parts of `query` that differ from the defaults, for the address bar. */
export function paramsFromQuery(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== DEFAULT_QUERY[key] && value !== '') params.set(key, String(value));
  }
  return params;
}

const isNull = (v) => v === null || v === undefined;

function compareValues(a, b) {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** The job before an event's `changes` were applied. */
function previousState(job, changes) {
  const old = { ...job };
  for (const [field, change] of Object.entries(changes || {})) {
    if (change && typeof change === 'object' && 'old' in change) old[field] = change.old;
  }
  return old;
}

export class JobsTable {
  /**
   * @param {object} options
   * @param {(action: string, job: object, button: HTMLElement) => void} options.onAction
   * @param {(query: object) => void} options.onQueryChange  the query changed (for the URL)
   * @param {(count: number) => void} [options.onSelectionChange]  rows were (de)selected
   */
  constructor({ onAction, onQueryChange, onSelectionChange = () => {} }) {
    this.onAction = onAction;
    this.onQueryChange = onQueryChange;
    this.onSelectionChange = onSelectionChange;
    /** ids of the selected rows; only rows on the current page can be selected. */
    this.selected = new Set();
    /** ids whose status move is in flight (their status buttons are disabled). */
    this.moving = new Set();
    /** ids whose move just ended: their new status buttons ignore presses for a moment. */
    this.settling = new Set();
    this.query = { ...DEFAULT_QUERY };
    this.jobs = [];
    this.total = 0;
    this.loaded = false;
    this.loadSeq = 0;
    this.abort = null;
    /** id → highest version applied; makes local saves and live events idempotent. */
    this.versions = new Map();
    /** ids known to be deleted. */
    this.deleted = new Set();

    this.table = byId('jobsTable');
    this.body = byId('jobsBody');
    this.summary = byId('jobsSummary');
    this.pagerInfo = byId('pagerInfo');
    this.prevBtn = byId('pagePrev');
    this.nextBtn = byId('pageNext');
    this.pageSize = byId('pageSize');
    this.search = byId('jobSearch');
    this.filterStatus = byId('filterStatus');
    this.filterPrinter = byId('filterPrinter');
    this.filterBusiness = byId('filterBusiness');
    this.clearBtn = byId('clearFiltersBtn');
    this.selectAll = byId('selectAll');
    this.exportLinks = { csv: byId('exportCsvLink'), xlsx: byId('exportXlsxLink') };
    this.pageNumbers = byId('pageNumbers');
    this.pageJump = byId('pageJump');
    this.pageJumpInput = byId('pageJumpInput');
    this.bindControls();
  }

  bindControls() {
    const searchNow = () => {
      if (this.search.value !== this.query.q) this.setQuery({ q: this.search.value, offset: 0 });
    };
    const searchLater = debounce(searchNow, 300);
    this.search.addEventListener('input', searchLater);
    byId('jobFilters').addEventListener('submit', (e) => {
      e.preventDefault();
      searchLater.cancel();
      searchNow();
    });
    // A filter change takes the search box as it is, even while its debounce is pending.
    const filtersNow = () => {
      searchLater.cancel();
      this.setQuery({
        q: this.search.value,
        status: this.filterStatus.value,
        printer_id: this.filterPrinter.value,
        is_business: this.filterBusiness.value,
        offset: 0,
      });
    };
    for (const select of [this.filterStatus, this.filterPrinter, this.filterBusiness]) {
      select.addEventListener('change', filtersNow);
    }
    this.clearBtn.addEventListener('click', () => {
      searchLater.cancel();
      this.setQuery({ q: '', status: '', printer_id: '', is_business: '', ...OFFICE_DEFAULTS, offset: 0 });
      this.search.focus();
    });
    this.pageSize.addEventListener('change', () => this.setQuery({ limit: Number(this.pageSize.value), offset: 0 }));
    this.prevBtn.addEventListener('click', () => {
      this.setQuery({ offset: Math.max(0, this.query.offset - this.query.limit) });
    });
    this.nextBtn.addEventListener('click', () => {
      this.setQuery({ offset: this.query.offset + this.query.limit });
    });
    this.pageNumbers.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-page]');
      if (button) this.goToPage(Number(button.dataset.page), { focus: true });
    });
    this.pageJump.addEventListener('submit', (e) => {
      e.preventDefault();
      const page = Number(this.pageJumpInput.value);
      if (!Number.isInteger(page) || page < 1) {
        this.pageJumpInput.select();
        return;
      }
      // Past the end: the last page.
      this.goToPage(Math.min(page, this.pageCount()));
      this.pageJumpInput.value = '';
    });
    for (const btn of this.table.querySelectorAll('.sort-btn')) {
      btn.addEventListener('click', () => {
        const key = btn.dataset.sort;
        const [currentKey, currentDir] = this.query.sort.split(':');
        let dir;
        if (currentKey === key) dir = currentDir === 'asc' ? 'desc' : 'asc';
        else dir = DESC_FIRST.has(key) ? 'desc' : 'asc';
        this.setQuery({ sort: `${key}:${dir}`, offset: 0 });
      });
    }
    this.body.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-action]');
      if (!button || !this.body.contains(button)) return;
      const id = button.closest('tr')?.dataset.jobId;
      const job = this.jobs.find((j) => j.id === id);
      if (!job) return;
      if (STATUS_ACTION_NAMES.has(button.dataset.action)) {
        // Right after a move, a key press (detail 0) or the second click of a double click
        // (detail 2) is the first gesture repeated, not a new decision.
        if (this.settling.has(job.id) && e.detail !== 1) return;
        this.move(job, button);
      } else this.onAction(button.dataset.action, job, button);
    });
    this.body.addEventListener('change', (e) => {
      const box = e.target.closest('input.row-select');
      if (!box) return;
      const id = box.closest('tr')?.dataset.jobId;
      if (id) this.select(id, box.checked);
    });
    this.selectAll.addEventListener('change', () => {
      const on = this.selectAll.checked;
      for (const job of this.jobs) this.select(job.id, on, { notify: false });
      this.selectionChanged();
    });
  }

  // ---- selection -------------------------------------------------------------------------

  select(id, on, { notify = true } = {}) {
    if (on) this.selected.add(id);
    else this.selected.delete(id);
    const tr = this.rowOf(id);
    if (tr) {
      tr.classList.toggle('is-selected', on);
      const box = tr.querySelector('input.row-select');
      if (box) box.checked = on;
    }
    if (notify) this.selectionChanged();
  }

  /** The selected jobs, in page order, as the page shows them. */
  selectedJobs() {
    return this.jobs.filter((j) => this.selected.has(j.id));
  }

  clearSelection() {
    for (const id of [...this.selected]) this.select(id, false, { notify: false });
    this.selectionChanged();
  }

  /** Drops what is no longer on the page, syncs the select-all box, tells the listener. */
  selectionChanged() {
    const onPage = new Set(this.jobs.map((j) => j.id));
    for (const id of [...this.selected]) if (!onPage.has(id)) this.selected.delete(id);
    const n = this.selected.size;
    this.selectAll.checked = n > 0 && n === this.jobs.length;
    this.selectAll.indeterminate = n > 0 && n < this.jobs.length;
    this.selectAll.disabled = this.jobs.length === 0;
    this.onSelectionChange(n);
  }

  // ---- the status workflow ---------------------------------------------------------------

  async move(job, button) {
    if (this.moving.has(job.id)) return;
    this.moving.add(job.id);
    const tr = button.closest('tr');
    this.syncMoving(tr, job.id);
    try {
      await this.onAction(button.dataset.action, job, button);
    } finally {
      this.moving.delete(job.id);
      // The row's new buttons ignore presses a moment longer: a second Enter pressed with the
      // first (or a double click) must not make the next move (Start, then Complete).
      this.settling.add(job.id);
      setTimeout(() => this.settling.delete(job.id), MOVE_SETTLE_MS);
      const row = this.rowOf(job.id);
      if (row) {
        this.syncMoving(row, job.id);
        // The pressed button may be gone (the status changed): keep the focus in the row.
        if (!button.isConnected && (document.activeElement === document.body || !document.activeElement)) {
          (row.querySelector('.status-actions button') ?? row.querySelector("button[data-action='edit-job']"))?.focus();
        }
      }
    }
  }

  syncMoving(tr, id) {
    if (!tr) return;
    const busy = this.moving.has(id);
    for (const b of tr.querySelectorAll('.status-actions button')) b.disabled = busy;
    tr.querySelector('.status-actions')?.toggleAttribute('aria-busy', busy);
  }

  /** Changes the query (filters, sort, page) and reloads. */
  setQuery(partial, { notify = true } = {}) {
    this.query = { ...this.query, ...partial };
    this.syncControls();
    if (notify) this.onQueryChange(this.query);
    return this.load();
  }

  /** Puts the query's values into the controls (after a URL change). */
  syncControls() {
    const q = this.query;
    if (document.activeElement !== this.search) this.search.value = q.q;
    this.filterStatus.value = q.status;
    this.filterBusiness.value = q.is_business;
    if (q.printer_id && ![...this.filterPrinter.options].some((o) => o.value === q.printer_id)) {
      this.filterPrinter.append(h('option', { value: q.printer_id, text: q.printer_id }));
    }
    this.filterPrinter.value = q.printer_id;
    this.pageSize.value = String(q.limit);
    this.clearBtn.hidden = !this.hasFilters();
    // The exports hold every job matching the filters, in the order on screen (not the page).
    for (const [format, link] of Object.entries(this.exportLinks)) link.href = exportUrl(format, q);
    const [key, dir] = q.sort.split(':');
    for (const btn of this.table.querySelectorAll('.sort-btn')) {
      const active = btn.dataset.sort === key;
      const th = btn.closest('th');
      if (active) th.setAttribute('aria-sort', dir === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
      btn.querySelector('.sort-ind').textContent = active ? (dir === 'asc' ? '↑' : '↓') : '';
    }
  }

  hasFilters() {
    return FILTER_KEYS.some((k) => this.query[k] !== '');
  }

  /** Reads the current page from the server. `quiet`: keep the rows while loading. */
  async load({ quiet = false } = {}) {
    const seq = ++this.loadSeq;
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    if (!quiet) this.table.setAttribute('aria-busy', 'true');
    const { q, status, printer_id, is_business, sort, limit, offset } = this.query;
    try {
      const page = await jobsApi.list(
        { q: q.trim(), status, printer_id, is_business, ...officeApiParams(this.query), sort, limit, offset },
        { signal: this.abort.signal },
      );
      if (seq !== this.loadSeq) return;
      if (page.jobs.length === 0 && page.total_count > 0 && offset > 0) {
        // The page emptied (jobs were deleted): go to the last page that has jobs.
        const last = Math.floor((page.total_count - 1) / limit) * limit;
        this.setQuery({ offset: last });
        return;
      }
      this.jobs = page.jobs;
      this.total = page.total_count;
      for (const job of this.jobs) this.noteVersion(job);
      this.loaded = true;
      this.render();
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      if (seq !== this.loadSeq) return;
      this.renderError(err);
    } finally {
      if (seq === this.loadSeq) this.table.removeAttribute('aria-busy');
    }
  }

  noteVersion(job) {
    const known = this.versions.get(job.id) ?? 0;
    if (job.version > known) this.versions.set(job.id, job.version);
  }

  matches(job) {
    const q = this.query;
    if (q.status && job.status !== q.status) return false;
    if (q.printer_id && job.printer_id !== q.printer_id) return false;
    if (q.is_business !== '' && String(job.is_business) !== q.is_business) return false;
    if (!officeMatches(q, job)) return false;
    // The server's text search, rule for rule (text-order.js).
    return searchMatches(q.q, job);
  }

  compare(a, b) {
    const [key, dir] = this.query.sort.split(':');
    // Jobs without a value come last in both directions, as the server sorts them.
    if (isNull(a[key]) !== isNull(b[key])) return isNull(a[key]) ? 1 : -1;
    // Text columns in the server's Unicode collation order (text-order.js), ties by id.
    const c = compareByKey(key, a[key], b[key]) || compareValues(a.id, b.id);
    return dir === 'desc' ? -c : c;
  }

  /** Puts a job that now matches into the page where the sort order says, if it is this page. */
  insertSorted(job) {
    const { limit, offset } = this.query;
    let i = this.jobs.findIndex((j) => this.compare(job, j) < 0);
    const pageIsLast = offset + this.jobs.length >= this.total;
    if (i === -1) {
      if (this.jobs.length < limit && pageIsLast) i = this.jobs.length;
      else return false;
    } else if (i === 0 && offset > 0) {
      return false; // belongs on an earlier page
    }
    this.jobs.splice(i, 0, job);
    if (this.jobs.length > limit) this.jobs.pop();
    return true;
  }

  /**
   * Applies a job's new state from a live event or a local save, in place:
   * a row is updated, inserted or removed, and the count follows.
   * @param {'job_created'|'job_updated'|'job_deleted'} type
   */
  apply(type, job, { changes = null, jobId = job?.id } = {}) {
    if (type === 'job_deleted') {
      if (this.deleted.has(jobId)) return;
      this.deleted.add(jobId);
      const idx = this.jobs.findIndex((j) => j.id === jobId);
      if (idx >= 0) {
        this.jobs.splice(idx, 1);
        this.total = Math.max(0, this.total - 1);
        this.removeRow(jobId);
      } else if (job && this.matches(job)) {
        this.total = Math.max(0, this.total - 1);
        this.renderMeta();
      }
      return;
    }
    if (!job || this.deleted.has(job.id)) return;
    const known = this.versions.get(job.id) ?? 0;
    if (job.version <= known) return; // already shown
    this.versions.set(job.id, job.version);

    const idx = this.jobs.findIndex((j) => j.id === job.id);
    const nowMatches = this.matches(job);
    if (idx >= 0) {
      if (nowMatches) {
        this.jobs[idx] = job;
        const tr = this.rowOf(job.id);
        if (tr) {
          this.fillRow(tr, job);
          flash(tr, 'row-flash');
        }
      } else {
        this.jobs.splice(idx, 1);
        this.total = Math.max(0, this.total - 1);
        this.removeRow(job.id);
      }
      return;
    }

    if (type === 'job_updated' && !changes) return; // cannot tell; the next reload will show it
    const wasMatching = type === 'job_updated' ? this.matches(previousState(job, changes)) : false;
    if (nowMatches === wasMatching) return; // on another page, before and after
    if (!nowMatches) {
      this.total = Math.max(0, this.total - 1);
      this.renderMeta();
      return;
    }
    const inserted = this.insertSorted(job);
    this.total += 1;
    if (inserted) {
      this.render();
      const tr = this.rowOf(job.id);
      if (tr) flash(tr, 'row-flash');
    } else {
      this.renderMeta();
    }
  }

  /** A live event from the WebSocket. */
  applyEvent(event) {
    if (!event || !['job_created', 'job_updated', 'job_deleted'].includes(event.type)) return;
    this.apply(event.type, event.job ?? null, { changes: event.changes, jobId: event.job_id });
  }

  /** After this page saved a job. */
  saved(job) {
    this.apply('job_updated', job, { changes: {} });
  }

  /** After this page created a job: re-read the page so it lands where the server puts it. */
  created(job) {
    this.noteVersion(job);
    return this.load({ quiet: true });
  }

  /** After this page deleted a job. */
  removed(jobId) {
    this.apply('job_deleted', null, { jobId });
  }

  rowOf(id) {
    return this.body.querySelector(`tr[data-job-id="${CSS.escape(id)}"]`);
  }

  removeRow(id) {
    const tr = this.rowOf(id);
    if (tr) {
      const hadFocus = tr.contains(document.activeElement);
      tr.remove();
      if (hadFocus) this.search.focus();
    }
    if (this.jobs.length === 0) this.render();
    else this.renderMeta();
  }

  // ---- rendering -------------------------------------------------------------------------

  render() {
    const rows = this.jobs.map((job) => {
      const tr = this.rowOf(job.id) ?? this.createRow(job);
      this.fillRow(tr, job);
      return tr;
    });
    if (rows.length === 0) {
      this.body.replaceChildren(this.emptyRow());
    } else {
      // Move only what is out of place, so a focused button keeps its focus.
      for (const stale of [...this.body.children]) if (!rows.includes(stale)) stale.remove();
      rows.forEach((tr, i) => {
        if (this.body.children[i] !== tr) this.body.insertBefore(tr, this.body.children[i] ?? null);
      });
    }
    this.renderMeta();
  }

  renderMeta() {
    const { offset } = this.query;
    const n = this.jobs.length;
    this.pagerInfo.textContent = this.total === 0
      ? t('pager.no_jobs')
      : t('pager.range', { from: n === 0 ? 0 : offset + 1, to: offset + n, count: this.total });
    this.prevBtn.disabled = offset === 0;
    this.nextBtn.disabled = offset + n >= this.total;
    this.renderPages();
    this.summary.textContent = this.hasFilters()
      ? t('jobs.summary.filtered', { count: this.total })
      : t('jobs.summary.total', { count: this.total });
    this.syncControls();
    this.selectionChanged();
  }

  /** How many pages the matching jobs fill (at least one). */
  pageCount() {
    return Math.max(1, Math.ceil(this.total / this.query.limit));
  }

  /** The current page, counted from 1. */
  currentPage() {
    return Math.floor(this.query.offset / this.query.limit) + 1;
  }

  goToPage(page, { focus = false } = {}) {
    const target = Math.max(1, Math.min(page, this.pageCount()));
    const done = target === this.currentPage()
      ? Promise.resolve()
      : this.setQuery({ offset: (target - 1) * this.query.limit });
    if (focus) {
      Promise.resolve(done).then(() => this.pageNumbers.querySelector('[aria-current="page"]')?.focus());
    }
  }

  /** The page numbers: the first, the last, two around the current one, "…" for the gaps. */
  renderPages() {
    const pages = this.pageCount();
    const current = this.currentPage();
    const shown = new Set([1, pages]);
    for (let p = current - 2; p <= current + 2; p += 1) if (p >= 1 && p <= pages) shown.add(p);
    const list = [...shown].sort((a, b) => a - b);
    const items = [];
    list.forEach((p, i) => {
      if (i > 0 && p - list[i - 1] > 1) items.push(h('span', { class: 'page-gap', 'aria-hidden': 'true', text: '…' }));
      items.push(h('button', {
        type: 'button',
        class: 'btn btn-small page-number',
        dataset: { page: String(p) },
        'aria-label': t('pager.page', { page: p }),
        'aria-current': p === current ? 'page' : null,
        text: String(p),
      }));
    });
    this.pageNumbers.replaceChildren(...items);
    this.pageNumbers.hidden = this.total === 0;
    this.pageJump.hidden = pages <= 1;
    this.pageJumpInput.max = String(pages);
  }

  createRow(job) {
    const tr = h('tr', { dataset: { jobId: job.id } });
    const actions = h('div', { class: 'row-actions' },
      h('div', { class: 'status-actions', role: 'group' }),
      h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'edit-job' }, text: t('jobs.row.edit') }),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'job-history' }, text: t('common.history') }),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger-text', dataset: { action: 'delete-job' }, text: t('jobs.row.delete') }));
    tr.append(
      h('td', { class: 'cell-select' }, h('input', { type: 'checkbox', class: 'row-select' })),
      h('td', { class: 'cell-name', 'data-label': t('field.name') }),
      h('td', { class: 'cell-status', 'data-label': t('field.status') }),
      h('td', { class: 'cell-business', 'data-label': t('field.customer_name') }),
      h('td', { class: 'cell-printer', 'data-label': t('field.printer_id') }),
      h('td', { class: 'cell-file', 'data-label': t('field.file_name') }),
      h('td', { class: 'cell-started', 'data-label': t('field.started_at') }),
      h('td', { class: 'cell-completed', 'data-label': t('field.completed_at') }),
      h('td', { class: 'cell-duration', 'data-label': t('jobs.duration') }),
      h('td', { class: 'cell-updated', 'data-label': t('field.updated_at') }),
      h('td', { class: 'cell-actions' }, actions),
    );
    return tr;
  }

  /** Writes a job into its row's cells; every value goes in as text. */
  fillRow(tr, job) {
    const [select, name, status, business, printer, file, started, completed, duration, updated, actionsCell] = tr.cells;
    tr.dataset.version = String(job.version);

    const selected = this.selected.has(job.id);
    const box = select.querySelector('input.row-select');
    box.checked = selected;
    box.setAttribute('aria-label', t('jobs.row.select', { name: job.job_name }));
    tr.classList.toggle('is-selected', selected);

    name.replaceChildren(h('span', { class: 'job-name', text: job.job_name }));
    if (job.auto_created) {
      // Monitoring made it: the badge names the printer that reported the print.
      const from = job.printer_id ? printerName(job.printer_id) : '';
      name.append(h('span', {
        class: 'badge badge-muted badge-auto',
        title: from ? t('jobs.auto.title_printer', { printer: from }) : t('jobs.auto.title'),
      }, t('jobs.auto.badge'), from ? h('span', { class: 'badge-auto-printer', text: from }) : null));
    }
    // Shown under the name when the File column is hidden (medium-width screens).
    if (job.file_name) name.append(h('span', { class: 'job-sub file', text: job.file_name }));

    status.replaceChildren(statusBadge(job.status));

    if (job.is_business) {
      business.replaceChildren(
        h('span', { class: 'badge badge-business', text: t('jobs.business') }),
        job.customer_name
          ? h('span', { class: 'customer', text: job.customer_name })
          : h('span', { class: 'missing', text: t('jobs.row.no_customer') }),
      );
    } else {
      business.replaceChildren(h('span', { class: 'subtle', text: t('jobs.private') }));
      if (job.customer_name) business.append(h('span', { class: 'customer', text: job.customer_name }));
    }

    printer.replaceChildren(job.printer_id
      ? h('span', { class: 'printer', title: job.printer_id, text: printerName(job.printer_id) })
      : h('span', { class: 'subtle', text: t('jobs.row.manual') }));

    file.replaceChildren(job.file_name
      ? h('span', { class: 'file', title: job.file_name, text: job.file_name })
      : h('span', { class: 'subtle', text: '—' }));

    started.replaceChildren(shortTimeElement(job.started_at));
    completed.replaceChildren(shortTimeElement(job.completed_at));
    this.fillDuration(duration, job);
    updated.replaceChildren(timeElement(job.updated_at));

    // Only the moves allowed from this status; redrawn only when the status changes, so a
    // focused button survives unrelated updates.
    const group = actionsCell.querySelector('.status-actions');
    if (tr.dataset.status !== job.status) {
      tr.dataset.status = job.status;
      group.replaceChildren(...(STATUS_ACTIONS[job.status] || []).map((move) => h('button', {
        type: 'button',
        class: `btn btn-small btn-move move-${move.tone}`,
        dataset: { action: move.action, status: move.to },
        text: t(move.label),
      })));
    }
    group.setAttribute('aria-label', t('jobs.row.status_of', { name: job.job_name }));
    this.syncMoving(tr, job.id);

    for (const btn of actionsCell.querySelectorAll('button[data-action]')) {
      btn.setAttribute('aria-label', t(`jobs.row.aria.${btn.dataset.action}`, { name: job.job_name }));
    }
  }

  /** The Duration cell: completed − started, or the running time so far (counting up). */
  fillDuration(cell, job, now = Date.now()) {
    const seconds = jobDurationSeconds(job, now);
    const running = seconds !== null && !job.completed_at;
    cell.classList.toggle('is-running', running);
    if (running) cell.dataset.startedAt = job.started_at;
    else delete cell.dataset.startedAt;
    const value = seconds === null ? '—' : formatDuration(seconds);
    const span = cell.firstElementChild;
    if (span && span.classList.contains('duration')) {
      if (span.textContent !== value) span.textContent = value;
    } else {
      cell.replaceChildren(h('span', { class: 'duration', text: value }));
    }
    cell.firstElementChild.classList.toggle('subtle', seconds === null);
    cell.title = running ? t('jobs.row.running_title') : '';
  }

  /** Every second: the running jobs' durations. */
  tickDurations() {
    const now = Date.now();
    for (const cell of this.body.querySelectorAll('td.cell-duration.is-running')) {
      const job = this.jobs.find((j) => j.id === cell.closest('tr')?.dataset.jobId);
      if (job) this.fillDuration(cell, job, now);
    }
  }

  emptyRow() {
    const filtered = this.hasFilters();
    const cell = h('td', { colspan: COLUMNS, class: 'empty' },
      h('p', { class: 'empty-title', text: filtered ? t('jobs.empty.filtered') : t('jobs.empty.none') }),
      filtered
        ? h('button', { type: 'button', class: 'btn btn-small', text: t('jobs.clear_filters'), on: { click: () => this.clearBtn.click() } })
        : h('p', { class: 'subtle', text: t('jobs.empty.hint') }));
    return h('tr', { class: 'empty-row' }, cell);
  }

  renderError(err) {
    const retry = h('button', { type: 'button', class: 'btn btn-small', text: t('common.try_again'), on: { click: () => this.load() } });
    const cell = h('td', { colspan: COLUMNS, class: 'empty error' },
      h('p', { class: 'empty-title', text: t('jobs.load_failed') }),
      h('p', { class: 'subtle', text: err?.message || String(err) }),
      retry);
    if (!this.loaded) {
      this.body.replaceChildren(h('tr', { class: 'empty-row' }, cell));
      this.summary.textContent = t('jobs.summary.load_failed');
      this.pagerInfo.textContent = '';
    } else {
      // Keep the rows already shown; say what went wrong above them.
      this.body.querySelector('tr.error-row')?.remove();
      this.body.prepend(h('tr', { class: 'empty-row error-row' }, cell));
    }
  }
}
