// Typed errors of the registry adapters: credentials that cannot be read, operations a registry does not allow.
// Both extend OciError so that they pass through the OCI client's transport unchanged (it re-wraps
// anything else as a NETWORK error) and their messages are redacted like every other.
import { OciError, type OciErrorCode } from '../oci/errors.ts';

/** Why credentials could not be produced. */
export type CredentialProblem =
  | 'not-found' // the secret (or variable) does not exist
  | 'access-denied' // the caller may not read it (IAM / KMS)
  | 'bad-format' // it exists but its content has none of the accepted shapes
  | 'unavailable' // Secrets Manager failed or throttled: a retry may help
  | 'unsupported'; // a reference this code path cannot resolve (iamRole outside ECR)

export interface CredentialErrorOptions {
  readonly problem: CredentialProblem;
  /** The credential reference, as written in the config (`secretArn: arn:…`, `env: HARBOR`): never a value. */
  readonly reference: string;
  /** Name of the configured registry, when known. */
  readonly registryName?: string;
  readonly cause?: unknown;
}

const CODE_OF: Record<CredentialProblem, OciErrorCode> = {
  'not-found': 'UNAUTHORIZED',
  'access-denied': 'DENIED',
  'bad-format': 'UNAUTHORIZED',
  unavailable: 'UNAVAILABLE',
  unsupported: 'UNSUPPORTED',
};

/**
 * Credentials could not be read. The message names the reference and what to check, never the
 * secret's content.
 */
export class CredentialError extends OciError {
  readonly problem: CredentialProblem;
  readonly reference: string;
  readonly registryName?: string;

  constructor(message: string, options: CredentialErrorOptions) {
    super(message, { code: CODE_OF[options.problem], retryable: options.problem === 'unavailable', cause: options.cause });
    this.name = 'CredentialError';
    this.problem = options.problem;
    this.reference = options.reference;
    if (options.registryName !== undefined) this.registryName = options.registryName;
  }
}

/** The registry does not offer an operation (listing its catalog, a delete API). */
export class UnsupportedOperationError extends OciError {
  readonly registryName: string;

  constructor(message: string, options: { registryName: string; registry?: string; cause?: unknown }) {
    super(message, { code: 'UNSUPPORTED', cause: options.cause, ...(options.registry !== undefined ? { registry: options.registry } : {}) });
    this.name = 'UnsupportedOperationError';
    this.registryName = options.registryName;
  }
}
