// Every source file README.md and docs/ name in backticks exists (a doc must not send a reader to a file that moved).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
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

describe("README.md's layout section", () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const start = readme.indexOf('\n## Layout\n');
  const end = readme.indexOf('\n## ', start + 1);
  const layout = readme.slice(start, end < 0 ? undefined : end);
  /** Top-level folders the project ignores (.gitignore's `name/` lines): build and run output such as coverage/ and cdk.out/, which CI creates. */
  const ignored = new Set(
    readFileSync(new URL('.gitignore', root), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^[^#/*][^/*]*\/?$/.test(l))
      .map((l) => l.replace(/\/$/, '')),
  );
  /** The folders directly under `dir` (relative to the project root), hidden and ignored ones left out. */
  const folders = (dir: string): string[] =>
    readdirSync(new URL(dir || '.', root))
      .filter((f) => !f.startsWith('.') && !(dir === '' && ignored.has(f)) && f !== 'node_modules' && statSync(new URL(`${dir}${f}`, root)).isDirectory())
      .sort();

  it('exists', () => {
    expect(start).toBeGreaterThan(0);
  });

  it.each([
    { dir: '', written: (f: string) => `${f}/` },
    { dir: 'functions/', written: (f: string) => `functions/${f}/` },
    // The kinds are listed after "one folder per kind:", the fan-out and pusher folders by their path.
    { dir: 'functions/registries/', written: (f: string) => `${f}/` },
    { dir: 'functions/replication/', written: (f: string) => `replication/${f}/` },
  ])('names every folder of $dir', ({ dir, written }) => {
    expect(folders(dir).filter((f) => !layout.includes(written(f)))).toEqual([]);
  });
});
