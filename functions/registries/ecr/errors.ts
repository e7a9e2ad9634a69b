// Typed errors of the ECR adapter: an AWS exception mapped to an OciError code, with the operation, registry and repository named.
import { OciError, type OciErrorCode } from '../../oci/errors.ts';
import { redact } from '../../oci/redact.ts';

/** Where an ECR call happened, for messages: never a credential. */
export interface EcrCallContext {
  /** ECR API operation, e.g. `DescribeImages`. */
  readonly operation: string;
  /** Registry name in the configuration file. */
  readonly registryName: string;
  /** Wire host of the registry (`<account>.dkr.ecr.<region>.amazonaws.com`). */
  readonly registry: string;
  readonly repository?: string;
  /** Digest or tag the call concerned. */
  readonly reference?: string;
}

export interface EcrErrorOptions extends EcrCallContext {
  readonly code: OciErrorCode;
  /** The AWS exception name (`RepositoryNotFoundException`), when the error came from the service. */
  readonly awsCode?: string;
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/**
 * An ECR control-plane call failed. Extends OciError so callers branch on one set of codes for every
 * registry kind (`isOciError(err, 'NAME_UNKNOWN')`), and so that its message is redacted.
 */
export class EcrError extends OciError {
  readonly operation: string;
  readonly registryName: string;
  readonly repository?: string;
  readonly awsCode?: string;

  constructor(message: string, options: EcrErrorOptions) {
    super(message, {
      code: options.code,
      registry: options.registry,
      ...(options.retryable !== undefined ? { retryable: options.retryable } : {}),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.name = 'EcrError';
    this.operation = options.operation;
    this.registryName = options.registryName;
    if (options.repository !== undefined) this.repository = options.repository;
    if (options.awsCode !== undefined) this.awsCode = options.awsCode;
  }
}

/** One image ECR refused in a batch call (`failures[]` of BatchDeleteImage / BatchGetImage). */
export interface EcrImageFailure {
  readonly digest?: string;
  readonly tag?: string;
  /** ECR's `failureCode`, e.g. `ImageNotFound`, `ImageReferencedByManifestList`. */
  readonly failureCode: string;
  readonly failureReason: string;
}

/**
 * A batch call answered 200 but listed `failures` (ECR reports per-image problems in the body, not as
 * an exception: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchDeleteImage.html).
 */
export class EcrImageFailureError extends EcrError {
  readonly failures: readonly EcrImageFailure[];

  constructor(message: string, options: Omit<EcrErrorOptions, 'code'> & { failures: readonly EcrImageFailure[] }) {
    super(message, { ...options, code: failureCodeOf(options.failures) });
    this.name = 'EcrImageFailureError';
    this.failures = options.failures;
  }
}

/** The OciError code for the first failure: a missing image is MANIFEST_UNKNOWN, a refusal DENIED. */
function failureCodeOf(failures: readonly EcrImageFailure[]): OciErrorCode {
  switch (failures[0]?.failureCode) {
    case 'ImageNotFound':
      return 'MANIFEST_UNKNOWN';
    case 'InvalidImageDigest':
    case 'InvalidImageTag':
    case 'MissingDigestAndTag':
    case 'ImageTagDoesNotMatchDigest':
      return 'INVALID_REFERENCE';
    case 'ImageReferencedByManifestList':
    case 'ImageInaccessible':
    case 'UpstreamAccessDenied':
    case 'KmsError':
      return 'DENIED';
    case 'UpstreamTooManyRequests':
      return 'TOO_MANY_REQUESTS';
    default:
      return 'UNAVAILABLE';
  }
}

/** Exceptions ECR answers when it is throttling us: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/CommonErrors.html */
const THROTTLING_NAMES = new Set(['ThrottlingException', 'TooManyRequestsException', 'Throttling', 'RequestLimitExceeded']);

interface AwsLikeError {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: { readonly throttling?: boolean };
  readonly code?: string;
}

/** True for ECR's throttling exceptions (and any error the SDK marked as throttling). */
export function isThrottlingError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as AwsLikeError;
  return THROTTLING_NAMES.has(e.name ?? '') || e.$retryable?.throttling === true || e.$metadata?.httpStatusCode === 429;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/** How each AWS exception maps to a code, whether a retry may help, and what the user can do. */
function classify(err: AwsLikeError, ctx: EcrCallContext): { code: OciErrorCode; retryable: boolean; hint: string } {
  const name = err.name ?? '';
  if (isThrottlingError(err)) {
    return { code: 'TOO_MANY_REQUESTS', retryable: true, hint: 'ECR kept throttling after retries; lower the concurrency or retry later' };
  }
  switch (name) {
    case 'RepositoryNotFoundException':
      return { code: 'NAME_UNKNOWN', retryable: false, hint: `check the repository name, or create it in account ${ctx.registry.split('.')[0]}` };
    case 'ImageNotFoundException':
    case 'ScanNotFoundException':
      return { code: 'MANIFEST_UNKNOWN', retryable: false, hint: 'the image is not in the repository (deleted meanwhile?)' };
    case 'ImageDigestDoesNotMatchException':
      return { code: 'DIGEST_MISMATCH', retryable: false, hint: 'the manifest sent does not hash to the digest given' };
    case 'UnsupportedImageTypeException':
      return { code: 'UNSUPPORTED_MANIFEST', retryable: false, hint: 'ECR does not accept this manifest media type' };
    case 'ImageTagAlreadyExistsException':
      return { code: 'DENIED', retryable: false, hint: 'the repository has immutable tags, so an existing tag cannot move' };
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
    case 'InvalidClientTokenId':
      return { code: 'DENIED', retryable: false, hint: `check that the AWS credentials in use are valid and allowed ecr:${ctx.operation}` };
    case 'InvalidParameterException':
    case 'ValidationException':
      return { code: 'PROTOCOL', retryable: false, hint: 'ECR rejected a parameter' };
    case 'ServerException':
      return { code: 'UNAVAILABLE', retryable: true, hint: 'ECR had an internal error; retry later' };
    default:
      break;
  }
  if (NETWORK_CODES.has(err.code ?? '') || NETWORK_CODES.has(name)) {
    return { code: 'NETWORK', retryable: true, hint: 'check the network path to the ECR API endpoint' };
  }
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return { code: 'UNAVAILABLE', retryable: true, hint: 'retry later' };
  return { code: 'PROTOCOL', retryable: false, hint: 'see the cause for details' };
}

/** Where the call was made, as a phrase: `registry "ecr-main" (host), repository team/app @ sha256:…`. */
export function describeContext(ctx: EcrCallContext): string {
  const where = [`registry "${ctx.registryName}" (${ctx.registry})`];
  if (ctx.repository !== undefined) where.push(`repository ${ctx.repository}${ctx.reference !== undefined ? ` @ ${ctx.reference}` : ''}`);
  return where.join(', ');
}

/** Wraps whatever an ECR call threw in an EcrError (an EcrError passes through unchanged). */
export function ecrError(err: unknown, ctx: EcrCallContext): EcrError {
  if (err instanceof EcrError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as AwsLikeError;
  const { code, retryable, hint } = classify(e, ctx);
  const awsCode = e.name && e.name !== 'Error' ? e.name : undefined;
  return new EcrError(
    `ECR ${ctx.operation} failed on ${describeContext(ctx)}: ${awsCode ? `${awsCode}: ` : ''}${e.message ?? 'unknown error'}; ${hint}`,
    { ...ctx, code, retryable, cause: redactedCause(err), ...(awsCode !== undefined ? { awsCode } : {}) },
  );
}

/**
 * The SDK error as the cause, unless its message quotes a secret: then a copy with the message
 * redacted (and no stack, which repeats the message), so that a logger printing causes leaks nothing.
 */
function redactedCause(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const message = redact(err.message);
  if (message === err.message) return err;
  const copy = new Error(message);
  copy.name = err.name;
  copy.stack = `${err.name}: ${message}`;
  const metadata = (err as AwsLikeError).$metadata;
  if (metadata !== undefined) Object.assign(copy, { $metadata: metadata });
  return copy;
}
