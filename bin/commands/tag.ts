// `regman tag SRC NEWTAG…`: points more tags at the digest SRC names, moving no bytes (another repository of the same registry: blobs mounted).
import type { Command } from 'commander';
import { copyImage } from '../../functions/oci/copy.ts';
import { isNotFoundError, isOciError } from '../../functions/oci/errors.ts';
import { formatReference, parseReference, referenceTarget, tagProblem } from '../../functions/oci/reference.ts';
import type { Reference } from '../../functions/oci/types.ts';
import { openCliAuditTrail, withAuditOptions, type CliAuditFlags, type CliAuditTrail } from './cli-audit.ts';
import { registryClientFor, type CopyIo } from './copy.ts';
import { UsageError } from './run-cli.ts';

export interface TagCommandOptions extends CliAuditFlags {
  readonly json?: boolean;
  readonly dryRun?: boolean;
  readonly creds?: string;
  readonly plainHttp?: boolean;
  readonly insecure?: boolean;
  /** Copy referrers along to another repository (same registry). @default true */
  readonly referrers?: boolean;
}

/** One tag written (or that would be): `created` (new), `moved` (from `previous`), `unchanged`. */
export interface TagOutcome {
  readonly repository: string;
  readonly tag: string;
  readonly outcome: 'created' | 'moved' | 'unchanged';
  readonly previous?: string;
  /** Blobs mounted into another repository to make the tag possible. */
  readonly mounted?: number;
}

export interface TagResult {
  readonly dryRun: boolean;
  readonly source: string;
  readonly digest: string;
  readonly tags: TagOutcome[];
}

/** `v2` (SRC's repository) or `host/repo:tag` (another repository of SRC's registry). */
export function parseNewTag(text: string, src: Reference): { repository: string; tag: string } {
  if (!text.includes('/') && !text.includes('@')) {
    const problem = tagProblem(text);
    if (problem) throw new UsageError(`NEWTAG "${text}": ${problem}`, 'regman tag 127.0.0.1:5000/team/app:1.0 1.0-stable');
    return { repository: src.repository, tag: text };
  }
  let ref: Reference;
  try {
    ref = parseReference(text);
  } catch (err) {
    throw new UsageError(`NEWTAG "${text}": ${(err as Error).message}`);
  }
  if (ref.digest !== undefined) throw new UsageError(`NEWTAG "${text}" names a digest; give a tag`);
  if (ref.registry !== src.registry) {
    throw new UsageError(`NEWTAG "${text}" is on ${ref.registry}, SRC on ${src.registry}: a tag moves no bytes between registries`, `regman copy ${formatReference(src)} ${text}`);
  }
  return { repository: ref.repository, tag: ref.tag ?? 'latest' };
}

/** Runs one `regman tag`; prints the outcome of every tag; audits each tag written. */
export async function runTag(srcText: string, newTags: readonly string[], opts: TagCommandOptions, io: CopyIo): Promise<TagResult> {
  let src: Reference;
  try {
    src = parseReference(srcText);
  } catch (err) {
    throw new UsageError(`SRC: ${(err as Error).message}`, 'regman tag 127.0.0.1:5000/team/app:1.0 1.0-stable');
  }
  if (newTags.length === 0) throw new UsageError('give at least one NEWTAG');
  const wanted = newTags.map((t) => parseNewTag(t, src));
  const client = registryClientFor(src, opts, io.env);
  const stderr = io.stderr ?? ((t: string) => process.stderr.write(t + '\n'));
  let trail: CliAuditTrail | undefined;
  try {
    const head = await client.manifestHead(src.repository, referenceTarget(src));
    if (head === undefined) throw new Error(`${formatReference(src)} does not exist`);
    if (src.digest !== undefined && head.digest !== src.digest) throw new Error(`${formatReference(src)}: the registry answers ${head.digest}`);
    const manifest = await client.manifestGet(src.repository, head.digest);
    if (!opts.dryRun) trail = await openCliAuditTrail(opts, io.env, { stderr, ...(io.identity ? { identity: io.identity } : {}) });
    const tags: TagOutcome[] = [];
    for (const w of wanted) {
      const previous = (
        await client.manifestHead(w.repository, w.tag).catch((err: unknown) => {
          if (isNotFoundError(err)) return undefined;
          throw err;
        })
      )?.digest;
      const base = { repository: w.repository, tag: w.tag, ...(previous !== undefined ? { previous } : {}) };
      const outcome: TagOutcome['outcome'] = previous === head.digest ? 'unchanged' : previous === undefined ? 'created' : 'moved';
      if (opts.dryRun || outcome === 'unchanged') {
        tags.push({ ...base, outcome });
        continue;
      }
      const started = Date.now();
      try {
        let mounted: number | undefined;
        if (w.repository === src.repository) {
          // The raw bytes under a new name: same digest, no blob touched.
          await client.manifestPut(w.repository, w.tag, manifest);
        } else {
          // Another repository: the copy engine mounts every blob from SRC's repository (same registry).
          const r = await copyImage({ registry: client, repository: src.repository, reference: head.digest }, { registry: client, repository: w.repository, tag: w.tag }, { referrers: opts.referrers ?? true });
          mounted = r.blobs.mounted;
        }
        tags.push({ ...base, outcome, ...(mounted !== undefined ? { mounted } : {}) });
        await trail?.record({
          action: 'tag', outcome: 'success', registry: src.registry, repository: w.repository, digest: head.digest, tags: [w.tag], durationMs: Date.now() - started,
          details: { sourceRepository: src.repository, ...(previous !== undefined ? { previous } : {}) },
        });
      } catch (err) {
        await trail?.record({
          action: 'tag', outcome: 'failure', registry: src.registry, repository: w.repository, digest: head.digest, tags: [w.tag], durationMs: Date.now() - started,
          errorMessage: err instanceof Error ? err.message : String(err), ...(isOciError(err) ? { errorCode: err.code } : {}),
        });
        throw err;
      }
    }
    const result: TagResult = { dryRun: Boolean(opts.dryRun), source: formatReference(src), digest: head.digest, tags };
    io.stdout(opts.json ? JSON.stringify(result, null, 2) : tagText(src.registry, result));
    return result;
  } finally {
    client.close();
    await trail?.close();
  }
}

function tagText(host: string, r: TagResult): string {
  const verb = (o: TagOutcome): string =>
    o.outcome === 'unchanged' ? 'already names it' : o.outcome === 'created' ? (r.dryRun ? 'would be created' : 'created') : `${r.dryRun ? 'would move' : 'moved'} from ${o.previous}`;
  return [
    `${r.source} is ${r.digest}`,
    ...r.tags.map((o) => `  ${host}/${o.repository}:${o.tag} ${verb(o)}${o.mounted ? ` (${o.mounted} blob(s) mounted)` : ''}`),
    ...(r.dryRun ? ['nothing was written'] : []),
  ].join('\n');
}

/**
 * Adds `regman tag SRC NEWTAG…`.
 *
 * @example regman tag --plain-http 127.0.0.1:5000/team/app:1.0 1.0-stable 127.0.0.1:5000/release/app:1.0
 */
export function registerTag(program: Command): void {
  withAuditOptions(program.command('tag'))
    .description("point more tags at the digest SRC names, without moving bytes: a bare NEWTAG is in SRC's repository; " +
      "host/repo:tag on SRC's registry mounts the blobs into that repository. Audited.")
    .argument('<src>', 'the image: host/repo:tag or host/repo@sha256:…')
    .argument('<tags...>', 'new tags: `v2`, or `host/other/repo:v2` on the same registry')
    .option('--dry-run', 'say which tags would be created or moved (and from which digest); write nothing')
    .option('--json', 'print the result as JSON on stdout')
    .option('--no-referrers', 'into another repository: do not copy signatures and SBOMs along')
    .option('--creds <user:pass>', 'credentials (else REGMAN_USERNAME/REGMAN_PASSWORD, auth.json, ~/.docker/config.json; docs/CREDENTIALS.md)')
    .option('--plain-http', 'use http:// (loopback registries)')
    .option('--insecure', 'skip TLS certificate verification')
    .action(async (srcText: string, tags: string[], opts: TagCommandOptions) => {
      await runTag(srcText, tags, opts, { stdout: (t) => process.stdout.write(t + '\n'), env: process.env });
    });
}
