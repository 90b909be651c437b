// The close-name rule of the job form's customer warning (js/customer-names.js). No browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  candidatePrefix, closeness, editDistance, germanKey, looseKey, similarCustomer,
} from '../js/customer-names.js';

const existing = [
  { name: 'Müller GmbH', jobs: 12 },
  { name: 'Meier AG', jobs: 3 },
  { name: 'ACME', jobs: 7 },
  { name: 'Straße 5 Werbung', jobs: 1 },
];

test('spellings of one name are close to it', () => {
  for (const typed of [
    'Mueller GmbH', 'Muller GmbH', 'MÜLLER GMBH', 'müller gmbh', 'Müller  GmbH', 'Müller-GmbH',
    'Müller GmbH.', 'Muller G.m.b.H.', 'Müler GmbH', 'Müllr GmbH', 'Mueler GmbH',
  ]) {
    assert.equal(similarCustomer(typed, existing)?.name, 'Müller GmbH', typed);
  }
  assert.equal(similarCustomer('Strasse 5 Werbung', existing)?.name, 'Straße 5 Werbung');
  assert.equal(similarCustomer('Maier AG', existing)?.name, 'Meier AG');
});

test('other names, exact names and blanks are not', () => {
  for (const typed of ['Schmidt KG', 'ACNE', 'Müller & Söhne GmbH', 'Meister AG', '', '   ', 'Müller GmbH']) {
    assert.equal(similarCustomer(typed, existing), null, typed);
  }
  assert.equal(similarCustomer(' Müller GmbH ', existing), null, 'trimmed as the form stores it');
});

test('the closest name wins, then the one with more jobs', () => {
  const customers = [
    { name: 'Mueller GmbH', jobs: 1 },
    { name: 'Müller GmbH', jobs: 12 },
    { name: 'Möller GmbH', jobs: 40 },
  ];
  assert.equal(similarCustomer('MÜLLER GMBH', customers)?.name, 'Müller GmbH', 'distance 0 before 1');
  assert.equal(similarCustomer('Mollr GmbH', [{ name: 'Möller GmbH', jobs: 1 }, { name: 'Moller GmbH', jobs: 5 }])?.name,
    'Moller GmbH', 'equally close: more jobs');
});

test('keys and distances', () => {
  assert.equal(looseKey('Müller GmbH & Co.'), 'mullergmbhco');
  assert.equal(germanKey('Müller Straße'), 'muellerstrasse');
  assert.equal(germanKey('MÜLLER'), 'mueller');
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('kitten', 'sitting', 1), 2, 'stops above the limit');
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closeness('abc', 'abd'), null, 'short names must match exactly');
  assert.equal(closeness('A.B.C', 'abc'), 0);
});

test('the candidates are asked for by the first folded letter', () => {
  assert.equal(candidatePrefix('Müller'), 'm');
  assert.equal(candidatePrefix('  Ärzte'), 'a');
  assert.equal(candidatePrefix('Aerzte'), 'a');
  assert.equal(candidatePrefix('(Müller)'), null);
  assert.equal(candidatePrefix(''), null);
});
