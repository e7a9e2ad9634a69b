// `regman sync --source R --target T… --repository X [--tags REGEX]`: copies a repository's tags through the adapters, in parallel.
import { Option, type Command } from 'commander';
import { parsePlatform } from '../../functions/oci/platform.ts';
import { repositoryPath, syncRepository, type SyncEvent, type SyncResult } from '../../functions/registries/sync.ts';
import { formatBytes } from '../../functions/format-bytes.ts';
import { barReporter, lineReporter, wantsBar, type ProgressReporter, type ReporterOptions } from './progress-bar.ts';
import { defaultIo, loadRegistries, pickAdapter, positiveInt, runningStackOf, shortDigest, withConfigOption, type RegistryCliIo } from './load-adapters.ts';
import { abortOnSigint } from './interrupt.ts';
import { UsageError } from './run-cli.ts';
import { openCliAuditTrail, withAuditOptions, type CliAuditFlags, type CliAuditTrail } from './cli-audit.ts';
import type { CallerIdentityResolver } from '../../functions/audit/actor/caller-identity.ts';
import { isOciError } from '../../functions/oci/errors.ts';
import { dryRunAdapters, formatSyncPlan, type SyncPlan } from './sync-plan.ts';

interface SyncOptions extends CliAuditFlags {
  readonly config?: string;
  readonly source?: string;
  /** Undefined when no --target was given: runSync says one is required. */
  readonly target?: string[];
  readonly repository?: string;
  readonly tags?: string;
  readonly referrers: boolean;
  readonly platform: string[];
  readonly concurrency?: string;
  readonly json?: boolean;
  /** Print what the sync would copy, mount, skip and tag per target, and write nothing. */
  readonly dryRun?: boolean;
  /** Do not HEAD the children and blobs of a manifest a target already has. */
  readonly trustTarget?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Progress on stderr. Lines: one per tag started / copied / failed, and the copy engine's blob lines
 * prefixed with target and tag. Bar: one bar over the bytes of every target (a blob sent to two
 * targets counts twice).
 */
function syncProgress(io: RegistryCliIo, options: ReporterOptions = {}): { onEvent: (e: SyncEvent) => void; stop: () => void } {
  const bar = (io.progress ?? (wantsBar() ? 'bar' : 'lines')) === 'bar';
  if (bar) {
    const reporter = barReporter(process.stderr, options);
    return {
      onEvent: (e) => {
        if (e.type === 'copy') reporter.onEvent({ ...e.event, digest: `${e.target}/${e.event.digest}` });
      },
      stop: () => reporter.stop(),
    };
  }
  const perCopy = new Map<string, ProgressReporter>();
  return {
    onEvent: (e) => {
      switch (e.type) {
        case 'planned':
          io.stderr(`sync: ${e.tags.length} tag(s) to ${e.targets.join(', ')}`);
          break;
        case 'tag-started':
          io.stderr(`${e.target} ${e.tag}: started`);
          break;
        case 'tag-finished':
          io.stderr(`${e.target} ${e.tag}: ${e.result.noop ? 'up to date' : options.dryRun ? 'would copy' : 'copied'} ${shortDigest(e.result.digest)}`);
          break;
        case 'tag-failed':
          io.stderr(`${e.target} ${e.tag}: FAILED: ${e.error.message}`);
          break;
        case 'copy': {
          const key = `${e.target} ${e.tag}`;
          let r = perCopy.get(key);
          if (r === undefined) {
            r = lineReporter((line) => io.stderr(`${key}: ${line}`), options);
            perCopy.set(key, r);
          }
          r.onEvent(e.event);
          break;
        }
      }
    },
    stop: () => undefined,
  };
}

/** The result as text: one line per target per tag. */
function summary(result: SyncResult): string {
  const lines: string[] = [];
  for (const t of result.targets) {
    for (const o of t.tags) {
      const where = `${t.target}/${t.repository}:${o.tag}`;
      if (o.error !== undefined || o.result === undefined) {
        lines.push(`${where} FAILED: ${o.error?.message.split('\n')[0] ?? 'not copied'}`);
        continue;
      }
      const r = o.result;
      lines.push(
        r.noop
          ? `${where} up to date ${r.digest}`
          : `${where} copied ${r.digest} (blobs: ${r.blobs.uploaded} uploaded, ${r.blobs.mounted} mounted, ${r.blobs.skipped} skipped; ${formatBytes(r.bytesUploaded)}` +
              `${r.referrers.length > 0 ? `; ${r.referrers.length} referrer(s)` : ''})`,
      );
    }
  }
  return lines.join('\n');
}

/** Result as JSON: errors as their messages. */
function toJson(result: SyncResult): unknown {
  return {
    ...result,
    targets: result.targets.map((t) => ({
      ...t,
      tags: t.tags.map((o) => ({ tag: o.tag, ...(o.result ? { result: o.result } : {}), ...(o.error ? { error: o.error.message } : {}) })),
    })),
  };
}

/** Runs one `regman sync`; UsageError on bad input; an Error (exit 1) when any tag failed on any target. */
export async function runSync(opts: SyncOptions, io: RegistryCliIo & { readonly identity?: CallerIdentityResolver }): Promise<SyncResult> {
  let tagPattern: RegExp | undefined;
  if (opts.tags !== undefined) {
    try {
      tagPattern = new RegExp(opts.tags);
    } catch (err) {
      throw new UsageError(`--tags: invalid regular expression "${opts.tags}": ${(err as Error).message}`, "--tags 'v\\d+\\..*'");
    }
  }
  for (const p of opts.platform) {
    try {
      parsePlatform(p);
    } catch (err) {
      throw new UsageError(`--platform: ${(err as Error).message}`, '--platform linux/arm64');
    }
  }
  const concurrency = positiveInt(opts.concurrency, '--concurrency');
  if (opts.target === undefined || opts.target.length === 0) throw new UsageError('at least one --target is required', '--target gar-eu --target acr-prod');
  const repository = opts.repository as string;

  // With --state-dir, the local stack's registries are reached where it runs (the config's defaults are only the ports it tried first).
  const loaded = await loadRegistries(opts.config, io, opts.stateDir !== undefined ? await runningStackOf({ stateDir: opts.stateDir }) : undefined);
  const progress = syncProgress(io, { dryRun: opts.dryRun === true });
  const controller = new AbortController();
  const sigint = abortOnSigint(controller);
  let trail: CliAuditTrail | undefined;
  try {
    if (!opts.dryRun) trail = await openCliAuditTrail(opts, io.env, { stderr: io.stderr, ...(io.identity ? { identity: io.identity } : {}) });
    const source = pickAdapter(loaded, opts.source, '--source');
    const targets = [...new Set(opts.target)].map((t) => pickAdapter(loaded, t, '--target'));
    for (const t of targets) {
      if (t.host === source.host && repositoryPath(t, repository) === repositoryPath(source, repository)) {
        throw new UsageError(`--target "${t.name}" is the source repository itself (${t.host}/${repositoryPath(t, repository)})`);
      }
    }
    // A dry run writes nothing, not even an audit record: the adapters' OCI handles only read.
    const dry = opts.dryRun ? dryRunAdapters(source, targets) : undefined;
    const result = await syncRepository({
      source: dry?.source ?? source, targets: dry?.targets ?? targets, repository, referrers: opts.referrers, signal: controller.signal,
      onEvent: (e) => {
        dry?.onEvent(e);
        progress.onEvent(e);
      },
      ...(tagPattern !== undefined ? { tagPattern } : {}),
      ...(opts.platform.length > 0 ? { platforms: opts.platform } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(opts.trustTarget ? { trustTarget: true } : {}),
    });
    progress.stop();
    const plan: SyncPlan | undefined = dry?.plan(result);
    if (trail && !plan) await recordSync(trail, result);
    if (plan) io.stdout(opts.json ? JSON.stringify(plan, null, 2) : formatSyncPlan(plan));
    else io.stdout(opts.json ? JSON.stringify(toJson(result), null, 2) : summary(result));
    if (result.tags.length === 0) {
      throw new Error(`no tag of ${source.name}/${result.repository} matches${opts.tags !== undefined ? ` --tags "${opts.tags}"` : ''}; nothing was copied`);
    }
    if (!result.ok) {
      const failed = result.targets.flatMap((t) => t.tags.filter((o) => o.error !== undefined).map((o) => `${t.target} ${o.tag}`));
      throw new Error(`${failed.length} of ${result.tags.length * result.targets.length} tag copies failed: ${failed.join(', ')}`);
    }
    return result;
  } catch (err) {
    throw sigint.wrap(err);
  } finally {
    progress.stop();
    sigint.release();
    loaded.close();
    await trail?.close();
  }
}

/** One `sync` record per target and tag, between configured registry names (the cost report prices these pairs). */
async function recordSync(trail: CliAuditTrail, result: SyncResult): Promise<void> {
  for (const t of result.targets) {
    for (const o of t.tags) {
      const where = { action: 'sync', source: result.source, target: t.target, repository: result.repository, tags: [o.tag] } as const;
      if (o.result) {
        const r = o.result;
        await trail.record({ ...where, outcome: r.noop ? 'skipped' : 'success', digest: r.digest, bytes: r.bytesUploaded, blobs: r.blobs, durationMs: Math.round(r.seconds * 1000) });
      } else {
        await trail.record({ ...where, outcome: 'failure', errorMessage: o.error?.message ?? 'not copied', ...(o.error && isOciError(o.error) ? { errorCode: o.error.code } : {}) });
      }
    }
  }
}

/**
 * Adds `regman sync`.
 *
 * @example regman sync --source ecr-main --target gar-eu --target acr-prod --repository team/app --tags 'v1\..*'
 */
export function registerSync(program: Command, io: RegistryCliIo = defaultIo()): void {
  withConfigOption(
    withAuditOptions(program
      .command('sync'))
      .description(
        "copy a repository's tags from one configured registry to others, in parallel, digests unchanged, with signatures and SBOMs; " +
          "the repository is named relative to each registry's namespace. Exits 1 if any tag failed on any target.",
      ),
  )
    .requiredOption('--source <name>', 'the registry to copy from')
    .option('--target <name>', 'a registry to copy to (required; repeat for several)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .requiredOption('--repository <name>', 'the repository, e.g. team/app')
    .option('--tags <regex>', 'copy only tags the regular expression matches whole (default: every tag)')
    .option('--no-referrers', 'do not copy referrers (OCI 1.1 referrers, fallback tags, cosign .sig/.att/.sbom tags)')
    .addOption(new Option('--platform <os/arch[/variant]>', 'copy only this platform of each index (repeatable)').argParser(collect).default([], 'every platform'))
    .option('--concurrency <n>', 'tag copies in flight at once (default 4)')
    .option('--trust-target', 'when a target has a tag\'s manifest, do not HEAD its children and blobs (a no-op re-sync is one HEAD per tag; a partly deleted image stays broken)')
    .option('--json', 'print the result as JSON on stdout')
    .option('--dry-run', 'print per target what would be uploaded, mounted, skipped and tagged, and the bytes; write nothing (no blob, manifest, tag or audit record)')
    .action(async (opts: SyncOptions) => {
      await runSync(opts, io);
    });
}
