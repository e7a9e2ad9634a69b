// API Gateway HTTP API (payload format 2.0) ⇄ the console's WebRequest/WebResponse: the one adapter between AWS and functions/web/.
import type { WebRequest, WebResponse } from '../web/http.ts';

/**
 * The fields of an HTTP API payload 2.0 event we read.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.proxy-format
 */
export interface HttpApiEventV2 {
  readonly version?: string;
  readonly routeKey?: string;
  readonly rawPath?: string;
  readonly rawQueryString?: string;
  /** Cookies come apart from the headers in 2.0. */
  readonly cookies?: readonly string[];
  /** Lower-case names; repeated headers arrive comma-joined. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly requestContext?: {
    readonly http?: { readonly method?: string; readonly path?: string };
    readonly stage?: string;
    readonly requestId?: string;
  };
  readonly body?: string;
  /** HTTP APIs base64-encode bodies they take for binary, form posts among them. */
  readonly isBase64Encoded?: boolean;
}

/** The 2.0 response format (an explicit object: API Gateway then guesses nothing). */
export interface HttpApiResultV2 {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

/** Largest body the console accepts: the forms and Slack's payloads are a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The event is not an HTTP API 2.0 request, or its body is too large. */
export class HttpApiEventError extends Error {
  readonly code = 'HTTP_API_EVENT';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpApiEventError';
  }
}

/**
 * The WebRequest of an HTTP API 2.0 event: the raw path (percent-encoded as sent, without a named stage's
 * `/<stage>` prefix), the query, lower-cased headers (cookies folded back into `cookie`), and the body as
 * the exact text the client sent (Slack's signature covers those bytes).
 *
 * @throws HttpApiEventError for an event that is not 2.0 (400) or a body over MAX_BODY_BYTES (413)
 */
export function toWebRequest(event: HttpApiEventV2): WebRequest {
  const method = event.requestContext?.http?.method;
  if (event.version !== '2.0' || !method || typeof event.rawPath !== 'string') {
    throw new HttpApiEventError('Not an API Gateway HTTP API payload 2.0 event: set the integration\'s payloadFormatVersion to 2.0.', 400);
  }
  const stage = event.requestContext?.stage;
  let path = event.rawPath;
  if (stage && stage !== '$default' && (path === `/${stage}` || path.startsWith(`/${stage}/`))) path = path.slice(stage.length + 1) || '/';
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  if (event.cookies && event.cookies.length > 0) headers.cookie = event.cookies.join('; ');
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw new HttpApiEventError(`The request body is ${bytes.length} bytes; at most ${MAX_BODY_BYTES} are accepted.`, 413);
  return { method: method.toUpperCase(), path, query: new URLSearchParams(event.rawQueryString ?? ''), headers, body: bytes.toString('utf8') };
}

export function toHttpApiResult(res: WebResponse): HttpApiResultV2 {
  return { statusCode: res.status, headers: { ...res.headers }, body: res.body, isBase64Encoded: false };
}

/** A plain-text answer for an event the adapter refused. */
export function eventErrorResult(err: HttpApiEventError): HttpApiResultV2 {
  return { statusCode: err.status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: err.message, isBase64Encoded: false };
}
