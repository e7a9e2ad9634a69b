// DynamoDB JSON attribute values (`{"S": "…"}`, `{"N": "12"}`, `{"M": {…}}`, …) to plain JavaScript values, straight from the parsed wire JSON.
//
// The result is the same as the SDK's deserialiser followed by `unmarshall` from @aws-sdk/util-dynamodb with its
// default options (numbers as `number`, or `bigint` outside the safe integer range; binary as Uint8Array; sets as
// Set), which test/unit/dynamo/attribute-values.test.ts checks for every type. It exists because that pair costs
// tens of microseconds per item (a schema walk and a JSON reviver, then an `Object.entries` copy per map), which
// dominated reading a million audit records. Wire format:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html#Programming.LowLevelAPI.DataTypeDescriptors

/** One attribute value as DynamoDB's JSON protocol sends it: exactly one of these members. */
export interface WireAttributeValue {
  readonly S?: string;
  readonly N?: string;
  readonly B?: string;
  readonly BOOL?: boolean;
  readonly NULL?: boolean;
  readonly M?: WireItem;
  readonly L?: readonly WireAttributeValue[];
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly string[];
}

/** An item (or a map value) on the wire: attribute name → attribute value. */
export type WireItem = { readonly [name: string]: WireAttributeValue };

/** The plain value of one attribute. */
export type NativeValue = string | number | bigint | boolean | null | Uint8Array | NativeValue[] | Set<string | number | bigint | Uint8Array> | { [name: string]: NativeValue };

/** An item as plain values. */
export type NativeItem = Record<string, NativeValue>;

/**
 * `"12"` → 12. Like the SDK: a finite number outside ±(2^53 - 1) becomes a bigint (exact), and one
 * that is not an integer there is an error rather than a silently rounded number.
 */
export function fromWireNumber(text: string): number | bigint {
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

/** Base64 (how the JSON protocol sends B and BS) → bytes: a view over the decoded buffer, no second copy. */
function fromWireBinary(base64: string): Uint8Array {
  const buf = Buffer.from(base64, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * One attribute value. The members are tested most common first (the audit log is strings and
 * numbers); an object with none of them is an error, as it is for the SDK.
 */
export function fromWireValue(av: WireAttributeValue): NativeValue {
  const s = av.S;
  if (s !== undefined) return s;
  const n = av.N;
  if (n !== undefined) return fromWireNumber(n);
  const m = av.M;
  if (m !== undefined) return fromWireItem(m);
  const l = av.L;
  if (l !== undefined) {
    const out: NativeValue[] = new Array<NativeValue>(l.length);
    for (let i = 0; i < l.length; i++) out[i] = fromWireValue(l[i]!);
    return out;
  }
  if (av.BOOL !== undefined) return Boolean(av.BOOL);
  if (av.NULL !== undefined) return null;
  if (av.SS !== undefined) return new Set(av.SS);
  if (av.NS !== undefined) return new Set(av.NS.map(fromWireNumber));
  if (av.BS !== undefined) return new Set(av.BS.map(fromWireBinary));
  if (av.B !== undefined) return fromWireBinary(av.B);
  const keys = Object.keys(av);
  throw new Error(keys.length > 0 ? `Unsupported type passed: ${keys[0]}` : `No value defined: ${JSON.stringify(av)}`);
}

/** An item (or a map): every attribute converted; `__proto__` stays an ordinary attribute, never the object's prototype. */
export function fromWireItem(item: WireItem): NativeItem {
  const out: NativeItem = {};
  for (const k in item) {
    const v = fromWireValue(item[k]!);
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}
