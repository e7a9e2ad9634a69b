// Real esbuild bundling (the other CDK tests skip it): ESM bundle with source map and regman.config.json, and it runs.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config/index.ts';
import { buildApp } from '../../lib/app.ts';
import { BUNDLED_CONFIG_FILE, bundledConfigJson } from '../../lib/config-bundle.ts';
import { HANDLER_ENTRIES, RegistryManagerStack, STATE_MACHINE_FILES } from '../../lib/registry-manager-stack.ts';
import { FIXTURE_CONFIG, RETENTION_CONFIG } from './helpers.ts';

const STAND_IN = join(import.meta.dirname, 'fixtures', 'echo-config-handler.ts');

/** The staged asset folders of the app (one per bundled function), each holding index.mjs. */
function bundles(app: App): string[] {
  return readdirSync(app.outdir)
    .filter((d) => d.startsWith('asset.'))
    .map((d) => join(app.outdir, d))
    .filter((d) => existsSync(join(d, 'index.mjs')));
}

describe('esbuild bundling', () => {
  it('bundles a handler as ESM with a source map and the config, and the bundle runs', async () => {
    // Prepare
    const config = await loadConfig(FIXTURE_CONFIG, { env: {} });
    const app = new App();
    const started = Date.now();

    // Act
    const entries = Object.fromEntries(Object.keys(HANDLER_ENTRIES).map((name) => [name, STAND_IN]));
    const stack = new RegistryManagerStack(app, 'BundlingTest', { config, entries });
    const seconds = (Date.now() - started) / 1000;

    // Assess: the template points at bundled code, not the placeholder.
    const template = Template.fromStack(stack);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.Code.ZipFile).toBeUndefined();
      expect(fn.Properties.Code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    }
    const [bundle] = bundles(app);
    expect(bundle).toBeDefined();
    const dir = bundle as string;
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    expect(readFileSync(join(dir, BUNDLED_CONFIG_FILE), 'utf8')).toBe(bundledConfigJson(config));
    // It runs under plain Node, reading the bundled config as the Lambda would (REGMAN_CONFIG_PATH).
    process.env.REGMAN_CONFIG_PATH = join(dir, BUNDLED_CONFIG_FILE);
    const mod = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler: () => Promise<unknown> };
    expect(await mod.handler()).toEqual({ rules: ['team-a-everywhere', 'base-images'], errors: 0 });
    delete process.env.REGMAN_CONFIG_PATH;
    // Seven functions (replicate, reconcile, four large-image steps, the audit anchor), one entry: one asset, bundled once.
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(7);
    expect(bundles(app)).toHaveLength(1);
    console.log(`bundling seven functions of one entry took ${seconds.toFixed(1)} s`);
  });

  // The retention handlers and ASL are written by the retention engineer; until they exist, the real
  // bundles are checked with a config without retention policies (seven functions), then with one (ten); the audit anchor is always there.
  const RETENTION_READY = [HANDLER_ENTRIES.retentionList, HANDLER_ENTRIES.retentionSweep, HANDLER_ENTRIES.pullStats, STATE_MACHINE_FILES.retentionSweep].every(existsSync);
  const REPLICATION_HANDLERS = [HANDLER_ENTRIES.replicate, HANDLER_ENTRIES.reconcile, HANDLER_ENTRIES.largeImagePlan, HANDLER_ENTRIES.largeImageCopyBlob, HANDLER_ENTRIES.largeImagePublish, HANDLER_ENTRIES.largeImageRecord];
  it.runIf(REPLICATION_HANDLERS.every(existsSync))(
    `bundles the real handlers (${RETENTION_READY ? 'replication, large images and retention' : 'replication and large images'})`,
    async () => {
      // Prepare
      const app = new App({ context: { config: RETENTION_READY ? RETENTION_CONFIG : FIXTURE_CONFIG } });

      // Act
      await buildApp(app, { env: {} });

      // Assess: one bundle per handler, each with the config and an exported handler.
      const dirs = bundles(app);
      expect(dirs).toHaveLength(RETENTION_READY ? 10 : 7);
      for (const dir of dirs) {
        expect(existsSync(join(dir, BUNDLED_CONFIG_FILE))).toBe(true);
        expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toMatch(/export\s*\{[^}]*handler/);
      }
    },
  );
});
