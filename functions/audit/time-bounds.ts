// Parses query time bounds: a Date, an ISO 8601 time, or a duration before now (`90s`, `30m`, `24h`, `7d`, `2w`).
import { AuditError } from './errors.ts';
import { normalizeTime } from './normalize.ts';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * Returns the bound in `toISOString()` form.
 *
 * @example
 * parseTimeBound('24h', new Date('2025-01-02T00:00:00Z')) // '2025-01-01T00:00:00.000Z'
 */
export function parseTimeBound(value: string | Date, now: Date, field = 'since'): string {
  if (typeof value === 'string') {
    const relative = /^(\d+)([smhdw])$/.exec(value.trim());
    if (relative) {
      const ms = Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
      return new Date(now.getTime() - ms).toISOString();
    }
    // A bare date means its midnight UTC.
    if (/^\d{4}-\d{2}-\d{2}$/.test(value.trim())) value = `${value.trim()}T00:00:00Z`;
  }
  try {
    return normalizeTime(value, field);
  } catch (err) {
    throw new AuditError(
      `Invalid audit query: ${field}: "${String(value)}" is not a date-time (use ISO 8601 such as 2025-01-31T12:00:00Z, a date, or a duration such as 24h)`,
      { code: 'AUDIT_QUERY_INVALID', cause: err },
    );
  }
}
