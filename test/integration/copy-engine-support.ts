// Shared pieces of the copy-engine integration tests: product clients for test registries, error-chain and tag checks.
import { expect } from 'vitest';
import { RegistryClient } from '../../functions/oci/client.ts';
import { StaticCredentialProvider } from '../../functions/oci/credentials.ts';
import { OciError, type OciErrorCode } from '../../functions/oci/errors.ts';
import { ACCEPT_ALL_MANIFESTS, RawRegistryClient, type AuthOptions, type RegistryTarget } from '../helpers/raw-push.ts';

export interface Creds {
  readonly username: string;
  readonly password: string;
}

/**
 * The product's HTTP client for a test registry or a fault proxy (`host` = `127.0.0.1:port`), with
 * short backoffs so that retried faults keep the suite fast.
 */
export function clientFor(target: { readonly host: string }, creds?: Creds): RegistryClient {
  return new RegistryClient({
    host: target.host,
    plainHttp: true,
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    ...(creds ? { credentials: new StaticCredentialProvider(creds) } : {}),
  });
}

/** The error and its causes, outermost first. */
export function errorChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) chain.push(e);
  return chain;
}

/** OciError codes along the cause chain, outermost first. */
export function codesOf(err: unknown): OciErrorCode[] {
  return errorChain(err).filter((e): e is OciError => e instanceof OciError).map((e) => e.code);
}

/** Every message along the cause chain, joined: what a user could ever see printed. */
export function messagesOf(err: unknown): string {
  return errorChain(err)
    .map((e) => (e instanceof Error ? e.message : String(e)))
    .join('\n');
}

/** Awaits a promise that must reject with an OciError; returns it. */
export async function rejection(promise: Promise<unknown>): Promise<OciError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)?.slice(0, 300)}`);
  expect(outcome.error).toBeInstanceOf(OciError);
  return outcome.error as OciError;
}

/** HTTP status of a manifest HEAD, asked by the independent fixture client (not the product's). */
export async function manifestStatus(reg: RegistryTarget, repo: string, reference: string, auth: AuthOptions = {}): Promise<number> {
  const res = await new RawRegistryClient(reg, auth).request('HEAD', `/v2/${repo}/manifests/${reference}`, {
    headers: { accept: ACCEPT_ALL_MANIFESTS },
  });
  return res.status;
}

/** Digests of an index's children, read from its raw bytes. */
export function childDigests(raw: Buffer): string[] {
  return ((JSON.parse(raw.toString('utf8')) as { manifests?: { digest: string }[] }).manifests ?? []).map((m) => m.digest);
}

/** `user:password` for skopeo's `--creds`. */
export function skopeoCreds(c: Creds): string {
  return `${c.username}:${c.password}`;
}
