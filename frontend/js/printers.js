// The printer list, shared by the filters, the table and the edit form.

import { printersApi } from './api.js';

let printers = [];
const byIdMap = new Map();
const listeners = new Set();
let loading = null;

/** Loads (or reloads) the printers; listeners are told afterwards. Failure keeps the old list. */
export function loadPrinters() {
  if (loading) return loading;
  loading = printersApi.list()
    .then((list) => {
      printers = [...list].sort((a, b) => a.name.localeCompare(b.name));
      byIdMap.clear();
      for (const p of printers) byIdMap.set(p.id, p);
      for (const fn of listeners) fn(printers);
      return printers;
    })
    .finally(() => { loading = null; });
  return loading;
}

export const getPrinters = () => printers;

/** The printer's name, or its id when it is not (yet) known. */
export function printerName(id) {
  if (id === null || id === undefined || id === '') return '';
  return byIdMap.get(id)?.name ?? id;
}

export const isKnownPrinter = (id) => byIdMap.has(id);

/** `fn(printers)` after every load. */
export function onPrintersChanged(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Fills a <select> with printers, after `fixed` leading options; keeps the selection. */
export function fillPrinterSelect(select, { keepFirst = 1 } = {}) {
  const selected = select.value;
  while (select.options.length > keepFirst) select.remove(keepFirst);
  for (const p of printers) {
    const option = document.createElement('option');
    option.value = p.id;
    option.textContent = p.location ? `${p.name} — ${p.location}` : p.name;
    select.append(option);
  }
  setSelectValue(select, selected);
}

/** Selects `value`, adding an option for an unknown printer id so no value is lost. */
export function setSelectValue(select, value) {
  const v = value ?? '';
  if (v !== '' && ![...select.options].some((o) => o.value === v)) {
    const option = document.createElement('option');
    option.value = v;
    option.textContent = `${v} (unknown printer)`;
    select.append(option);
  }
  select.value = v;
}
