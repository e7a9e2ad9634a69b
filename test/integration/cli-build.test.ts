// The built CLI (package.json `prepare`): it runs, and `--version` / `--help` come from the entry chunk alone.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
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

  it('prints the version and the help of every command', () => {
    expect(execFileSync('node', [entry, '--version']).toString().trim()).toBe(pkg.version);
    const help = execFileSync('node', [entry, '--help']).toString();
    for (const name of ['copy <src> <dst>', 'sync', 'retention', 'approve <id>']) expect(help).toContain(`  ${name}`);
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
