// What a CLI command parses at start-up: the modules its chunk imports statically, in the bundle as
// scripts/build-cli.ts builds it. A `regman copy` without audit flags must not parse the AWS SDK or
// the local stack's dynalite (about 4 MB, most of a no-op copy's start-up); those load through
// import() when a record is written (bin/commands/cli-audit.ts).
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../../bin/regman.ts', import.meta.url));
const HEAVY = /node_modules\/(@aws-sdk|@smithy|dynalite|classic-level)\/|local\/audit-access\.ts$|functions\/audit\/index\.ts$/;

/** Outputs reachable from `start` through edges of `kind`, `start` included. */
function closure(meta: Metafile, start: string, kinds: readonly string[]): Set<string> {
  const seen = new Set<string>([start]);
  const todo = [start];
  while (todo.length > 0) {
    const out = meta.outputs[todo.pop()!];
    for (const imp of out?.imports ?? []) {
      if (imp.external || !kinds.includes(imp.kind) || seen.has(imp.path)) continue;
      seen.add(imp.path);
      todo.push(imp.path);
    }
  }
  return seen;
}

function inputsOf(meta: Metafile, outputs: Iterable<string>): string[] {
  return [...outputs].flatMap((o) => Object.keys(meta.outputs[o]?.inputs ?? {}));
}

describe('CLI start-up imports', () => {
  let meta: Metafile;
  beforeAll(async () => {
    const result = await build({
      entryPoints: { regman: entry }, bundle: true, splitting: true, platform: 'node', format: 'esm', target: 'node20',
      outdir: '/virtual-out', write: false, metafile: true, logLevel: 'silent',
    });
    meta = result.metafile;
  }, 120_000);

  /** The output chunk holding a command's module. */
  const chunkOf = (source: string): string => {
    const found = Object.entries(meta.outputs).find(([, o]) => Object.keys(o.inputs).some((p) => p.endsWith(source)));
    if (!found) throw new Error(`${source} is in no output chunk`);
    return found[0];
  };

  // `regman sync` is left out: its registries come from the config, and ECR's adapter needs the SDK.
  for (const command of ['copy', 'tag', 'delete']) {
    it(`regman ${command} parses neither the AWS SDK nor dynalite unless it audits`, () => {
      const start = chunkOf(`bin/commands/${command}.ts`);
      const parsed = inputsOf(meta, closure(meta, start, ['import-statement']));
      expect(parsed.some((p) => p.endsWith(`bin/commands/${command}.ts`))).toBe(true);
      expect(parsed.filter((p) => HEAVY.test(p))).toEqual([]);
      // The audit back ends are still there, one import() away.
      const reachable = inputsOf(meta, closure(meta, start, ['import-statement', 'dynamic-import']));
      expect(reachable.some((p) => p.endsWith('local/audit-access.ts'))).toBe(true);
      expect(reachable.some((p) => p.includes('node_modules/@aws-sdk/credential-providers/'))).toBe(true);
    });
  }
});
