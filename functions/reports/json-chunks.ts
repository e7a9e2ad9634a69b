// A large report as JSON in pieces: the text of JSON.stringify(value, null, 2), without ever holding it as one string.

/**
 * Whether JSON.stringify writes an object member: not undefined, a function or a symbol (nor a value
 * whose toJSON gives one of those). Asked without stringifying the member: the report's lists are
 * its whole size, and stringifying them here held a second copy of the report as one string.
 */
function written(v: unknown): boolean {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return false;
  const toJSON = typeof v === 'object' && v !== null ? (v as { toJSON?: unknown }).toJSON : undefined;
  return typeof toJSON === 'function' ? JSON.stringify(v) !== undefined : true;
}

/**
 * Yields the exact text of `JSON.stringify(value, null, 2)` for a plain object, one top-level member
 * at a time and one element at a time for top-level arrays: a compliance report over a long period
 * lists tens of thousands of promotions, and one string of all of them (plus its UTF-8 copy on the
 * way to stdout) is what made it the largest thing in memory.
 *
 * @example
 * for (const chunk of jsonChunks(report)) out.write(chunk);
 */
export function* jsonChunks(value: Record<string, unknown>): Generator<string> {
  const keys = Object.keys(value).filter((k) => written(value[k]));
  if (keys.length === 0) {
    yield '{}';
    return;
  }
  yield '{';
  for (const [i, key] of keys.entries()) {
    const member = value[key];
    yield `${i > 0 ? ',' : ''}\n  ${JSON.stringify(key)}: `;
    if (Array.isArray(member) && member.length > 0) {
      yield '[';
      for (const [j, element] of member.entries()) {
        // JSON.stringify writes undefined (and functions) in arrays as null.
        const text = JSON.stringify(element, null, 2) ?? 'null';
        yield `${j > 0 ? ',' : ''}\n    ${text.replace(/\n/g, '\n    ')}`;
      }
      yield '\n  ]';
    } else {
      yield JSON.stringify(member, null, 2).replace(/\n/g, '\n  ');
    }
  }
  yield '\n}';
}
