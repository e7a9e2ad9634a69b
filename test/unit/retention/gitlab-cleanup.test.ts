// GitLab cleanup policies: GitLab's documented workflow example, the per-tag to per-digest translation, validation.
import { describe, expect, it } from 'vitest';
import { PolicyError, parsePolicy, planRetention } from '../../../functions/retention/index.ts';
import { NOW, d, img, namer } from './helpers.ts';

describe('GitLab cleanup policy', () => {
  it('reproduces the documented "Example cleanup policy workflow": dev-v42, v43 and v42 are deleted', () => {
    // Prepare: https://docs.gitlab.com/user/packages/container_registry/reduce_container_registry_storage/#example-cleanup-policy-workflow
    const tags: [string, number][] = [
      ['latest', 2 / 24],
      ['production-v44', 3],
      ['production-v43', 6],
      ['production-v42', 11],
      ['dev-v44', 2],
      ['dev-v43', 5],
      ['dev-v42', 10],
      ['v44', 1],
      ['v43', 12],
      ['v42', 20],
    ];
    const images = tags.map(([tag, days]) => img(tag, [tag], days));
    const policy = parsePolicy({ keep_n: 1, name_regex_keep: 'production-.*', older_than: '7d', name_regex: '.*' });
    // Act
    const plan = planRetention({ repository: 'group/project', images }, policy, { now: NOW, force: true });
    // Assess
    const names = namer(tags.map(([t]) => t));
    expect(plan.expire.map((e) => names(e.digest)).sort()).toEqual(['dev-v42', 'v42', 'v43']);
    const reasons = Object.fromEntries(plan.decisions.map((x) => [names(x.digest), x.reason]));
    expect(reasons.latest).toMatch(/latest is always kept/);
    expect(reasons['production-v42']).toMatch(/matches name_regex_keep production-\.\*/);
    expect(reasons.v44).toMatch(/one of the 1 most recent tags \(keep_n\)/);
    expect(reasons['dev-v43']).toMatch(/more recent than older_than 7d/);
    expect(plan.expire.every((e) => e.rule === 'gitlab:cleanup')).toBe(true);
  });

  it('anchors name_regex like GitLab (\\A…\\Z): "main" does not match "main-2"', () => {
    const images = [img('a', ['main'], 30), img('b', ['main-2'], 30)];
    const plan = planRetention({ repository: 'p', images }, parsePolicy({ name_regex: 'main', older_than: '7d' }), { now: NOW, force: true });
    expect(plan.expire.map((e) => e.tags)).toEqual([['main']]);
  });

  it('expires a digest only when every one of its tags is deleted', () => {
    // Prepare: X carries a kept tag and a deleted one; Y only deleted ones.
    const images = [img('X', ['release-1', 'ci-100'], 40), img('Y', ['ci-99', 'ci-98'], 41)];
    const policy = parsePolicy({ container_expiration_policy_attributes: { enabled: true, cadence: '1d', older_than: '14d', name_regex: '.*', name_regex_keep: 'release-.*' } });
    // Act
    const plan = planRetention({ repository: 'p', images }, policy, { now: NOW, force: true });
    // Assess
    expect(plan.expire.map((e) => e.digest)).toEqual([d('Y')]);
    const x = plan.keep.find((k) => k.digest === d('X'));
    expect(x?.reason).toMatch(/tag release-1 is kept: matches name_regex_keep .*GitLab would delete tag ci-100; the digest stays/);
  });

  it('leaves untagged manifests alone (GitLab deletes tags; garbage collection removes manifests)', () => {
    const plan = planRetention({ repository: 'p', images: [img('U', [], 100)] }, parsePolicy({ name_regex: '.*', older_than: '7d' }), { now: NOW });
    expect(plan.keep[0]).toMatchObject({ reason: 'untagged: GitLab cleanup policies delete tags only' });
  });

  it('deletes nothing when the policy is disabled, and says so', () => {
    const plan = planRetention({ repository: 'p', images: [img('A', ['x'], 100)] }, parsePolicy({ enabled: false, name_regex: '.*' }), { now: NOW });
    expect(plan.expire).toEqual([]);
    expect(plan.warnings[0]).toMatch(/enabled: false/);
  });

  it.each([
    { doc: { name_regex: '.*', older_than: '2w' }, path: 'older_than', message: /number of days like "7d"/ },
    { doc: { name_regex: '.*', keep_n: -1 }, path: 'keep_n', message: /whole number of tags/ },
    { doc: { keep_n: 5 }, path: 'name_regex', message: /cannot be blank/ },
    { doc: { name_regex: '(' }, path: 'name_regex', message: /not a valid regular expression/ },
    { doc: { name_regex: '.*', name_regex_keep: '[' }, path: 'name_regex_keep', message: /not a valid regular expression/ },
    { doc: { name_regex: '.*', keep_last: 3 }, path: 'keep_last', message: /unknown cleanup policy property/ },
  ])('rejects $path: $doc', ({ doc, path, message }) => {
    let error: unknown;
    try {
      parsePolicy(doc);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).issues.find((i) => i.path === path)?.message).toMatch(message);
  });
});
