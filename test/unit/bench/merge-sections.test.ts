// `npm run bench --only X` rewrites only X's section of docs/BENCHMARKS.md and keeps the others.
import { describe, expect, it } from 'vitest';
import { mergeSections, splitSections } from '../../../bench/merge-sections.ts';

const EXISTING = ['# Benchmarks', '', 'old header', '', '## Copy', '', 'copy 1', '', '## Sync', '', 'sync 1', ''].join('\n');

describe('mergeSections', () => {
  it('replaces the sections a run wrote, keeps the others in place, appends new ones, and takes the new header', () => {
    const fresh = ['# Benchmarks', '', 'new header', '', '## Sync', '', 'sync 2', '', '## Reports', '', 'reports 1', ''].join('\n');
    const merged = mergeSections(EXISTING, fresh);
    expect(splitSections(merged).sections.map((s) => s.heading)).toEqual(['## Copy', '## Sync', '## Reports']);
    expect(merged).toContain('new header');
    expect(merged).not.toContain('old header');
    expect(merged).toContain('copy 1');
    expect(merged).toContain('sync 2');
    expect(merged).not.toContain('sync 1');
    expect(merged).toContain('reports 1');
  });

  it('writes the whole run when there was no file', () => {
    expect(mergeSections('', '# B\n\nh\n\n## A\n\na\n')).toBe('# B\n\nh\n\n## A\n\na\n');
  });
});
