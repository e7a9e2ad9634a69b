// jsonChunks: the same text as JSON.stringify(value, null, 2), in pieces.
import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../../functions/reports/json-chunks.ts';

describe('jsonChunks', () => {
  it.each<[string, Record<string, unknown>]>([
    ['an empty object', {}],
    ['scalars, nested objects and strings with newlines', { kind: 'r', n: 3, ok: true, none: null, text: 'a\nb', nested: { a: [1, { b: 'c' }], e: {} } }],
    ['top-level arrays: empty, of objects, of scalars, with holes', { empty: [], list: [{ a: 1, b: [2, 3] }, { a: 2, b: [] }], nums: [1, 2], holes: [undefined, () => 1, 'x'] }],
    ['members JSON.stringify leaves out', { a: undefined, f: () => 1, s: Symbol('s'), b: 1 }],
    ['members with toJSON', { gone: { toJSON: () => undefined }, date: new Date(0), kept: { toJSON: () => ({ x: 1 }) } }],
  ])('writes %s exactly as JSON.stringify does', (_, value) => {
    // Act
    const chunks = [...jsonChunks(value)];

    // Assess
    expect(chunks.join('')).toBe(JSON.stringify(value, null, 2));
  });

  it('yields a long top-level array in pieces of at most 256 elements, not one string', () => {
    // Prepare: 600 elements, each with a nested object, so every chunk boundary falls between indented elements
    const value = { promotions: Array.from({ length: 600 }, (_, i) => ({ i, nested: { list: [i, 'x\ny'] } })) };

    // Act
    const chunks = [...jsonChunks(value)];

    // Assess: the exact text, and no piece holding more than 256 elements
    expect(chunks.join('')).toBe(JSON.stringify(value, null, 2));
    const pieces = chunks.filter((c) => c.includes('"i"'));
    expect(pieces.length).toBe(3);
    expect(Math.max(...pieces.map((c) => c.split('"i"').length - 1))).toBe(256);
  });

  it('does not stringify a top-level array whole to decide whether to write it', () => {
    // Prepare: an element that counts how often it is stringified
    let stringified = 0;
    const element = { toJSON: () => ((stringified += 1), { a: 1 }) };

    // Act
    const text = [...jsonChunks({ list: [element, element] })].join('');

    // Assess: once per element, for its own text
    expect(text).toBe(JSON.stringify({ list: [{ a: 1 }, { a: 1 }] }, null, 2));
    expect(stringified).toBe(2);
  });
});
