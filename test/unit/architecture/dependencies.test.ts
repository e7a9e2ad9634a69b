// The dependency test: every folder of functions/ imports only what its allow-list names, and nothing forms a
// cycle (as go-containerregistry's build fails on a package outside its allow-list). Layers: handlers → domains
// → registries → oci; config/ sits below the domains and imports no domain engine (docs/DESIGN.md).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDependencies, sourceFiles, cycles, importCycles, importGraph, importsOf, moduleOf, type DependencyRules } from '../../helpers/import-graph.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
// A production install has the listed dependencies and what they pull in (e.g. @sigstore/bundle under @sigstore/verify).
const PRODUCTION = [
  ...Object.keys(pkg.dependencies),
  ...Object.entries(lock.packages).filter(([path, p]) => path.startsWith('node_modules/') && !p.dev).map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 13)),
];

const LEAVES = ['env.ts', 'format-bytes.ts', 'node-sha256.ts'];
const KIND_BASE = ['registries', 'config', 'oci', ...LEAVES];

/** The allow-lists. A folder not named here is a domain: it may import anything but the handlers. */
const RULES: DependencyRules = {
  base: 'functions',
  nested: ['registries', 'replication'],
  forbiddenPackages: ['aws-cdk-lib', 'constructs', 'aws-cdk', 'aws-sdk-client-mock', 'vitest'],
  dependencies: PRODUCTION,
  fallback: { modules: '*', never: ['handlers'] },
  modules: {
    'env.ts': { modules: [] },
    'format-bytes.ts': { modules: [] },
    'node-sha256.ts': { modules: [] },
    // The OCI client knows nothing about AWS, the config or the registries built on it.
    oci: { modules: LEAVES, packages: [] },
    'retention-policy': { modules: [], packages: ['zod', 'picomatch'] },
    // Below the domains: validates their input shapes (retention-policy), never imports a domain's engine.
    config: { modules: ['retention-policy', ...LEAVES], packages: ['yaml', 'zod', 'picomatch'] },
    dynamo: { modules: LEAVES },
    audit: { modules: ['dynamo', 'oci', ...LEAVES] },
    // The shared interface, the factory (which knows every kind), and the kinds behind it.
    registries: { modules: ['registries/ecr', 'registries/gar', 'registries/acr', 'registries/dockerhub', 'registries/oci', 'config', 'oci', ...LEAVES] },
    'registries/oci': { modules: KIND_BASE },
    'registries/ecr': { modules: KIND_BASE },
    'registries/dockerhub': { modules: [...KIND_BASE, 'registries/oci'] },
    // ACR and Artifact Registry share the token cache (gar/token.ts) and the listing completion (acr/listing.ts).
    'registries/acr': { modules: [...KIND_BASE, 'registries/oci', 'registries/gar'] },
    'registries/gar': { modules: [...KIND_BASE, 'registries/oci', 'registries/acr'] },
    replication: { modules: ['replication/large', 'audit', 'config', 'registries', 'oci', 'dynamo', ...LEAVES] },
    'replication/large': { modules: ['replication', 'audit', 'config', 'registries', 'oci', 'dynamo', ...LEAVES] },
    retention: { modules: ['retention-policy', 'audit', 'config', 'registries', 'oci', 'dynamo', ...LEAVES] },
    handlers: { modules: '*' },
  },
};

describe('the dependencies of functions/', () => {
  const edges = importGraph(ROOT, ['functions']);

  it('reads the whole tree', () => {
    // A regression guard for the analyser itself: config really imports retention-policy and zod.
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual(expect.objectContaining({ from: 'functions/config/retention-policies.ts', to: 'functions/retention-policy/index.ts', internal: true }));
  });

  it('every folder imports only what its allow-list names', () => {
    expect(checkDependencies(edges, RULES)).toEqual([]);
  });

  it('config imports no domain engine', () => {
    const fromConfig = edges.filter((e) => e.from.startsWith('functions/config/') && e.internal).map((e) => moduleOf(e.to, 'functions'));
    expect(fromConfig.filter((m) => m !== 'config' && m !== 'retention-policy')).toEqual([]);
  });

  it('has no import cycle, between files or between folders', () => {
    expect(importCycles(edges, 'functions')).toEqual([]);
  });

  it('has no file cycle in functions/, lib/, local/, bin/ or scripts/, type-only imports included (as madge counts them)', () => {
    const all = importGraph(ROOT, ['functions', 'lib', 'local', 'bin', 'scripts']).filter((e) => e.internal);
    expect(all.some((e) => e.from.startsWith('lib/')) && all.some((e) => e.from.startsWith('local/'))).toBe(true);
    expect(cycles(all.map((e) => [e.from, e.to] as const))).toEqual([]);
  });
});

describe('the import-graph analyser', () => {
  it('reads static, type-only, re-export, side-effect and dynamic imports, and ignores comments', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from '../b/b.ts';",
      "export { c } from './c.ts';",
      "import 'side-effect';",
      "const d = await import('./d.ts');",
      "// import { no } from './commented.ts';",
      "/** @example import { x } from './example.ts' */",
      "const url = 'https://example.com'; import { z } from 'zod';",
    ].join('\n');
    expect(importsOf(text)).toEqual([
      { specifier: './a.ts', typeOnly: false, line: 1 },
      { specifier: '../b/b.ts', typeOnly: true, line: 2 },
      { specifier: './c.ts', typeOnly: false, line: 3 },
      { specifier: 'side-effect', typeOnly: false, line: 4 },
      { specifier: './d.ts', typeOnly: false, line: 5 },
      { specifier: 'zod', typeOnly: false, line: 8 },
    ]);
  });

  it.each([
    ['functions/oci/blob.ts', 'oci'],
    ['functions/registries/ecr/adapter.ts', 'registries/ecr'],
    ['functions/registries/adapter.ts', 'registries'],
    ['functions/env.ts', 'env.ts'],
    ['lib/app.ts', undefined],
  ])('places %s in module %s', (file, module) => {
    expect(moduleOf(file, 'functions', ['registries'])).toBe(module);
  });

  it('finds cycles, self-loops included, and nothing in a DAG', () => {
    expect(cycles([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd'], ['e', 'e']])).toEqual([['a', 'b', 'c'], ['e']]);
    expect(cycles([['a', 'b'], ['b', 'c'], ['a', 'c']])).toEqual([]);
  });

  it('fails a tree whose config imports a domain engine, whose oci imports AWS, or that has a value-import cycle', () => {
    // Prepare: a small tree with each kind of violation.
    const root = mkdtempSync(join(tmpdir(), 'regman-deps-'));
    const files: Record<string, string> = {
      'functions/config/load.ts': "import { parsePolicy } from '../retention/index.ts';\n",
      'functions/retention/index.ts': "import { load } from './planner.ts';\nexport const parsePolicy = load;\n",
      'functions/retention/planner.ts': "import { parsePolicy } from './index.ts';\nexport const load = parsePolicy;\n",
      'functions/oci/client.ts': "import { ECRClient } from '@aws-sdk/client-ecr';\nimport { App } from 'aws-cdk-lib';\n",
      'functions/registries/ecr/adapter.ts': "import { x } from '../gar/token.ts';\n",
      'functions/registries/gar/token.ts': "export const x = 1;\n",
      'functions/handlers/a.ts': "import { y } from '../promotion/run.ts';\nimport { left } from 'left-pad';\nimport type { T } from 'types-only';\n",
      'functions/replication/types.ts': "import type { S } from './state.ts';\n",
      'functions/replication/state.ts': "import type { T } from './types.ts';\nimport { p } from './pusher/pusher.ts';\n",
      'functions/replication/pusher/pusher.ts': "export const p = 1;\n",
      'functions/web/page.ts': "import type { View } from '../approvals/view.ts';\n",
      'functions/approvals/view.ts': "import { html } from '../web/page.ts';\n",
      'functions/promotion/run.ts': "import { z } from '../handlers/a.ts';\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }

    // Act
    const edges = importGraph(root, ['functions']);
    const violations = checkDependencies(edges, RULES);
    const found = importCycles(edges, 'functions');

    // Assess
    expect(violations).toEqual([
      'functions/config/load.ts:1: config imports retention (functions/retention/index.ts), outside its allow-list',
      'functions/handlers/a.ts:2 imports left-pad, which a production install does not have',
      'functions/oci/client.ts:1: oci imports package @aws-sdk/client-ecr, outside its allow-list (node builtins only)',
      'functions/oci/client.ts:2 imports aws-cdk-lib, which runtime code must never import',
      'functions/promotion/run.ts:1: promotion imports handlers (functions/handlers/a.ts), outside its allow-list',
      'functions/registries/ecr/adapter.ts:1: registries/ecr imports registries/gar (functions/registries/gar/token.ts), outside its allow-list',
    ]);
    expect(found).toEqual([
      'files: functions/handlers/a.ts ↔ functions/promotion/run.ts',
      'files: functions/retention/index.ts ↔ functions/retention/planner.ts',
      'folders: handlers ↔ promotion',
    ]);
  });
});

describe('the tests run from a clean clone', () => {
  it('no test or benchmark reads data from outside the repository (test vectors are copied to test/fixtures/)', () => {
    // Prepare: every test, helper and benchmark source; the pattern names the folder of shared data beside the
    // checkout and any absolute path into the machine's work folder. Built from parts so that this file does not
    // itself name what it forbids.
    const shared = ['sha', 'red'].join('');
    const work = ['wo', 'rk'].join('');
    const outside = new RegExp(`['"\`(](?:/${work}/|(?:\\.\\./)+${shared}/data)`);
    const self = 'test/unit/architecture/dependencies.test.ts';

    // Act
    const offenders = [...sourceFiles(ROOT, 'test'), ...sourceFiles(ROOT, 'bench')]
      .filter((f) => f !== self)
      .filter((f) => outside.test(readFileSync(join(ROOT, f), 'utf8')));

    // Assess
    expect(offenders).toEqual([]);
    expect(outside.test(`readFileSync('/${work}/${shared}/data/ecr-events/x.json')`)).toBe(true);
    expect(outside.test(`const cfg = '/${work}/main/config/local.yaml'`)).toBe(true);
    expect(outside.test(`resolve(here, '../../../../../${shared}/data/manifests')`)).toBe(true);
    expect(outside.test(`readFileSync(join(ROOT, 'test/fixtures/manifests/index.json'))`)).toBe(false);
    expect(outside.test(`const tmp = '/tmp/${work}/x'`)).toBe(false);
  });
});
