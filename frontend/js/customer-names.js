// When a customer name typed into the job form is close to one the jobs already have
// ("Mueller GmbH" for "Müller GmbH"): the rule behind the form's "Similar to existing
// customer" warning. Pure functions, no DOM, so `node --test` checks them without a browser.
//
// Two names are close when, ignoring case, accents, compatibility forms (the server's search
// folding, `fold` in text-order.js), spaces and punctuation, they are equal, or equal once
// German umlauts are written out (ä → ae, ö → oe, ü → ue, ß → ss), or a few letters apart (one
// edit for names of 5–8 letters, two from 9; none below 5, where one letter makes another
// name: "ACME" and "ACNE").

import { fold } from './text-order.js';

const GERMAN = { ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss' };

/** Letters and digits only, folded: what is left of a name when its spelling is ignored. */
export function looseKey(name) {
  return fold(String(name)).replace(/[^\p{L}\p{N}]/gu, '');
}

/** As `looseKey`, with German umlauts and ß written out first ("Müller" → "mueller"). */
export function germanKey(name) {
  const written = String(name).toLowerCase().replace(/[äöüß]/g, (c) => GERMAN[c]);
  return looseKey(written);
}

/** Levenshtein distance of two strings (by code point), stopping early above `max`. */
export function editDistance(a, b, max = Infinity) {
  const s = [...a];
  const u = [...b];
  if (Math.abs(s.length - u.length) > max) return max + 1;
  let prev = Array.from({ length: u.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i += 1) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= u.length; j += 1) {
      const cost = s[i - 1] === u[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      best = Math.min(best, row[j]);
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[u.length];
}

/** The edits two keys of this length may be apart and still be one name. */
export function allowedEdits(length) {
  if (length < 5) return 0;
  if (length < 9) return 1;
  return 2;
}

/**
 * How far `typed` is from `existing` (0: the same name spelt another way), or null when they
 * are not close. Identical names are not "close": they are the same customer.
 */
export function closeness(typed, existing) {
  if (typed === existing) return null;
  const pairs = [[looseKey(typed), looseKey(existing)], [germanKey(typed), germanKey(existing)]];
  let best = null;
  for (const [a, b] of pairs) {
    if (!a || !b) continue;
    const max = allowedEdits(Math.min([...a].length, [...b].length));
    const d = a === b ? 0 : editDistance(a, b, max);
    if (d <= max && (best === null || d < best)) best = d;
  }
  return best;
}

/**
 * The existing customer `typed` is most likely meant to be, from `customers`
 * (`[{name, jobs}]`, as `GET /customers` returns them): the closest, then the one with the most
 * jobs; null when `typed` is blank, is one of them exactly, or is close to none.
 */
export function similarCustomer(typed, customers) {
  const name = String(typed ?? '').trim();
  if (!name || customers.some((c) => c.name === name)) return null;
  let best = null;
  let bestDistance = Infinity;
  for (const customer of customers) {
    const d = closeness(name, customer.name);
    if (d === null) continue;
    if (d < bestDistance || (d === bestDistance && customer.jobs > best.jobs)) {
      best = customer;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * What to ask `GET /customers?q=` for to find the names close to `typed`: its first folded
 * letter or digit (umlauts written out keep it: "Ä…" and "Ae…" both start with "a"), or null
 * for a name without one. A name that differs in its first letter is not looked for.
 */
export function candidatePrefix(typed) {
  const first = fold(String(typed ?? '').trim()).match(/[\p{L}\p{N}]/u);
  if (!first) return null;
  // The server matches the beginning of the whole name: only a name that starts with the
  // letter itself can be asked for by it.
  return fold(String(typed).trim()).startsWith(first[0]) ? first[0] : null;
}
