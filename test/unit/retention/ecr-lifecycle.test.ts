// ECR lifecycle policies: AWS's documented examples reproduced with their documented outcomes, and validation.
import { describe, expect, it } from 'vitest';
import { AWS_RULES, PolicyError, parsePolicy, planRetention } from '../../../functions/retention/index.ts';
import type { InventoryImage } from '../../../functions/retention/types.ts';
import { NOW, img, namer } from './helpers.ts';

function expired(images: InventoryImage[], policy: unknown): string[] {
  const names = namer(['A', 'B', 'C', 'D', 'E', 'F']);
  const plan = planRetention({ repository: 'app', images }, parsePolicy(policy), { now: NOW, force: true });
  return plan.expire.map((e) => names(e.digest)).sort();
}

const rule = (rulePriority: number, selection: Record<string, unknown>, action: Record<string, unknown> = { type: 'expire' }) => ({
  rulePriority,
  description: `Rule ${rulePriority}`,
  selection,
  action,
});

// https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
describe('ECR lifecycle policy: documented examples', () => {
  const multiRepo = () => [img('A', ['beta-1', 'prod-1'], 10), img('B', ['beta-2', 'prod-2'], 9), img('C', ['beta-3'], 8)];

  it.each([
    {
      name: 'filtering on multiple rules, example A: B is skipped because rule 1 saw it',
      images: multiRepo(),
      rules: [
        rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'tagged', tagPatternList: ['beta*'], countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
      expected: ['A'],
    },
    {
      name: 'filtering on multiple rules, example A with tagPrefixList (older doc version)',
      images: multiRepo(),
      rules: [
        rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'tagged', tagPrefixList: ['beta'], countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
      expected: ['A'],
    },
    {
      name: 'filtering on multiple rules, example B: priorities swapped',
      images: multiRepo(),
      rules: [
        rule(1, { tagStatus: 'tagged', tagPatternList: ['beta*'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
      expected: ['A', 'B'],
    },
    {
      name: 'multiple tags in a single rule, example A: only images with all patterns (C, F), older than 5 days',
      images: [
        img('A', ['alpha-1'], 12),
        img('B', ['beta-1'], 11),
        img('C', ['alpha-2', 'beta-2'], 10),
        img('D', ['alpha-3'], 4),
        img('E', ['beta-3'], 3),
        img('F', ['alpha-4', 'beta-4'], 2),
      ],
      rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*', 'beta*'], countType: 'sinceImagePushed', countNumber: 5, countUnit: 'days' })],
      expected: ['C'],
    },
    {
      name: 'multiple tags in a single rule, example B: tags are not exclusive',
      images: [img('A', ['alpha-1', 'beta-1', 'gamma-1'], 10), img('B', ['alpha-2', 'beta-2'], 9), img('C', ['alpha-3', 'beta-3', 'gamma-2'], 8)],
      rules: [rule(1, { tagStatus: 'tagged', tagPrefixList: ['alpha', 'beta'], countType: 'imageCountMoreThan', countNumber: 1 })],
      expected: ['A', 'B'],
    },
    {
      name: 'all images, example A: keep only the newest image',
      images: [img('A', ['alpha-1'], 4), img('B', ['beta-1'], 3), img('C', [], 2), img('D', ['alpha-2'], 1)],
      rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })],
      expected: ['A', 'B', 'C'],
    },
    {
      // The doc pushes D and E "1 day ago" and calls E the newest; E is pushed a minute later here to say so.
      name: 'all images, example B: rule 3 may only mark D, the others were identified by rules 1 and 2',
      images: [img('A', ['alpha-1', 'beta-1'], 4), img('B', [], 3), img('C', ['alpha-2'], 2), img('D', ['git-hash'], 1), img('E', [], 1 - 1 / 1440)],
      rules: [
        rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }),
        rule(3, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
      expected: ['A', 'B', 'D'],
    },
    {
      name: 'filtering on image age: prod* older than 14 days',
      images: [img('A', ['prod-1'], 20), img('B', ['prod-2'], 14 - 1 / 24), img('C', ['dev-1'], 30)],
      rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 })],
      expected: ['A'],
    },
    {
      name: 'filtering on image count: keep only one untagged image',
      images: [img('A', [], 3), img('B', [], 2), img('C', [], 1), img('D', ['v1'], 9)],
      rules: [rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 })],
      expected: ['A', 'B'],
    },
  ])('$name', ({ images, rules, expected }) => {
    // Prepare: the documented repository and policy. Act + Assess: the documented expiries.
    expect(expired(images, { rules })).toEqual(expected);
  });

  it('names the rule that expired each image and why the others stay', () => {
    // Prepare
    const policy = parsePolicy({
      rules: [
        rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'imageCountMoreThan', countNumber: 1 }),
        rule(2, { tagStatus: 'tagged', tagPatternList: ['beta*'], countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
    });
    // Act
    const plan = planRetention({ repository: 'app', images: multiRepo() }, policy, { now: NOW, force: true });
    // Assess
    const names = namer(['A', 'B', 'C']);
    const byName = Object.fromEntries(plan.decisions.map((x) => [names(x.digest), x]));
    expect(byName.A).toMatchObject({ action: 'expire', rule: 'ecr:rule-1' });
    expect(byName.A?.reason).toMatch(/rule 1 "Rule 1": number 2 by push time among 2 matching images, more than 1/);
    expect(byName.B).toMatchObject({ action: 'keep', rule: 'ecr:rule-1' });
    expect(byName.C).toMatchObject({ action: 'keep', rule: 'ecr:rule-2' });
  });

  it('evaluates sinceImagePulled transitions with pushedAt for never-pulled images, and keeps them with a warning', () => {
    // Prepare
    const images = [
      img('A', ['v1'], 200, { lastPulledAt: '2024-05-30T00:00:00Z' }),
      img('B', ['v2'], 200),
      img('C', ['v3'], 10),
    ];
    const policy = parsePolicy({
      rules: [rule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 }, { type: 'transition', targetStorageClass: 'archive' })],
    });
    // Act
    const plan = planRetention({ repository: 'app', images }, policy, { now: NOW });
    // Assess
    expect(plan.expire).toEqual([]);
    const b = plan.keep.find((k) => k.digest === images[1]?.digest);
    expect(b?.reason).toMatch(/would transition it to archive storage \(never pulled, pushed 200 days ago/);
    expect(plan.warnings.join('\n')).toMatch(/rule 1 "Rule 1" would transition 1 image\(s\) to ECR archive storage; regman does not archive/);
  });

  it('accepts sinceImageTransitioned on archive and says it selects nothing in an inventory without storage classes', () => {
    const policy = parsePolicy({
      rules: [rule(1, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 })],
    });
    const plan = planRetention({ repository: 'app', images: [img('A', ['v1'], 900)] }, policy, { now: NOW });
    expect(plan.expire).toEqual([]);
    expect(plan.warnings[0]).toMatch(/no archive storage class, so it selects nothing/);
  });

  it('does not let an archive-class rule shield standard images from a lower-priority expire rule', () => {
    // "The rule will only select images of this storage class": rule 1 identifies no standard image.
    const policy = parsePolicy({
      rules: [
        rule(1, { tagStatus: 'tagged', tagPatternList: ['v*'], storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 }),
        rule(2, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
      ],
    });
    const plan = planRetention({ repository: 'app', images: [img('A', ['v1'], 900), img('B', ['v2'], 1)] }, policy, { now: NOW, force: true });
    expect(plan.expire.map((e) => e.rule)).toEqual(['ecr:rule-2']);
  });

  it('reads the `aws ecr get-lifecycle-policy` output with its lifecyclePolicyText string', () => {
    const text = JSON.stringify({ rules: [rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 })] });
    const policy = parsePolicy({ registryId: '123456789012', repositoryName: 'app', lifecyclePolicyText: text });
    expect(policy).toMatchObject({ format: 'ecr', rules: [{ rulePriority: 1 }] });
  });
});

describe('ECR lifecycle policy: invalid policies name the AWS rule they break', () => {
  const ok = { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 };
  it.each([
    { name: 'duplicate rulePriority', rules: [rule(1, ok), rule(1, { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 1 })], path: 'rules[1].rulePriority', quote: AWS_RULES.priorityUnique },
    { name: 'rulePriority zero', rules: [rule(0, ok)], path: 'rules[0].rulePriority', quote: AWS_RULES.priorityInteger },
    { name: 'any not last', rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 }), rule(2, ok)], path: 'rules[0].rulePriority', quote: AWS_RULES.anyLast },
    { name: 'tagged without a list', rules: [rule(1, { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 })], path: 'rules[0].selection', quote: AWS_RULES.taggedNeedsList },
    { name: 'tagged with both lists', rules: [rule(1, { tagStatus: 'tagged', tagPrefixList: ['a'], tagPatternList: ['a*'], countType: 'imageCountMoreThan', countNumber: 1 })], path: 'rules[0].selection', quote: AWS_RULES.prefixOnlyTagged },
    { name: 'untagged with a list', rules: [rule(1, { tagStatus: 'untagged', tagPrefixList: ['a'], countType: 'imageCountMoreThan', countNumber: 1 })], path: 'rules[0].selection', quote: AWS_RULES.untaggedNoList },
    { name: 'five wildcards', rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['test*1*2*3*4*5*6'], countType: 'imageCountMoreThan', countNumber: 1 })], path: 'rules[0].selection.tagPatternList[0]', quote: AWS_RULES.wildcards },
    { name: 'two untagged rules', rules: [rule(1, ok), rule(2, { ...ok, countNumber: 3 })], path: 'rules[1].selection.tagStatus', quote: AWS_RULES.oneUntagged },
    { name: 'same prefixes twice', rules: [rule(1, { tagStatus: 'tagged', tagPrefixList: ['a', 'b'], countType: 'imageCountMoreThan', countNumber: 1 }), rule(2, { tagStatus: 'tagged', tagPrefixList: ['b', 'a'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 3 })], path: 'rules[1].selection', quote: AWS_RULES.uniquePrefixes },
    { name: 'countNumber 0', rules: [rule(1, { ...ok, countNumber: 0 })], path: 'rules[0].selection.countNumber', quote: AWS_RULES.countNumber },
    { name: 'countUnit missing for sinceImagePushed', rules: [rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 14 })], path: 'rules[0].selection.countUnit', quote: AWS_RULES.countUnitRequired },
    { name: 'countUnit with imageCountMoreThan', rules: [rule(1, { ...ok, countUnit: 'days' })], path: 'rules[0].selection.countUnit', quote: AWS_RULES.countUnitForbidden },
    { name: 'countUnit hours', rules: [rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'hours', countNumber: 14 })], path: 'rules[0].selection.countUnit', quote: AWS_RULES.countUnitDays },
    { name: 'unknown countType', rules: [rule(1, { tagStatus: 'untagged', countType: 'imageCountLessThan', countNumber: 1 })], path: 'rules[0].selection.countType', quote: AWS_RULES.countType },
    { name: 'sinceImagePulled with expire', rules: [rule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 })], path: 'rules[0].action.type', quote: AWS_RULES.pulledTransition },
    { name: 'transition without targetStorageClass', rules: [rule(1, ok, { type: 'transition' })], path: 'rules[0].action.targetStorageClass', quote: AWS_RULES.targetStorageClass },
    { name: 'sinceImageTransitioned on standard', rules: [rule(1, { tagStatus: 'any', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 })], path: 'rules[0].selection.storageClass', quote: AWS_RULES.storageClassArchive },
    { name: 'sinceImageTransitioned under 90 days', rules: [rule(1, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 30 })], path: 'rules[0].selection.countNumber', quote: AWS_RULES.archiveMinimum },
    { name: 'archive storage class with sinceImagePushed', rules: [rule(1, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 })], path: 'rules[0].selection.storageClass', quote: AWS_RULES.storageClassStandard },
    { name: 'unknown action', rules: [rule(1, ok, { type: 'delete' })], path: 'rules[0].action.type', quote: AWS_RULES.actionType },
    { name: 'no rules', rules: [], path: 'rules', quote: AWS_RULES.rulesRequired },
  ])('$name', ({ rules, path, quote }) => {
    // Act
    let error: unknown;
    try {
      parsePolicy({ rules }, { source: 'lifecycle.json' });
    } catch (err) {
      error = err;
    }
    // Assess: the issue is at the right path and quotes the AWS documentation.
    expect(error).toBeInstanceOf(PolicyError);
    const issue = (error as PolicyError).issues.find((i) => i.path === path);
    expect(issue?.message).toContain(quote);
    expect((error as PolicyError).message).toContain('lifecycle.json');
  });

  it('rejects a misspelt selection property instead of silently ignoring it', () => {
    expect(() => parsePolicy({ rules: [rule(1, { tagStatus: 'tagged', tagPrefixlist: ['v'], countType: 'imageCountMoreThan', countNumber: 1 })] })).toThrow(
      /rules\[0\]\.selection\.tagPrefixlist: unknown selection property/,
    );
  });
});
