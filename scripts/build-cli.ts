// Bundles the CLI with esbuild into one folder of ESM chunks (one per command, loaded on demand), as
// the Lambda bundles are built: start-up then parses only what the command needs. Also package.json's
// `prepare` script, so `npm ci` and a git install leave a built CLI behind.
import { rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The list of project sources a build was made from: bin/regman.js runs the sources instead when one is newer. */
export const INPUTS_FILE = 'inputs.json';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds bin/regman.ts into `outdir`; returns the entry file to run with node. */
export async function buildCli(outdir: string): Promise<string> {
  const { build } = await import('esbuild');
  // Chunk names carry content hashes: without a clean folder, every build leaves the last one's behind.
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: {
      regman: fileURLToPath(new URL('../bin/regman.ts', import.meta.url)),
      // A worker thread's module is its own entry: parallel-audit-scan.ts starts it by this name beside its chunk.
      'parallel-audit-scan-worker': fileURLToPath(new URL('../functions/reports/parallel-audit-scan-worker.ts', import.meta.url)),
    },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    logLevel: 'warning',
    metafile: true,
    // Bundled CommonJS dependencies call require(); ESM output has none of its own.
    banner: { js: 'import { createRequire as __regmanCreateRequire } from "node:module"; const require = __regmanCreateRequire(import.meta.url);' },
  });
  // esbuild names inputs relative to the working directory; the list is relative to the project root.
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes('node_modules/'))
    .map((p) => relative(root, fileURLToPath(new URL(p, `file://${process.cwd()}/`))));
  writeFileSync(`${outdir}/${INPUTS_FILE}`, JSON.stringify(inputs) + '\n');
  return `${outdir}/regman.js`;
}

/** esbuild is a devDependency: an install without them (`npm ci --omit=dev`) keeps running the sources. */
async function hasEsbuild(): Promise<boolean> {
  try {
    await import('esbuild');
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../dist/cli', import.meta.url));
  if (await hasEsbuild()) process.stdout.write(`${await buildCli(out)}\n`);
  else process.stderr.write('build-cli: esbuild is not installed (devDependencies omitted); regman runs from the TypeScript sources\n');
}
