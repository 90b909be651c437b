// The Reports page (`#reports?group_by=customer&from=2026-11-01&to=2026-11-30`): the figures of
// `GET /api/v1/reports/summary` per customer, printer, month or status, for a range of creation
// dates (quick ranges in the page's time zone, sent as `tz`), optionally one customer, one
// status, one printer and business or private jobs only (the job list's filters); a table with a totals row and a horizontal bar chart of the
// jobs per row, drawn here as SVG (no library; the CSP allows no inline style, so the chart's
// looks are classes in css/office.css).

import { request } from './api.js';
import { CustomerAutocomplete } from './customers.js';
import { dateRangeControl } from './office-filters.js';
import { isDate, pageTimeZone } from './date-ranges.js';
import { byId, h } from './dom.js';
import { formatNumber, locale, t } from './i18n.js';
import { STATUSES, statusBadge } from './format.js';
import { fillPrinterSelect, onPrintersChanged, setSelectValue } from './printers.js';

/** The page title of the Reports page. */
export const reportsTitle = () => t('reports.title');

export const GROUPINGS = ['customer', 'printer', 'month', 'status'];

export const DEFAULT_REPORT = Object.freeze({
  group_by: 'customer', from: '', to: '', customer: '', status: '', printer_id: '', is_business: '',
});

/** A report query from the address bar's parameters, anything invalid left at its default. */
export function reportFromParams(params) {
  const r = { ...DEFAULT_REPORT };
  const group = params.get('group_by');
  if (GROUPINGS.includes(group)) r.group_by = group;
  for (const key of ['from', 'to']) if (isDate(params.get(key))) r[key] = params.get(key);
  r.customer = (params.get('customer') ?? '').trim().slice(0, 200);
  if (['true', 'false'].includes(params.get('is_business'))) r.is_business = params.get('is_business');
  if (STATUSES.includes(params.get('status'))) r.status = params.get('status');
  r.printer_id = (params.get('printer_id') ?? '').trim().slice(0, 64);
  return r;
}

/** The parts of `report` that differ from the defaults, for the address bar. */
export function paramsFromReport(report) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(report)) {
    if (value !== '' && value !== DEFAULT_REPORT[key]) params.set(key, value);
  }
  return params;
}

/** The summary's query for `report`: the list's filters, `tz` the browser's. */
export function summaryQuery(report) {
  return {
    group_by: report.group_by,
    from: report.from,
    to: report.to,
    customer: report.customer,
    status: report.status,
    printer_id: report.printer_id,
    is_business: report.is_business,
    tz: pageTimeZone(),
  };
}

/** The job list's address bar for the jobs a report counts. */
export function jobsLinkOf(report) {
  const params = new URLSearchParams();
  if (report.from) params.set('created_from', report.from);
  if (report.to) params.set('created_to', report.to);
  if (report.customer) params.set('customer', report.customer);
  if (report.status) params.set('status', report.status);
  if (report.printer_id) params.set('printer_id', report.printer_id);
  if (report.is_business) params.set('is_business', report.is_business);
  const s = params.toString();
  return s ? `#jobs?${s}` : '#jobs';
}

/** Print time as hours and minutes ("76 h 05 min"): what a bill counts. */
export function formatPrintTime(seconds) {
  const minutes = Math.floor(Math.max(0, Number(seconds) || 0) / 60);
  return t('reports.printTime', {
    hours: Math.floor(minutes / 60),
    minutes: String(minutes % 60).padStart(2, '0'),
  });
}

const monthFormat = new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' });

/** How a row's group reads: the customer, the printer's name beside its id, the month, the status. */
function groupCell(groupBy, row) {
  if (groupBy === 'status') return statusBadge(row.key);
  if (row.key === null || row.key === undefined) {
    const text = groupBy === 'printer' ? t('reports.noPrinter') : t('reports.noCustomer');
    return h('span', { class: 'subtle', text });
  }
  if (groupBy === 'month') {
    const [y, m] = row.key.split('-').map(Number);
    return h('time', { datetime: row.key, text: monthFormat.format(new Date(Date.UTC(y, m - 1, 1))) });
  }
  if (groupBy === 'printer' && row.label && row.label !== row.key) {
    return h('span', {},
      h('span', { class: 'report-printer-name', text: row.label }),
      ' ',
      h('span', { class: 'subtle report-printer-id', text: row.key }));
  }
  return h('span', { text: row.label ?? row.key });
}

/** The text of a row's group, for the chart. */
function groupText(groupBy, row) {
  return groupCell(groupBy, row).textContent.replace(/\s+/g, ' ').trim();
}

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== null) el.textContent = text;
  return el;
}

/** Cuts a label to `max` characters with an ellipsis (the whole one is the bar's title). */
function cut(text, max) {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/**
 * The bar chart of `rows`: one bar per row, its length the row's jobs, completed jobs as the
 * darker part; label left, number right.
 */
export function barChart(groupBy, rows) {
  const width = 640;
  const labelWidth = 190;
  const valueWidth = 70;
  const barHeight = 20;
  const gap = 8;
  const top = 4;
  const height = top * 2 + rows.length * (barHeight + gap);
  const max = Math.max(1, ...rows.map((r) => r.jobs));
  const scale = (width - labelWidth - valueWidth) / max;
  const chart = svg('svg', {
    id: 'reportChart',
    class: 'report-chart',
    viewBox: `0 0 ${width} ${Math.max(height, 1)}`,
    width,
    height: Math.max(height, 1),
    role: 'img',
    'aria-label': t('reports.chartLabel'),
  });
  rows.forEach((row, i) => {
    const y = top + i * (barHeight + gap);
    const label = groupText(groupBy, row);
    const jobs = row.jobs * scale;
    const done = row.completed * scale;
    const bar = svg('g', { class: 'report-bar', 'data-key': row.key ?? '' });
    bar.append(
      svg('title', {}, t('reports.barTitle', { label, count: row.jobs, completed: row.completed })),
      svg('text', { x: labelWidth - 8, y: y + barHeight / 2, class: 'report-bar-label', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, cut(label, 26)),
      svg('rect', { x: labelWidth, y, width: Math.max(jobs, row.jobs > 0 ? 2 : 0), height: barHeight, rx: 3, class: 'report-bar-jobs' }),
      svg('rect', { x: labelWidth, y, width: done, height: barHeight, rx: 3, class: 'report-bar-completed' }),
      svg('text', { x: labelWidth + jobs + 6, y: y + barHeight / 2, class: 'report-bar-value', 'dominant-baseline': 'middle' }, formatNumber(row.jobs)),
    );
    chart.append(bar);
  });
  return chart;
}

const FIGURES = ['jobs', 'completed', 'failed', 'business', 'private'];

export class ReportsPage {
  /** @param {{onChange: (params: URLSearchParams) => void}} options  the report changed (address bar) */
  constructor({ onChange }) {
    this.onChange = onChange;
    this.report = { ...DEFAULT_REPORT };
    this.seq = 0;
    this.abort = null;
    this.section = byId('reportsPage');
    this.summaryText = byId('reportsSummary');
    this.body = byId('reportBody');
    this.foot = byId('reportFoot');
    this.groupHead = byId('reportGroupHead');
    this.chartBox = byId('reportChartBox');
    // A button, not a link: `a[href='#jobs']` is the navigation's, which tools rely on.
    byId('reportJobsBtn').addEventListener('click', () => { location.hash = jobsLinkOf(this.report); });
    this.build(byId('reportFilters'));
  }

  build(container) {
    this.groupBy = h('select', { id: 'reportGroupBy' },
      ...GROUPINGS.map((g) => h('option', { value: g, text: t(`reports.groupBy.${g}`) })));
    this.groupBy.addEventListener('change', () => this.set({ group_by: this.groupBy.value }));
    this.range = dateRangeControl({
      prefix: 'reportCreated',
      legend: t('reports.created'),
      onChange: ({ from, to }) => this.set({ from, to }),
    });
    this.customer = h('input', {
      id: 'reportCustomer', type: 'text', spellcheck: 'false', placeholder: t('filters.customerPlaceholder'),
    });
    const commitCustomer = () => {
      const name = this.customer.value.trim();
      if (name !== this.report.customer) this.set({ customer: name });
    };
    this.customer.addEventListener('change', commitCustomer);
    this.customer.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.defaultPrevented && !e.isComposing) {
        e.preventDefault();
        commitCustomer();
      }
    });
    this.business = h('select', { id: 'reportBusiness' },
      h('option', { value: '', text: t('reports.type.all') }),
      h('option', { value: 'true', text: t('reports.type.business') }),
      h('option', { value: 'false', text: t('reports.type.private') }));
    this.business.addEventListener('change', () => this.set({ is_business: this.business.value }));
    this.status = h('select', { id: 'reportStatus' },
      h('option', { value: '', text: t('filter.all') }),
      ...STATUSES.map((s) => h('option', { value: s, text: t(`status.${s}`) })));
    this.status.addEventListener('change', () => this.set({ status: this.status.value }));
    this.printer = h('select', { id: 'reportPrinter' }, h('option', { value: '', text: t('filter.all') }));
    this.printer.addEventListener('change', () => this.set({ printer_id: this.printer.value }));
    fillPrinterSelect(this.printer);
    onPrintersChanged(() => {
      fillPrinterSelect(this.printer);
      setSelectValue(this.printer, this.report.printer_id);
    });
    container.replaceChildren(
      h('div', { class: 'toolbar-filter' }, h('label', { for: 'reportGroupBy', text: t('reports.groupByLabel') }), this.groupBy),
      this.range.element,
      h('div', { class: 'toolbar-filter toolbar-customer' }, h('label', { for: 'reportCustomer', text: t('filters.customer') }), this.customer),
      h('div', { class: 'toolbar-filter' }, h('label', { for: 'reportStatus', text: t('field.status') }), this.status),
      h('div', { class: 'toolbar-filter' }, h('label', { for: 'reportPrinter', text: t('field.printer_id') }), this.printer),
      h('div', { class: 'toolbar-filter' }, h('label', { for: 'reportBusiness', text: t('reports.typeLabel') }), this.business),
    );
    container.addEventListener('submit', (e) => e.preventDefault());
    this.autocomplete = new CustomerAutocomplete(this.customer, { onPick: commitCustomer });
  }

  /** Shows the report the address bar's `params` describe. */
  show(params) {
    this.report = reportFromParams(params);
    this.sync();
    return this.load();
  }

  set(partial) {
    this.report = { ...this.report, ...partial };
    this.sync();
    this.onChange(paramsFromReport(this.report));
    return this.load();
  }

  sync() {
    const r = this.report;
    this.groupBy.value = r.group_by;
    this.range.set({ from: r.from, to: r.to });
    if (document.activeElement !== this.customer) this.customer.value = r.customer;
    this.business.value = r.is_business;
    this.status.value = r.status;
    setSelectValue(this.printer, r.printer_id);
    this.groupHead.textContent = t(`reports.groupBy.${r.group_by}`);
  }

  async load() {
    const seq = ++this.seq;
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    this.section.setAttribute('aria-busy', 'true');
    delete this.section.dataset.loaded;
    try {
      const { data } = await request('GET', '/reports/summary', {
        query: summaryQuery(this.report), signal: this.abort.signal,
      });
      if (seq !== this.seq) return;
      this.render(data);
    } catch (err) {
      if (err?.name === 'AbortError' || seq !== this.seq) return;
      this.renderError(err);
    } finally {
      if (seq === this.seq) this.section.removeAttribute('aria-busy');
    }
  }

  render(summary) {
    const groupBy = summary.group_by;
    const rows = Array.isArray(summary.rows) ? summary.rows : [];
    const cells = (figures) => [
      ...FIGURES.map((f) => h('td', { class: `num report-${f}`, text: formatNumber(figures[f] ?? 0) })),
      h('td', { class: 'num report-print-time', text: formatPrintTime(figures.print_seconds) }),
    ];
    this.body.replaceChildren(...rows.map((row) => h('tr', { dataset: { key: row.key ?? '' } },
      h('th', { scope: 'row', class: 'report-group' }, groupCell(groupBy, row)),
      ...cells(row))));
    if (rows.length === 0) {
      this.body.replaceChildren(h('tr', { class: 'empty-row' },
        h('td', { colspan: 7, class: 'empty', text: t('reports.empty') })));
    }
    this.foot.replaceChildren(h('tr', { class: 'report-totals' },
      h('th', { scope: 'row', text: t('reports.totals') }),
      ...cells(summary.totals ?? {})));
    this.chartBox.replaceChildren(rows.length ? barChart(groupBy, rows) : '');
    this.summaryText.textContent = t('reports.summary', { count: summary.totals?.jobs ?? 0 });
    this.section.dataset.loaded = 'true';
  }

  renderError(err) {
    this.body.replaceChildren(h('tr', { class: 'empty-row' },
      h('td', { colspan: 7, class: 'empty error' },
        h('p', { class: 'empty-title', text: t('reports.loadFailed') }),
        h('p', { class: 'subtle', text: err?.message || String(err) }),
        h('button', { type: 'button', class: 'btn btn-small', text: t('reports.retry'), on: { click: () => this.load() } }))));
    this.foot.replaceChildren();
    this.chartBox.replaceChildren();
    this.summaryText.textContent = t('reports.loadFailed');
  }
}
