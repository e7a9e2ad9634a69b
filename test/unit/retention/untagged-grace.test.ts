// The untagged grace period: a recent untagged manifest (a multi-arch push still in progress) is kept whatever the policy says.
import { describe, expect, it } from 'vitest';
import { parsePolicy, planRetention } from '../../../functions/retention/index.ts';
import { NOW, d, img } from './helpers.ts';

const untaggedPolicy = parsePolicy({ delete: { untagged: true } });
const ecrCount = parsePolicy({ rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] });

describe('untaggedGraceHours', () => {
  it.each([
    ['pushed 23 h ago, default 24 h grace', 23 / 24, undefined, 'keep', 'grace.untagged'],
    ['pushed 25 h ago, default 24 h grace', 25 / 24, undefined, 'expire', 'delete.untagged'],
    ['pushed 1 h ago, grace turned off', 1 / 24, 0, 'expire', 'delete.untagged'],
    ['pushed 47 h ago, 48 h grace', 47 / 24, 48, 'keep', 'grace.untagged'],
  ] as const)('an untagged image %s', (_name, days, grace, action, rule) => {
    // Act
    const plan = planRetention({ repository: 'r', images: [img('U', [], days), img('T', ['v1'], 100)] }, untaggedPolicy, {
      now: NOW, force: true, ...(grace !== undefined ? { untaggedGraceHours: grace } : {}),
    });

    // Assess
    const u = plan.decisions.find((x) => x.digest === d('U'))!;
    expect({ action: u.action, rule: u.rule }).toEqual({ action, rule });
    if (action === 'keep') expect(u.reason).toMatch(/within the \d+ h grace period/);
  });

  it('holds for every policy format (ECR count over untagged) and keeps the children a kept untagged index names', () => {
    // Prepare: an old untagged image, a fresh untagged index (pushed by digest) with one child, and a newer untagged image.
    const images = [img('OLD', [], 30), img('IDX', [], 0.1, { manifests: [d('C')] }), img('C', [], 0.1), img('NEWER', [], 0.05)];

    // Act
    const plan = planRetention({ repository: 'r', images }, ecrCount, { now: NOW, force: true });

    // Assess: count 1 keeps only NEWER; the grace keeps the index too, and its child follows.
    const byName = Object.fromEntries(plan.decisions.map((x) => [x.digest, x.rule]));
    expect(byName[d('IDX')]).toBe('grace.untagged');
    expect(byName[d('C')]).toBe('graph.index-child');
    expect(plan.expire.map((x) => x.digest)).toEqual([d('OLD')]);
  });

  it('refuses a negative grace', () => {
    expect(() => planRetention({ repository: 'r', images: [] }, untaggedPolicy, { now: NOW, untaggedGraceHours: -1 })).toThrow(/untaggedGraceHours must be 0 or more/);
  });
});
