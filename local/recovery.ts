// Start-up recovery of the local stack after a crash: audit the copies the dead process left unfinished, drop its INPROGRESS idempotency records.
import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditLog } from '../functions/audit/index.ts';
import { auditInterruptedCopies } from '../functions/replication/interrupted.ts';
import type { InFlightCopy, ReplicationStateStore } from '../functions/replication/tag-state.ts';

export interface LocalRecoveryOptions {
  readonly state: ReplicationStateStore;
  readonly audit: AuditLog;
  readonly docClient: DynamoDBDocumentClient;
  /** Physical name of the idempotency table (Powertools layout: `id`, `status`). */
  readonly idempotencyTable: string;
}

export interface LocalRecovery {
  /** Copies the previous process started and never ended, now audited as `replicate.interrupted`. */
  readonly interrupted: InFlightCopy[];
  /** INPROGRESS idempotency records removed (their process is gone; they would block a redelivery). */
  readonly inProgressCleared: number;
}

/**
 * Runs before the stack accepts events. Everything found in flight belongs to a previous process
 * (one stack per state folder), so nothing here can be running now.
 */
export async function recoverLocalState(options: LocalRecoveryOptions): Promise<LocalRecovery> {
  const interrupted = await auditInterruptedCopies({ state: options.state, audit: options.audit, olderThanMs: 0, actor: 'system:local-recovery' });
  let inProgressCleared = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await options.docClient.send(
      new ScanCommand({
        TableName: options.idempotencyTable,
        FilterExpression: '#s = :p',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': 'INPROGRESS' },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      await options.docClient.send(
        new DeleteCommand({
          TableName: options.idempotencyTable,
          Key: { id: item.id },
          ConditionExpression: '#s = :p',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':p': 'INPROGRESS' },
        }),
      );
      inProgressCleared += 1;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { interrupted, inProgressCleared };
}

/** The start-up lines: silent when there was nothing to recover. */
export function formatRecovery(r: LocalRecovery): string[] {
  return [
    ...r.interrupted.map((c) => `recovery: the copy of ${c.repository}:${c.tag} (${c.digest}) to ${c.target} was interrupted (started ${c.startedAt}): audited as replicate.interrupted; reconcile repairs it`),
    ...(r.inProgressCleared > 0 ? [`recovery: cleared ${r.inProgressCleared} in-progress idempotency record(s) of the previous process`] : []),
  ];
}
