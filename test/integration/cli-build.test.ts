// The built CLI (package.json `prepare`): it runs, and `--version` / `--help` come from the entry chunk alone.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { buildCli, INPUTS_FILE } from '../../scripts/build-cli.ts';

// Inside the project, so the bundle's require() of CommonJS packages finds node_modules as an install does.
const out = fileURLToPath(new URL(`../../dist/cli-test-${process.pid}`, import.meta.url));

describe('the built CLI', () => {
  let entry: string;
  beforeAll(async () => {
    entry = await buildCli(out);
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  /** The files of the build that `node <entry> ...args` loads (an ESM load hook reports each URL on stderr). */
  function loadedFiles(args: readonly string[]): string[] {
    const hooks = mkdtempSync(join(tmpdir(), 'regman-load-hooks-'));
    try {
      writeFileSync(join(hooks, 'hooks.mjs'), 'export async function load(url, context, next) { process.stderr.write(`LOADED ${url}\\n`); return next(url, context); }\n');
      writeFileSync(join(hooks, 'register.mjs'), "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n");
      const run = spawnSync('node', ['--import', join(hooks, 'register.mjs'), entry, ...args], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const stderr = run.stderr;
      return [...stderr.matchAll(/^LOADED (file:\S+)$/gm)].map((m) => fileURLToPath(m[1]!)).filter((f) => f.startsWith(out)).map((f) => basename(f));
    } finally {
      rmSync(hooks, { recursive: true, force: true });
    }
  }

  it('prints the version and the help of every command', () => {
    expect(execFileSync('node', [entry, '--version']).toString().trim()).toBe(pkg.version);
    const help = execFileSync('node', [entry, '--help']).toString();
    for (const name of ['copy <src> <dst>', 'sync', 'retention', 'approve <id>']) expect(help).toContain(`  ${name}`);
  });

  it.each([['--version'], ['--help']])('%s loads the entry and the chunks it shares, no command module', (flag) => {
    const loaded = loadedFiles([flag]);
    expect(loaded).toContain('regman.js');
    // Command modules are chunks named after their file (copy-<hash>.js); shared code is chunk-<hash>.js.
    expect(loaded.filter((f) => f !== 'regman.js' && !/^chunk-[A-Z0-9]+\.js$/.test(f))).toEqual([]);
    // Nor the dependencies that only commands use: a small part of the build is parsed.
    const bytes = (files: readonly string[]) => files.reduce((n, f) => n + statSync(join(out, f)).size, 0);
    const build = readdirSync(out).filter((f) => f.endsWith('.js'));
    expect(bytes(loaded)).toBeLessThan(bytes(build) / 10);
    // The contrast that shows the check can fail: a command's help loads its module.
    expect(loadedFiles(['copy', '--help']).some((f) => /^copy-[A-Z0-9]+\.js$/.test(f))).toBe(true);
  });

  it('loads a command chunk only for that command', () => {
    const help = execFileSync('node', [entry, 'copy', '--help']).toString();
    expect(help).toMatch(/--all-tags <regex>/);
  });

  it('lists the project sources it was built from, for the freshness check of bin/regman.js', () => {
    const inputs = JSON.parse(readFileSync(`${out}/${INPUTS_FILE}`, 'utf8')) as string[];
    expect(inputs).toContain('bin/regman.ts');
    expect(inputs).toContain('bin/commands/copy.ts');
    expect(inputs.some((p) => p.includes('node_modules'))).toBe(false);
  });
});
