// `regman copy SRC DST`: a thin shell over copyImage / copyRepository with credentials, progress and verification.
import { Option, type Command } from 'commander';
import { copyImage, copyRepository, type CopyOptions, type CopyRepositoryResult, type CopyResult } from '../../functions/oci/copy.ts';
import { RegistryClient } from '../../functions/oci/client.ts';
import { StaticCredentialProvider, type CredentialProvider } from '../../functions/oci/credentials.ts';
import { localCredentialProvider } from '../../functions/oci/credential-files.ts';
import { isOciError } from '../../functions/oci/errors.ts';
import { redact } from '../../functions/oci/redact.ts';
import { parsePlatform } from '../../functions/oci/platform.ts';
import { formatReference, parseReference, referenceTarget, registryEndpoint } from '../../functions/oci/reference.ts';
import type { Reference } from '../../functions/oci/types.ts';
import { abortOnSigint } from './interrupt.ts';
import { UsageError } from './run-cli.ts';
import { formatBytes } from '../../functions/format-bytes.ts';
import { planCopy, planRepositoryCopy } from '../../functions/oci/copy-plan.ts';
import { formatCopyPlan, formatRepositoryCopyPlan } from './copy-plan-text.ts';
import { createProgressReporter, type ProgressReporter } from './progress-bar.ts';
import { openCliAuditTrail, withAuditOptions, type CliAuditFlags, type CliAuditTrail } from './cli-audit.ts';
import type { CallerIdentityResolver } from '../../functions/audit/actor/caller-identity.ts';

export interface CopyCommandOptions extends CliAuditFlags {
  readonly platform: string[];
  readonly referrers: boolean;
  readonly allTags?: string;
  readonly json?: boolean;
  readonly creds?: string;
  readonly srcCreds?: string;
  readonly destCreds?: string;
  readonly plainHttp?: boolean;
  readonly insecure?: boolean;
  readonly concurrency?: string;
  readonly trustTarget?: boolean;
  /** Print what the copy would do (upload, mount, skip, tag, bytes) and write nothing. */
  readonly dryRun?: boolean;
}

/** Where the command writes; tests pass their own. */
export interface CopyIo {
  readonly stdout: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly reporter?: ProgressReporter;
  /** Notes (where the audit went); default process.stderr. */
  readonly stderr?: (text: string) => void;
  /** STS stand-in for the audit actor (tests). */
  readonly identity?: CallerIdentityResolver;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `user:pass` → credentials; the password may contain colons. */
export function parseCreds(value: string, flag: string): { username: string; password: string } {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new UsageError(`${flag} expects user:password, got a value without a ":" after a user name`, `${flag} alice:s3cret`);
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** True when the text names a tag itself (parseReference fills in `latest` otherwise). */
function hasExplicitTag(text: string): boolean {
  const name = text.split('@')[0] ?? '';
  return name.lastIndexOf(':') > name.lastIndexOf('/');
}

function parseRef(text: string, what: 'SRC' | 'DST'): Reference {
  try {
    return parseReference(text);
  } catch (err) {
    if (isOciError(err, 'INVALID_REFERENCE')) {
      throw new UsageError(`${what}: ${err.message}`, 'regman copy 127.0.0.1:5000/team/app:1.0 127.0.0.1:5001/team/app:1.0');
    }
    throw err;
  }
}

/** The client of the one registry a single-registry command (tag, delete, attach) talks to, from its --creds, --plain-http and --insecure. */
export function registryClientFor(ref: Reference, opts: { readonly creds?: string; readonly plainHttp?: boolean; readonly insecure?: boolean }, env: NodeJS.ProcessEnv): RegistryClient {
  return new RegistryClient({
    host: registryEndpoint(ref.registry),
    credentials: credentialsFor(undefined, '--creds', opts.creds, env),
    ...(opts.plainHttp ? { plainHttp: true } : {}),
    ...(opts.insecure ? { insecure: true } : {}),
  });
}

export function credentialsFor(specific: string | undefined, flag: string, shared: string | undefined, env: NodeJS.ProcessEnv): CredentialProvider {
  if (specific !== undefined) return new StaticCredentialProvider(parseCreds(specific, flag));
  if (shared !== undefined) return new StaticCredentialProvider(parseCreds(shared, '--creds'));
  // REGMAN_USERNAME / REGMAN_PASSWORD, then podman's / skopeo's auth.json, then docker's config (helpers included).
  return localCredentialProvider(env);
}

function copyOptionsOf(opts: CopyCommandOptions, signal: AbortSignal, reporter: ProgressReporter): CopyOptions {
  let concurrency: number | undefined;
  if (opts.concurrency !== undefined) {
    concurrency = Number(opts.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new UsageError(`--concurrency must be an integer from 1 to 64, got "${opts.concurrency}"`);
    }
  }
  for (const p of opts.platform) {
    try {
      parsePlatform(p);
    } catch (err) {
      throw new UsageError(`--platform: ${(err as Error).message}`, '--platform linux/arm64');
    }
  }
  return {
    ...(opts.platform.length > 0 ? { platforms: opts.platform } : {}),
    referrers: opts.referrers,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(opts.trustTarget ? { trustTarget: true } : {}),
    onEvent: reporter.onEvent,
    signal,
  };
}

/** `; repaired 1 child, 2 blobs` when the target had the manifest but not all of the image. */
function repairsText(r: CopyResult): string {
  const { children, blobs, referrers } = r.repaired;
  const parts = [[children.length, 'child manifest(s)'], [blobs.length, 'blob(s)'], [referrers.length, 'referrer(s)']] as const;
  const text = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`).join(', ');
  return text ? `\n  repaired (missing at the target under ${r.digest}): ${text}` : '';
}

function summary(src: string, dst: string, r: CopyResult): string {
  if (r.noop) return `${dst} is up to date (${r.digest})`;
  const { uploaded, mounted, skipped } = r.blobs;
  return (
    `copied ${src} → ${dst} ${r.digest}${repairsText(r)}\n` +
    `  blobs: ${uploaded} uploaded, ${mounted} mounted, ${skipped} skipped; ${formatBytes(r.bytesUploaded)} in ${r.seconds.toFixed(2)} s` +
    (r.referrers.length > 0 ? `; ${r.referrers.length} referrer(s)` : '')
  );
}

/**
 * Runs one `regman copy`; throws UsageError on bad input and an Error when the target does not match.
 * With `--json`, a failure also prints `{ "ok": false, "error": { code, message, retryable } }` on
 * stdout (unless a JSON result already went there), so a script always has one JSON document to read.
 */
export async function runCopy(srcText: string, dstText: string, opts: CopyCommandOptions, io: CopyIo): Promise<void> {
  if (!opts.json) return copyOnce(srcText, dstText, opts, io);
  let printed = false;
  const stdout = (text: string): void => {
    printed = true;
    io.stdout(text);
  };
  try {
    await copyOnce(srcText, dstText, opts, { ...io, stdout });
  } catch (err) {
    if (!printed) io.stdout(JSON.stringify({ ok: false, error: jsonError(err) }, null, 2));
    throw err;
  }
}

/** An error as `copy --json` prints it, redacted again (it may quote a reference with userinfo). */
function jsonError(err: unknown): { code: string; message: string; retryable: boolean } {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = err instanceof UsageError ? 'USAGE' : typeof (e as unknown as { code?: unknown }).code === 'string' ? (e as unknown as { code: string }).code : 'FAILED';
  return { code, message: redact(e.message), retryable: (e as { retryable?: unknown }).retryable === true };
}

async function copyOnce(srcText: string, dstText: string, opts: CopyCommandOptions, io: CopyIo): Promise<void> {
  const src = parseRef(srcText, 'SRC');
  const dst = parseRef(dstText, 'DST');
  if (opts.allTags !== undefined) {
    if (src.digest !== undefined || hasExplicitTag(srcText)) throw new UsageError('--all-tags copies a repository: SRC must not name a tag or digest');
    if (dst.digest !== undefined || hasExplicitTag(dstText)) throw new UsageError('--all-tags copies a repository: DST must not name a tag or digest');
    if (opts.platform.length > 0) throw new UsageError('--all-tags and --platform cannot be combined: a filtered tag would point at a different digest');
  }
  let tagPattern: RegExp | undefined;
  if (opts.allTags !== undefined) {
    try {
      tagPattern = new RegExp(opts.allTags);
    } catch (err) {
      throw new UsageError(`--all-tags: invalid regular expression "${opts.allTags}": ${(err as Error).message}`);
    }
  }
  // DST without a tag takes SRC's tag; with SRC pinned by digest and no DST tag, the copy is by digest only.
  const dstTag = hasExplicitTag(dstText) ? dst.tag : src.digest !== undefined && !hasExplicitTag(srcText) ? undefined : src.tag;
  const controller = new AbortController();
  const reporter = io.reporter ?? createProgressReporter({ dryRun: opts.dryRun === true });
  const options = copyOptionsOf(opts, controller.signal, reporter);
  const client = (host: string, credentials: CredentialProvider): RegistryClient =>
    new RegistryClient({ host: registryEndpoint(host), credentials, ...(opts.plainHttp ? { plainHttp: true } : {}), ...(opts.insecure ? { insecure: true } : {}) });
  const srcClient = client(src.registry, credentialsFor(opts.srcCreds, '--src-creds', opts.creds, io.env));
  const dstClient = client(dst.registry, credentialsFor(opts.destCreds, '--dest-creds', opts.creds, io.env));
  const sigint = abortOnSigint(controller);
  if (opts.dryRun) {
    // Nothing is written, not even an audit record: the plan is what the copy would do now.
    try {
      if (tagPattern !== undefined) {
        const plan = await sigint.race(planRepositoryCopy({ registry: srcClient, repository: src.repository }, { registry: dstClient, repository: dst.repository }, { ...options, tagPattern }));
        reporter.stop();
        io.stdout(opts.json ? JSON.stringify(plan, null, 2) : formatRepositoryCopyPlan(`${src.registry}/${src.repository}`, `${dst.registry}/${dst.repository}`, plan));
        return;
      }
      const plan = await sigint.race(planCopy(
        { registry: srcClient, repository: src.repository, reference: referenceTarget(src) },
        { registry: dstClient, repository: dst.repository, ...(dstTag !== undefined ? { tag: dstTag } : {}) },
        options,
      ));
      reporter.stop();
      io.stdout(opts.json ? JSON.stringify(plan, null, 2) : formatCopyPlan(formatReference(src), `${dst.registry}/${dst.repository}${dstTag !== undefined ? `:${dstTag}` : ''}`, plan));
      return;
    } catch (err) {
      throw sigint.wrap(err);
    } finally {
      reporter.stop();
      sigint.release();
      srcClient.close();
      dstClient.close();
    }
  }
  let trail: CliAuditTrail | undefined;
  const started = Date.now();
  let recorded = false;
  try {
    trail = await openCliAuditTrail(opts, io.env, { stderr: io.stderr ?? ((t) => process.stderr.write(t + '\n')), ...(io.identity ? { identity: io.identity } : {}) });
    if (tagPattern !== undefined) {
      const result = await sigint.race(copyRepository(
        { registry: srcClient, repository: src.repository },
        { registry: dstClient, repository: dst.repository },
        { ...options, tagPattern },
      ));
      reporter.stop();
      recorded = true;
      for (const t of result.tags) {
        await trail?.record(
          t.result
            ? copyRecord(src, dst, t.result, [t.tag])
            : { ...copyWhere(src, dst), outcome: 'failure', tags: [t.tag], errorMessage: t.error?.message ?? 'not copied', ...(t.error && isOciError(t.error) ? { errorCode: t.error.code } : {}) },
        );
      }
      await reportRepository(result, src, dst, dstClient, opts, io);
      return;
    }
    const result = await sigint.race(copyImage(
      { registry: srcClient, repository: src.repository, reference: referenceTarget(src) },
      { registry: dstClient, repository: dst.repository, ...(dstTag !== undefined ? { tag: dstTag } : {}) },
      options,
    ));
    reporter.stop();
    if (dst.digest !== undefined && dst.digest !== result.digest) {
      throw new Error(`DST names ${dst.digest}, but the source is ${result.digest}; the copy was pushed by digest and nothing was tagged`);
    }
    // Exit 0 only when the target holds exactly the source digest: ask both registries again, at once
    // (two registries, one round trip); the target's answer is judged first.
    const atTarget = dstClient.manifestHead(dst.repository, dstTag ?? result.digest);
    const atSource = opts.platform.length === 0 ? srcClient.manifestHead(src.repository, referenceTarget(src)) : undefined;
    // Awaited below, after the target's answer; until then its failure must not go unhandled.
    atSource?.catch(() => undefined);
    const at = await atTarget;
    if (at?.digest !== result.digest) {
      throw new Error(`after the copy, ${dst.registry}/${dst.repository}:${dstTag ?? result.digest} is ${at?.digest ?? 'missing'}, expected ${result.digest}`);
    }
    if (atSource !== undefined) {
      const now = await atSource;
      if (now?.digest !== result.digest) {
        throw new Error(`the source ${formatReference(src)} changed during the copy (now ${now?.digest ?? 'missing'}); the target holds ${result.digest}. Run the copy again.`);
      }
    }
    const dstName = `${dst.registry}/${dst.repository}${dstTag !== undefined ? `:${dstTag}` : `@${result.digest}`}`;
    recorded = true;
    await trail?.record(copyRecord(src, dst, result, dstTag !== undefined ? [dstTag] : []));
    io.stdout(opts.json ? JSON.stringify(result, null, 2) : summary(formatReference(src), dstName, result));
  } catch (err) {
    if (trail && !recorded && !(err instanceof UsageError)) {
      await trail.record({
        ...copyWhere(src, dst),
        outcome: 'failure',
        durationMs: Date.now() - started,
        errorMessage: err instanceof Error ? err.message : String(err),
        ...(isOciError(err) ? { errorCode: err.code } : {}),
        ...(dstTag !== undefined ? { tags: [dstTag] } : {}),
      });
    }
    throw sigint.wrap(err);
  } finally {
    reporter.stop();
    sigint.release();
    srcClient.close();
    dstClient.close();
    await trail?.close();
  }
}

/** The registries of a copy, by host: `regman copy` names no configured registry. */
function copyWhere(src: Reference, dst: Reference) {
  return { action: 'copy', source: src.registry, target: dst.registry, repository: dst.repository, details: { sourceRepository: src.repository } } as const;
}

function copyRecord(src: Reference, dst: Reference, r: CopyResult, tags: string[]) {
  return {
    ...copyWhere(src, dst),
    outcome: r.noop ? 'skipped' : 'success',
    digest: r.digest,
    tags,
    bytes: r.bytesUploaded,
    blobs: r.blobs,
    durationMs: Math.round(r.seconds * 1000),
  } as const;
}

async function reportRepository(
  result: CopyRepositoryResult,
  src: Reference,
  dst: Reference,
  dstClient: RegistryClient,
  opts: CopyCommandOptions,
  io: CopyIo,
): Promise<void> {
  const problems: string[] = [];
  for (const t of result.tags) {
    if (t.error) {
      problems.push(`${t.tag}: ${t.error.message}`);
      continue;
    }
    const at = await dstClient.manifestHead(dst.repository, t.tag);
    if (at?.digest !== t.result?.digest) problems.push(`${t.tag}: target holds ${at?.digest ?? 'nothing'}, expected ${t.result?.digest}`);
  }
  if (opts.json) {
    io.stdout(
      JSON.stringify(
        { ok: problems.length === 0, seconds: result.seconds, tags: result.tags.map((t) => ({ tag: t.tag, ...(t.result ? { result: t.result } : {}), ...(t.error ? { error: t.error.message } : {}) })) },
        null,
        2,
      ),
    );
  } else {
    for (const t of result.tags) io.stdout(t.result ? `${t.tag}: ${summary(`${src.registry}/${src.repository}:${t.tag}`, `${dst.registry}/${dst.repository}:${t.tag}`, t.result)}` : `${t.tag}: FAILED`);
  }
  if (result.tags.length === 0) throw new Error(`no tag of ${src.registry}/${src.repository} matches --all-tags "${opts.allTags}"`);
  if (problems.length > 0) throw new Error(`${problems.length} of ${result.tags.length} tag(s) failed:\n  ${problems.join('\n  ')}`);
}

/**
 * Adds `regman copy SRC DST`.
 *
 * @example regman copy --plain-http 127.0.0.1:5000/team/app:1.0 127.0.0.1:5001/mirror/app
 */
export function registerCopy(program: Command): void {
  withAuditOptions(program
    .command('copy'))
    .description(
      'copy an image or index (digests unchanged), with its signatures and SBOMs, tagging the target last. ' +
        "DST without a tag takes SRC's tag. Exits 0 only when the target holds exactly the source digest.",
    )
    .argument('<src>', 'source reference, e.g. 127.0.0.1:5000/team/app:1.0 or …@sha256:…')
    .argument('<dst>', 'target reference, e.g. 127.0.0.1:5001/team/app[:tag]')
    .addOption(new Option('--platform <os/arch[/variant]>', 'copy only this platform of an index (repeatable): with one, the target tag points at that image; with several, at an index of just those (a new digest)').argParser(collect).default([], 'every platform'))
    .option('--no-referrers', 'do not copy referrers (OCI 1.1 referrers, fallback tags, cosign .sig/.att/.sbom tags)')
    .option('--all-tags <regex>', "copy every tag of SRC's repository the regex matches whole, to DST's repository")
    .option('--json', 'print the result as JSON on stdout')
    .option('--creds <user:pass>', 'credentials for both registries (else REGMAN_USERNAME/REGMAN_PASSWORD, then containers auth.json, then ~/.docker/config.json with its credential helpers; docs/CREDENTIALS.md)')
    .option('--src-creds <user:pass>', 'credentials for the source registry')
    .option('--dest-creds <user:pass>', 'credentials for the target registry')
    .option('--plain-http', 'use http:// for both registries (loopback registries)')
    .option('--insecure', 'skip TLS certificate verification')
    .option('--concurrency <n>', 'blobs transferred at once (default 8)')
    .option('--dry-run', 'print what the copy would upload, mount, skip and tag, and the bytes; write nothing (no blob, manifest, tag or audit record)')
    .option('--trust-target', 'when the target has the manifest, do not HEAD its children and blobs (faster; a partly deleted image stays broken)')
    .action(async (srcText: string, dstText: string, opts: CopyCommandOptions) => {
      await runCopy(srcText, dstText, opts, { stdout: (t) => process.stdout.write(t + '\n'), env: process.env });
    });
}
