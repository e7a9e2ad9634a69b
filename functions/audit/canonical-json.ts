// Canonical JSON for hashing: object keys sorted by code unit, no whitespace, undefined members dropped.
//
// Same spirit as RFC 8785 (JCS) for the values the audit log stores: strings and finite numbers are
// serialised by JSON.stringify (ECMAScript number-to-string, which JCS also uses); keys are sorted by
// UTF-16 code units. Non-JSON values are rejected rather than silently coerced, so a hash never covers
// something that DynamoDB would store differently.

/**
 * Serialises `value` canonically.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return canonicalJsonOmitting(value, undefined);
}

/**
 * `canonicalJson` of `value` without its top-level member `omit`: what the audit hash covers (every
 * field but `hash`), without copying the record first.
 */
export function canonicalJsonOmitting(value: unknown, omit: string | undefined): string {
  try {
    if (omit === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return serialise(value);
    return object(value as Record<string, unknown>, omit);
  } catch (err) {
    if (err instanceof NotJson) throw new TypeError(`canonicalJson: $${err.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')} is ${err.what}`);
    throw err;
  }
}

/**
 * A value JSON cannot represent, with the keys and indexes from it back to the root added as the
 * error unwinds: the verifier hashes a million records, so no path is kept while nothing is wrong.
 */
class NotJson extends Error {
  readonly path: (string | number)[] = [];
  constructor(readonly what: string) {
    super(what);
  }
}

function serialise(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new NotJson(`${value}, not a finite number`);
      // -0 === 0: written as 0 (String() is JSON.stringify for finite numbers, and gives "0" for -0 too).
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return array(value);
      return object(value as Record<string, unknown>, undefined);
    default:
      throw new NotJson(`a ${typeof value}, which JSON cannot represent`);
  }
}

function array(value: readonly unknown[]): string {
  let out = '[';
  for (let i = 0; i < value.length; i += 1) {
    const v = value[i];
    if (i > 0) out += ',';
    if (v === undefined) {
      out += 'null';
      continue;
    }
    try {
      out += serialise(v);
    } catch (err) {
      if (err instanceof NotJson) err.path.unshift(i);
      throw err;
    }
  }
  return out + ']';
}

function object(record: Record<string, unknown>, omit: string | undefined): string {
  const proto = Object.getPrototypeOf(record) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new NotJson(`a ${(record as object).constructor?.name ?? 'non-plain object'}, not a plain object`);
  // The default sort compares UTF-16 code units, which is the order wanted.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i += 1) {
    const k = keys[i]!;
    const v = record[k];
    if (v === undefined || k === omit) continue;
    if (out.length > 1) out += ',';
    try {
      out += JSON.stringify(k) + ':' + serialise(v);
    } catch (err) {
      if (err instanceof NotJson) err.path.unshift(k);
      throw err;
    }
  }
  return out + '}';
}
