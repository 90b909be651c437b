// What the page knows about a job's fields: labels, statuses, and how values read as text.

import { h } from './dom.js';
import { hasMessage, locale, t } from './i18n.js';

export const STATUSES = ['pending', 'running', 'completed', 'failed'];

export const STATUS_LABELS = Object.fromEntries(STATUSES.map((s) => [s, t(`status.${s}`)]));

/** The fields the edit form owns, in form order. */
export const EDITABLE_FIELDS = [
  'job_name', 'status', 'is_business', 'customer_name', 'printer_id', 'file_name', 'notes',
];

/** The job fields' names in the page's language (see fieldLabel for any field). */
export const FIELD_LABELS = Object.fromEntries([
  'job_name', 'status', 'is_business', 'customer_name', 'notes', 'file_name', 'printer_id', 'started_at', 'completed_at',
].map((field) => [field, t(`field.${field}`)]));

/**
 * A field's name as the page shows it (`field.<name>` in the catalog: the job's, a printer's,
 * a user's fields); an unknown field reads as its wire name.
 */
export const fieldLabel = (field) => (hasMessage(`field.${field}`) ? t(`field.${field}`) : field.replace(/_/g, ' '));

/** The notes' limit (Unicode scalar values), as the server checks it. */
export const NOTES_MAX = 1000;

/** Notes and the like count Unicode scalar values, as the server does. */
export const charCount = (s) => [...(s || '')].length;

/** A status badge element. */
export function statusBadge(status) {
  const known = STATUSES.includes(status);
  return h('span', { class: `badge status status-${known ? status : 'unknown'}` },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    STATUS_LABELS[status] || String(status));
}

const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });

/** Absolute local date and time, or '' for an invalid value. */
export function formatDateTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
}

/** "just now", "5 minutes ago", "yesterday" … ("gerade eben", "vor 5 Minuten", "gestern") */
export function formatRelative(iso, now = Date.now()) {
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return '';
  const s = Math.round((at - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return t('time.just_now');
  if (abs < 3600) return relative.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(s / 3600), 'hour');
  if (abs < 86400 * 30) return relative.format(Math.round(s / 86400), 'day');
  return formatDateTime(iso);
}

/** A `<time>` showing relative time, with the absolute time as tooltip. */
export function timeElement(iso) {
  return h('time', {
    datetime: iso,
    title: formatDateTime(iso),
    dataset: { relative: '' },
    text: formatRelative(iso),
  });
}

/** Re-renders every relative `<time>` under `root`. */
export function refreshRelativeTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[data-relative]')) {
    el.textContent = formatRelative(el.getAttribute('datetime'), now);
  }
}

/** Who did it: the API sends null until authentication exists. */
export function actorName(actor) {
  if (actor === null || actor === undefined || actor === '') return t('actor.someone');
  if (typeof actor === 'string') return actor;
  return actor.name || actor.display_name || actor.username || actor.id || t('actor.someone');
}

/** A field's value as a person reads it; `printerName(id)` resolves printers. */
export function formatValue(field, value, printerName = (id) => id) {
  if (value === null || value === undefined || value === '') return '—';
  if (field === 'is_business') return value ? t('value.yes') : t('value.no');
  if (field === 'status') return STATUS_LABELS[value] || String(value);
  if (field === 'printer_id') return printerName(value);
  if (field.endsWith('_at') || field === 'discovery_time') return formatDateTime(value) || String(value);
  return String(value);
}

/** A span of seconds as a person reads it: "45 s", "12 min", "2 h 05 min", "3 d 4 h". */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.floor(seconds);
  if (s < 60) return t('duration.seconds', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('duration.minutes', { m });
  const hours = Math.floor(m / 60);
  // The minutes as text: two digits ("2 h 05 min"), not a number the language formats.
  if (hours < 24) return t('duration.hours', { h: hours, m: String(m % 60).padStart(2, '0') });
  return t('duration.days', { d: Math.floor(hours / 24), h: hours % 24 });
}

const shortDateTime = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
const timeOfDay = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });

/**
 * A `<time>` with a short absolute time: the time of day for today ("9:14 AM"), else the date
 * too ("Dec 1, 9:14 AM"); the full date and time as tooltip.
 */
export function shortTimeElement(iso, now = new Date()) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return h('span', { class: 'subtle', text: '—' });
  const today = d.toDateString() === now.toDateString();
  return h('time', { datetime: iso, title: formatDateTime(iso), text: (today ? timeOfDay : shortDateTime).format(d) });
}
