// Lambda packaging benchmark: each handler bundled as CDK bundles it (esbuild, ESM, minified, AWS SDK
// included), its size, and its module-init time (a fresh `node` importing the bundle, median of N).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { lambdaExternalModules } from '../lib/bundle-externals.ts';
import { HANDLER_ENTRIES, type HandlerName } from '../lib/registry-manager-stack.ts';
import { median } from './copy.ts';

/** Targets from issue 12. */
export const BUNDLE_TARGET_BYTES = 1.5 * 1000 * 1000;
export const INIT_TARGET_MS = 300;

export interface BundleResult {
  readonly name: HandlerName;
  readonly bytes: number;
  readonly initMs: number;
  /** The largest inputs by bytes in the output, for "where the size goes". */
  readonly top: readonly { readonly input: string; readonly bytes: number }[];
}

/** The bundling options of lib/constructs/base-function.ts (NodejsFunction), as plain esbuild. */
async function bundle(entry: string, outfile: string, external: string[]): Promise<Metafile> {
  const result = await build({
    external,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    outfile,
    metafile: true,
    logLevel: 'warning',
    banner: { js: "import { createRequire as regmanCreateRequire } from 'node:module'; const require = regmanCreateRequire(import.meta.url);" },
  });
  return result.metafile;
}

/**
 * Module-init time: a fresh node process times `await import(bundle)` with performance.now (so Node's
 * own start-up is not counted, as Lambda's INIT duration for the function code would not count it).
 * The handler's environment is set so that modules reading env vars at load time find them.
 */
function initMs(file: string, env: NodeJS.ProcessEnv): number {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`importing ${file} failed: ${r.stderr.slice(-2000)}`);
  return Number(r.stdout);
}

/** Bundles every handler in HANDLER_ENTRIES and measures it. */
export async function benchBundles(runs: number, log: (s: string) => void): Promise<BundleResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'regman-bundles-'));
  const config = join(dir, 'config.json');
  const benchConfig = { registries: {}, replication: [], retention: [] };
  writeFileSync(config, JSON.stringify(benchConfig));
  // As base-function.ts bundles for this config: without a GAR/GCR registry, google-auth-library stays out.
  const external = lambdaExternalModules(benchConfig);
  const env = { REGMAN_CONFIG_PATH: config, AWS_REGION: 'us-east-1', POWERTOOLS_SERVICE_NAME: 'bench' };
  const results: BundleResult[] = [];
  try {
    for (const [name, entry] of Object.entries(HANDLER_ENTRIES) as [HandlerName, string][]) {
      const outfile = join(dir, `${name}.mjs`);
      const meta = await bundle(entry, outfile, external);
      const bytes = statSync(outfile).size;
      const output = Object.values(meta.outputs)[0];
      const byPackage = new Map<string, number>();
      for (const [input, info] of Object.entries(output?.inputs ?? {})) {
        const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
        const key = m?.[1] ?? input.replace(/\/[^/]+$/, '/');
        byPackage.set(key, (byPackage.get(key) ?? 0) + info.bytesInOutput);
      }
      const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([input, b]) => ({ input, bytes: b }));
      const samples = Array.from({ length: runs }, () => initMs(outfile, env));
      const r = { name, bytes, initMs: median(samples), top };
      log(`  ${name}: ${(bytes / 1e6).toFixed(2)} MB, init ${r.initMs.toFixed(0)} ms`);
      results.push(r);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export function bundlesMarkdown(results: readonly BundleResult[], runs: number): string {
  const lines = [
    `Each handler bundled as CDK bundles it (esbuild: ESM, minified, node22, the AWS SDK inside), and its`,
    `module-init time: a fresh \`node\` timing \`await import(bundle)\`, median of ${runs}. Targets: ≤ ${BUNDLE_TARGET_BYTES / 1e6} MB, init ≤ ${INIT_TARGET_MS} ms.`,
    '',
    '| function | bundle MB | init ms | largest parts (KB in the bundle) |',
    '|---|---:|---:|---|',
  ];
  for (const r of results) {
    const parts = r.top.map((t) => `${t.input} ${(t.bytes / 1000).toFixed(0)}`).join(', ');
    const size = `${(r.bytes / 1e6).toFixed(2)}${r.bytes > BUNDLE_TARGET_BYTES ? ' ✗' : ''}`;
    const init = `${r.initMs.toFixed(0)}${r.initMs > INIT_TARGET_MS ? ' ✗' : ''}`;
    lines.push(`| ${r.name} | ${size} | ${init} | ${parts} |`);
  }
  lines.push(
    '',
    `Measured ${new Date().toISOString()}, load average ${loadavg()[0]!.toFixed(2)} at the end (init times rise with load; sizes are exact).`,
    'The bench config names no GAR or GCR registry, so google-auth-library is left out (lib/bundle-externals.ts); a config with a GAR/GCR',
    'registry adds about 0.29 MB to each bundle. An ACR registry adds nothing (the ACR adapter speaks REST; no Azure SDK is bundled). Before issue 12 the bundles were 2.03–2.14 MB.',
  );
  return lines.join('\n');
}

if (process.argv[1] === import.meta.filename) {
  const runs = Number(process.argv[2] ?? '5');
  const log = (s: string): void => void process.stderr.write(s + '\n');
  process.stdout.write(bundlesMarkdown(await benchBundles(runs, log), runs) + '\n');
}
