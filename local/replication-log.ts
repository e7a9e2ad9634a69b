// Human-readable lines for the local stack's terminal: each replication, retry, dead letter and reconcile as it happens.
import { formatBytes } from '../functions/format-bytes.ts';
import type { ReconcileReport, ReplicationEvent } from '../functions/replication/index.ts';
import type { LargeImageSummary } from '../functions/replication/large/types.ts';
import type { AttemptReport } from './async-invoker.ts';
import type { EcrImageActionEvent } from './notifications.ts';
import type { LocalExecutionResult } from './step-functions.ts';

const short = (digest: string | undefined): string => (digest ? digest.replace(/^sha256:/, '').slice(0, 12) : '?');
const corr = (id: string): string => id.slice(0, 8);

/** A line for a replication progress event, or undefined for the chatty ones (per-blob copy events). */
export function formatReplicationEvent(event: ReplicationEvent): string | undefined {
  switch (event.type) {
    case 'target-finished': {
      const o = event.outcome;
      if (o.status === 'deferred' && o.retryAt !== undefined) return `[${corr(event.correlationId)}] replicate → ${o.target}/${o.repository}: deferred, ${o.reason ?? 'out of rate budget'}; re-queued, audited as replicate.deferred`;
      if (o.status === 'deferred') return `[${corr(event.correlationId)}] replicate → ${o.target}/${o.repository}: large image, ${o.reason ?? 'fanned out'}; blob by blob, the tag last`;
      const where = `${o.target}/${o.repository}@${short(o.digest)}`;
      if (o.status === 'failed') return `[${corr(event.correlationId)}] replicate → ${where}: FAILED ${o.errorCode ?? ''} ${o.error ?? ''}`.trimEnd();
      if (o.status === 'skipped') return `[${corr(event.correlationId)}] replicate → ${where}: skipped (${o.reason ?? 'nothing to do'})`;
      const b = o.blobs;
      const what = o.noop ? 'already there' : `${formatBytes(o.bytes)}, blobs ${b.uploaded} uploaded / ${b.mounted} mounted / ${b.skipped} skipped`;
      return `[${corr(event.correlationId)}] replicate → ${where}: ok (${what}) in ${o.durationMs} ms`;
    }
    case 'skipped':
      return `[${corr(event.correlationId)}] ${event.repository}@${short(event.digest)}: not replicated: ${event.reason}`;
    default:
      return undefined;
  }
}

/** A line for a push event as it arrives. */
export function formatPush(registry: string, event: EcrImageActionEvent): string {
  const d = event.detail;
  return `[${corr(event.id)}] push ${registry}/${d['repository-name']}${d['image-tag'] ? `:${d['image-tag']}` : ''}@${short(d['image-digest'])}`;
}

/**
 * A line for an attempt that the replication events do not tell: a failure (retry or dead letter), a
 * rejected event, or a duplicate answered from the idempotency record (`didWork` false: no progress event).
 */
export function formatAttempt(report: AttemptReport<Pick<EcrImageActionEvent, 'id'>>, retryDelaysMs: readonly number[], dlqPath: string, didWork: boolean): string | undefined {
  if (report.ok) {
    const result = report.result as { status?: string; errorCode?: string; reason?: string } | undefined;
    if (result?.status === 'rejected') return `[${corr(report.event.id)}] event rejected (${result.errorCode ?? '?'}): ${result.reason ?? ''} (audited as event.rejected; not retried)`;
    if (!didWork) return `[${corr(report.event.id)}] duplicate delivery: answered from the idempotency record, nothing copied`;
    return undefined;
  }
  const full = report.error instanceof Error ? report.error.message : String(report.error);
  // The per-target lines above already carry the details.
  const message = full.length > 200 ? `${full.slice(0, 199)}…` : full;
  const head = `[${corr(report.event.id)}] attempt ${report.attempt} failed: ${message}`;
  if (report.deadLettered) return `${head}\n[${corr(report.event.id)}] retries exhausted: event written to the DLQ stand-in ${dlqPath} (the next reconcile repairs the drift)`;
  return `${head}; retrying in ${(retryDelaysMs[report.attempt - 1] ?? 0) / 1000} s`;
}

export function formatReconcile(report: ReconcileReport): string {
  const lines = [`reconcile [${corr(report.correlationId)}]: ${report.checked} checked, ${report.inSync} in sync, ${report.repaired} repaired, ${report.failed} failed (${report.durationMs} ms)`];
  for (const item of report.items) {
    lines.push(`  ${item.status} ${item.target}/${item.targetRepository}:${item.tag}${item.error ? `: ${item.error}` : item.reason ? `: ${item.reason}` : ''}`);
  }
  for (const e of report.errors) lines.push(`  error in rule ${e.rule}${e.repository ? ` (${e.repository})` : ''}: ${e.errorCode}: ${e.message}`);
  return lines.join('\n');
}

/** Lines for a finished replicate-large execution: its status, then one per target. */
export function formatFanoutFinished(executionName: string, result: LocalExecutionResult): string {
  const summary = result.output as LargeImageSummary | undefined;
  if (result.status === 'FAILED' || !summary || !Array.isArray(summary.targets)) {
    return `large image execution ${executionName}: FAILED ${result.error ?? ''} ${result.cause ?? ''}`.trimEnd();
  }
  const lines = [`large image execution ${executionName}: ${summary.status} (${summary.tag}@${short(summary.digest)})`];
  for (const t of summary.targets) {
    const b = t.blobs;
    lines.push(
      t.status === 'replicated'
        ? `  → ${t.target}/${t.repository}: ok (${formatBytes(t.bytes)}, blobs ${b.uploaded} uploaded / ${b.mounted} mounted / ${b.skipped} skipped)`
        : t.status === 'skipped'
          ? `  → ${t.target}/${t.repository}: skipped (${t.reason ?? ''})`
          : `  → ${t.target}/${t.repository}: FAILED ${t.errorCode ?? ''} ${t.error ?? ''}`.trimEnd(),
    );
  }
  return lines.join('\n');
}
