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
  path.length = 0;
  return serialise(value, omit);
}

/**
 * Keys and indexes from the root to the value being written, only read to name it in an error: the
 * verifier hashes a million records, so the path is not built as a string for every member.
 */
const path: (string | number)[] = [];

function where(): string {
  return `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
}

function serialise(value: unknown, omit: string | undefined): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${where()} is ${value}, not a finite number`);
      // -0 would print as 0 anyway; normalise explicitly so the intent is visible. String() is JSON.stringify for finite numbers.
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i += 1) {
          const v: unknown = value[i];
          if (i > 0) out += ',';
          if (v === undefined) out += 'null';
          else {
            path.push(i);
            out += serialise(v, undefined);
            path.pop();
          }
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: ${where()} is a ${(value as object).constructor?.name ?? 'non-plain object'}, not a plain object`);
      }
      const record = value as Record<string, unknown>;
      // The default sort compares UTF-16 code units, which is the order wanted.
      const keys = Object.keys(record).sort();
      let out = '{';
      for (const k of keys) {
        const v = record[k];
        if (v === undefined || k === omit) continue;
        if (out.length > 1) out += ',';
        path.push(k);
        out += `${JSON.stringify(k)}:${serialise(v, undefined)}`;
        path.pop();
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${where()} is a ${typeof value}, which JSON cannot represent`);
  }
}
