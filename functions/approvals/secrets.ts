// The approvals' secrets at run time (HMAC key, Slack signing secret, Slack bot token, webhook URL): Secrets Manager, cached, never in a message.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { redact, registerSecret } from '../oci/redact.ts';
import { ApprovalError } from './errors.ts';
import { keyFromSecretText } from './keys.ts';

/** Reads a secret's text by ARN or name. The value is registered with the redactor before it is returned. */
export interface SecretTextSource {
  secretText(secretId: string): Promise<string>;
}

export interface CachedSecretTextOptions {
  readonly client: Pick<SecretsManagerClient, 'send'>;
  /**
   * How long a value stays cached: short enough that a rotated Slack secret is picked up without a
   * redeploy, long enough that a busy page costs one call per container. @default 300000 (5 minutes)
   */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** AWS error names a user can act on, and what to do. */
const HINTS: Readonly<Record<string, { readonly retryable: boolean; readonly hint: string }>> = {
  ResourceNotFoundException: { retryable: false, hint: 'check the ARN in the function\'s environment; the stack creates this secret' },
  AccessDeniedException: { retryable: false, hint: 'the function\'s role needs secretsmanager:GetSecretValue on it (lib/constructs/approvals.ts grants it)' },
  DecryptionFailure: { retryable: false, hint: 'the function\'s role needs kms:Decrypt on the secret\'s key' },
  InvalidRequestException: { retryable: false, hint: 'the secret may be scheduled for deletion; restore it' },
  ThrottlingException: { retryable: true, hint: 'Secrets Manager throttled the call; retry' },
  InternalServiceError: { retryable: true, hint: 'Secrets Manager failed; retry' },
};

interface Entry {
  readonly value: Promise<string>;
  /** Set once the read resolved; before that, concurrent callers share the in-flight call. */
  expiresAt?: number;
}

/**
 * `GetSecretValue` with a per-secret TTL cache. Concurrent reads of one secret share one call; a failed
 * read is not cached (the next request retries). Errors name the secret and what to check, never a value.
 *
 * @example
 * const secrets = new CachedSecretText({ client: new SecretsManagerClient({}) });
 * const signingSecret = await secrets.secretText(process.env.REGMAN_SLACK_SIGNING_SECRET_ARN!);
 */
export class CachedSecretText implements SecretTextSource {
  private readonly cache = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: CachedSecretTextOptions) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  secretText(secretId: string): Promise<string> {
    const hit = this.cache.get(secretId);
    if (hit && (hit.expiresAt === undefined || hit.expiresAt > this.now())) return hit.value;
    const entry: Entry = { value: this.read(secretId) };
    this.cache.set(secretId, entry);
    entry.value.then(
      () => (entry.expiresAt = this.now() + this.ttlMs),
      () => {
        if (this.cache.get(secretId) === entry) this.cache.delete(secretId);
      },
    );
    return entry.value;
  }

  private async read(secretId: string): Promise<string> {
    let text: string | undefined;
    try {
      text = (await this.options.client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (err) {
      const name = (err as { name?: string } | null)?.name ?? 'Error';
      const known = HINTS[name];
      const message = redact(err instanceof Error ? err.message : String(err));
      throw new ApprovalError('APPROVAL_SECRET', 503, `Could not read Secrets Manager secret ${secretId} (${name}: ${message}): ${known?.hint ?? 'retry, or check the secret and the role'}.`, {
        cause: err,
        retryable: known?.retryable ?? true,
      });
    }
    if (text === undefined || text.trim() === '') {
      throw new ApprovalError('APPROVAL_SECRET', 500, `Secrets Manager secret ${secretId} has no SecretString: put the value in as text.`);
    }
    registerSecret(text);
    registerSecret(text.trim());
    return text;
  }
}

/** The HMAC key from its secret (base64 text of at least 32 bytes; the stack's generated value qualifies). */
export function hmacKeyFrom(source: SecretTextSource, secretId: string): () => Promise<Buffer> {
  return async () => keyFromSecretText(await source.secretText(secretId), secretId);
}

/** A secret's text without surrounding whitespace (a value pasted with a newline still verifies). */
export function trimmedSecret(source: SecretTextSource, secretId: string): () => Promise<string> {
  return async () => (await source.secretText(secretId)).trim();
}
