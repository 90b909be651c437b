// The page's text rules (js/text-order.js) against the fixture the server's domain tests
// check too (crates/printdesk-domain/tests/search.rs): a live update shows, hides and places a
// job exactly as the next reload from the server would. No browser needed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { collatorOptions, compareByKey, searchMatches } from '../js/text-order.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/text-rules.json', import.meta.url), 'utf8'));

test('every query finds exactly the jobs the server finds', () => {
  for (const { query, finds } of fixture.search) {
    const found = fixture.jobs.filter((job) => searchMatches(query, job)).map((job) => job.job_name);
    assert.deepEqual(found, finds, JSON.stringify(query));
  }
});

test('text sorts in the server\'s Unicode collation order, whatever the page\'s language', () => {
  const sorted = [...fixture.order].reverse().sort((a, b) => compareByKey('job_name', a, b));
  assert.deepEqual(sorted, fixture.order);
  assert.match(collatorOptions().locale, /^en/);
  assert.equal(collatorOptions().sensitivity, 'variant');
  // Columns that are not text keep plain string order.
  assert.equal(compareByKey('status', 'completed', 'failed'), -1);
  assert.equal(compareByKey('created_at', '2026-12-01T10:00:00Z', '2026-12-01T09:00:00Z'), 1);
});

test('a blank search matches every job', () => {
  assert.equal(searchMatches('  ', { job_name: 'x' }), true);
});
