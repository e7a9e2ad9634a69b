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

/** Elements of a top-level array stringified at a time (a few hundred kB of a compliance report's promotions). */
const ELEMENTS_PER_CHUNK = 256;
/** What `JSON.stringify({ a: [x, …] }, null, 2)` writes around its elements (each then starts with `\n    `). */
const WRAPPER_HEAD = '{\n  "a": [';
const WRAPPER_TAIL = '\n  ]\n}';

/**
 * Yields the exact text of `JSON.stringify(value, null, 2)` for a plain object, one top-level member
 * at a time and a few hundred elements at a time for top-level arrays: a compliance report over a long period
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
      for (let j = 0; j < member.length; j += ELEMENTS_PER_CHUNK) {
        // Stringified inside a two-level wrapper, its elements come out indented as they are in the whole
        // text, with their separators; the wrapper's own text is cut off. This is native work only: a
        // replace of every newline of every element had been half of writing a 117 MB report.
        const text = JSON.stringify({ a: member.slice(j, j + ELEMENTS_PER_CHUNK) }, null, 2);
        yield `${j > 0 ? ',' : ''}${text.slice(WRAPPER_HEAD.length, text.length - WRAPPER_TAIL.length)}`;
      }
      yield '\n  ]';
    } else {
      yield JSON.stringify(member, null, 2).replace(/\n/g, '\n  ');
    }
  }
  yield '\n}';
}
