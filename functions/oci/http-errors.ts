// Maps an HTTP error response (status + the spec's `errors[]` body) to a typed, redacted OciError.
// Error codes: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
import { OciError, type OciErrorCode } from './errors.ts';
import { redact } from './redact.ts';

/** Error bodies are read up to this many bytes; the rest is dropped (go-containerregistry does the same). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface SpecError {
  readonly code: string;
  readonly message?: string;
  readonly detail?: unknown;
}

/** The spec's `{"errors":[{code,message,detail}]}`, or [] when the body is something else. */
export function parseErrorBody(body: string): SpecError[] {
  try {
    const json = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(json.errors)) return [];
    return json.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')
      .map((e) => ({
        code: String(e.code),
        ...(typeof e.message === 'string' ? { message: e.message } : {}),
        ...(e.detail !== undefined ? { detail: e.detail } : {}),
      }));
  } catch {
    return [];
  }
}

const SPEC_CODE_MAP: Readonly<Record<string, OciErrorCode>> = {
  BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  MANIFEST_BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN',
  NAME_UNKNOWN: 'NAME_UNKNOWN',
  MANIFEST_INVALID: 'MANIFEST_INVALID',
  MANIFEST_UNVERIFIED: 'MANIFEST_INVALID',
  NAME_INVALID: 'INVALID_REFERENCE',
  TAG_INVALID: 'INVALID_REFERENCE',
  DIGEST_INVALID: 'DIGEST_MISMATCH',
  SIZE_INVALID: 'SIZE_MISMATCH',
  BLOB_UPLOAD_INVALID: 'PROTOCOL',
  BLOB_UPLOAD_UNKNOWN: 'PROTOCOL',
  RANGE_INVALID: 'PROTOCOL',
  UNAUTHORIZED: 'UNAUTHORIZED',
  DENIED: 'DENIED',
  UNSUPPORTED: 'UNSUPPORTED',
  TOOMANYREQUESTS: 'TOO_MANY_REQUESTS',
};

/** The OciError code for a status and spec codes; the status decides for 429 and 5xx. */
export function errorCodeFor(status: number, specCodes: readonly string[]): OciErrorCode {
  if (status === 429) return 'TOO_MANY_REQUESTS';
  if (status >= 500) return 'UNAVAILABLE';
  for (const c of specCodes) {
    const mapped = SPEC_CODE_MAP[c.toUpperCase()];
    if (mapped !== undefined) return mapped;
  }
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 413) return 'MANIFEST_TOO_LARGE';
  if (status === 416) return 'PROTOCOL';
  return 'PROTOCOL';
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

function hint(code: OciErrorCode, host: string, repository: string | undefined): string {
  const repo = repository ?? 'the repository';
  switch (code) {
    case 'UNAUTHORIZED':
      return `Check the credentials for ${host}.`;
    case 'DENIED':
      return `The credentials for ${host} are valid but lack permission on ${repo}; ask for access.`;
    case 'MANIFEST_UNKNOWN':
    case 'NOT_FOUND':
      return `Check that the tag or digest exists in ${repo}.`;
    case 'NAME_UNKNOWN':
      return `Check the repository name; ${host} does not know ${repo}.`;
    case 'BLOB_UNKNOWN':
      return 'A blob the manifest refers to is missing; push the blobs before the manifest.';
    case 'DIGEST_MISMATCH':
      return 'The bytes sent do not match their digest; the source may be corrupt.';
    case 'MANIFEST_INVALID':
      return 'The registry rejected the manifest; check its media type and that every blob it lists was pushed.';
    case 'TOO_MANY_REQUESTS':
      return 'The registry is rate-limiting; wait, or lower the concurrency.';
    case 'UNAVAILABLE':
      return 'The registry is failing; retry later.';
    default:
      return '';
  }
}

export interface ResponseErrorContext {
  readonly status: number;
  readonly body: string;
  readonly host: string;
  readonly repository?: string;
  /** What was being done, e.g. `GET manifest team/app:1.0`. */
  readonly description: string;
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

/** Builds the OciError for an unexpected response: what failed, where, the registry's words, and what to try. */
export function errorFromResponse(ctx: ResponseErrorContext): OciError {
  const specErrors = parseErrorBody(ctx.body);
  const code = errorCodeFor(ctx.status, specErrors.map((e) => e.code));
  const registryWords = specErrors.length > 0
    ? specErrors.map((e) => `${e.code}${e.message ? `: ${e.message}` : ''}${detailText(e.detail)}`).join('; ')
    : ctx.body.trim().slice(0, 200);
  const message =
    `${ctx.description} failed on ${ctx.host}${ctx.repository ? ` (repository ${ctx.repository})` : ''}: HTTP ${ctx.status}` +
    `${registryWords ? ` ${registryWords}` : ''}. ${hint(code, ctx.host, ctx.repository)}`.trimEnd();
  return new OciError(redact(message), {
    code,
    retryable: code === 'TOO_MANY_REQUESTS' || code === 'UNAVAILABLE',
    status: ctx.status,
    registry: ctx.host,
    ...(ctx.retryAfterSeconds !== undefined ? { retryAfterSeconds: ctx.retryAfterSeconds } : {}),
    ...(ctx.cause !== undefined ? { cause: ctx.cause } : {}),
  });
}

function detailText(detail: unknown): string {
  if (detail === undefined || detail === null) return '';
  const text = typeof detail === 'string' ? detail : JSON.stringify(detail);
  return text === '' || text === '{}' ? '' : ` (${text.slice(0, 300)})`;
}
