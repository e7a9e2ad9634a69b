// Every source file README.md and docs/ name in backticks exists (a doc must not send a reader to a file that moved).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const docs = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** `functions/…/x.ts`, `lib/….ts`, `statemachines/….asl.json` and the like, as written in backticks. */
function namedSources(text: string): string[] {
  return [...text.matchAll(/`((?:functions|lib|local|bin|statemachines|scripts|test|bench)\/[A-Za-z0-9_./-]+\.(?:ts|js|json))`/g)].map((m) => m[1]!);
}

describe('paths named in the docs', () => {
  it.each(docs)('%s names only files that exist', (doc) => {
    const missing = namedSources(readFileSync(new URL(doc, root), 'utf8')).filter((p) => !existsSync(new URL(p, root)));
    expect(missing).toEqual([]);
  });

  it('finds the paths it checks', () => {
    expect(namedSources('see `functions/replication/large/decision.ts` and `lib/app.ts`, not functions/x.ts')).toEqual(['functions/replication/large/decision.ts', 'lib/app.ts']);
  });
});
