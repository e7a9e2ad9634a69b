// Small zod helpers shared by the config schema: strict objects that list their fields, and custom issues.
import * as z from 'zod';
import { oneOf, quote } from './errors.ts';

/**
 * A strict object whose "unknown field" error lists the fields it knows, so that a typo gets
 * `expected one of: …` (and a "did you mean" from the issue mapper).
 */
export function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? oneOf(known) : undefined),
  });
}

/**
 * Adds an issue whose `problem` becomes the message and whose `expected` says what would do.
 * `redact` hides the value (it may hold a secret).
 */
export function addProblem(
  ctx: z.RefinementCtx,
  problem: string,
  expected: string,
  path: readonly PropertyKey[] = [],
  redact = false,
): void {
  ctx.addIssue({ code: 'custom', message: expected, params: { problem, redact }, path: [...path] as (string | number)[] });
}

/** Accepts a number where YAML turned an unquoted digit string into one (account ids). */
export function digitString(pattern: RegExp, expected: string) {
  return z.preprocess(
    (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : v),
    z.string({ error: expected }).regex(pattern, { error: expected }),
  );
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** True for localhost, 127.0.0.0/8 and [::1]: plain http is allowed there without `insecure: true`. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/** A parsed http(s) URL, or a reason it is not one. */
export function parseHttpUrl(text: string): { url: URL } | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `${JSON.stringify(text)} is not a URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { problem: `${JSON.stringify(text)} uses ${url.protocol.slice(0, -1)}://` };
  }
  return { url };
}

/** An https URL (plain http only on loopback), as webhooks and test hooks need. */
export const httpsUrl = z.string({ error: 'an https:// URL' }).superRefine((text, ctx) => {
  const parsed = parseHttpUrl(text);
  if ('problem' in parsed) return addProblem(ctx, parsed.problem, 'an https:// URL');
  if (parsed.url.protocol === 'http:' && !isLoopbackHost(parsed.url.hostname)) {
    addProblem(ctx, `${quote(text)} uses plain http on a non-loopback host`, 'an https:// URL (http:// only on 127.0.0.1 or localhost)');
  }
});
