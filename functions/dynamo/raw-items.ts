// DynamoDB attribute values (the wire JSON: {"S": "…"}, {"N": "…"}, {"M": {…}}, …) to plain values, without the SDK's deserialiser or `unmarshall`.
//
// The lean readers (lean-scan.ts, and any Query reader) JSON.parse a response body themselves and
// convert its Items here. The result is what `DynamoDBDocumentClient` (util-dynamodb's `unmarshall`
// with its defaults, as functions/dynamo/client.ts configures it) gives for the same item, so code
// that reads either way sees the same values and the audit hash of a record does not depend on the
// reader. Types: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html

/** One attribute value as DynamoDB's JSON protocol writes it. */
export type WireAttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly B: string }
  | { readonly M: WireItem }
  | { readonly L: readonly WireAttributeValue[] }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly string[] };

/** An item (or a map value) on the wire: attribute name → attribute value. */
export type WireItem = { readonly [name: string]: WireAttributeValue };

/** A value `unmarshall` can produce. */
export type NativeValue = string | number | bigint | boolean | null | Uint8Array | NativeValue[] | Set<string | number | bigint | Uint8Array> | { [name: string]: NativeValue };

/**
 * `N` as unmarshall reads it without `wrapNumbers`: a Number, or a BigInt beyond the safe integers
 * (util-dynamodb's convertNumber), so a large number is never silently rounded.
 */
export function wireNumber(text: string): number | bigint {
  const n = Number(text);
  if ((n > Number.MAX_SAFE_INTEGER || n < Number.MIN_SAFE_INTEGER) && n !== Infinity && n !== -Infinity) {
    try {
      return BigInt(text);
    } catch {
      throw new Error(`${text} can't be converted to BigInt. Set options.wrapNumbers to get string value.`);
    }
  }
  return n;
}

const binary = (base64: string): Uint8Array => {
  const b = Buffer.from(base64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/**
 * One attribute value to its plain value. The type tag is looked up directly (`S` first: most
 * attributes of the audit log are strings) instead of iterating the object's entries.
 *
 * @throws Error for an attribute value with no known type tag (as unmarshall does).
 */
export function fromWireValue(av: WireAttributeValue): NativeValue {
  const v = av as Record<string, unknown>;
  // Every branch tests `!== undefined` like unmarshall, which skips undefined members.
  if (v.S !== undefined) return v.S as string;
  if (v.N !== undefined) return wireNumber(v.N as string);
  if (v.M !== undefined) return fromWireItem(v.M as WireItem);
  if (v.L !== undefined) {
    const list = v.L as readonly WireAttributeValue[];
    const out = new Array<NativeValue>(list.length);
    for (let i = 0; i < list.length; i += 1) out[i] = fromWireValue(list[i]!);
    return out;
  }
  if (v.BOOL !== undefined) return Boolean(v.BOOL);
  if (v.NULL !== undefined) return null;
  if (v.B !== undefined) return binary(v.B as string);
  if (v.SS !== undefined) return new Set(v.SS as string[]);
  if (v.NS !== undefined) return new Set((v.NS as string[]).map(wireNumber));
  if (v.BS !== undefined) return new Set((v.BS as string[]).map(binary));
  for (const key in v) if (v[key] !== undefined) throw new Error(`Unsupported type passed: ${key}`);
  throw new Error(`No value defined: ${JSON.stringify(av)}`);
}

/**
 * An item (or `M` value) to a plain object, members in the wire's order.
 *
 * @example
 * fromWireItem({ pk: { S: 'repo#a' }, seq: { N: '3' }, tags: { L: [{ S: 'v1' }] } }) // { pk: 'repo#a', seq: 3, tags: ['v1'] }
 */
export function fromWireItem(item: WireItem): { [name: string]: NativeValue } {
  const out: { [name: string]: NativeValue } = {};
  for (const name in item) out[name] = fromWireValue(item[name]!);
  return out;
}
