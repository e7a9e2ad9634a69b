// `npm run bench`: runs every benchmark on this machine and writes the results to docs/BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mergeSections } from './merge-sections.ts';
import { COPY_CASES, benchCopy, bundleCli, checkPrerequisites, copyMarkdown, nodeStartupSeconds, scaleCases } from './copy.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    case: { type: 'string' },
    out: { type: 'string', default: 'docs/BENCHMARKS.md' },
    /** Multiplies every copy layer size: `--scale 0.001` smoke-tests the bench itself in seconds. */
    scale: { type: 'string', default: '1' },
    /** Tags in the repository sync case. */
    'sync-tags': { type: 'string', default: '1000' },
    /** Audit records of the reports section (`--records 50000` for a trial run). */
    records: { type: 'string', default: '1000000' },
  },
});
const runs = Number(values.runs);
/** `--only copy,sync`: the sections to run (default every one). */
const only = values.only?.split(',');
const want = (section: string): boolean => only === undefined || only.includes(section);
// Inside the project, so that what the bundle leaves external (e.g. dynalite, loaded lazily) resolves from node_modules.
const BENCH_CLI_DIR = join(import.meta.dirname, '..', 'dist', 'bench-cli');
const log = (s: string): void => void process.stderr.write(s + '\n');

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '?';
  } catch {
    return 'not installed';
  }
}

const sections: string[] = [];
sections.push(
  '# Benchmarks',
  '',
  'Written by `npm run bench` (bench/run.ts) on this machine. A run with `--only` rewrites only its sections and keeps the others, so each',
  'section says when it was measured; the machine and the load below are those of the latest run:',
  '',
  `- ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory, Node ${process.version}`,
  `- ${version('skopeo', ['--version'])}; ${version('/usr/bin/docker-registry', ['--version'])}`,
  `- ${new Date().toISOString()}`,
  `- load when the run started (\`uptime\`): ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`,
  '',
);

if (want('copy')) {
  checkPrerequisites();
  const cli = await bundleCli(BENCH_CLI_DIR);
  const cases = scaleCases(COPY_CASES, Number(values.scale)).filter((c) => !values.case || c.name.includes(values.case));
  const results = await benchCopy(cases, runs, cli, log);
  const startup = await nodeStartupSeconds(runs);
  log(`node start-up alone: ${startup.toFixed(2)} s`);
  sections.push('## Copy: `regman copy` vs `skopeo copy`', '', copyMarkdown(results, runs, startup), '');
}

if (want('sync')) {
  checkPrerequisites();
  const { benchSync, syncMarkdown } = await import('./sync.ts');
  const cli = await bundleCli(BENCH_CLI_DIR);
  const syncRuns = Math.min(runs, 3);
  sections.push('## Repository sync: `regman sync` vs `skopeo sync`', '', syncMarkdown(await benchSync(Number(values['sync-tags']), syncRuns, cli, log), syncRuns), '');
}

if (want('bundles')) {
  const { benchBundles, bundlesMarkdown } = await import('./lambda-bundles.ts');
  sections.push('## Lambda packaging: bundle size and module init', '', bundlesMarkdown(await benchBundles(5, log), 5), '');
}

if (want('latency')) {
  const { latencyMarkdown } = await import('./latency.ts');
  sections.push('## Push-to-replicated latency (local stack)', '', await latencyMarkdown(log), '');
}

if (want('retention')) {
  // A process of its own: after the latency run's gigabytes of buffers this heap is fragmented and
  // its peak RSS is the copies', and both would be charged to the planner (1.1 s vs 0.45 s measured).
  const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
  const markdown = execFileSync(tsx, [join(import.meta.dirname, 'retention-plan.ts')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
  sections.push(markdown.trimEnd(), '');
}

if (want('reports')) {
  // A process of its own, like the retention planner: the table stand-in holds a million items in this one.
  const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
  // Its own heap of 8 GiB: the stand-in's million sealed items do not fit Node's default (`npm run bench` gives only this process one).
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=8192`.trim() };
  const markdown = execFileSync(tsx, [join(import.meta.dirname, 'reports.ts'), '--records', values.records!], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
  sections.push(markdown.trimEnd(), '');
}

if (want('promotion')) {
  const { promotionBenchMarkdown } = await import('./promotion.ts');
  sections.push('## Promotion of an image already in the target registries', '', await promotionBenchMarkdown(Math.max(runs, 5), log), '');
}

// Sections this run did not write stay as the last run that did left them.
writeFileSync(values.out!, mergeSections(existsSync(values.out!) ? readFileSync(values.out!, 'utf8') : '', sections.join('\n')));
log(`wrote ${values.out}`);
