// Text search and text order as the server applies them (docs/api.md, "Text search" and
// "Sorting"), so that a job a live event brings in is shown, hidden and placed exactly where the
// next reload would put it. The rules are the domain's (printdesk-domain, `search`): the same
// folding, the same word starts, the same patterns; the same Unicode collation.

const WORD_START = '\u0001';

/**
 * Folds text for matching: compatibility forms, case and accents ignored. The server uses full
 * Unicode case folding; upper-casing, then lower-casing, then taking `ς` as `σ` gives the same
 * result for every letter a job name is likely to hold (`ß` → `ss`, `İ` → `i`, `ı` → `i`).
 */
export function fold(text) {
  return text
    .normalize('NFKD')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{Mn}/gu, '')
    .replace(/ς/g, 'σ')
    .replace(/ı/g, 'i')
    .replace(/\p{Cc}/gu, (c) => ('\t\n\r'.includes(c) ? c : ''));
}

const isWordChar = (c) => /[\p{Alphabetic}\p{Nd}\p{Nl}\p{No}]/u.test(c);
const isCjk = (c) => /[\u3040-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u{20000}-\u{3FFFF}]/u.test(c);

/** `text` folded, each word start marked, white space as one space per character. */
function marked(text) {
  let out = '';
  let inWord = false;
  for (const c of fold(text)) {
    if (/\s/u.test(c)) {
      out += ' ';
      inWord = false;
    } else if (isWordChar(c)) {
      if (!inWord || isCjk(c)) out += WORD_START;
      out += c;
      inWord = true;
    } else {
      out += c;
      inWord = false;
    }
  }
  return out;
}

/** A job's searchable text: its four text fields, folded and marked, one per line. */
export function searchDocument(job) {
  return [job.job_name, job.customer_name, job.notes, job.file_name]
    .map((v) => (typeof v === 'string' ? marked(v) : ''))
    .join('\n');
}

/** What each word of `q` must find: three characters or more anywhere, fewer at a word start. */
export function searchPatterns(q) {
  const patterns = [];
  for (const word of q.trim().split(/\s+/u)) {
    let pattern = marked(word);
    const length = [...pattern].filter((c) => c !== WORD_START).length;
    if (length === 0) continue;
    if (length >= 3 && pattern.startsWith(WORD_START)) pattern = pattern.slice(1);
    patterns.push(pattern);
  }
  return patterns;
}

/** Whether `job` matches the search `q` (blank: every job). */
export function searchMatches(q, job) {
  const patterns = searchPatterns(q);
  if (patterns.length === 0) return true;
  const document = searchDocument(job);
  return patterns.every((p) => document.includes(p));
}

// The Unicode Collation Algorithm with CLDR's root order at tertiary strength (letters, then
// accents, then case; lower case first; punctuation not ignored; no numeric ordering): what
// the server's ICU4X sort keys encode. English has no tailoring of the root order; a page
// locale (Swedish puts `Ö` after `Z`) must not decide, so the locale is fixed.
const collator = new Intl.Collator('en', {
  usage: 'sort',
  sensitivity: 'variant',
  ignorePunctuation: false,
  numeric: false,
  caseFirst: 'false',
});

/** The columns the server sorts by collation; the others compare as plain strings. */
export const COLLATED_KEYS = Object.freeze(['job_name', 'customer_name', 'file_name']);

/** Compares two present values of the sort key `key` in the server's order. */
export function compareByKey(key, a, b) {
  if (COLLATED_KEYS.includes(key)) return Math.sign(collator.compare(a, b));
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** The locale and options the collator resolved to (for tests). */
export function collatorOptions() {
  return collator.resolvedOptions();
}
