// Repository sync benchmark: `regman sync` vs `skopeo sync --src docker --dest docker` over 1,000 tags of
// small images: a first sync into an empty registry and a no-op re-sync, plus the no-op's requests per side.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushImage } from '../test/helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry.ts';
import { startFaultProxy } from '../test/helpers/fault-proxy.ts';
import { median, timed, type Sample } from './copy.ts';

const REPO = 'bench/sync';

export interface SyncResult {
  readonly tags: number;
  readonly regman: Sample[];
  readonly skopeo: Sample[];
  readonly regmanNoop: Sample[];
  readonly skopeoNoop: Sample[];
  /** Requests of one regman no-op re-sync, by side and method (counted through a proxy, not timed). */
  readonly noopRequests: { readonly source: Record<string, number>; readonly target: Record<string, number> };
}

/** Pushes `tags` distinct small images (one 1 KiB layer each), 8 at a time. */
async function pushTags(reg: RunningRegistry, tags: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tags) {
      const i = next++;
      await pushImage(reg, REPO, `t${String(i).padStart(4, '0')}`, { layers: [1024] });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

function configFor(dir: string, src: { url: string }, dst: { url: string }): string {
  const file = join(dir, 'regman.yaml');
  writeFileSync(
    file,
    ['version: 1', 'registries:', `  src: { kind: oci, url: "${src.url}", public: true }`, `  dst: { kind: oci, url: "${dst.url}", public: true }`, ''].join('\n'),
  );
  return file;
}

function byMethod(requests: readonly { method: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) out[r.method] = (out[r.method] ?? 0) + 1;
  return out;
}

export async function benchSync(tags: number, runs: number, cli: string, log: (s: string) => void): Promise<SyncResult> {
  const dir = mkdtempSync(join(tmpdir(), 'regman-bench-sync-'));
  const src = await startRegistry();
  const result: SyncResult = { tags, regman: [], skopeo: [], regmanNoop: [], skopeoNoop: [], noopRequests: { source: {}, target: {} } };
  try {
    log(`pushing ${tags} tags to the source registry`);
    await pushTags(src, tags);
    for (let i = 0; i < runs; i++) {
      for (const tool of i % 2 === 0 ? (['regman', 'skopeo'] as const) : (['skopeo', 'regman'] as const)) {
        const dst = await startRegistry();
        try {
          const run = (): Promise<Sample> =>
            tool === 'regman'
              ? timed('node', [cli, 'sync', '--config', configFor(dir, src, dst), '--source', 'src', '--target', 'dst', '--repository', REPO])
              : timed('skopeo', ['sync', '--src', 'docker', '--dest', 'docker', '--src-tls-verify=false', '--dest-tls-verify=false', `${src.host}/${REPO}`, `${dst.host}/bench`]);
          const first = await run();
          const noop = await run();
          (tool === 'regman' ? result.regman : result.skopeo).push(first);
          (tool === 'regman' ? result.regmanNoop : result.skopeoNoop).push(noop);
          log(`  sync ${tags} tags #${i + 1} ${tool}: first ${first.seconds.toFixed(2)} s, no-op ${noop.seconds.toFixed(2)} s, ${(first.maxRssKiB / 1024).toFixed(0)} MiB`);
          if (tool === 'regman' && i === 0) {
            // Count what a no-op costs, through proxies (this run is not timed).
            const [ps, pd] = await Promise.all([startFaultProxy(src.url), startFaultProxy(dst.url)]);
            try {
              await timed('node', [cli, 'sync', '--config', configFor(dir, ps, pd), '--source', 'src', '--target', 'dst', '--repository', REPO]);
              Object.assign(result.noopRequests, { source: byMethod(ps.requests), target: byMethod(pd.requests) });
            } finally {
              await Promise.all([ps.stop(), pd.stop()]);
            }
          }
        } finally {
          await dst.stop();
        }
      }
    }
  } finally {
    await src.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

export function syncMarkdown(r: SyncResult, runs: number): string {
  const f = (s: readonly Sample[]): string => median(s.map((x) => x.seconds)).toFixed(2);
  const ratio = (a: readonly Sample[], b: readonly Sample[]): string => (median(a.map((x) => x.seconds)) / median(b.map((x) => x.seconds))).toFixed(2);
  const reqs = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `${r.tags} tags of small images (one 1 KiB layer each), \`regman sync\` vs \`skopeo sync --src docker --dest docker\`,`,
    `median of ${runs}, each tool into a fresh target registry. Target: no-op ratio ≤ 0.5.`,
    '',
    '| | regman s | skopeo s | ratio |',
    '|---|---:|---:|---:|',
    `| first sync | ${f(r.regman)} | ${f(r.skopeo)} | ${ratio(r.regman, r.skopeo)} |`,
    `| no-op re-sync | ${f(r.regmanNoop)} | ${f(r.skopeoNoop)} | ${ratio(r.regmanNoop, r.skopeoNoop)} |`,
    '',
    `Requests of one regman no-op re-sync: source ${reqs(r.noopRequests.source)}; target ${reqs(r.noopRequests.target)}`,
    `(the ideal is about one manifest HEAD per tag per side: ${r.tags} each).`,
  ].join('\n');
}
