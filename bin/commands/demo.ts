// `regman demo`: a signed multi-arch image with an SBOM and a scan report, built offline and pushed to the running local stack's source.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../functions/config/index.ts';
import type { PromotionEdge } from '../../functions/config/types.ts';
import { formatBytes } from '../../functions/format-bytes.ts';
import { DemoError, runDemo, type DemoResult } from '../../local/demo/run-demo.ts';
import { UsageError } from './run-cli.ts';

interface DemoFlags {
  readonly stateDir: string;
  readonly config: string;
  readonly repository: string;
  readonly tag: string;
  readonly waitSeconds: string;
  readonly json?: boolean;
}

/** The lines printed on stdout: what was pushed, where it replicated (and its audit records), and what to try next. */
export function formatDemo(r: DemoResult): string {
  return [
    `pushed ${r.image} → ${r.digest}`,
    ...r.platforms.map((p) => `  ${p.platform.padEnd(16)} ${p.digest}`),
    `  signature        ${r.signature.tag} (${r.signature.digest}), key ${r.signature.keyPath}`,
    `  sbom             ${r.sbom.digest} (${r.sbom.artifactType}, listed via ${r.sbom.listedVia})`,
    `  scan report      ${r.scanReport.digest} (${r.scanReport.artifactType}, listed via ${r.scanReport.listedVia})`,
    ...(r.replication.length > 0
      ? r.replication.map((x) => `  replicated       → ${x.target}/${x.repository}: ${x.outcome}${x.error ? ` (${x.error})` : ''}`)
      : ['  replicated       nothing recorded yet']),
    ...(r.audit !== undefined && r.audit.length > 0
      ? [
          '',
          'Audit records (hash-chained; `regman audit query` lists them all):',
          ...r.audit.map((a) =>
            `  ${a.time}  ${a.action} ${a.outcome}${a.target ? ` → ${a.target}` : ''}  by ${a.actor}  correlation ${a.correlationId}  ${a.chain}` +
              `${a.bytes !== undefined ? `  ${formatBytes(a.bytes)}` : ''}${a.durationMs !== undefined ? ` in ${a.durationMs} ms` : ''}`),
        ]
      : []),
    '',
    'Next:',
    ...r.next.map((l) => `  ${l}`),
  ].join('\n');
}

/** The promotion edges of the stack's config, for the approvers in the hints; none when the file cannot be read. */
async function edgesOf(file: string): Promise<PromotionEdge[]> {
  try {
    return (await loadConfig(file)).promotion;
  } catch {
    return [];
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a small signed multi-arch image with an SBOM and a SARIF scan report (offline), push it to the running local stack, and show its replication and the next commands')
    .option('--state-dir <dir>', 'the running local stack\'s state folder', '.state')
    .option('--config <file>', 'the config the stack runs (for the promotion hints)', 'config/local.yaml')
    .option('--repository <name>', 'repository to push to', 'demo/app')
    .option('--tag <tag>', 'tag to push (a release tag, so replication picks it up)', 'v1.0.0')
    .option('--wait-seconds <n>', 'how long to watch for the replication (0: do not wait)', '20')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: DemoFlags) => {
      const waitSeconds = Number(flags.waitSeconds);
      if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw new UsageError(`--wait-seconds ${flags.waitSeconds} must be a number of seconds >= 0`, '--wait-seconds 20');
      let result: DemoResult;
      try {
        result = await runDemo({
          stateDir: resolve(flags.stateDir),
          repository: flags.repository,
          tag: flags.tag,
          waitMs: waitSeconds * 1000,
          edges: await edgesOf(flags.config),
          ...(flags.json ? {} : { log: (line: string) => void process.stderr.write(`${line}\n`) }),
        });
      } catch (err) {
        if (err instanceof DemoError) throw new UsageError(err.message, `regman local --state-dir ${flags.stateDir}`);
        throw err;
      }
      process.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `${formatDemo(result)}\n`);
    });
}
