// Copy benchmark: `regman copy` against `skopeo copy` between the same two local registries, alternating.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../scripts/build-cli.ts';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry.ts';
import { pushLargeImage } from '../test/helpers/images.ts';

const MiB = 1024 * 1024;

export interface CopyCase {
  readonly name: string;
  readonly layers: readonly number[];
}

export const COPY_CASES: readonly CopyCase[] = [
  { name: '1 GiB in 8 layers', layers: Array.from({ length: 8 }, () => 128 * MiB) },
  { name: '1 GiB in 1 layer', layers: [1024 * MiB] },
  { name: '256 MiB in 1 layer', layers: [256 * MiB] },
  { name: '100 MiB in 50 layers', layers: Array.from({ length: 50 }, () => 2 * MiB) },
];

export interface Sample {
  readonly seconds: number;
  readonly maxRssKiB: number;
}

export interface CaseResult {
  readonly name: string;
  readonly regman: Sample[];
  readonly skopeo: Sample[];
  readonly regmanNoop: Sample[];
  readonly skopeoNoop: Sample[];
}

/** Runs a command under GNU time and returns wall seconds and peak RSS; throws on a non-zero exit. */
async function timed(cmd: string, args: readonly string[]): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'regman-bench-'));
  const out = join(dir, 'time');
  const started = process.hrtime.bigint();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', out, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (c) => (c === 0 ? resolve(0) : reject(new Error(`${cmd} ${args.join(' ')} exited ${c}: ${err}`))));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const maxRssKiB = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  rmSync(dir, { recursive: true, force: true });
  void code;
  return { seconds, maxRssKiB };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function checkPrerequisites(): void {
  const missing = [
    ['/usr/bin/skopeo', 'skopeo'],
    ['/usr/bin/docker-registry', 'docker-registry'],
    ['/usr/bin/time', 'time'],
  ].filter(([p]) => !existsSync(p!));
  if (missing.length > 0) {
    throw new Error(`missing ${missing.map(([p]) => p).join(', ')}: sudo apt-get install -y ${missing.map(([, pkg]) => pkg).join(' ')}`);
  }
}

/**
 * The CLI is bundled with esbuild (scripts/build-cli.mjs, as `npm run build` does), so that the
 * timings measure the copy and not TypeScript transpilation at start-up.
 */
export async function bundleCli(outDir: string): Promise<string> {
  return buildCli(outDir);
}

/**
 * For each case: push the image to the source once; then, for each of `runs` rounds, copy it with
 * regman and with skopeo (alternating who goes first) into a FRESH target registry each, so neither
 * tool benefits from blobs left by the other or from skopeo's blob-info cache; then time a no-op
 * re-copy of the same image into the same target.
 */
export async function benchCopy(cases: readonly CopyCase[], runs: number, cli: string, log: (s: string) => void): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const src = await startRegistry();
  try {
    for (const c of cases) {
      const repo = `bench/${c.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
      log(`pushing ${c.name} to the source registry`);
      await pushLargeImage(src, repo, 'v1', [...c.layers]);
      const r: CaseResult = { name: c.name, regman: [], skopeo: [], regmanNoop: [], skopeoNoop: [] };
      for (let i = 0; i < runs; i++) {
        const order: ('regman' | 'skopeo')[] = i % 2 === 0 ? ['regman', 'skopeo'] : ['skopeo', 'regman'];
        for (const tool of order) {
          const dst: RunningRegistry = await startRegistry();
          try {
            const from = `${src.host}/${repo}:v1`;
            const to = `${dst.host}/${repo}:v1`;
            const run = (): Promise<Sample> =>
              tool === 'regman'
                ? timed('node', [cli, 'copy', '--plain-http', from, to])
                : timed('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${from}`, `docker://${to}`]);
            const first = await run();
            const noop = await run();
            (tool === 'regman' ? r.regman : r.skopeo).push(first);
            (tool === 'regman' ? r.regmanNoop : r.skopeoNoop).push(noop);
            log(`  ${c.name} #${i + 1} ${tool}: ${first.seconds.toFixed(2)} s, ${(first.maxRssKiB / 1024).toFixed(0)} MiB; no-op ${noop.seconds.toFixed(2)} s`);
          } finally {
            await dst.stop();
          }
        }
      }
      results.push(r);
    }
  } finally {
    await src.stop();
  }
  return results;
}

/**
 * The floor under any `regman` command: Node starting and exiting with nothing to do (`node -e ''`),
 * median of `runs`. A no-op copy is this plus a few HEAD requests; skopeo, a static Go binary, has
 * no such floor, so the no-op ratio cannot reach 1 on a machine where this alone exceeds skopeo's no-op.
 */
export async function nodeStartupSeconds(runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push((await timed('node', ['-e', ''])).seconds);
  return median(samples);
}

export function copyMarkdown(results: readonly CaseResult[], runs: number, nodeStartup?: number): string {
  const f = (s: readonly Sample[]): string => median(s.map((x) => x.seconds)).toFixed(2);
  const rss = (s: readonly Sample[]): string => (Math.max(...s.map((x) => x.maxRssKiB)) / 1024).toFixed(0);
  const ratio = (a: readonly Sample[], b: readonly Sample[]): string =>
    (median(a.map((x) => x.seconds)) / median(b.map((x) => x.seconds))).toFixed(2);
  const lines = [
    `Median of ${runs} runs each, alternating, each run into a fresh target registry. Peak RSS is the`,
    'largest of the runs (GNU time, %M).',
    '',
    '| case | regman s | skopeo s | ratio | regman peak RSS MiB | skopeo peak RSS MiB | no-op regman s | no-op skopeo s | no-op ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${f(r.regman)} | ${f(r.skopeo)} | ${ratio(r.regman, r.skopeo)} | ${rss(r.regman)} | ${rss(r.skopeo)} | ${f(r.regmanNoop)} | ${f(r.skopeoNoop)} | ${ratio(r.regmanNoop, r.skopeoNoop)} |`,
    );
  }
  if (nodeStartup !== undefined) {
    lines.push(
      '',
      `The no-op column has a floor: \`node -e ''\` alone takes ${nodeStartup.toFixed(2)} s on this machine (median of ${runs}), so a`,
      'no-op `regman copy` is mostly Node starting; the rest is loading the bundled CLI and one manifest HEAD',
      'at each side. skopeo is a static Go binary without that floor.',
    );
  }
  return lines.join('\n');
}
