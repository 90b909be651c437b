// The message catalogs (i18n/en.json, i18n/de.json) against each other and against the code
// that reads them. No browser needed.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const FRONTEND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(FRONTEND, '..');
const LANGS = ['en', 'de'];
const raw = Object.fromEntries(LANGS.map((l) => [l, readFileSync(path.join(FRONTEND, 'i18n', `${l}.json`), 'utf8')]));
const catalogs = Object.fromEntries(LANGS.map((l) => [l, JSON.parse(raw[l])]));

/** The `{name}` placeholders of a message (every plural form's). */
function placeholders(entry) {
  const texts = typeof entry === 'string' ? [entry] : Object.values(entry);
  return [...new Set(texts.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();
}

test('both catalogs have exactly the same keys', () => {
  const [en, de] = LANGS.map((l) => Object.keys(catalogs[l]));
  assert.deepEqual(en.filter((k) => !de.includes(k)), [], 'in en.json only');
  assert.deepEqual(de.filter((k) => !en.includes(k)), [], 'in de.json only');
});

test('the keys are sorted, one per line, so parallel edits merge', () => {
  for (const l of LANGS) {
    const keys = Object.keys(catalogs[l]);
    assert.deepEqual(keys, [...keys].sort(), `${l}.json is sorted`);
    // A duplicate key would be silently dropped by JSON.parse.
    const lines = raw[l].split('\n').filter((line) => /^ {2}"/.test(line));
    assert.equal(lines.length, keys.length, `${l}.json: one top-level key per line, none twice`);
  }
});

test('every value is a string or plural forms, with the categories its language needs', () => {
  for (const l of LANGS) {
    const needed = new Intl.PluralRules(l).resolvedOptions().pluralCategories;
    for (const [key, entry] of Object.entries(catalogs[l])) {
      if (typeof entry === 'string') {
        assert.ok(entry.trim() !== '', `${l} ${key} is not empty`);
        continue;
      }
      assert.equal(typeof entry, 'object', `${l} ${key}`);
      assert.ok(typeof entry.other === 'string', `${l} ${key} has "other"`);
      for (const category of needed) assert.ok(typeof entry[category] === 'string', `${l} ${key} has "${category}"`);
      for (const category of Object.keys(entry)) {
        assert.ok(needed.includes(category), `${l} ${key}: "${category}" is not a plural category of ${l}`);
      }
      assert.ok(placeholders(entry).includes('count'), `${l} ${key}: plural forms pick by {count}`);
    }
  }
});

test('a message is plural in one catalog exactly when it is in the other', () => {
  for (const [key, entry] of Object.entries(catalogs.en)) {
    assert.equal(typeof catalogs.de[key], typeof entry, key);
  }
});

test('each key has the same placeholders in both languages', () => {
  for (const key of Object.keys(catalogs.en)) {
    if (!(key in catalogs.de)) continue;
    assert.deepEqual(placeholders(catalogs.de[key]), placeholders(catalogs.en[key]), key);
  }
});

test('German text is written with umlauts, not their ASCII stand-ins', () => {
  for (const [key, entry] of Object.entries(catalogs.de)) {
    const texts = typeof entry === 'string' ? [entry] : Object.values(entry);
    for (const text of texts) {
      assert.doesNotMatch(text, /\b(Auftraege?|fuer|ueber|Ueber|koennen|muessen|geaendert|Geaendert|loeschen|Loeschen|Geraet|Schluessel|waehlen|Waehlen|hinzufuegen|zurueck|Zurueck|pruefen|Pruefen|oeffnen|spaeter|groesse|Groesse)/, key);
    }
  }
});

/** The page's source files: index.html and js/*.js. */
function sources() {
  const files = [path.join(FRONTEND, 'index.html')];
  for (const name of readdirSync(path.join(FRONTEND, 'js'))) {
    // i18n.js is the catalog's reader: its examples name no real key.
    if (name.endsWith('.js') && name !== 'i18n.js') files.push(path.join(FRONTEND, 'js', name));
  }
  return files.map((file) => ({ file: path.relative(FRONTEND, file), text: readFileSync(file, 'utf8') }));
}

test('every key the page names literally is in the catalogs', () => {
  const missing = [];
  for (const { file, text } of sources()) {
    const keys = new Set();
    for (const m of text.matchAll(/\bt\(\s*'([^'\\]+)'/g)) keys.add(m[1]);
    for (const m of text.matchAll(/\bt\(\s*"([^"\\]+)"/g)) keys.add(m[1]);
    for (const m of text.matchAll(/\bdata-i18n="([^"]+)"/g)) keys.add(m[1]);
    for (const m of text.matchAll(/\bdata-i18n-attr="([^"]+)"/g)) {
      for (const pair of m[1].trim().split(/\s+/)) keys.add(pair.split(':')[1]);
    }
    // Keys kept as data (the workflow's button labels).
    for (const m of text.matchAll(/\blabel: '([a-z_]+\.[a-z_.-]+)'/g)) keys.add(m[1]);
    for (const key of keys) {
      for (const l of LANGS) if (!(key in catalogs[l])) missing.push(`${file}: ${key} (${l})`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the keys the page builds from values are in the catalogs', () => {
  const families = {
    status: ['pending', 'running', 'completed', 'failed'],
    role: ['viewer', 'operator', 'admin'],
    'printer.state': ['unknown', 'connecting', 'offline', 'idle', 'printing', 'paused', 'finished', 'failed', 'error'],
    'jobs.row.aria': ['edit-job', 'job-history', 'delete-job', 'start-job', 'complete-job', 'fail-job', 'retry-job', 'reopen-job'],
    'bulk.noun': ['status', 'is_business', 'customer_name', 'printer_id', 'notes'],
    'bulk.mixed_hint': ['status', 'is_business', 'printer_id'],
    lang: ['en', 'de'],
    title: ['jobs', 'printers', 'access'],
    'form.fields_need_attention': ['saved', 'tested'],
  };
  for (const [prefix, values] of Object.entries(families)) {
    for (const value of values) {
      for (const l of LANGS) assert.ok(`${prefix}.${value}` in catalogs[l], `${prefix}.${value} (${l})`);
    }
  }
});

test('every problem type the API sends has the page\'s own message', () => {
  const types = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.rs')) {
        for (const m of readFileSync(full, 'utf8').matchAll(/urn:printdesk:problem:([a-z0-9-]+)/g)) types.add(m[1]);
      }
    }
  };
  walk(path.join(REPO, 'crates', 'printdesk-http', 'src'));
  assert.ok(types.size > 5, 'the problem types were found');
  for (const type of types) {
    for (const l of LANGS) assert.ok(`problem.${type}` in catalogs[l], `problem.${type} (${l})`);
  }
});
