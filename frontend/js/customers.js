// The customer names the jobs have (`GET /api/v1/customers`): an autocomplete for a customer
// field (the job form's, the list's filter, the reports'), and the job form's warning when a
// new name is close to an existing one ("Mueller GmbH" for "Müller GmbH"; the rule is in
// customer-names.js).
//
// The suggestions are an ARIA combobox: the input keeps the focus, ↓/↑ move through the
// listbox (`aria-activedescendant`), Enter or a click takes a name, Escape closes the list.
// Names are put in as text, never as HTML.

import { request } from './api.js';
import { debounce, h } from './dom.js';
import { candidatePrefix, similarCustomer } from './customer-names.js';
import { t } from './i18n.js';

/** How long typing pauses before the server is asked. */
const DEBOUNCE_MS = 200;

/** Names shown in the suggestions. */
const SUGGESTIONS = 8;

/** Names compared with a new one (those beginning with its first letter, most jobs first). */
const CANDIDATES = 100;

export const customersApi = {
  /** `[{name, jobs}]`: names beginning with `q` (ignoring case and accents), most jobs first. */
  async list(q, { limit = SUGGESTIONS, signal } = {}) {
    const data = (await request('GET', '/customers', { query: { q, limit }, signal })).data;
    return Array.isArray(data?.customers) ? data.customers : [];
  },
};

let listIds = 0;

/** Suggestions under `input` from `GET /customers`; `onPick(name)` after one is taken. */
export class CustomerAutocomplete {
  /**
   * @param {HTMLInputElement} input
   * @param {object} [options]
   * @param {(name: string) => void} [options.onPick]
   */
  constructor(input, { onPick = () => {} } = {}) {
    this.input = input;
    this.onPick = onPick;
    this.items = [];
    this.active = -1;
    this.seq = 0;
    this.abort = null;
    listIds += 1;
    this.list = h('ul', {
      id: `${input.id || 'customer'}Suggestions${listIds}`,
      class: 'customer-suggestions',
      role: 'listbox',
      'aria-label': t('customers.suggestions'),
      hidden: true,
    });
    input.insertAdjacentElement('afterend', this.list);
    input.parentElement.classList.add('has-suggestions');
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', this.list.id);
    input.setAttribute('autocomplete', 'off');

    const fetchLater = debounce(() => this.fetch(), DEBOUNCE_MS);
    this.fetchLater = fetchLater;
    input.addEventListener('input', () => {
      if (this.picking) return;
      fetchLater();
    });
    input.addEventListener('focus', () => { if (!input.value) fetchLater(); });
    input.addEventListener('keydown', (e) => this.onKey(e));
    input.addEventListener('blur', () => {
      fetchLater.cancel();
      this.close();
    });
    // A click must not blur the input before it takes the name.
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
    this.list.addEventListener('click', (e) => {
      const li = e.target.closest('li[role="option"]');
      if (li) this.pick(Number(li.dataset.index));
    });
  }

  get isOpen() { return !this.list.hidden; }

  async fetch() {
    const seq = ++this.seq;
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    try {
      const items = await customersApi.list(this.input.value.trim(), { signal: this.abort.signal });
      if (seq !== this.seq || document.activeElement !== this.input) return;
      this.show(items.filter((c) => c.name !== this.input.value));
    } catch (err) {
      // Suggestions are a help: without them the field still takes any name.
      if (err?.name !== 'AbortError' && seq === this.seq) this.close();
    }
  }

  show(items) {
    this.items = items;
    this.active = -1;
    this.list.replaceChildren(...items.map((c, i) => h('li', {
      id: `${this.list.id}-${i}`,
      role: 'option',
      'aria-selected': 'false',
      class: 'customer-suggestion',
      dataset: { index: String(i), name: c.name },
    },
    h('span', { class: 'customer-suggestion-name', text: c.name }),
    h('span', { class: 'customer-suggestion-count', text: t('customers.jobCount', { count: c.jobs }) }))));
    const open = items.length > 0;
    this.list.hidden = !open;
    this.input.setAttribute('aria-expanded', String(open));
    this.input.removeAttribute('aria-activedescendant');
  }

  close() {
    this.seq += 1;
    this.list.hidden = true;
    this.items = [];
    this.active = -1;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  highlight(index) {
    const options = [...this.list.children];
    this.active = index;
    options.forEach((li, i) => li.setAttribute('aria-selected', String(i === index)));
    const li = options[index];
    if (li) {
      this.input.setAttribute('aria-activedescendant', li.id);
      li.scrollIntoView({ block: 'nearest' });
    } else {
      this.input.removeAttribute('aria-activedescendant');
    }
  }

  onKey(e) {
    if (e.isComposing) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!this.isOpen) {
        if (e.key === 'ArrowDown') {
          e.preventDefault();
          this.fetchLater.cancel();
          this.fetch();
        }
        return;
      }
      e.preventDefault();
      const n = this.items.length;
      const next = e.key === 'ArrowDown' ? this.active + 1 : this.active - 1;
      this.highlight(((next % n) + n) % n);
    } else if (e.key === 'Enter' && this.isOpen && this.active >= 0) {
      // Takes the name instead of submitting the form.
      e.preventDefault();
      this.pick(this.active);
    } else if (e.key === 'Escape' && this.isOpen) {
      // Closes the list, not the dialog around it.
      e.preventDefault();
      e.stopPropagation();
      this.close();
    }
  }

  pick(index) {
    const item = this.items[index];
    if (!item) return;
    this.close();
    this.fetchLater.cancel();
    this.picking = true;
    this.input.value = item.name;
    // The form around it sees the change as if typed.
    this.input.dispatchEvent(new Event('input', { bubbles: true }));
    this.input.dispatchEvent(new Event('change', { bubbles: true }));
    this.picking = false;
    this.onPick(item.name);
  }
}

/**
 * The job form's warning under the customer field: a NEW name (not the one the job had, not
 * one the jobs have) close to an existing one, with a button that takes the existing name.
 */
export class SimilarCustomerWarning {
  /**
   * @param {HTMLInputElement} input
   * @param {object} options
   * @param {() => (string|null)} options.storedName  the job's name as the form opened it
   */
  constructor(input, { storedName }) {
    this.input = input;
    this.storedName = storedName;
    this.seq = 0;
    this.abort = null;
    this.text = h('span', { class: 'customer-similar-text' });
    this.useBtn = h('button', {
      type: 'button',
      class: 'btn btn-small btn-ghost customer-similar-use',
      id: 'customerSimilarUse',
      on: { click: () => this.use() },
    });
    this.box = h('p', { class: 'customer-similar', id: 'customerSimilar', role: 'status', hidden: true },
      this.text, ' ', this.useBtn);
    // Below the field's error, so that the error stays next to the field.
    const error = document.getElementById(`${input.id}Error`);
    (error ?? input).insertAdjacentElement('afterend', this.box);
    const described = input.getAttribute('aria-describedby') || '';
    input.setAttribute('aria-describedby', `${described} ${this.box.id}`.trim());
    this.checkLater = debounce(() => this.check(), 350);
    input.addEventListener('input', () => {
      this.hide();
      this.checkLater();
    });
    input.addEventListener('change', () => {
      this.checkLater.cancel();
      this.check();
    });
    input.form?.closest('dialog')?.addEventListener('close', () => {
      this.checkLater.cancel();
      this.hide();
    });
  }

  async check() {
    const seq = ++this.seq;
    const typed = this.input.value.trim();
    const prefix = candidatePrefix(typed);
    if (!typed || !prefix || typed === (this.storedName() ?? '')) {
      this.hide();
      return;
    }
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    try {
      const candidates = await customersApi.list(prefix, { limit: CANDIDATES, signal: this.abort.signal });
      if (seq !== this.seq || this.input.value.trim() !== typed) return;
      const match = similarCustomer(typed, candidates);
      if (match) this.show(match);
      else this.hide();
    } catch (err) {
      if (err?.name !== 'AbortError' && seq === this.seq) this.hide();
    }
  }

  show(customer) {
    this.match = customer;
    this.text.textContent = t('customers.similar', { name: customer.name, count: customer.jobs });
    this.useBtn.textContent = t('customers.useExisting', { name: customer.name });
    this.box.hidden = false;
  }

  hide() {
    this.seq += 1;
    this.match = null;
    this.box.hidden = true;
  }

  use() {
    if (!this.match) return;
    const { name } = this.match;
    this.input.value = name;
    this.hide();
    this.input.dispatchEvent(new Event('input', { bubbles: true }));
    this.checkLater.cancel();
    this.hide();
    this.input.focus();
  }
}
