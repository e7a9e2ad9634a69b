// `${VAR}` and `${VAR:-default}` in string values, replaced from an environment; `$${` writes a literal `${`.
import type { PathSegment } from './path.ts';

export interface InterpolationProblem {
  readonly path: readonly PathSegment[];
  readonly variable: string;
  readonly value: string;
}

const REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Returns a copy of `data` with references in string values replaced (keys are left alone).
 * A variable that is unset and has no default is reported and its reference left as written.
 */
export function interpolate(
  data: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { data: unknown; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') return replace(value, path);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return value;
  };
  const replace = (text: string, path: PathSegment[]): string =>
    text.replace(REFERENCE, (whole, escaped: string | undefined, name: string, fallback: string | undefined) => {
      if (escaped) return whole.slice(1);
      const set = env[name];
      if (set !== undefined && (set !== '' || fallback === undefined)) return set;
      if (fallback !== undefined) return fallback;
      problems.push({ path, variable: name, value: text });
      return whole;
    });
  return { data: walk(data, []), problems };
}
