// Name patterns in the config: a glob (`release-*`, `team-a/**`) or a regular expression written `/…/flags`.
import picomatch from 'picomatch';

/** A pattern that matches repository names or tags. */
export type NameMatcher = (name: string) => boolean;

const REGEX_LITERAL = /^\/(.+)\/([dgimsuvy]*)$/s;

/** True for `/…/` and `/…/flags`; every other pattern is a glob. */
export function isRegexPattern(pattern: string): boolean {
  return REGEX_LITERAL.test(pattern);
}

/**
 * Checks a pattern. Returns `undefined` when it is valid, or the JavaScript error message when a
 * `/…/` regular expression does not compile.
 */
export function patternError(pattern: string): string | undefined {
  const m = REGEX_LITERAL.exec(pattern);
  if (!m) return undefined;
  return regexError(m[1] ?? '', m[2] ?? '');
}

/** The error of `new RegExp(source, flags)`, or undefined when it compiles. */
export function regexError(source: string, flags = ''): string | undefined {
  try {
    new RegExp(source, flags);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Compiles a pattern into a matcher. A regex is not anchored unless it says so (`/^v\d+$/`); a glob
 * matches the whole name, `*` stops at `/`, `**` crosses it.
 *
 * @example
 * compilePattern('release-*')('release-1.2') // true
 * compilePattern('/^v\\d+$/')('v12')          // true
 */
export function compilePattern(pattern: string): NameMatcher {
  const m = REGEX_LITERAL.exec(pattern);
  if (m) {
    // The `g` and `y` flags make `test` stateful; drop them so a matcher can be reused.
    const re = new RegExp(m[1] ?? '', (m[2] ?? '').replace(/[gy]/g, ''));
    return (name) => re.test(name);
  }
  const glob = picomatch(pattern, { dot: true });
  return (name) => glob(name);
}

/** True when any pattern matches and no exclusion does; an empty `include` matches everything. */
export function matchesAny(name: string, include: readonly string[], exclude: readonly string[] = []): boolean {
  const included = include.length === 0 || include.some((p) => compilePattern(p)(name));
  return included && !exclude.some((p) => compilePattern(p)(name));
}
