// Bundles the CLI with esbuild into one folder of ESM chunks (one per command, loaded on demand), as
// the Lambda bundles are built: start-up then parses only what the command needs.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Builds bin/regman.ts into `outdir`; returns the entry file to run with node. */
export async function buildCli(outdir: string): Promise<string> {
  // Chunk names carry content hashes: without a clean folder, every build leaves the last one's behind.
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { regman: fileURLToPath(new URL('../bin/regman.ts', import.meta.url)) },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(); ESM output has none of its own.
    banner: { js: 'import { createRequire as __regmanCreateRequire } from "node:module"; const require = __regmanCreateRequire(import.meta.url);' },
  });
  return `${outdir}/regman.js`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../dist/cli', import.meta.url));
  process.stdout.write(`${await buildCli(out)}\n`);
}
