// Our own rules, one at a time, then their documented combination: protections win, then match any/all.
import { describe, expect, it } from 'vitest';
import { PolicyError, parsePolicy, planRetention } from '../../../functions/retention/index.ts';
import type { InventoryImage } from '../../../functions/retention/types.ts';
import { NOW, d, img, namer } from './helpers.ts';

const NAMES = ['old', 'mid', 'new', 'untagged', 'prod', 'stable', 'v1.2.3', 'busy', 'idle', 'fresh', 'oldhot'];
const names = namer(NAMES);

function plan(images: InventoryImage[], policy: unknown, repository = 'app') {
  return planRetention({ repository, images }, parsePolicy(policy), { now: NOW, force: true });
}
const expiredNames = (p: ReturnType<typeof plan>) => p.expire.map((e) => names(e.digest)).sort();

describe('native rules, each on its own', () => {
  const repo = () => [img('old', ['v1'], 100), img('mid', ['v2'], 40), img('new', ['v3'], 2), img('untagged', [], 50)];

  it.each([
    { name: 'delete.olderThanDays expires images pushed more than N days ago', policy: { delete: { olderThanDays: 45 } }, expected: ['old', 'untagged'], rule: 'delete.olderThanDays' },
    { name: 'delete.untagged expires untagged top-level manifests', policy: { delete: { untagged: true } }, expected: ['untagged'], rule: 'delete.untagged' },
    { name: 'keep.last keeps the newest N tagged images against a deletion rule', policy: { delete: { olderThanDays: 1 }, keep: { last: 2 } }, expected: ['old', 'untagged'], rule: 'delete.olderThanDays' },
    { name: 'keep.tags preserves by glob', policy: { delete: { olderThanDays: 1 }, keep: { tags: ['v[12]'] } }, expected: ['new', 'untagged'], rule: 'delete.olderThanDays' },
    { name: 'keep.tagRegex preserves by regex', policy: { delete: { olderThanDays: 1 }, keep: { tagRegex: ['^v3$'] } }, expected: ['mid', 'old', 'untagged'], rule: 'delete.olderThanDays' },
  ])('$name', ({ policy, expected, rule }) => {
    const p = plan(repo(), policy);
    expect(expiredNames(p)).toEqual(expected);
    expect(new Set(p.expire.map((e) => e.rule))).toEqual(new Set([rule]));
  });

  it('delete.pulls counts pulls per UTC day in the last M days, and spares images younger than the window', () => {
    // Prepare: window of 30 days ending 2024-06-01 starts 2024-05-03.
    const images = [
      img('busy', ['busy'], 60, { pulls: [{ day: '2024-05-20', count: 3 }, { day: '2024-06-01', count: 4 }] }),
      img('idle', ['idle'], 60, { pulls: [{ day: '2024-05-02', count: 100 }, { day: '2024-05-03', count: 2 }] }),
      img('fresh', ['fresh'], 10, { pulls: [] }),
      img('oldhot', ['oldhot'], 60, { lastPulledAt: '2024-05-31T00:00:00Z' }),
      img('old', ['old'], 60, { lastPulledAt: '2024-04-01T00:00:00Z' }),
    ];
    // Act
    const p = plan(images, { delete: { pulls: { fewerThan: 5, inDays: 30 } } });
    // Assess: idle had 2 in-window pulls (the 100 fell a day before the window); old was last pulled before it.
    expect(expiredNames(p)).toEqual(['idle', 'old']);
    expect(p.expire.find((e) => names(e.digest) === 'idle')?.reason).toBe('2 pulls in the last 30 days, fewer than 5');
    // oldhot: only lastPulledAt is known and it is inside the window, so the count is unknown and it is kept.
    expect(p.keep.map((k) => names(k.digest)).sort()).toEqual(['busy', 'fresh', 'oldhot']);
  });

  it('delete.pulls with only lastPulledAt: the window starts at 00:00 UTC of its first day, for any plan time', () => {
    // Prepare: the 30-day window ending 2024-06-01 starts 2024-05-03T00:00Z; the offset time is 2024-05-02T23:30Z.
    const images = [
      img('before', ['before'], 60, { lastPulledAt: '2024-05-02T23:59:59.999Z' }),
      img('offset', ['offset'], 60, { lastPulledAt: '2024-05-03T01:30:00.000+02:00' }),
      img('midnight', ['midnight'], 60, { lastPulledAt: '2024-05-03T00:00:00.000Z' }),
    ];
    const policy = parsePolicy({ delete: { pulls: { fewerThan: 5, inDays: 30 } } });
    const named = namer(['before', 'offset', 'midnight']);
    // Act: plans at two instants, one after the other (the window moves with the plan time).
    const june1 = planRetention({ repository: 'r', images }, policy, { now: NOW, force: true });
    const june2 = planRetention({ repository: 'r', images }, policy, { now: '2024-06-02T12:00:00.000Z', force: true });
    // Assess: inside the window the count is unknown, so the image is kept; before it, there were no pulls.
    expect(june1.expire.map((e) => named(e.digest)).sort()).toEqual(['before', 'offset']);
    expect(june2.expire.map((e) => named(e.digest)).sort()).toEqual(['before', 'midnight', 'offset']);
    expect(june1.now).toBe(NOW);
    expect(june2.now).toBe('2024-06-02T12:00:00.000Z');
  });

  it('repository filters: a repository outside include (or inside exclude) keeps everything', () => {
    const policy = { repositories: { include: ['team/**'], exclude: ['team/legacy-*'] }, delete: { olderThanDays: 1 } };
    expect(expiredNames(plan(repo(), policy, 'team/app'))).toEqual(['mid', 'new', 'old', 'untagged']);
    const outside = plan(repo(), policy, 'other/app');
    expect(outside.expire).toEqual([]);
    expect(outside.keep[0]?.reason).toMatch(/repository other\/app is not selected/);
    expect(plan(repo(), policy, 'team/legacy-api').expire).toEqual([]);
  });
});

describe('native rules: combination semantics (docs/RETENTION.md)', () => {
  const repo = () => [
    img('prod', ['prod-7'], 200),
    img('stable', ['stable', 'v0'], 190),
    img('v1.2.3', ['v1.2.3'], 180),
    img('old', ['ci-1'], 170),
    img('untagged', [], 3),
    img('new', ['ci-9'], 1),
  ];
  const protections = { tags: ['prod-*', 'stable'], tagRegex: ['^v\\d+\\.\\d+\\.\\d+$'] };

  it('match any: an image expires when any deletion rule selects it and no protection holds', () => {
    const p = plan(repo(), { delete: { olderThanDays: 30, untagged: true }, keep: protections });
    expect(expiredNames(p)).toEqual(['old', 'untagged']);
    const stable = p.keep.find((k) => names(k.digest) === 'stable');
    expect(stable).toMatchObject({ rule: 'keep.tags' });
    expect(stable?.reason).toMatch(/^tag stable matches preserved glob stable \(it would otherwise expire: pushed 190 days ago, older than 30 days\)$/);
  });

  it('match all: an image expires only when every configured deletion rule selects it', () => {
    const p = plan(repo(), { delete: { match: 'all', olderThanDays: 2, untagged: true } });
    expect(expiredNames(p)).toEqual(['untagged']);
    const old = p.keep.find((k) => names(k.digest) === 'old');
    expect(old?.reason).toMatch(/only some deletion rules select it \(match: all\)/);
  });

  it('protections win over every deletion rule, and keep.last counts tagged images only', () => {
    // Prepare: everything is old and untagged images are deleted; keep the last 2 tagged, plus preserved tags.
    const p = plan(repo(), { delete: { olderThanDays: 1, untagged: true }, keep: { ...protections, last: 2 } });
    // Assess: the untagged image (pushed 3 days ago) does not take a keep.last slot; new and old do.
    expect(expiredNames(p)).toEqual(['untagged']);
    const rules = Object.fromEntries(p.keep.map((k) => [names(k.digest), k.rule]));
    expect(rules).toEqual({ new: 'keep.last', old: 'keep.last', prod: 'keep.tags', stable: 'keep.tags', 'v1.2.3': 'keep.tags' });
  });

  it('locks from an active promotion win over everything', () => {
    const p = planRetention({ repository: 'app', images: repo() }, parsePolicy({ delete: { olderThanDays: 30 } }), {
      now: NOW,
      force: true,
      lockedDigests: [d('old')],
    });
    expect(p.keep.find((k) => k.digest === d('old'))).toMatchObject({ rule: 'lock', reason: 'locked by an active promotion' });
  });
});

describe('native policy validation', () => {
  it.each([
    { doc: { delete: {} }, path: 'delete', message: /at least one deletion rule/ },
    { doc: { delete: { olderThanDays: 0 } }, path: 'delete.olderThanDays', message: /Too small|>0/ },
    { doc: { delete: { olderThanDays: 'ninety' } }, path: 'delete.olderThanDays', message: /expected number/ },
    { doc: { delete: { untagged: true }, keep: { tagRegex: ['(unclosed'] } }, path: 'keep.tagRegex[0]', message: /not a valid regular expression/ },
    { doc: { delete: { untagged: true }, keep: { lastN: 3 } }, path: 'keep', message: /Unrecognized key.*lastN/ },
    { doc: { delete: { match: 'most', untagged: true } }, path: 'delete.match', message: /any|all/ },
  ])('rejects $path', ({ doc, path, message }) => {
    let error: unknown;
    try {
      parsePolicy(doc, { source: 'policy.yaml' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    const issue = (error as PolicyError).issues.find((i) => i.path === path);
    expect(issue?.message).toMatch(message);
    expect((error as PolicyError).message).toContain('policy.yaml');
  });

  it('cannot guess a document in no known format, and says which formats it expected', () => {
    expect(() => parsePolicy({ hello: 1 })).toThrow(/cannot tell the policy format/);
    expect(() => parsePolicy({ format: 'harbor' })).toThrow(/format: must be one of regman, ecr, gitlab \(got "harbor"\)/);
  });
});
