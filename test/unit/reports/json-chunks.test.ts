// jsonChunks: the same text as JSON.stringify(value, null, 2), in pieces.
import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../../functions/reports/json-chunks.ts';

describe('jsonChunks', () => {
  it.each<[string, Record<string, unknown>]>([
    ['an empty object', {}],
    ['scalars, nested objects and strings with newlines', { kind: 'r', n: 3, ok: true, none: null, text: 'a\nb', nested: { a: [1, { b: 'c' }], e: {} } }],
    ['top-level arrays: empty, of objects, of scalars, with holes', { empty: [], list: [{ a: 1, b: [2, 3] }, { a: 2, b: [] }], nums: [1, 2], holes: [undefined, () => 1, 'x'] }],
    ['members JSON.stringify leaves out', { a: undefined, f: () => 1, b: 1 }],
  ])('writes %s exactly as JSON.stringify does', (_, value) => {
    // Act
    const chunks = [...jsonChunks(value)];

    // Assess
    expect(chunks.join('')).toBe(JSON.stringify(value, null, 2));
  });

  it('yields one piece per element of a top-level array, not one string', () => {
    const chunks = [...jsonChunks({ promotions: Array.from({ length: 50 }, (_, i) => ({ i })) })];
    expect(chunks.length).toBeGreaterThan(50);
  });
});
