// Copy benchmark: `regman copy` against `skopeo copy` between the same two local registries, alternating.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../scripts/build-cli.ts';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry.ts';
import { pushImageOfLayers, pushLargeImage, type PushedBlob } from '../test/helpers/images.ts';
import { RawRegistryClient } from '../test/helpers/raw-push.ts';
import { tarGzipLayer } from './tar-layers.ts';

const MiB = 1024 * 1024;

export interface CopyCase {
  readonly name: string;
  /** Compressed layer sizes. */
  readonly layers: readonly number[];
  /**
   * `tar-gzip`: real layers, a gzip'd tar of files (what users copy). `pseudo-random`: random bytes
   * labelled as gzip, kept only as a labelled extra row (skopeo does extra work on those, which flatters us).
   */
  readonly content: 'tar-gzip' | 'pseudo-random';
}

export const COPY_CASES: readonly CopyCase[] = [
  { name: '1 GiB in 8 layers', layers: Array.from({ length: 8 }, () => 128 * MiB), content: 'tar-gzip' },
  { name: '1 GiB in 1 layer', layers: [1024 * MiB], content: 'tar-gzip' },
  { name: '256 MiB in 1 layer', layers: [256 * MiB], content: 'tar-gzip' },
  { name: '100 MiB in 50 layers', layers: Array.from({ length: 50 }, () => 2 * MiB), content: 'tar-gzip' },
  { name: '100 MiB in 50 layers, pseudo-random bytes (extra)', layers: Array.from({ length: 50 }, () => 2 * MiB), content: 'pseudo-random' },
];

/** The cases with every layer scaled (`--scale 0.01` for a smoke test of the bench itself). */
export function scaleCases(cases: readonly CopyCase[], scale: number): CopyCase[] {
  return cases.map((c) => ({ ...c, layers: c.layers.map((l) => Math.max(1024, Math.round(l * scale))) }));
}

/** Pushes a case's image to the source: real gzip'd tar layers (2 at a time), or pseudo-random ones. */
export async function pushCaseImage(src: RunningRegistry, repo: string, c: CopyCase): Promise<void> {
  if (c.content === 'pseudo-random') {
    await pushLargeImage(src, repo, 'v1', [...c.layers]);
    return;
  }
  const client = new RawRegistryClient(src);
  const layers: PushedBlob[] = new Array<PushedBlob>(c.layers.length);
  const diffIds: string[] = new Array<string>(c.layers.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < c.layers.length) {
      const i = next++;
      const layer = tarGzipLayer(c.layers[i]!);
      const { digest, size } = await client.pushBlobStream(repo, layer.stream);
      layers[i] = { digest, size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
      diffIds[i] = layer.diffId();
    }
  };
  await Promise.all([worker(), worker()]);
  await pushImageOfLayers(src, repo, 'v1', layers, diffIds);
}

export interface Sample {
  readonly seconds: number;
  readonly maxRssKiB: number;
  /** CPU seconds of the tool itself (user + system). */
  readonly cpuSeconds?: number;
  /** CPU seconds the two registries spent meanwhile. */
  readonly registryCpuSeconds?: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; 0 when unknown. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export interface CaseResult {
  readonly name: string;
  readonly regman: Sample[];
  readonly skopeo: Sample[];
  readonly regmanNoop: Sample[];
  readonly skopeoNoop: Sample[];
}

/** Runs a command under GNU time and returns wall seconds and peak RSS; throws on a non-zero exit. */
export async function timed(cmd: string, args: readonly string[]): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'regman-bench-'));
  const out = join(dir, 'time');
  const started = process.hrtime.bigint();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', out, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (c) => (c === 0 ? resolve(0) : reject(new Error(`${cmd} ${args.join(' ')} exited ${c}: ${err}`))));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [rss, user, sys] = (readFileSync(out, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
  rmSync(dir, { recursive: true, force: true });
  void code;
  return { seconds, maxRssKiB: rss ?? 0, cpuSeconds: (user ?? 0) + (sys ?? 0) };
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
      const repo = `bench/${c.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()}`;
      log(`pushing ${c.name} (${c.content}) to the source registry`);
      await pushCaseImage(src, repo, c);
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
            const cpuBefore = processCpuSeconds(src.pid) + processCpuSeconds(dst.pid);
            const firstRun = await run();
            const first = { ...firstRun, registryCpuSeconds: processCpuSeconds(src.pid) + processCpuSeconds(dst.pid) - cpuBefore };
            const noop = await run();
            (tool === 'regman' ? r.regman : r.skopeo).push(first);
            (tool === 'regman' ? r.regmanNoop : r.skopeoNoop).push(noop);
            log(
              `  ${c.name} #${i + 1} ${tool}: ${first.seconds.toFixed(2)} s (cpu ${first.cpuSeconds?.toFixed(2)} s, registries ${first.registryCpuSeconds.toFixed(2)} s), ` +
                `${(first.maxRssKiB / 1024).toFixed(0)} MiB; no-op ${noop.seconds.toFixed(2)} s`,
            );
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
  const cpu = (s: readonly Sample[], k: 'cpuSeconds' | 'registryCpuSeconds'): string => median(s.map((x) => x[k] ?? 0)).toFixed(2);
  const lines = [
    `Median of ${runs} runs each, alternating, each run into a fresh target registry. Peak RSS is the`,
    'largest of the runs (GNU time, %M). Layers are real: a tar of files (half random bytes, half text),',
    'gzip-compressed (bench/tar-layers.ts); the pseudo-random row is an extra, labelled as such.',
    '',
    '| case | regman s | skopeo s | ratio | regman peak RSS MiB | skopeo peak RSS MiB | no-op regman s | no-op skopeo s | no-op ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${f(r.regman)} | ${f(r.skopeo)} | ${ratio(r.regman, r.skopeo)} | ${rss(r.regman)} | ${rss(r.skopeo)} | ${f(r.regmanNoop)} | ${f(r.skopeoNoop)} | ${ratio(r.regmanNoop, r.skopeoNoop)} |`,
    );
  }
  lines.push(
    '',
    'Where the time goes (medians of the same runs): the tool\'s own CPU (user + system, GNU time), the CPU',
    'both registries spent meanwhile (/proc/<pid>/stat), and the rest of the wall time, which is waiting:',
    'on the loopback wire, on disk, and on the other processes sharing the cores.',
    '',
    '| case | tool | wall s | own CPU s | registries CPU s |',
    '|---|---|---:|---:|---:|',
  );
  for (const r of results) {
    for (const [tool, s] of [['regman', r.regman], ['skopeo', r.skopeo]] as const) {
      lines.push(`| ${r.name} | ${tool} | ${f(s)} | ${cpu(s, 'cpuSeconds')} | ${cpu(s, 'registryCpuSeconds')} |`);
    }
  }
  if (nodeStartup !== undefined) {
    lines.push(
      '',
      `The no-op column has a floor: \`node -e ''\` alone takes ${nodeStartup.toFixed(2)} s on this machine (median of ${runs}), so a`,
      'no-op `regman copy` is mostly Node starting; the rest is loading the bundled CLI (the copy command\'s chunks only),',
      'the source manifest GET, the tag HEAD at the target, the completeness check (a HEAD of every blob, issue 8;',
      '`--trust-target` skips it) and the referrers lookup. skopeo is a static Go binary without that floor.',
    );
  }
  return lines.join('\n');
}
