// Retention without a trustworthy image order: count and age rules decide only what holds wherever the unknown-time images fall; the rest is blocked.
import { describe, expect, it } from 'vitest';
import { parsePolicy, planRetention } from '../../../functions/retention/index.ts';
import { formatPlanTable } from '../../../bin/commands/retention.ts';
import { toPlanJson } from '../../../functions/retention/plan-json.ts';
import { trustedTime } from '../../../functions/retention/created-time.ts';
import { MAX_SINGLE_CHECKS, ORDER_UNKNOWN_RULE } from '../../../functions/retention/unknown-order.ts';
import type { InventoryImage, TimeSource } from '../../../functions/retention/types.ts';
import { NOW, img, namer } from './helpers.ts';

const TAGS = ['v1.0.1', 'v1.0.2', 'v1.0.3', 'v1.0.4', 'v1.0.5'];
const names = namer([...TAGS, 'old-build', 'untagged']);
const GITLAB = parsePolicy({ keep_n: 3, name_regex: '.*' });
const ECR = parsePolicy({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 3 }, action: { type: 'expire' } }] });

/** v1.0.1 … v1.0.5, built one day apart (v1.0.5 newest); `known` says which carry a time and from where. */
function releases(known: Partial<Record<string, TimeSource>>): InventoryImage[] {
  return TAGS.map((tag, i) => {
    const source = known[tag] ?? 'unknown';
    // Unknown: the sweep's placeholder (now), which the planner must not rank.
    return img(tag, [tag], source === 'unknown' ? 0 : 10 - i, { timeSource: source });
  });
}

function outcome(images: InventoryImage[], policy: ReturnType<typeof parsePolicy>, extra: Parameters<typeof planRetention>[2] | object = {}) {
  const plan = planRetention({ repository: 'team/app', images }, policy, { now: NOW, force: true, ...extra });
  return {
    plan,
    expire: plan.expire.map((e) => names(e.digest)).sort(),
    blocked: plan.orderBlocked.map(names).sort(),
    kept: plan.keep.filter((k) => k.rule !== ORDER_UNKNOWN_RULE).map((k) => names(k.digest)).sort(),
  };
}

const allKnown = Object.fromEntries(TAGS.map((t) => [t, 'config-created'])) as Record<string, TimeSource>;

describe('count rules without push times (issue: GitLab keep_n: 3 deleted v1.0.4 and v1.0.5)', () => {
  it.each([
    ['GitLab keep_n: 3', GITLAB],
    ['ECR imageCountMoreThan: 3', ECR],
  ])('%s', (_name, policy) => {
    // Every image dated from its config: the two oldest go, the three newest stay.
    expect(outcome(releases(allKnown), policy)).toMatchObject({ expire: ['v1.0.1', 'v1.0.2'], blocked: [], kept: ['v1.0.3', 'v1.0.4', 'v1.0.5'] });
    // No time at all: nothing can be ranked, so nothing is deleted and every deletion is blocked with its reason.
    const none = outcome(releases({}), policy);
    expect(none).toMatchObject({ expire: [], blocked: TAGS });
    expect(none.plan.keep.find((k) => k.tags[0] === 'v1.0.5')!.reason).toMatch(/no trustworthy time for this image .*orders images by time, so it cannot tell whether this one goes; kept rather than guessed/);
    expect(none.plan.warnings.join('\n')).toMatch(/5 image\(s\) have no trustworthy time .* 5 deletion\(s\) are blocked \(rule order\.unknown\)/);
    // v1.0.3…v1.0.5 dated, v1.0.1 and v1.0.2 not: only the newest dated one is certainly among the 3 newest.
    const mixed = outcome(releases({ 'v1.0.3': 'annotation', 'v1.0.4': 'config-created', 'v1.0.5': 'config-label' }), policy);
    expect(mixed).toMatchObject({ expire: [], kept: ['v1.0.5'], blocked: ['v1.0.1', 'v1.0.2', 'v1.0.3', 'v1.0.4'] });
    expect(mixed.plan.keep.find((k) => k.tags[0] === 'v1.0.4')!.reason).toMatch(/its rank depends on 2 image\(s\) with no trustworthy time \(v1\.0\.1, v1\.0\.2\)/);
  });

  it.each([
    ['GitLab keep_n: 3', GITLAB],
    ['ECR imageCountMoreThan: 3', ECR],
  ])('%s: an image with at least 3 dated images newer than it goes even beside an undated one', (_name, policy) => {
    const images = [...releases(allKnown), img('old-build', ['old-build'], 0, { timeSource: 'unknown' })];
    expect(outcome(images, policy)).toMatchObject({ expire: ['v1.0.1', 'v1.0.2'], kept: ['v1.0.4', 'v1.0.5'], blocked: ['old-build', 'v1.0.3'] });
  });
});

describe('other rules over unknown times', () => {
  it('an age rule never ages an undated image, and ages dated ones as usual', () => {
    const policy = parsePolicy({ delete: { olderThanDays: 7 } });
    const images = [img('v1.0.1', ['v1.0.1'], 30, { timeSource: 'config-created' }), img('v1.0.2', ['v1.0.2'], 1, { timeSource: 'push-log' }), img('v1.0.3', ['v1.0.3'], 0, { timeSource: 'unknown' })];
    expect(outcome(images, policy)).toMatchObject({ expire: ['v1.0.1'], kept: ['v1.0.2'], blocked: ['v1.0.3'] });
  });

  it('a rule that does not look at time still decides: GitLab name_regex without keep_n or older_than', () => {
    const images = releases({});
    expect(outcome(images, parsePolicy({ name_regex: 'v1\\.0\\.[12]' }))).toMatchObject({ expire: ['v1.0.1', 'v1.0.2'], blocked: [], kept: ['v1.0.3', 'v1.0.4', 'v1.0.5'] });
  });

  it('an untagged image without a push time is kept by the grace period, which says it cannot be checked', () => {
    const images = [img('untagged', [], 0, { timeSource: 'unknown' }), img('v1.0.1', ['v1.0.1'], 3)];
    const { plan } = outcome(images, parsePolicy({ delete: { untagged: true } }));
    expect(plan.expire).toEqual([]);
    expect(plan.keep.find((k) => k.tags.length === 0)).toMatchObject({ rule: 'grace.untagged', reason: expect.stringMatching(/no known push time: the 24 h grace period cannot be checked/) });
  });

  it('a lock wins over a blocked decision, and is not reported as blocked', () => {
    const images = releases({});
    const locked = images.find((i) => i.tags[0] === 'v1.0.2')!.digest;
    const { plan, blocked } = outcome(images, GITLAB, { lockedDigests: [locked] });
    expect(blocked).toEqual(['v1.0.1', 'v1.0.3', 'v1.0.4', 'v1.0.5']);
    expect(plan.decisions.find((x) => x.digest === locked)?.rule).toBe('lock');
  });

  it(`past ${MAX_SINGLE_CHECKS} undated images nothing undated expires by a count rule`, () => {
    const many = Array.from({ length: MAX_SINGLE_CHECKS + 5 }, (_, i) => img(`b${i}`, [`b${i}`], 0, { timeSource: 'unknown' as const }));
    const plan = planRetention({ repository: 'r', images: many }, GITLAB, { now: NOW, force: true });
    expect(plan.expire).toEqual([]);
    // The 3 that keep_n keeps when every undated image shares one time are simply kept (keeping is always safe).
    expect(plan.orderBlocked).toHaveLength(many.length - 3);
    expect(plan.keep[0]!.reason).toMatch(/too many to check one by one/);
  });

  it('the plan and its JSON say where each time came from; inventories without timeSource are registry times', () => {
    const images = [img('v1.0.1', ['v1.0.1'], 2), img('v1.0.2', ['v1.0.2'], 1, { timeSource: 'config-created' }), img('v1.0.3', ['v1.0.3'], 0, { timeSource: 'unknown' })];
    const { plan } = outcome(images, GITLAB);
    expect(Object.fromEntries(plan.decisions.map((x) => [names(x.digest), x.timeSource]))).toEqual({ 'v1.0.1': 'registry', 'v1.0.2': 'config-created', 'v1.0.3': 'unknown' });
    const json = toPlanJson(plan);
    expect(Object.values(json.timeSources).sort()).toEqual(['config-created', 'registry', 'unknown']);
    expect(json.orderBlocked).toEqual([]);
    expect(formatPlanTable(plan)).toMatch(/times from: unknown 1, config-created 1, registry 1/);
    expect(formatPlanTable(outcome(releases({}), GITLAB).plan)).toMatch(/order\.unknown +no trustworthy time[\s\S]*BLOCKED for want of an image order: 5 deletion\(s\) kept/);
    // Without unknown times the plan is unchanged: no warning, nothing blocked.
    expect(outcome(releases(allKnown), GITLAB).plan.warnings.filter((w) => /trustworthy/.test(w))).toEqual([]);
  });
});

describe('trustedTime', () => {
  const now = new Date('2026-02-01T00:00:00Z');
  it.each([
    ['2025-12-24T10:00:00Z', { at: '2025-12-24T10:00:00.000Z' }],
    ['2025-12-24T11:00:00+01:00', { at: '2025-12-24T10:00:00.000Z' }],
    ['1970-01-01T00:00:00Z', { placeholder: true }],
    ['1980-01-01T00:00:00Z', { placeholder: true }],
    ['2027-06-01T00:00:00Z', { placeholder: true }],
    ['2026-02-01T12:00:00Z', { at: '2026-02-01T12:00:00.000Z' }],
    ['yesterday', {}],
    ['', {}],
    [42, {}],
  ])('%j → %j', (value, expected) => {
    expect(trustedTime(value, now)).toEqual(expected);
  });
});
