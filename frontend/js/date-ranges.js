// Date ranges in the page's time zone: the quick ranges (this month, last month, this year) and
// whether a job's time falls in a range of days. The API takes dates as whole days in `tz`
// (docs/api.md, "Dates"); the page sends the browser's zone, so a day here is the same day
// there. Pure functions, no DOM.

/** The browser's IANA time zone ("Europe/Berlin"), what the page sends as `tz`. */
export function pageTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

const pad = (n) => String(n).padStart(2, '0');

/** A local date as `YYYY-MM-DD`. */
export function isoDate(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Whether `text` is a real calendar date written `YYYY-MM-DD`. */
export function isDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text ?? ''));
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(y, mo - 1, d);
  return date.getFullYear() === y && date.getMonth() === mo - 1 && date.getDate() === d;
}

/** The quick ranges, in the order the page offers them. */
export const QUICK_RANGES = ['this-month', 'last-month', 'this-year'];

/**
 * The first and last day of a quick range as of `now` (local time): `{from, to}`; `clear` is
 * the empty range. Unknown names give null.
 */
export function quickRange(name, now = new Date()) {
  const y = now.getFullYear();
  const m = now.getMonth();
  switch (name) {
    case 'this-month':
      return { from: isoDate(new Date(y, m, 1)), to: isoDate(new Date(y, m + 1, 0)) };
    case 'last-month':
      return { from: isoDate(new Date(y, m - 1, 1)), to: isoDate(new Date(y, m, 0)) };
    case 'this-year':
      return { from: isoDate(new Date(y, 0, 1)), to: isoDate(new Date(y, 11, 31)) };
    case 'clear':
      return { from: '', to: '' };
    default:
      return null;
  }
}

/** Which quick range `{from, to}` is as of `now`, or null. */
export function quickRangeOf(from, to, now = new Date()) {
  return QUICK_RANGES.find((name) => {
    const r = quickRange(name, now);
    return r.from === from && r.to === to;
  }) ?? null;
}

/**
 * Whether the instant `iso` falls on a local day from `from` to `to` (both `YYYY-MM-DD`,
 * each included, either may be empty: open). A missing time is in an open range only, as the
 * server leaves jobs that have not ended out of a bounded `completed` range.
 */
export function inDayRange(iso, from, to) {
  if (!from && !to) return true;
  if (!iso) return false;
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return false;
  const day = isoDate(t);
  return (!from || day >= from) && (!to || day <= to);
}
