// Turns zod issues into located config problems: a message about the bad value, and what was expected.
import type { z } from 'zod';
import { quote } from './errors.ts';
import { valueAt, type PathSegment } from './path.ts';

/** A problem before the file name and line are attached. */
export interface RawIssue {
  readonly path: readonly PathSegment[];
  readonly value: unknown;
  readonly message: string;
  readonly expected?: string;
}

export const REDACTED = '<redacted>';

/**
 * The per-parse error map: the default "expected" text of each issue kind. Error strings set in
 * the schema take precedence, and are written as "expected" texts too.
 */
export const expectedText: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return typeWord(iss.expected);
    case 'invalid_value':
      return iss.values.length === 1 ? JSON.stringify(iss.values[0]) : `one of: ${iss.values.map(String).join(', ')}`;
    case 'too_small':
      return bound('at least', iss.origin, iss.minimum, iss.inclusive);
    case 'too_big':
      return bound('at most', iss.origin, iss.maximum, iss.inclusive);
    case 'invalid_format':
      return `a valid ${iss.format}`;
    case 'not_multiple_of':
      return `a multiple of ${String(iss.divisor)}`;
    case 'unrecognized_keys':
      return 'no other fields';
    case 'invalid_union':
      return 'one of the documented forms';
    default:
      return 'a valid value';
  }
};

/** Maps one zod issue (parsed with `expectedText`) to raw issues; an unknown-keys issue yields one per key. */
export function fromZodIssue(issue: z.core.$ZodIssue, data: unknown): RawIssue[] {
  const path = issue.path.filter((k): k is PathSegment => typeof k !== 'symbol');
  const value = valueAt(data, path);
  const expected = issue.message;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = expected.startsWith('one of: ') ? expected.slice('one of: '.length).split(', ') : [];
      return issue.keys.map((key) => ({
        path: [...path, key],
        // The key is the bad value; its own value is not echoed (a misspelt "pasword" holds a secret).
        value: key,
        message: `unknown field ${quote(key)}${didYouMean(key, known)}`,
        expected,
      }));
    }
    case 'invalid_union':
      if (value === undefined) return [{ path, value, message: 'is missing', expected }];
      if ('discriminator' in issue && issue.discriminator === 'kind') {
        return [{ path, value, message: `unknown registry kind ${quote(value)}`, expected }];
      }
      return [{ path, value, message: `${quote(value)} is not valid here`, expected }];
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? expected;
      return [{ path, value: path.at(-1), message: `${quote(path.at(-1))} is not a valid name`, expected: inner }];
    }
    case 'custom': {
      const params = (issue.params ?? {}) as { problem?: string; redact?: boolean };
      return [{ path, value: params.redact ? REDACTED : value, message: params.problem ?? `${quote(value)} is not valid`, expected }];
    }
    case 'invalid_type':
      if (value === undefined) return [{ path, value, message: 'is missing', expected }];
      // `key:` with nothing after it is YAML null.
      if (value === null) return [{ path, value, message: 'is empty', expected }];
      return [{ path, value, message: `${quote(value)} is ${typeOf(value)}`, expected }];
    case 'too_small':
      return [{ path, value, message: `${quote(value)} is too ${issue.origin === 'array' ? 'short' : 'small'}`, expected }];
    case 'too_big':
      return [{ path, value, message: `${quote(value)} is too ${issue.origin === 'array' ? 'long' : 'large'}`, expected }];
    default:
      return [{ path, value, message: `${quote(value)} is not valid`, expected }];
  }
}

function typeWord(type: string): string {
  switch (type) {
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'int':
      return 'a whole number';
    default:
      return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
  }
}

function bound(word: string, origin: string, limit: unknown, inclusive: boolean | undefined): string {
  const n = Number(limit);
  if (origin === 'array' || origin === 'set') return `${word} ${n} ${n === 1 ? 'item' : 'items'}`;
  if (origin === 'string') return `${word} ${n} ${n === 1 ? 'character' : 'characters'}`;
  const op = word === 'at least' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
  return `a number ${op} ${String(limit)}`;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

/** `, did you mean "credentials"?` when a known field is within two edits. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best === undefined ? '' : `, did you mean ${quote(best)}?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
