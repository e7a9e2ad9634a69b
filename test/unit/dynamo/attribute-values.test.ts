// The wire-JSON converter gives what the SDK's `unmarshall` gives, for every DynamoDB attribute type, and refuses what the SDK refuses.
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { fromWireItem, fromWireNumber, fromWireValue, type WireItem } from '../../../functions/dynamo/attribute-values.ts';

/** What the SDK's deserialiser hands `unmarshall`: the wire JSON with base64 B / BS decoded to bytes. */
function sdkShape(av: unknown): AttributeValue {
  const v = av as Record<string, unknown>;
  if (typeof v.B === 'string') return { B: new Uint8Array(Buffer.from(v.B, 'base64')) };
  if (Array.isArray(v.BS)) return { BS: (v.BS as string[]).map((b) => new Uint8Array(Buffer.from(b, 'base64'))) };
  if (Array.isArray(v.L)) return { L: v.L.map(sdkShape) };
  if (v.M && typeof v.M === 'object') return { M: Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, sdkShape(x)])) };
  return v as unknown as AttributeValue;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** One attribute of every type, nested ones included, as DynamoDB sends them. */
const EVERY_TYPE: WireItem = {
  s: { S: 'héllo ☃' },
  empty: { S: '' },
  n: { N: '42' },
  negative: { N: '-17.25' },
  exponent: { N: '1.5E+3' },
  huge: { N: '123456789012345678901234567890' },
  tiny: { N: '-9007199254740993' },
  b: { B: b64('bytes\u0000\u00ff') },
  t: { BOOL: true },
  f: { BOOL: false },
  nul: { NULL: true },
  m: { M: { a: { S: 'x' }, inner: { M: { deep: { N: '1' } } }, list: { L: [{ N: '2' }] } } },
  emptyMap: { M: {} },
  l: { L: [{ S: 'a' }, { N: '3' }, { NULL: true }, { BOOL: false }, { M: { k: { S: 'v' } } }, { L: [] }, { B: b64('z') }] },
  ss: { SS: ['a', 'b'] },
  ns: { NS: ['1', '2.5', '99999999999999999999'] },
  bs: { BS: [b64('one'), b64('two')] },
};

describe('fromWireItem', () => {
  it('equals the SDK unmarshall for every attribute type, nested ones too', () => {
    const sdk = unmarshall(sdkShape({ M: EVERY_TYPE }).M as Record<string, AttributeValue>);
    const ours = fromWireItem(EVERY_TYPE);
    expect(ours).toEqual(sdk);
    // The values themselves, so an equal-but-wrong pair of conversions would not pass.
    expect(ours.huge).toBe(123456789012345678901234567890n);
    expect(ours.tiny).toBe(-9007199254740993n);
    expect(ours.exponent).toBe(1500);
    expect(ours.negative).toBe(-17.25);
    expect(ours.b).toBeInstanceOf(Uint8Array);
    expect([...(ours.b as Uint8Array)]).toEqual([...Buffer.from('bytes\u0000\u00ff')]);
    expect(ours.ns).toEqual(new Set([1, 2.5, 99999999999999999999n]));
    expect(ours.m).toEqual({ a: 'x', inner: { deep: 1 }, list: [2] });
  });

  it('an audit record item as the stand-in and DynamoDB send it', () => {
    const item: WireItem = {
      pk: { S: 'repo#team/app' },
      seq: { N: '7' },
      bytes: { N: '199999999' },
      blobs: { M: { uploaded: { N: '3' }, mounted: { N: '0' }, skipped: { N: '4' } } },
      tags: { L: [{ S: 'v1.2' }] },
      details: { M: { environment: { S: 'prod' }, ok: { BOOL: true }, none: { NULL: true } } },
    };
    expect(fromWireItem(item)).toEqual(unmarshall(sdkShape({ M: item }).M as Record<string, AttributeValue>));
  });

  it('keeps an attribute named __proto__ as data, not as the prototype', () => {
    const item = JSON.parse('{"__proto__":{"M":{"polluted":{"BOOL":true}}},"a":{"S":"x"}}') as WireItem;
    const out = fromWireItem(item);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: true });
  });
});

describe('fromWireValue errors and numbers', () => {
  it('refuses an unknown type and an empty value, like the SDK', () => {
    expect(() => fromWireValue({ X: '1' } as never)).toThrow('Unsupported type passed: X');
    expect(() => unmarshall({ a: { X: '1' } as never })).toThrow('Unsupported type passed: X');
    expect(() => fromWireValue({})).toThrow('No value defined: {}');
  });

  it('numbers: safe integers and decimals as number, big integers exact as bigint, a big decimal refused', () => {
    expect(fromWireNumber('9007199254740991')).toBe(9007199254740991);
    expect(fromWireNumber('9007199254740992')).toBe(9007199254740992n);
    expect(fromWireNumber('0.1')).toBe(0.1);
    expect(() => fromWireNumber('1.5e300')).toThrow("1.5e300 can't be converted to BigInt");
    expect(() => unmarshall({ a: { N: '1.5e300' } })).toThrow("1.5e300 can't be converted to BigInt");
  });
});
