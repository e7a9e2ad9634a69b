// Pattern semantics shared by replication and retention: globs, /regex/ literals, include/exclude.
import { describe, expect, it } from 'vitest';
import { compilePattern, isRegexPattern, matchesAny } from '../../../functions/config/index.ts';
import { patternError } from '../../../functions/config/patterns.ts';
import { findCycles } from '../../../functions/config/cross-checks.ts';
import { parsePath } from '../../../functions/config/retention-policies.ts';

describe('patterns', () => {
  it.each([
    ['release-*', 'release-1.2', true],
    ['release-*', 'hotfix-1', false],
    ['team-a/*', 'team-a/app', true],
    ['team-a/*', 'team-a/sub/app', false],
    ['team-a/**', 'team-a/sub/app', true],
    ['/^v\\d+$/', 'v12', true],
    ['/^v\\d+$/', 'v12-rc', false],
    ['/rc/i', 'v1-RC1', true],
    ['/x/g', 'x', true],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(compilePattern(pattern)(name)).toBe(expected);
  });

  it('a /g/ regex matcher stays correct when reused', () => {
    const m = compilePattern('/a/g');
    expect([m('a'), m('a'), m('a')]).toEqual([true, true, true]);
  });

  it('tells regexes from globs and reports the JavaScript error', () => {
    expect(isRegexPattern('/^x$/')).toBe(true);
    expect(isRegexPattern('team/*')).toBe(false);
    expect(patternError('/(/')).toBe('Invalid regular expression: /(/: Unterminated group');
    expect(patternError('team-(a')).toBeUndefined();
  });

  it('include then exclude; an empty include matches everything', () => {
    expect(matchesAny('v1.2.3', ['v*'], ['*-rc*'])).toBe(true);
    expect(matchesAny('v1.2.3-rc1', ['v*'], ['*-rc*'])).toBe(false);
    expect(matchesAny('anything', [])).toBe(true);
  });
});

describe('helpers', () => {
  it('finds each promotion cycle once', () => {
    const graph = new Map([
      ['a', [{ to: 'b', index: 0 }]],
      ['b', [{ to: 'a', index: 1 }, { to: 'c', index: 2 }]],
      ['c', [{ to: 'c2', index: 3 }]],
    ]);
    expect(findCycles(graph)).toEqual([{ nodes: ['a', 'b', 'a'], closingEdge: 1 }]);
  });

  it('parses the retention module’s issue paths', () => {
    expect(parsePath('rules[1].selection.countNumber')).toEqual(['rules', 1, 'selection', 'countNumber']);
    expect(parsePath('')).toEqual([]);
  });
});
