// The page's languages: one message catalog per language (`i18n/<lang>.json`, plain JSON), the
// language chosen from the browser or the switch, and `Intl` formatters for that language.
//
// Catalog values are strings with `{name}` placeholders, or, for words that change with a count,
// objects keyed by `Intl.PluralRules` categories (`one`, `other`, …) whose `{count}` is the
// number formatted for the language ("20.019 Aufträge").
//
// The catalog is loaded before any other module runs (a top-level await), so `t()` is
// synchronous everywhere.

/** The languages the page has a catalog for. */
export const LANGUAGES = ['en', 'de'];

const STORAGE_KEY = 'printdesk.lang';

function storedLanguage() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.includes(stored) ? stored : null;
  } catch {
    return null; // storage refused (private mode): the browser decides
  }
}

/** The first of the browser's languages the page has, else English. */
function browserLanguage() {
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language || 'en'];
  for (const tag of wanted) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return { lang: base, tag };
  }
  return { lang: 'en', tag: 'en' };
}

function chooseLanguage() {
  const browser = browserLanguage();
  const lang = storedLanguage() || browser.lang;
  // The browser's own region where it speaks this language ("de-AT"), for dates and numbers.
  return { lang, locale: browser.lang === lang ? browser.tag : lang };
}

const chosen = chooseLanguage();

/** The page's language: `en` or `de`. */
export const lang = chosen.lang;

/** The BCP 47 tag for `Intl` formatters (the browser's region where it speaks `lang`). */
export const locale = chosen.locale;

async function loadCatalog(language) {
  const response = await fetch(`i18n/${language}.json`, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`catalog ${language}: HTTP ${response.status}`);
  return response.json();
}

let catalog;
try {
  catalog = await loadCatalog(lang);
} catch (e) {
  // Without its catalog the page would show keys: fall back to English, which ships beside it.
  console.error('printdesk: the message catalog could not be loaded', e);
  catalog = lang === 'en' ? {} : await loadCatalog('en').catch(() => ({}));
}

document.documentElement.lang = lang;

const plurals = new Intl.PluralRules(locale);
const numbers = new Intl.NumberFormat(locale);

/** Keys asked for that the catalog lacks (the browser tests check that none are). */
export const missingKeys = new Set();

function interpolate(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === 'number' ? numbers.format(value) : String(value);
  });
}

/**
 * The message `key` in the page's language, with `{name}` placeholders filled from `params`.
 * A message with plural forms picks its form by `params.count`.
 * @param {string} key
 * @param {Record<string, string|number>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const entry = catalog[key];
  if (entry === undefined) {
    missingKeys.add(key);
    console.error(`printdesk: no message "${key}" in the ${lang} catalog`);
    return key;
  }
  if (typeof entry === 'string') return interpolate(entry, params);
  const count = Number(params.count ?? 0);
  const form = entry[plurals.select(count)] ?? entry.other;
  return interpolate(form, params);
}

/** Whether the catalog has `key` (for messages picked by a server's value, e.g. a problem type). */
export const hasMessage = (key) => Object.prototype.hasOwnProperty.call(catalog, key);

/** A number as the language writes it ("20.019"). */
export const formatNumber = (n, options) => new Intl.NumberFormat(locale, options).format(n);

/**
 * Fills the static markup: `data-i18n="key"` sets the element's text,
 * `data-i18n-attr="placeholder:key title:key"` sets attributes.
 * @param {ParentNode} root
 */
export function translateDom(root = document) {
  // A <template>'s content is a fragment of its own, not reached by querySelectorAll.
  for (const template of root.querySelectorAll('template')) translateDom(template.content);
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.trim().split(/\s+/)) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

/** `a`, `a and b`, `a, b and c` in the page's language. */
export const formatList = (items) => new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }).format(items);

/** Switches the page to `language`, remembered in this browser, and reloads it. */
export function setLanguage(language) {
  if (!LANGUAGES.includes(language) || language === lang) return;
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    return; // storage refused (private mode): a reload could not show the other language
  }
  location.reload();
}

translateDom();
