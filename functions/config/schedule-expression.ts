// EventBridge Scheduler expressions as the config names them: checked at validation, read by the CDK
// stack (as is) and by the local stack (which runs what it can with timers).

/** What a schedule expression means, for the local stack's timers. */
export type ParsedSchedule =
  | { readonly kind: 'rate'; readonly minutes: number }
  | { readonly kind: 'cron'; readonly fields: readonly string[]; readonly daily?: { readonly hour: number; readonly minute: number } };

const RATE = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/;
const CRON = /^cron\((.+)\)$/;
const UNIT_MINUTES = { minute: 1, hour: 60, day: 1440 } as const;

/**
 * Parses `rate(15 minutes)` or `cron(0 3 * * ? *)` with EventBridge Scheduler's rules: a rate's unit
 * is singular for 1 and plural otherwise; a cron has six fields (minutes hours day-of-month month
 * day-of-week year), and one of day-of-month and day-of-week is `?`. A cron that fires once a day at
 * a fixed time (`M H * * ? *`) also carries that time.
 *
 * @returns the parse, or `{ problem }` saying what is wrong in the user's words
 * @example parseScheduleExpression('rate(1 hour)') // { kind: 'rate', minutes: 60 }
 */
export function parseScheduleExpression(expression: string): ParsedSchedule | { readonly problem: string } {
  const text = expression.trim();
  const rate = RATE.exec(text);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) return { problem: `${JSON.stringify(expression)} has a rate of 0` };
    const singular = !unit.endsWith('s');
    if ((value === 1) !== singular) {
      return { problem: `${JSON.stringify(expression)} must say "${value} ${value === 1 ? unit.replace(/s$/, '') : `${unit}s`}" (singular for 1, plural otherwise)` };
    }
    return { kind: 'rate', minutes: value * UNIT_MINUTES[unit.replace(/s$/, '') as keyof typeof UNIT_MINUTES] };
  }
  const cron = CRON.exec(text);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) return { problem: `${JSON.stringify(expression)} has ${fields.length} cron fields, not 6 (minutes hours day-of-month month day-of-week year)` };
    const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string, string];
    if ((dom === '?') === (dow === '?')) return { problem: `${JSON.stringify(expression)} must have "?" in exactly one of day-of-month and day-of-week` };
    const daily = /^\d{1,2}$/.test(minute) && /^\d{1,2}$/.test(hour) && dom === '*' && month === '*' && dow === '?' && fields[5] === '*';
    const h = Number(hour);
    const m = Number(minute);
    if (daily && (h > 23 || m > 59)) return { problem: `${JSON.stringify(expression)} names ${hour}:${minute}, not a time of day` };
    return daily ? { kind: 'cron', fields, daily: { hour: h, minute: m } } : { kind: 'cron', fields };
  }
  return { problem: `${JSON.stringify(expression)} is not rate(...) nor cron(...)` };
}

export const SCHEDULE_EXPECTED = 'an EventBridge Scheduler expression such as rate(15 minutes) or cron(0 3 * * ? *)';
