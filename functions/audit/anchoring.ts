// Takes and checks anchors: signs the current chain heads into a sink, and verifies the log against the newest anchor.
import { signHeads, verifyAnchor, type AnchorDocument, type AnchorSink } from './anchor.ts';
import type { AuditLog } from './audit-log.ts';
import type { VerifyOptions, VerifyResult } from './types.ts';

/** Signs every chain head now and writes the anchor; returns where it went. */
export async function writeAnchor(log: AuditLog, sink: AnchorSink, privateKeyPem: string, now: Date = new Date()): Promise<{ where: string; doc: AnchorDocument }> {
  const doc = signHeads(await log.head(), privateKeyPem, now);
  return { where: await sink.write(doc), doc };
}

export interface AnchoredVerifyResult extends VerifyResult {
  /** The anchor the chains were checked against; absent when the sink holds none yet. */
  readonly anchor?: { readonly time: string; readonly digest: string; readonly heads: number };
}

/**
 * Verifies the log against its head items and the sink's newest anchor (after checking the anchor's
 * own signature, against `trustedPublicKey` when given).
 *
 * @throws AuditError `AUDIT_ANCHOR_INVALID` when the anchor itself was tampered with.
 */
export async function verifyAnchored(log: AuditLog, sink: AnchorSink | undefined, options: VerifyOptions & { readonly trustedPublicKey?: string } = {}): Promise<AnchoredVerifyResult> {
  const doc = sink ? await sink.latest() : undefined;
  if (doc) verifyAnchor(doc, options.trustedPublicKey);
  const { trustedPublicKey: _key, ...verifyOptions } = options;
  const result = await log.verify({ ...verifyOptions, anchors: [...(options.anchors ?? []), ...(doc?.heads ?? [])] });
  return doc ? { ...result, anchor: { time: doc.time, digest: doc.digest, heads: doc.heads.length } } : result;
}
