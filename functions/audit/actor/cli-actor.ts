// The actor of a CLI run: the IAM principal when the record goes to the AWS table with AWS credentials, else `cli:<user>`.
import { userInfo } from 'node:os';
import type { CallerIdentityResolver } from './caller-identity.ts';

/** The OS user: `REGMAN_USER`, then `USER`/`USERNAME`, then the account the process runs as. */
export function cliUser(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.REGMAN_USER ?? env.USER ?? env.USERNAME;
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * The actor string. An IAM principal is used only when asked to (the AWS table, without a local
 * `--endpoint`): a dynalite or the local stack has no IAM, so `cli:<user>` says more there. When STS
 * cannot answer, the record still gets written, as `cli:<user>`, with a note saying why.
 */
export async function resolveCliActor(options: { readonly env: NodeJS.ProcessEnv; readonly identity?: CallerIdentityResolver }): Promise<{ actor: string; note?: string }> {
  const fallback = `cli:${cliUser(options.env)}`;
  if (!options.identity) return { actor: fallback };
  try {
    return { actor: await options.identity.callerArn() };
  } catch (err) {
    return { actor: fallback, note: `audit: the IAM principal is unknown (${(err as Error).message}); recording the actor as ${fallback}` };
  }
}
