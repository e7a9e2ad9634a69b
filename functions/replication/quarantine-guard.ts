// Replication rules marked `protected: true` (e.g. to prod mirrors) never carry a quarantined digest (issue: promotion "Quarantine").
import { errorMessageOf } from './observability.ts';

/** Reads the quarantine (the promotion store's table); undefined when the digest is not quarantined. */
export interface QuarantineLookup {
  quarantined(digest: string): Promise<{ readonly reason: string } | undefined>;
}

/** Why a protected rule must not copy these digests, or why it cannot tell (then it fails closed). */
export type ProtectedVerdict =
  | { readonly kind: 'allow' }
  | { readonly kind: 'skip'; readonly digest: string; readonly reason: string }
  | { readonly kind: 'unknown'; readonly error: string };

/**
 * For a rule with `protected: true`: is any of `digests` (the image, and the subject of a referrer tag)
 * quarantined? A rule that is not protected is always allowed. Without a quarantine lookup, or when it
 * fails, a protected rule cannot tell and the caller fails the target (retried; never copied blind).
 * @example
 * const v = await protectedVerdict(deps.quarantine, { name: 'prod-mirror', protected: true }, [digest]);
 * if (v.kind === 'skip') auditSkip(v.reason);
 */
export async function protectedVerdict(
  lookup: QuarantineLookup | undefined,
  rule: { readonly name: string; readonly protected?: boolean },
  digests: readonly string[],
): Promise<ProtectedVerdict> {
  if (!rule.protected) return { kind: 'allow' };
  if (!lookup) {
    return { kind: 'unknown', error: `rule "${rule.name}" is protected, but this replication has no quarantine table to check (set QUARANTINE_TABLE, or drop protected: true)` };
  }
  for (const digest of new Set(digests)) {
    let record: { readonly reason: string } | undefined;
    try {
      record = await lookup.quarantined(digest);
    } catch (err) {
      return { kind: 'unknown', error: `rule "${rule.name}" is protected and the quarantine of ${digest} could not be read: ${errorMessageOf(err)}` };
    }
    if (record) {
      return { kind: 'skip', digest, reason: `quarantined: ${digest} (${record.reason}); rule "${rule.name}" is protected, so it is not replicated (regman quarantine release ${digest} --reason …)` };
    }
  }
  return { kind: 'allow' };
}

/** The lookup over a store that keeps quarantine records by digest (functions/promotion/store.ts). */
export function quarantineLookupOf(store: { getQuarantine(digest: string): Promise<{ readonly reason: string } | undefined> }): QuarantineLookup {
  return {
    async quarantined(digest) {
      const record = await store.getQuarantine(digest);
      return record ? { reason: record.reason } : undefined;
    },
  };
}
