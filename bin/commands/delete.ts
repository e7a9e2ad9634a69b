// `regman delete REF`: deletes an image by digest (a tag is resolved first), saying what else points at it and what it would break.
import type { Command } from 'commander';
import { planDelete, readRepositoryGraph, type DeletePlan } from '../../functions/oci/delete-plan.ts';
import { isNotFoundError, isOciError } from '../../functions/oci/errors.ts';
import { formatReference, parseReference, referenceTarget } from '../../functions/oci/reference.ts';
import type { Reference } from '../../functions/oci/types.ts';
import { openCliAuditTrail, withAuditOptions, type CliAuditFlags, type CliAuditTrail } from './cli-audit.ts';
import { registryClientFor, type CopyIo } from './copy.ts';
import { UsageError } from './run-cli.ts';

export interface DeleteCommandOptions extends CliAuditFlags {
  readonly json?: boolean;
  readonly dryRun?: boolean;
  /** Delete even when a tagged index lists the digest as a child. */
  readonly force?: boolean;
  readonly creds?: string;
  readonly plainHttp?: boolean;
  readonly insecure?: boolean;
}

export interface DeleteResult extends DeletePlan {
  readonly dryRun: boolean;
  readonly reference: string;
  readonly registry: string;
  readonly repository: string;
  /** Digests deleted, in order (empty for a dry run). */
  readonly deleted: string[];
}

/** Runs one `regman delete`; refuses (exit 2) what would break a tagged index unless forced. */
export async function runDelete(refText: string, opts: DeleteCommandOptions, io: CopyIo): Promise<DeleteResult> {
  let ref: Reference;
  try {
    ref = parseReference(refText);
  } catch (err) {
    throw new UsageError(`REF: ${(err as Error).message}`, 'regman delete 127.0.0.1:5000/team/app@sha256:…');
  }
  const client = registryClientFor(ref, opts, io.env);
  const stderr = io.stderr ?? ((t: string) => process.stderr.write(t + '\n'));
  let trail: CliAuditTrail | undefined;
  try {
    const head = await client.manifestHead(ref.repository, referenceTarget(ref)).catch((err: unknown) => {
      if (isNotFoundError(err)) return undefined;
      throw err;
    });
    if (head === undefined) throw new UsageError(`${formatReference(ref)} does not exist`);
    const plan = planDelete(head.digest, await readRepositoryGraph(client, ref.repository, head.digest));
    const base = { dryRun: Boolean(opts.dryRun), reference: formatReference(ref), registry: ref.registry, repository: ref.repository };
    if (opts.dryRun) {
      const result: DeleteResult = { ...plan, ...base, deleted: [] };
      io.stdout(opts.json ? JSON.stringify(result, null, 2) : deleteText(result));
      return result;
    }
    if (plan.blockers.length > 0 && !opts.force) {
      throw new UsageError(`refusing to delete ${formatReference(ref)}: ${plan.blockers.join('; ')}`, `regman delete --dry-run ${refText} to see the plan, --force to delete anyway`);
    }
    trail = await openCliAuditTrail(opts, io.env, { stderr, ...(io.identity ? { identity: io.identity } : {}) });
    const deleted: string[] = [];
    const started = Date.now();
    const record = { action: 'delete', registry: ref.registry, repository: ref.repository, digest: head.digest, tags: plan.tags } as const;
    try {
      for (const d of plan.deletes) {
        await client.manifestDelete(ref.repository, d);
        deleted.push(d);
      }
    } catch (err) {
      await trail?.record({
        ...record, outcome: 'failure', durationMs: Date.now() - started, details: { deleted },
        errorMessage: err instanceof Error ? err.message : String(err), ...(isOciError(err) ? { errorCode: err.code } : {}),
      });
      throw err;
    }
    await trail?.record({
      ...record, outcome: 'success', durationMs: Date.now() - started,
      details: { deleted, referrers: plan.referrers, ...(opts.force && plan.blockers.length > 0 ? { forced: plan.blockers } : {}) },
    });
    const result: DeleteResult = { ...plan, ...base, deleted };
    io.stdout(opts.json ? JSON.stringify(result, null, 2) : deleteText(result));
    return result;
  } finally {
    client.close();
    await trail?.close();
  }
}

function deleteText(r: DeleteResult): string {
  const would = r.dryRun ? 'would delete' : 'deleted';
  const lines = [`${r.reference} is ${r.digest}`];
  lines.push(`  tags that go with it: ${r.tags.length ? r.tags.join(', ') : 'none'}`);
  for (const p of r.parents) lines.push(`  child of the index ${p.digest}${p.tags.length ? ` (tags ${p.tags.join(', ')})` : ''}: it would be left broken`);
  if (r.referrers.length) lines.push(`  referrers that go with it: ${r.referrers.join(', ')}${r.referrerTags.length ? ` (tags ${r.referrerTags.join(', ')})` : ''}`);
  for (const c of r.children) lines.push(`  child ${c.digest}: ${c.usedBy.length ? `kept, still used by ${c.usedBy.join(', ')}` : 'goes with it'}`);
  lines.push(`${would} ${r.dryRun ? r.deletes.length : r.deleted.length} manifest(s)${r.dryRun ? '; nothing was written' : ''}`);
  if (r.dryRun && r.blockers.length) lines.push(`refused without --force: ${r.blockers.join('; ')}`);
  return lines.join('\n');
}

/**
 * Adds `regman delete REF`.
 *
 * @example regman delete --dry-run --plain-http 127.0.0.1:5000/team/app:old
 */
export function registerDelete(program: Command): void {
  withAuditOptions(program.command('delete'))
    .description('delete an image by digest (a tag is resolved first), saying what else points at it: its tags, referrers (deleted with it), ' +
      'children (kept when still used) and tagged indexes it would break (refused without --force). Audited.')
    .argument('<ref>', 'host/repo:tag or host/repo@sha256:…')
    .option('--dry-run', 'print the plan; delete nothing')
    .option('--force', 'delete even when a tagged index lists the digest as a child')
    .option('--json', 'print the plan or result as JSON on stdout')
    .option('--creds <user:pass>', 'credentials (else REGMAN_USERNAME/REGMAN_PASSWORD, auth.json, ~/.docker/config.json; docs/CREDENTIALS.md)')
    .option('--plain-http', 'use http:// (loopback registries)')
    .option('--insecure', 'skip TLS certificate verification')
    .action(async (refText: string, opts: DeleteCommandOptions) => {
      await runDelete(refText, opts, { stdout: (t) => process.stdout.write(t + '\n'), env: process.env });
    });
}
