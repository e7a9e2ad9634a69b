// Seeded DynamoDB wire items with awkward values, for the canonical writers' tests (canonical-wire, page-scanner).
import type { WireItem } from '../../functions/dynamo/attribute-values.ts';

/** A seeded generator of awkward values: escapes, surrogates, -0, exponents, nesting, names that sort by code unit. */
export function* randomItems(count: number): Generator<WireItem> {
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const strings = ['', 'plain', 'quote " and \\ backslash', 'tab\tnew\nline\u0000nul', 'é ü 中文', '😀 pair', '\ud800 lone', '</script>', 'Z', 'a', 'B'];
  const numbers = ['0', '-0', '1', '-1.5', '0.1', '1.5e3', '2.5E-7', '123456789012345', '9007199254740991', '1.50', '00012'];
  const value = (depth: number): unknown => {
    const r = rand();
    if (r < 0.3) return { S: strings[Math.floor(rand() * strings.length)]! };
    if (r < 0.5) return { N: numbers[Math.floor(rand() * numbers.length)]! };
    if (r < 0.6) return { BOOL: rand() < 0.5 };
    if (r < 0.65) return { NULL: true };
    if (r < 0.8 && depth < 3) return { L: Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1)) };
    if (depth < 3) return { M: map(depth + 1) };
    return { S: 'leaf' };
  };
  const names = ['b', 'a', 'A', '_', 'aa', 'a b', 'é', '😀', '"q"', '10', '9', '__proto__'];
  const map = (depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const n of names) if (rand() < 0.4) Object.defineProperty(out, n, { value: value(depth), enumerable: true, writable: true, configurable: true });
    return out;
  };
  for (let i = 0; i < count; i++) yield { pk: { S: 'p' }, sk: { S: String(i) }, hash: { S: 'x' }, ...map(0) } as WireItem;
}

