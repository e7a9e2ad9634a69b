// Lambda bundles leave google-auth-library out when the config names no GAR/GCR registry, and still run: nothing loads it
// statically. The ACR adapter needs no Azure SDK at all.
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { lambdaExternalModules } from '../../lib/bundle-externals.ts';
import { HANDLER_ENTRIES } from '../../lib/registry-manager-stack.ts';
import { importGraph } from '../helpers/import-graph.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('lambdaExternalModules', () => {
  it.each([
    ['no registries', {}, ['google-auth-library']],
    ['ECR and GAR only', { registries: { a: { kind: 'ecr' }, b: { kind: 'gar' } } }, []],
    ['ECR and GCR', { registries: { a: { kind: 'ecr' }, b: { kind: 'gcr' } } }, []],
    ['an ACR registry', { registries: { a: { kind: 'ecr' }, z: { kind: 'acr' } } }, ['google-auth-library']],
    ['ACR and GAR', { registries: { z: { kind: 'acr' }, g: { kind: 'gar' } } }, []],
  ])('%s', (_name, config, expected) => {
    expect(lambdaExternalModules(config)).toEqual(expected);
  });

  it('nothing under functions/ or lib/ imports @azure/*, not even for types: the ACR adapter speaks REST itself', () => {
    const azure = importGraph(root, ['functions', 'lib']).filter((e) => e.to.startsWith('@azure/'));
    expect(azure).toEqual([]);
  });

  it('only functions/registries/gar/token.ts loads google-auth-library at run time (with import(), on the first token request)', () => {
    const runtime = importGraph(root, ['functions']).filter((e) => e.to.startsWith('google-auth-library') && !e.typeOnly);
    expect([...new Set(runtime.map((e) => e.from))]).toEqual(['functions/registries/gar/token.ts']);
  });

  it('the replicate bundle without them still holds the ACR adapter and initialises with a config that has no ACR registry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regman-externals-'));
    try {
      const options: BuildOptions = {
        entryPoints: [HANDLER_ENTRIES.replicate], bundle: true, platform: 'node', format: 'esm', target: 'node22', mainFields: ['module', 'main'], minify: true,
        logLevel: 'error', banner: { js: "import { createRequire as regmanCreateRequire } from 'node:module'; const require = regmanCreateRequire(import.meta.url);" },
      };
      // Outside the project: a left-out package cannot be found there, as in Lambda.
      const lean = join(dir, 'lean.mjs');
      const { metafile } = await build({ ...options, outfile: lean, external: lambdaExternalModules({}), metafile: true });
      const config = join(dir, 'config.json');
      writeFileSync(config, JSON.stringify({ registries: {}, replication: [], retention: [] }));
      const script = `const m = await import(${JSON.stringify(lean)}); process.stdout.write(typeof m.handler);`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8', cwd: dir, env: { ...process.env, REGMAN_CONFIG_PATH: config, AWS_REGION: 'us-east-1', POWERTOOLS_SERVICE_NAME: 'test' },
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('function');
      const inputs = Object.keys(Object.values(metafile?.outputs ?? {})[0]?.inputs ?? {});
      expect(inputs.filter((i) => /node_modules\/(@azure|google-auth-library)\//.test(i))).toEqual([]);
      expect(readFileSync(lean, 'utf8')).toMatch(/import\("google-auth-library"\)/);
      expect(inputs.some((i) => i.endsWith('functions/registries/acr/adapter.ts'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
