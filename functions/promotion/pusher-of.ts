// Who pushed a digest, read back from the replication audit records (`details.pushedBy`, from CloudTrail on AWS),
// so that the approval step can refuse the pusher as an approver (separation of duties).
import type { AuditLog } from '../audit/audit-log.ts';

/** The principal that pushed `digest` to `repository`, or undefined when no record names one. */
export type PusherOf = (repository: string, digest: string) => Promise<string | undefined>;

/**
 * Reads the newest `replicate` record of the repository that carries this digest and a known pusher.
 * A lookup error propagates: the RequestApproval state fails and is retried rather than sending links
 * that the pusher could use (fail closed).
 */
export function pusherFromAudit(audit: Pick<AuditLog, 'iterate'>): PusherOf {
  return async (repository, digest) => {
    for await (const record of audit.iterate({ repository, action: 'replicate' })) {
      if (record.digest !== digest) continue;
      const principal = principalOf(record.details?.['pushedBy']);
      if (principal !== undefined) return principal;
    }
    return undefined;
  };
}

function principalOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const principal = (value as { principal?: unknown }).principal;
  return typeof principal === 'string' && principal !== '' ? principal : undefined;
}
