// WireCanonicalizer writes, straight from DynamoDB wire JSON, exactly what canonicalJson writes of the converted item, or hands the item to that slow path.
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { canonicalJsonOmitting } from '../../../functions/audit/canonical-json.ts';
import { WireCanonicalizer } from '../../../functions/audit/canonical-wire.ts';
import { fromWireItem, type WireItem } from '../../../functions/dynamo/attribute-values.ts';
import { randomItems } from '../../helpers/wire-items.ts';

const OMIT = ['pk', 'sk', 'hash'];

/** What the verifier hashed before: convert, drop the omitted names, canonicalJson. */
function slow(item: WireItem): string {
  const native = fromWireItem(item);
  for (const name of OMIT) delete native[name];
  return canonicalJsonOmitting(native, undefined);
}

describe('WireCanonicalizer', () => {
  it('writes what canonicalJson writes of the converted item, for 2,000 seeded items of every JSON type', () => {
    // Arrange
    const canonical = new WireCanonicalizer(OMIT);
    let compared = 0;
    // Act / Assert
    for (const item of randomItems(2000)) {
      // Through JSON text, as the wire delivers it (JSON.parse makes `__proto__` an own property).
      const wire = JSON.parse(JSON.stringify(item)) as WireItem;
      expect(canonical.serialise(wire)).toBe(slow(wire));
      compared += 1;
    }
    expect(compared).toBe(2000);
  });

  it('leaves out the omitted top-level names only, and sorts by UTF-16 code unit', () => {
    const canonical = new WireCanonicalizer(OMIT);
    const item = marshall({ pk: 'k', sk: '1', hash: 'h', b: 1, a: { hash: 'kept', pk: 'kept', Z: true, a: null }, 'é': 'e', '😀': [1, 'x'], A: -0 }) as WireItem;
    expect(canonical.serialise(item)).toBe('{"A":0,"a":{"Z":true,"a":null,"hash":"kept","pk":"kept"},"b":1,"é":"e","😀":[1,"x"]}');
    expect(canonical.serialise(item)).toBe(slow(item));
  });

  it('keeps maps apart whose names would join to the same signature', () => {
    // Arrange: the cache key is the names joined by NUL; these lists join to the same text.
    const canonical = new WireCanonicalizer([]);
    const cases: [WireItem, string][] = [
      [{ a: { N: '1' }, b: { N: '2' } } as WireItem, '{"a":1,"b":2}'],
      [{ 'a\u0000b': { N: '3' } } as WireItem, '{"a\\u0000b":3}'],
      [{ 'a\u0000b': { N: '4' }, c: { N: '5' } } as WireItem, '{"a\\u0000b":4,"c":5}'],
      [{ a: { N: '6' }, 'b\u0000c': { N: '7' } } as WireItem, '{"a":6,"b\\u0000c":7}'],
      [{ a: { N: '8' }, b: { N: '9' }, c: { N: '10' } } as WireItem, '{"a":8,"b":9,"c":10}'],
    ];
    // Act / Assert (twice, in both orders: later reads come from the cache)
    for (const order of [cases, [...cases].reverse(), cases]) for (const [item, expected] of order) expect(canonical.serialise(item)).toBe(expected);
  });

  it('writes plain strings between quotes and escapes the rest as JSON.stringify does', () => {
    const canonical = new WireCanonicalizer([]);
    const strings = ['sha256:abc', '', 'a"b', 'a\\b', 'line\nbreak', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '😀', '\ud83d', '\ude00x', '</script>'];
    for (const s of strings) expect(canonical.serialise({ s: { S: s } })).toBe(`{"s":${JSON.stringify(s)}}`);
  });

  it('hands sets, binary, unsafe or non-finite numbers and malformed values to the slow path', () => {
    const canonical = new WireCanonicalizer(OMIT);
    const slowOnes: WireItem[] = [
      { a: { SS: ['x'] } },
      { a: { NS: ['1'] } },
      { a: { BS: ['AAE='] } },
      { a: { B: 'AAE=' } },
      { a: { N: '9007199254740993' } },
      { a: { N: '1e400' } },
      { a: { N: '1e21' } },
      { a: { N: 'not a number' } },
      { a: {} },
      { a: { M: { b: { L: [{ SS: ['y'] }] } } } },
      { a: 'not an attribute value' } as unknown as WireItem,
      { a: null } as unknown as WireItem,
    ];
    for (const item of slowOnes) expect(canonical.serialise(item)).toBeUndefined();
    // What the slow path then does: the same refusal the verifier gave before.
    expect(() => slow({ a: { SS: ['x'] } })).toThrow(/\$\.a is a Set, not a plain object/);
    expect(() => slow({ a: { N: '1e400' } })).toThrow(/\$\.a is Infinity, not a finite number/);
  });

  it('stays right past its shape cache bound (ever-new map names)', () => {
    const canonical = new WireCanonicalizer([]);
    for (let i = 0; i < 5000; i++) {
      const item = { [`k${i}`]: { N: String(i) }, a: { M: { [`n${i}`]: { S: 'v' } } } } as WireItem;
      expect(canonical.serialise(item)).toBe(slow(item));
    }
  });
});
