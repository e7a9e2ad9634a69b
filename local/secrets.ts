// The local stack's stand-in for Secrets Manager: a secret named N is the file <state>/secrets/N.
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { registerSecret } from '../functions/oci/redact.ts';
import type { SecretReference, SecretResolver } from '../functions/registries/secrets.ts';

export const LOCAL_SECRETS_DIR = 'secrets';

/** Typed error of a local secret that cannot be read; `retryable` is false: the file must be fixed. */
export class LocalSecretError extends Error {
  readonly code = 'SECRET_NOT_FOUND';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalSecretError';
  }
}

/**
 * Reads `secretName` references from `<stateDir>/secrets/<name>` (trailing newline kept off). ARNs name
 * an AWS account the local stack does not have: refused with what to write instead.
 */
export class LocalSecretResolver implements SecretResolver {
  private readonly root: string;

  constructor(stateDir: string) {
    this.root = resolve(stateDir, LOCAL_SECRETS_DIR);
  }

  async getSecret(ref: SecretReference): Promise<string> {
    if (ref.secretName === undefined) {
      throw new LocalSecretError(`the local stack has no Secrets Manager for ${ref.secretArn ?? 'this reference'}: name the secret with secretName and put its value in ${this.root}${sep}<name>`);
    }
    const file = resolve(this.root, ref.secretName);
    if (relative(this.root, file).startsWith('..')) throw new LocalSecretError(`secret name "${ref.secretName}" leaves ${this.root}`);
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new LocalSecretError(`local secret "${ref.secretName}" cannot be read: write its value to ${join(this.root, ref.secretName)} (${(err as Error).message})`, { cause: err });
    }
    registerSecret(text);
    return text;
  }
}
