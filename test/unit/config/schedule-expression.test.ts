import { describe, expect, it } from 'vitest';
import { parseScheduleExpression } from '../../../functions/config/schedule-expression.ts';

describe('parseScheduleExpression (EventBridge Scheduler rules)', () => {
  it.each([
    ['rate(1 minute)', { kind: 'rate', minutes: 1 }],
    ['rate(15 minutes)', { kind: 'rate', minutes: 15 }],
    ['rate(1 hour)', { kind: 'rate', minutes: 60 }],
    ['rate(2 days)', { kind: 'rate', minutes: 2880 }],
    ['cron(0 3 * * ? *)', { kind: 'cron', fields: ['0', '3', '*', '*', '?', '*'], daily: { hour: 3, minute: 0 } }],
    ['cron(30 2 * * ? *)', { kind: 'cron', fields: ['30', '2', '*', '*', '?', '*'], daily: { hour: 2, minute: 30 } }],
    ['cron(0 3 ? * MON *)', { kind: 'cron', fields: ['0', '3', '?', '*', 'MON', '*'] }],
    ['cron(0/15 * * * ? *)', { kind: 'cron', fields: ['0/15', '*', '*', '*', '?', '*'] }],
  ])('%s', (text, parsed) => {
    expect(parseScheduleExpression(text)).toEqual(parsed);
  });

  it.each([
    ['rate(1 minutes)', /must say "1 minute" \(singular for 1, plural otherwise\)/],
    ['rate(5 hour)', /must say "5 hours"/],
    ['rate(0 minutes)', /a rate of 0/],
    ['rate(5 weeks)', /is not rate\(\.\.\.\) nor cron\(\.\.\.\)/],
    ['cron(0 3 * * *)', /has 5 cron fields, not 6/],
    ['cron(0 3 * * * *)', /"\?" in exactly one of day-of-month and day-of-week/],
    ['cron(0 3 ? * ? *)', /"\?" in exactly one of/],
    ['cron(75 3 * * ? *)', /names 3:75, not a time of day/],
    ['03:00', /"03:00" is not rate\(\.\.\.\) nor cron\(\.\.\.\)/],
  ])('%s is refused with the rule it breaks', (text, problem) => {
    const parsed = parseScheduleExpression(text);
    expect('problem' in parsed && parsed.problem).toMatch(problem);
  });
});
