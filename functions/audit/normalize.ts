// Validates an appended record at the edge and normalises it: ISO time, redacted free text, bounded sizes, plain JSON.
import * as z from 'zod';
import { canonicalJson } from './canonical-json.ts';
import { AuditError } from './errors.ts';
import { redactAuditText, redactJson } from './redact.ts';
import { AUDIT_OUTCOMES, type AuditRecord, type AuditRecordInput } from './types.ts';

/** Error messages longer than this are cut (after redaction, so a secret is never cut into an unrecognisable fragment). */
export const MAX_ERROR_MESSAGE_LENGTH = 2048;
/** `details` whose canonical JSON is longer than this are replaced by a marker: the audit write must not fail on them. */
export const MAX_DETAILS_LENGTH = 4096;

const ACTION_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/;
// OCI image-spec descriptor digest grammar: algorithm ":" encoded.
const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
// ISO 8601 date-time with an explicit zone; Date.parse alone would also accept "March 7".
const ISO_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const text = z.string().min(1).max(1024);
const count = z.number().int().nonnegative();

const inputSchema = z.strictObject({
  actor: text,
  action: z.string().max(128).regex(ACTION_PATTERN, 'must be dotted lower-case, e.g. "replicate" or "retention.delete"'),
  outcome: z.enum(AUDIT_OUTCOMES as [string, ...string[]]),
  correlationId: text,
  time: z.union([z.string(), z.date()]).optional(),
  registry: text.optional(),
  source: text.optional(),
  target: text.optional(),
  // 256: the repository is also inside the byRepositoryTime sort key, which DynamoDB caps at 1024 bytes.
  repository: z.string().min(1).max(256).optional(),
  digest: z.string().max(256).regex(DIGEST_PATTERN, 'must be an OCI digest such as sha256:<hex>').optional(),
  tags: z.array(z.string().min(1).max(256)).max(1000).optional(),
  bytes: count.optional(),
  blobs: z.strictObject({ uploaded: count, mounted: count, skipped: count }).optional(),
  durationMs: z.number().nonnegative().finite().optional(),
  errorCode: z.string().max(128).optional(),
  errorMessage: z.string().optional(),
  details: z.record(z.string(), z.json()).optional(),
});

/**
 * Checks `input` and returns the record exactly as it will be hashed and stored.
 * Throws `AuditError` `AUDIT_RECORD_INVALID` naming the bad field.
 *
 * @example
 * normalizeAuditRecord({ actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: 'e-1' }, new Date());
 */
export function normalizeAuditRecord(input: AuditRecordInput, now: Date = new Date()): AuditRecord {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'record';
    throw new AuditError(`Invalid audit record: ${where}: ${issue?.message ?? 'invalid'}`, { code: 'AUDIT_RECORD_INVALID', cause: parsed.error });
  }
  const r = parsed.data;
  const record: Record<string, unknown> = {
    actor: redactAuditText(r.actor),
    action: r.action,
    outcome: r.outcome,
    correlationId: redactAuditText(r.correlationId),
    time: normalizeTime(r.time ?? now, 'time'),
    registry: r.registry === undefined ? undefined : redactAuditText(r.registry),
    source: r.source === undefined ? undefined : redactAuditText(r.source),
    target: r.target === undefined ? undefined : redactAuditText(r.target),
    repository: r.repository,
    digest: r.digest,
    tags: r.tags,
    bytes: r.bytes,
    blobs: r.blobs,
    durationMs: r.durationMs,
    errorCode: r.errorCode === undefined ? undefined : redactAuditText(r.errorCode),
    errorMessage: r.errorMessage === undefined ? undefined : truncate(redactAuditText(r.errorMessage), MAX_ERROR_MESSAGE_LENGTH),
    details: r.details === undefined ? undefined : boundDetails(redactJson(r.details)),
  };
  // A JSON round trip drops undefined members and leaves exactly what DynamoDB stores and returns.
  return JSON.parse(JSON.stringify(record)) as AuditRecord;
}

/** Parses an ISO 8601 time (with zone) or a Date into `toISOString()` form, which sorts lexicographically by time. */
export function normalizeTime(value: string | Date, field: string): string {
  const date = typeof value === 'string' ? (ISO_TIME_PATTERN.test(value) ? new Date(value) : new Date(Number.NaN)) : value;
  const ms = date.getTime();
  // Years outside 0000..9999 print with a sign and six digits, which would break lexicographic order.
  if (Number.isNaN(ms) || date.getUTCFullYear() < 0 || date.getUTCFullYear() > 9999) {
    throw new AuditError(`Invalid audit record: ${field}: "${String(value)}" is not an ISO 8601 date-time with a zone`, {
      code: 'AUDIT_RECORD_INVALID',
    });
  }
  return date.toISOString();
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 15)}… [truncated]`;
}

function boundDetails(details: Record<string, unknown>): Record<string, unknown> {
  const size = canonicalJson(details).length;
  return size <= MAX_DETAILS_LENGTH ? details : { truncated: true, originalLength: size };
}
