// Pure promotion policy: edges, quarantine, holds, freeze windows, upstream rules, soak, env tags and retention locks.
import { describe, expect, it } from 'vitest';
import { PromotionError } from '../../../functions/promotion/errors.ts';
import { parseStepCause } from '../../../functions/promotion/errors.ts';
import { activeFreezeWindow, decidePromotion, findEdge, promotionLocks, renderEnvTag, type PromotionFacts } from '../../../functions/promotion/policy.ts';
import type { PromotionHistoryEntry } from '../../../functions/promotion/types.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const NOW = new Date('2026-06-01T12:00:00Z');

const entry = (environment: string, digest: string, time: string, repository = 'app'): PromotionHistoryEntry => ({
  environment, repository, digest, tag: 'v1', time, executionId: `x-${time}`, requester: 'cli:a', approvers: [], gates: [], kind: 'promote',
});

const facts = (over: Partial<PromotionFacts> = {}): PromotionFacts => ({
  image: `app:v1@${D1}`,
  digest: D1,
  to: 'prod',
  edge: { from: 'staging', to: 'prod', requires: [], soakHours: 0 },
  now: NOW,
  trigger: 'cli',
  freezeWindows: [],
  overrideFreeze: false,
  history: {},
  ...over,
});

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof PromotionError ? err.code : 'OTHER';
  }
};

describe('findEdge', () => {
  const config = { environments: { dev: { registries: ['a'], freezeWindows: [] }, prod: { registries: ['b'], freezeWindows: [] } }, promotion: [] };
  it.each([
    ['dev', 'prod', 'UNKNOWN_EDGE'],
    ['dev', 'nowhere', 'UNKNOWN_ENVIRONMENT'],
  ])('%s → %s: %s', (from, to, expected) => {
    expect(code(() => findEdge(config as never, from, to))).toBe(expected);
  });
});

describe('decidePromotion', () => {
  const hold = { environment: 'prod', repository: 'app', reason: 'bad release', by: 'cli:ops', time: '2026-05-01T00:00:00Z' };
  const quarantine = { digest: D1, repository: 'app', reason: '1 critical', gate: 'scan', summary: '1 critical', executionId: 'e', time: '2026-05-01T00:00:00Z' };
  const frozen = [{ start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z', reason: 'launch' }];
  it.each<[string, Partial<PromotionFacts>, string | undefined]>([
    ['nothing in the way', {}, undefined],
    ['quarantined', { quarantine }, 'QUARANTINED'],
    ['held', { hold }, 'HELD'],
    ['held, but a rollback', { hold, trigger: 'rollback' }, undefined],
    ['frozen', { freezeWindows: frozen }, 'FROZEN'],
    ['frozen, overridden without a reason', { freezeWindows: frozen, overrideFreeze: true }, 'BAD_INPUT'],
    ['frozen, overridden with a reason', { freezeWindows: frozen, overrideFreeze: true, reason: 'hotfix' }, undefined],
    ['requires staging, never there', { edge: { from: 'staging', to: 'prod', requires: ['staging'], soakHours: 0 } }, 'UPSTREAM_MISSING'],
    ['requires staging, there', { edge: { from: 'staging', to: 'prod', requires: ['staging'], soakHours: 0 }, history: { staging: [entry('staging', D1, '2026-05-31T00:00:00Z')] } }, undefined],
    ['soak 24 h, 12 h in', { edge: { from: 'staging', to: 'prod', requires: [], soakHours: 24 }, history: { staging: [entry('staging', D1, '2026-06-01T00:00:00Z')] } }, 'SOAKING'],
    ['soak 24 h, 36 h in', { edge: { from: 'staging', to: 'prod', requires: [], soakHours: 24 }, history: { staging: [entry('staging', D1, '2026-05-31T00:00:00Z')] } }, undefined],
    ['soak counts this digest only', { edge: { from: 'staging', to: 'prod', requires: ['staging'], soakHours: 1 }, history: { staging: [entry('staging', D2, '2026-01-01T00:00:00Z')] } }, 'UPSTREAM_MISSING'],
  ])('%s', (_name, over, expected) => {
    expect(code(() => decidePromotion(facts(over)))).toBe(expected);
  });

  it('names the image, the window and the way out', () => {
    expect(() => decidePromotion(facts({ freezeWindows: frozen }))).toThrow(/prod is frozen from 2026-06-01T00:00:00Z to 2026-06-02T00:00:00Z \(launch\): app:v1@sha256:1+ was not promoted; .*--override-freeze --reason/);
    expect(decidePromotion(facts({ freezeWindows: frozen, overrideFreeze: true, reason: 'x' })).freezeOverridden).toBe(true);
  });

  it('freeze windows: start inclusive, end exclusive', () => {
    const w = [{ start: '2026-06-01T12:00:00Z', end: '2026-06-01T13:00:00Z' }];
    expect(activeFreezeWindow(w, NOW)).toBe(w[0]);
    expect(activeFreezeWindow(w, new Date('2026-06-01T13:00:00Z'))).toBeUndefined();
  });
});

describe('renderEnvTag', () => {
  it.each([
    ['{env}-{tag}-{yyyyMMdd-HHmmss}', 'prod-v1.2.3-20260125-143000'],
    ['{tag}', 'v1.2.3'],
    ['rel/{env}:{tag}', 'rel-prod-v1.2.3'],
  ])('%s → %s', (template, expected) => {
    expect(renderEnvTag(template, { env: 'prod', tag: 'v1.2.3', time: new Date('2026-01-25T14:30:00Z') })).toBe(expected);
  });
  it('stays within 128 characters', () => {
    expect(renderEnvTag('{tag}', { env: 'e', tag: 'x'.repeat(200), time: NOW })).toHaveLength(128);
  });
});

describe('promotionLocks', () => {
  it('locks the current and the previous digest per environment and repository', () => {
    const locks = promotionLocks([
      entry('prod', D1, '2026-01-01T00:00:00Z'),
      entry('prod', D2, '2026-02-01T00:00:00Z'),
      entry('prod', D3, '2026-03-01T00:00:00Z'),
      entry('staging', D1, '2026-03-02T00:00:00Z'),
    ]);
    expect([...locks.keys()].sort()).toEqual([D1, D2, D3]);
    expect(locks.get(D3)).toEqual([{ environment: 'prod', repository: 'app', role: 'current' }]);
    expect(locks.get(D2)).toEqual([{ environment: 'prod', repository: 'app', role: 'previous' }]);
    expect(locks.get(D1)).toEqual([{ environment: 'staging', repository: 'app', role: 'current' }]);
  });
});

describe('parseStepCause', () => {
  it.each([
    ['[FROZEN] prod is frozen', { code: 'FROZEN', message: 'prod is frozen' }],
    [JSON.stringify({ errorType: 'PromotionRefused', errorMessage: '[HELD] held' }), { code: 'HELD', message: 'held' }],
    [undefined, { code: 'UNKNOWN', message: 'the step failed without a cause' }],
  ])('%s', (cause, expected) => {
    expect(parseStepCause(cause)).toEqual(expected);
  });
});
