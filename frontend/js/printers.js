// The printer list, shared by the filters, the table and the edit form.

import { printersApi } from './api.js';
import { t } from './i18n.js';

let printers = [];
const byIdMap = new Map();
const listeners = new Set();
const statusListeners = new Set();
let loading = null;
/** Counts live statuses; `statusAt`: printer id → the count when its last one came. */
let statusTick = 0;
const statusAt = new Map();

function setAll(list) {
  printers = [...list].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  byIdMap.clear();
  for (const p of printers) byIdMap.set(p.id, p);
  for (const fn of listeners) fn(printers);
}

/** Loads (or reloads) the printers; listeners are told afterwards. Failure keeps the old list. */
export function loadPrinters() {
  if (loading) return loading;
  const startedAt = statusTick;
  loading = printersApi.list()
    .then((list) => {
      // A live status that came while the list was read is newer than the list's.
      setAll(list.map((p) => {
        const live = (statusAt.get(p.id) ?? 0) > startedAt ? byIdMap.get(p.id)?.status : undefined;
        return live ? { ...p, status: live } : p;
      }));
      return printers;
    })
    .finally(() => { loading = null; });
  return loading;
}

/**
 * A printer as it now is (created or changed here, or a live `printer_changed`): replaces the
 * one with its id, or joins the list. A live message without `status` keeps the known status.
 */
export function upsertPrinter(printer) {
  if (!printer || typeof printer.id !== 'string') return;
  const known = byIdMap.get(printer.id);
  const next = printer.status === undefined && known?.status ? { ...printer, status: known.status } : printer;
  setAll([...printers.filter((p) => p.id !== printer.id), next]);
}

/** A printer that was deleted (here or live). */
export function removePrinter(id) {
  if (!byIdMap.has(id)) return;
  setAll(printers.filter((p) => p.id !== id));
}

/** A live `printer_status`: the printer's new status; `fn(printer)` listeners are told. */
export function applyPrinterStatus(id, status) {
  const printer = byIdMap.get(id);
  if (!printer || !status || typeof status !== 'object') return;
  printer.status = status;
  statusTick += 1;
  statusAt.set(id, statusTick);
  for (const fn of statusListeners) fn(printer);
}

/** `fn(printer)` after a printer's live status changed. */
export function onPrinterStatus(fn) {
  statusListeners.add(fn);
  return () => statusListeners.delete(fn);
}

export const getPrinter = (id) => byIdMap.get(id) ?? null;

export const getPrinters = () => printers;

/** The printer's name, or its id when it is not (yet) known. */
export function printerName(id) {
  if (id === null || id === undefined || id === '') return '';
  return byIdMap.get(id)?.name ?? id;
}

export const isKnownPrinter = (id) => byIdMap.has(id);

/** `fn(printers)` after every load and every change to the list. */
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
    option.textContent = t('printer.unknown', { id: v });
    select.append(option);
  }
  select.value = v;
}
