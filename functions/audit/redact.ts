// Redaction of audit text: the shared OCI redactor plus the secrets an audit record can carry that it does not cover.
import { REDACTED, redact } from '../oci/redact.ts';

/**
 * Extra rules for text that reaches the audit log. Blob GETs on ECR redirect to S3 pre-signed URLs, so
 * an error message can quote a signature; AWS keys can appear in SDK error text.
 * (Candidates to move into functions/oci/redact.ts.)
 */
const AUDIT_RULES: ReadonlyArray<[RegExp, string]> = [
  // Pre-signed URL query parameters (SigV4 and SigV2 forms).
  [/\b(X-Amz-(?:Signature|Credential|Security-Token)|Signature|AWSAccessKeyId)=[^\s&"',}]+/gi, `$1=${REDACTED}`],
  // AWS access key ids (long-term AKIA, temporary ASIA).
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  // "secret": "…" / "apiKey": "…" JSON fields and secret=… params not in the shared list.
  [/"((?:aws_)?secret(?:_access_key)?|secretAccessKey|api[_-]?key|apiKey|private[_-]?key)"\s*:\s*"[^"]*"/gi, `"$1": "${REDACTED}"`],
  [/\b((?:aws_)?secret(?:_access_key)?|api[_-]?key)=[^\s&"',}]+/gi, `$1=${REDACTED}`],
  // PEM private keys.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
];

/** Returns `text` without credentials: everything `functions/oci/redact.ts` removes, plus pre-signed URL signatures, AWS keys and PEM keys. */
export function redactAuditText(text: string): string {
  let out = redact(text);
  for (const [re, replacement] of AUDIT_RULES) out = out.replace(re, replacement);
  return out;
}

/** Applies `redactAuditText` to every string inside a JSON value (keys are left alone). */
export function redactJson<T>(value: T): T {
  if (typeof value === 'string') return redactAuditText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactJson(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactJson(v)])) as T;
  }
  return value;
}
