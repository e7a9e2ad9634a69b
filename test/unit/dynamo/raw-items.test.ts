// The wire-to-plain converter gives what the SDK's unmarshall gives, for every attribute type DynamoDB has.
import { describe, expect, it } from 'vitest';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { fromWireItem, fromWireValue, type WireItem } from '../../../functions/dynamo/raw-items.ts';

/** The SDK's view of a wire item: base64 `B` decoded to bytes as its deserialiser does, then unmarshall. */
function sdkView(wire: WireItem): Record<string, unknown> {
  const decode = (av: Record<string, unknown>): AttributeValue => {
    if (typeof av.B === 'string') return { B: new Uint8Array(Buffer.from(av.B, 'base64')) };
    if (Array.isArray(av.BS)) return { BS: (av.BS as string[]).map((b) => new Uint8Array(Buffer.from(b, 'base64'))) };
    if (av.M) return { M: Object.fromEntries(Object.entries(av.M as Record<string, Record<string, unknown>>).map(([k, v]) => [k, decode(v)])) };
    if (Array.isArray(av.L)) return { L: (av.L as Record<string, unknown>[]).map(decode) };
    return av as unknown as AttributeValue;
  };
  return unmarshall(Object.fromEntries(Object.entries(wire).map(([k, v]) => [k, decode(v as unknown as Record<string, unknown>)])));
}

/** An item as it crosses the wire: JSON text, parsed back. */
const wire = (item: Record<string, unknown>): WireItem => JSON.parse(JSON.stringify(marshall(item, { removeUndefinedValues: true }), (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))) as WireItem;

describe('fromWireItem', () => {
  it('matches unmarshall on an audit record with every type its items use', () => {
    // Prepare: a sealed record's shape (strings, numbers, a list, nested maps, booleans, null).
    const item = {
      pk: 'repo#team/app',
      sk: '000000000007',
      seq: 7,
      actor: 'cli:ana',
      bytes: 123456789,
      durationMs: 0,
      ratio: -1.5e-7,
      tags: ['v1', 'latest'],
      blobs: { uploaded: 3, mounted: 0, skipped: 4 },
      details: { scan: { critical: 0, high: 1 }, verified: true, skipped: false, note: null, nested: [[1, 'a'], { deep: { deeper: ['x'] } }], empty: {}, none: [] },
      unicode: 'é ✓ 🐳 "quoted" \\ \n',
    };

    // Act
    const got = fromWireItem(wire(item));

    // Assess
    expect(got).toEqual(sdkView(wire(item)));
    expect(got).toEqual(item);
  });

  it('matches unmarshall on sets, binary and numbers beyond the safe integers', () => {
    const raw: WireItem = {
      ss: { SS: ['a', 'b'] },
      ns: { NS: ['1', '2.5', '-3'] },
      bs: { BS: [Buffer.from([1, 2]).toString('base64')] },
      b: { B: Buffer.from('bytes').toString('base64') },
      big: { N: '123456789012345678901234567890' },
      small: { N: '-9007199254740993' },
      exp: { N: '1E+2' },
    };

    const got = fromWireItem(raw);

    expect(got).toEqual(sdkView(raw));
    expect(got.big).toBe(123456789012345678901234567890n);
    expect(got.exp).toBe(100);
    expect(got.b).toBeInstanceOf(Uint8Array);
    expect(got.ss).toEqual(new Set(['a', 'b']));
  });

  it('rejects an attribute value without a known type, as unmarshall does', () => {
    expect(() => fromWireValue({ X: '1' } as never)).toThrow('Unsupported type passed: X');
    expect(() => fromWireValue({} as never)).toThrow('No value defined: {}');
    expect(() => unmarshall({ a: { X: '1' } as never })).toThrow('Unsupported type passed: X');
  });
});
