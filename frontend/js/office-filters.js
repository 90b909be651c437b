// The job list's office filters: the customer (with the customers' autocomplete) and the
// created and completed date ranges (date inputs and quick ranges in the page's time zone).
// They live in the address bar with the other filters (`#jobs?customer=…&created_from=…`),
// go to the list and the export with the browser's `tz`, and decide like the server whether a
// job a live event brings in belongs to the list.

import { CustomerAutocomplete } from './customers.js';
import {
  QUICK_RANGES, inDayRange, isDate, pageTimeZone, quickRange, quickRangeOf,
} from './date-ranges.js';
import { h } from './dom.js';
import { t } from './i18n.js';

/** The query keys, as the API names them. */
export const OFFICE_FILTER_KEYS = Object.freeze([
  'customer', 'created_from', 'created_to', 'completed_from', 'completed_to',
]);

/** Their defaults: no filter. */
export const OFFICE_DEFAULTS = Object.freeze(Object.fromEntries(OFFICE_FILTER_KEYS.map((k) => [k, ''])));

/** The office filters of `params` (URLSearchParams), anything invalid left out. */
export function officeQueryFromParams(params) {
  const q = { ...OFFICE_DEFAULTS };
  q.customer = (params.get('customer') ?? '').trim().slice(0, 200);
  for (const key of OFFICE_FILTER_KEYS.slice(1)) {
    const value = params.get(key) ?? '';
    q[key] = isDate(value) ? value : '';
  }
  return q;
}

/** What the list and the exports send for the office filters of `query`: with `tz` for dates. */
export function officeApiParams(query) {
  const params = {};
  if (query.customer?.trim()) params.customer = query.customer.trim();
  let dated = false;
  for (const key of OFFICE_FILTER_KEYS.slice(1)) {
    if (query[key]) {
      params[key] = query[key];
      dated = true;
    }
  }
  if (dated) params.tz = pageTimeZone();
  return params;
}

/**
 * Whether `job` passes the office filters of `query` as the server decides: the whole
 * customer name ignoring case (Unicode lower case), the days in the page's zone, each end
 * included; a bounded completed range leaves out jobs that have not ended.
 */
export function officeMatches(query, job) {
  const customer = query.customer?.trim();
  if (customer && (job.customer_name ?? '').toLowerCase() !== customer.toLowerCase()) return false;
  return inDayRange(job.created_at, query.created_from, query.created_to)
    && inDayRange(job.completed_at, query.completed_from, query.completed_to);
}

/**
 * A date range control: from and to date inputs and a quick-range select, ids
 * `<prefix>From`, `<prefix>To`, `<prefix>Quick`. `onChange({from, to})` after a change.
 */
export function dateRangeControl({ prefix, legend, onChange }) {
  const from = h('input', { type: 'date', id: `${prefix}From`, class: 'date-input' });
  const to = h('input', { type: 'date', id: `${prefix}To`, class: 'date-input' });
  const quick = h('select', { id: `${prefix}Quick`, class: 'date-quick' },
    h('option', { value: '', text: t('dates.custom') }),
    ...QUICK_RANGES.map((name) => h('option', { value: name, text: t(`dates.${name}`) })),
    h('option', { value: 'clear', text: t('dates.clear') }));
  const set = (range) => {
    from.value = range.from;
    to.value = range.to;
    quick.value = quickRangeOf(range.from, range.to) ?? '';
  };
  const changed = () => {
    let range = { from: from.value, to: to.value };
    // An end before the start would select nothing: the two were typed the wrong way round.
    if (range.from && range.to && range.from > range.to) range = { from: range.to, to: range.from };
    set(range);
    onChange(range);
  };
  from.addEventListener('change', changed);
  to.addEventListener('change', changed);
  quick.addEventListener('change', () => {
    const range = quickRange(quick.value);
    if (!range) return;
    set(range);
    onChange(range);
  });
  const element = h('fieldset', { class: 'date-range', id: prefix },
    h('legend', { class: 'date-range-legend', text: legend }),
    h('label', { class: 'visually-hidden', for: from.id, text: t('dates.from', { range: legend }) }),
    from,
    h('span', { class: 'date-range-dash', 'aria-hidden': 'true', text: '–' }),
    h('label', { class: 'visually-hidden', for: to.id, text: t('dates.to', { range: legend }) }),
    to,
    h('label', { class: 'visually-hidden', for: quick.id, text: t('dates.quickRange', { range: legend }) }),
    quick);
  return { element, set };
}

/** The controls in `#officeFilters`; `onChange(partial)` with the changed query keys. */
export class OfficeFilters {
  constructor(container, { onChange }) {
    this.onChange = onChange;
    this.customer = h('input', {
      id: 'filterCustomer',
      type: 'text',
      spellcheck: 'false',
      placeholder: t('filters.customerPlaceholder'),
    });
    const customerBox = h('div', { class: 'toolbar-filter toolbar-customer' },
      h('label', { for: 'filterCustomer', text: t('filters.customer') }),
      this.customer);
    this.created = dateRangeControl({
      prefix: 'filterCreated',
      legend: t('filters.created'),
      onChange: ({ from, to }) => onChange({ created_from: from, created_to: to }),
    });
    this.completed = dateRangeControl({
      prefix: 'filterCompleted',
      legend: t('filters.completed'),
      onChange: ({ from, to }) => onChange({ completed_from: from, completed_to: to }),
    });
    container.replaceChildren(customerBox, this.created.element, this.completed.element);
    this.autocomplete = new CustomerAutocomplete(this.customer, { onPick: () => this.commitCustomer() });
    this.customer.addEventListener('change', () => this.commitCustomer());
    this.customer.addEventListener('keydown', (e) => {
      // Enter takes the name typed (a highlighted suggestion was taken already).
      if (e.key === 'Enter' && !e.defaultPrevented && !e.isComposing) {
        e.preventDefault();
        this.commitCustomer();
      }
    });
    this.committed = '';
  }

  commitCustomer() {
    const name = this.customer.value.trim();
    if (name === this.committed) return;
    this.committed = name;
    this.onChange({ customer: name });
  }

  /** Puts `query`'s office filters into the controls. */
  sync(query) {
    this.committed = query.customer ?? '';
    if (document.activeElement !== this.customer) this.customer.value = this.committed;
    this.created.set({ from: query.created_from ?? '', to: query.created_to ?? '' });
    this.completed.set({ from: query.completed_from ?? '', to: query.completed_to ?? '' });
  }
}
