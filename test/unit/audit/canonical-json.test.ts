// Canonical JSON: the exact bytes the audit hash covers.
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../functions/audit/canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    // Prepare
    const value = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x y' } };

    // Act
    const text = canonicalJson(value);

    // Assess
    expect(text).toBe('{"a":{"c":"x y","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('is independent of insertion order', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it('drops undefined members, as DynamoDB does with removeUndefinedValues', () => {
    expect(canonicalJson({ a: undefined, b: 'k' })).toBe('{"b":"k"}');
  });

  it('sorts keys by UTF-16 code unit, not locale', () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, a: 4 })).toBe('{"B":2,"a":4,"b":1,"é":3}');
  });

  it('escapes strings as JSON.stringify does', () => {
    expect(canonicalJson({ s: 'quote " backslash \\ newline \n' })).toBe('{"s":"quote \\" backslash \\\\ newline \\n"}');
  });

  it('normalises -0 to 0', () => {
    expect(canonicalJson([-0, 1.5, 1e21])).toBe('[0,1.5,1e+21]');
  });

  it.each([
    ['NaN', { n: Number.NaN }, /\$\.n is NaN/],
    ['Infinity', [Number.POSITIVE_INFINITY], /\$\[0\] is Infinity/],
    ['a Date', { d: new Date(0) }, /\$\.d is a Date/],
    ['a Map', { m: new Map() }, /\$\.m is a Map/],
    ['a bigint', { b: 1n }, /\$\.b is a bigint/],
    ['a function', { f: () => 1 }, /\$\.f is a function/],
  ])('rejects %s, naming the path', (_name, value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });
});
