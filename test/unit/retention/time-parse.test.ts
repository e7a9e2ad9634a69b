// The planner's timestamp parser and youngest-first order: the fast path must give exactly what Date.parse gives.
import { describe, expect, it } from 'vitest';
import { ms, youngestFirst } from '../../../functions/retention/evaluation.ts';
import type { InventoryImage } from '../../../functions/retention/types.ts';

describe('ms', () => {
  it.each([
    '2024-06-01T00:00:00.000Z',
    '2024-02-28T23:59:59.999Z',
    '1970-01-01T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z',
    '0000-01-01T00:00:00.000Z',
    '0050-03-01T12:00:00.000Z',
    '2000-02-28T10:00:00.000Z',
    '2400-03-01T00:00:00.000Z',
    '9999-12-28T23:59:59.999Z',
    // Left to Date.parse: days past the 28th, hour 24, other forms, and strings that are not times.
    '2024-02-29T00:00:00.000Z',
    '2023-02-30T00:00:00.000Z',
    '2024-12-31T23:59:59.999Z',
    '2024-01-01T24:00:00.000Z',
    '2024-13-01T00:00:00.000Z',
    '2024-01-01T23:60:00.000Z',
    '2024-06-01T00:00:00Z',
    '2024-06-01T02:00:00.000+02:00',
    '2024-06-01T00:00:00.1Z',
    '+012024-06-01T00:00:00.000Z',
    '2024-06-01Tab:00:00.000Z',
    'not a time at all, 24 chars',
  ])('%s as Date.parse reads it', (iso) => {
    // Act / Assess
    expect(ms(iso)).toBe(Date.parse(iso));
  });

  it('agrees with Date.parse on toISOString() output across four centuries', () => {
    // Prepare: instants about 3.7 days apart (not a whole number of days or hours) from 1900 to 2300.
    const start = Date.parse('1900-01-01T00:00:00Z');
    const end = Date.parse('2300-01-01T00:00:00Z');
    const mismatches: string[] = [];

    // Act
    for (let t = start; t < end; t += 318_467_123) {
      const iso = new Date(t).toISOString();
      if (ms(iso) !== t) mismatches.push(iso);
    }

    // Assess
    expect(mismatches).toEqual([]);
  });
});

describe('youngestFirst', () => {
  it('orders by time, youngest first, ties by digest, without changing its input', () => {
    // Prepare
    const at = (digest: string, pushedAt: string): InventoryImage => ({ digest, tags: [], pushedAt, lastPulledAt: null });
    const images = [at('sha256:b', '2024-01-01T00:00:00.000Z'), at('sha256:c', '2024-03-01T00:00:00.000Z'), at('sha256:a', '2024-01-01T00:00:00.000Z')];

    // Act
    const sorted = youngestFirst(images, (i) => ms(i.pushedAt));

    // Assess
    expect(sorted.map((i) => i.digest)).toEqual(['sha256:c', 'sha256:a', 'sha256:b']);
    expect(images.map((i) => i.digest)).toEqual(['sha256:b', 'sha256:c', 'sha256:a']);
  });
});
