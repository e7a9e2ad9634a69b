// `regman demo`: builds the demo image offline, signs it, attaches an SBOM and a scan report, pushes it all to the local stack's source, and watches it replicate.
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { StoredAuditRecord } from '../../functions/audit/index.ts';
import type { PromotionEdge } from '../../functions/config/types.ts';
import { attachArtifact } from '../../functions/oci/attach.ts';
import { RegistryClient } from '../../functions/oci/client.ts';
import { cosignTags } from '../../functions/oci/referrers.ts';
import type { Registry } from '../../functions/oci/registry.ts';
import { openLocalAuditLog } from '../audit-access.ts';
import { readLiveEndpoints, type LocalEndpoints } from '../endpoints.ts';
import { localSigningKeyPaths } from '../signing-key.ts';
import { SARIF_ARTIFACT_TYPE, SPDX_ARTIFACT_TYPE, cosignSignature, sarifReport, spdxSbom } from './artifacts.ts';
import { DEMO_PLATFORMS, buildDemoImage, type DemoContent } from './image.ts';

/** Typed error of the demo: what is missing and what to run. Never retryable as such: start the stack first. */
export class DemoError extends Error {
  readonly retryable = false;
  constructor(readonly code: 'NO_STACK' | 'NO_SIGNING_KEY', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DemoError';
  }
}

export interface DemoOptions {
  readonly stateDir: string;
  /** @default demo/app */
  readonly repository?: string;
  /** @default v1.0.0 (a release tag config/local.yaml replicates) */
  readonly tag?: string;
  /** How long to watch the audit log for the replication; 0: do not wait. @default 20000 */
  readonly waitMs?: number;
  /** The stack's promotion edges, to name approvers in the next commands (the CLI reads them from --config). */
  readonly edges?: readonly PromotionEdge[];
  /** The image's creation time (part of its digest: each run builds a new digest). @default now */
  readonly created?: Date;
  /** Progress lines (the CLI: stderr). */
  readonly log?: (line: string) => void;
}

export interface DemoReplication {
  readonly target: string;
  readonly repository: string;
  readonly outcome: string;
  readonly error?: string;
}

/** One audit record of the demo's replication, as `regman audit query` would list it. */
export interface DemoAuditRecord {
  readonly time: string;
  readonly action: string;
  readonly outcome: string;
  readonly actor: string;
  readonly target?: string;
  readonly correlationId: string;
  /** Where the record sits in its hash chain: `<partition> #<seq>`. */
  readonly chain: string;
  readonly bytes?: number;
  readonly durationMs?: number;
}

export interface DemoResult {
  readonly registry: string;
  /** `host:port/repository:tag` */
  readonly image: string;
  readonly repository: string;
  readonly tag: string;
  /** The index digest the tag names. */
  readonly digest: string;
  readonly platforms: readonly { readonly platform: string; readonly digest: string }[];
  readonly signature: { readonly tag: string; readonly digest: string; readonly keyPath: string };
  readonly sbom: { readonly digest: string; readonly artifactType: string; readonly listedVia: string };
  readonly scanReport: { readonly digest: string; readonly artifactType: string; readonly listedVia: string };
  /** Replication audit records of the digest seen within `waitMs`. */
  readonly replication: readonly DemoReplication[];
  /** The same records as the audit log holds them (who, when, which chain position, bytes). */
  readonly audit?: readonly DemoAuditRecord[];
  readonly next: readonly string[];
}

async function pushContent(registry: Registry, repository: string, items: readonly DemoContent[]): Promise<void> {
  for (const b of items) {
    if ((await registry.blobHead(repository, b.digest)) === undefined) await registry.blobPut(repository, b, Readable.from([b.bytes]));
  }
}

/** The environment whose registries include `registry` (dev in config/local.yaml). */
function environmentOf(endpoints: LocalEndpoints, registry: string): string | undefined {
  return Object.entries(endpoints.environments).find(([, regs]) => regs.includes(registry))?.[0];
}

/**
 * Runs the demo against the stack running on `stateDir`. The index is pushed by digest first and
 * tagged last, after its signature and referrers: the push event (the tag) then replicates the
 * whole graph at once.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const log = o.log ?? (() => undefined);
  const endpoints = await readLiveEndpoints(o.stateDir);
  if (!endpoints) throw new DemoError('NO_STACK', `no local stack runs on ${o.stateDir}: start it with \`npm start\` (or \`npx regman local --state-dir ${o.stateDir}\`) in another terminal, then run the demo again`);
  const keyPath = localSigningKeyPaths(o.stateDir).privateKeyPath;
  let keyPem: string;
  try {
    keyPem = await readFile(keyPath, 'utf8');
  } catch (err) {
    throw new DemoError('NO_SIGNING_KEY', `no signing key at ${keyPath}: the local stack creates it on start; restart it on ${o.stateDir}`, { cause: err });
  }
  const repository = o.repository ?? 'demo/app';
  const tag = o.tag ?? 'v1.0.0';
  const created = o.created ?? new Date();
  const registryName = endpoints.source;
  const host = endpoints.registries[registryName]!.replace(/^https?:\/\//, '');
  const client = new RegistryClient({ host, plainHttp: true });
  try {
    const image = buildDemoImage(tag, created);
    log(`demo: built ${repository}:${tag} offline: an OCI index of ${DEMO_PLATFORMS.length} platforms, ${image.blobs.length} blobs (real tar+gzip layers)`);
    await pushContent(client, repository, image.blobs);
    for (const m of image.manifests) await client.manifestPut(repository, m.digest, { raw: m.bytes, mediaType: m.mediaType });
    await client.manifestPut(repository, image.index.digest, { raw: image.index.bytes, mediaType: image.index.mediaType });

    const signature = cosignSignature(`${host}/${repository}`, image.index.digest, createPrivateKey(keyPem));
    const sigTag = cosignTags(image.index.digest).find((t) => t.endsWith('.sig'))!;
    await pushContent(client, repository, signature.blobs);
    await client.manifestPut(repository, sigTag, { raw: signature.manifest.bytes, mediaType: signature.manifest.mediaType });
    log(`demo: signed ${image.index.digest} with ${keyPath} (cosign simple signing, ECDSA P-256) → ${repository}:${sigTag}`);

    const sbom = await attachArtifact(client, repository, image.index.digest, spdxSbom(repository, tag, image, created), { artifactType: SPDX_ARTIFACT_TYPE, fileName: 'sbom.spdx.json', created });
    const scan = await attachArtifact(client, repository, image.index.digest, sarifReport(), { artifactType: SARIF_ARTIFACT_TYPE, fileName: 'scan.sarif', created });
    log(`demo: attached an SPDX SBOM (${sbom.digest}) and a SARIF scan report (${scan.digest}: 1 high, 1 medium) as referrers`);

    await client.manifestPut(repository, tag, { raw: image.index.bytes, mediaType: image.index.mediaType });
    log(`demo: pushed ${host}/${repository}:${tag} → ${image.index.digest}`);

    const { replication, audit } = await watchReplication(o.stateDir, repository, image.index.digest, o.waitMs ?? 20_000);
    for (const r of replication) log(`demo: replicated → ${r.target}/${r.repository}: ${r.outcome}${r.error ? ` (${r.error})` : ''}`);
    if (replication.length === 0 && (o.waitMs ?? 20_000) > 0) log(`demo: no replication recorded yet for ${image.index.digest} (does a replication rule match ${repository}:${tag}?)`);

    return {
      registry: registryName,
      image: `${host}/${repository}:${tag}`,
      repository,
      tag,
      digest: image.index.digest,
      platforms: image.manifests.map((m, i) => {
        const p = DEMO_PLATFORMS[i]!;
        return { platform: `${p.os}/${p.architecture}${'variant' in p ? `/${p.variant}` : ''}`, digest: m.digest };
      }),
      signature: { tag: sigTag, digest: signature.manifest.digest, keyPath },
      sbom: { digest: sbom.digest, artifactType: SPDX_ARTIFACT_TYPE, listedVia: sbom.listedVia },
      scanReport: { digest: scan.digest, artifactType: SARIF_ARTIFACT_TYPE, listedVia: scan.listedVia },
      replication,
      audit,
      next: nextCommands({ endpoints, stateDir: o.stateDir, repository, tag, registryName, replication, edges: o.edges ?? [] }),
    };
  } finally {
    client.close();
  }
}

/** Waits for the first replicate record of the digest, then until no new one arrives for a second (or `waitMs` ends). */
async function watchReplication(stateDir: string, repository: string, digest: string, waitMs: number): Promise<{ replication: DemoReplication[]; audit: DemoAuditRecord[] }> {
  if (waitMs <= 0) return { replication: [], audit: [] };
  const audit = await openLocalAuditLog(stateDir);
  try {
    const deadline = Date.now() + waitMs;
    let seen: StoredAuditRecord[] = [];
    let quietSince = Date.now();
    for (;;) {
      const found = (await audit.log.query({ action: 'replicate', repository })).filter((r) => r.digest === digest);
      if (found.length !== seen.length) quietSince = Date.now();
      seen = found;
      if ((seen.length > 0 && Date.now() - quietSince >= 1_000) || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const sorted = seen.sort((a, b) => (a.target ?? '').localeCompare(b.target ?? ''));
    return {
      replication: sorted.map((r) => ({
        target: r.target ?? '?',
        repository: typeof r.details?.targetRepository === 'string' ? r.details.targetRepository : repository,
        outcome: r.outcome,
        ...(r.errorMessage ? { error: r.errorMessage } : {}),
      })),
      audit: sorted.map((r) => ({
        time: r.time,
        action: r.action,
        outcome: r.outcome,
        actor: r.actor,
        ...(r.target !== undefined ? { target: r.target } : {}),
        correlationId: r.correlationId,
        chain: `${r.partition} #${r.seq}`,
        ...(r.bytes !== undefined ? { bytes: r.bytes } : {}),
        ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}),
      })),
    };
  } finally {
    await audit.close();
  }
}

function nextCommands(o: {
  endpoints: LocalEndpoints;
  stateDir: string;
  repository: string;
  tag: string;
  registryName: string;
  replication: readonly DemoReplication[];
  edges: readonly PromotionEdge[];
}): string[] {
  const s = `--state-dir ${o.stateDir}`;
  const hostOf = (name: string): string | undefined => o.endpoints.registries[name]?.replace(/^https?:\/\//, '');
  const lines: string[] = [];
  for (const r of o.replication) {
    const h = hostOf(r.target);
    if (h) lines.push(`skopeo inspect --tls-verify=false --raw docker://${h}/${r.repository}:${o.tag}`);
  }
  lines.push(`npx regman audit query ${s} --repository ${o.repository}`);
  // Walk the edges from the source's environment: dev → staging → prod in config/local.yaml.
  let env = environmentOf(o.endpoints, o.registryName);
  const visited = new Set<string>();
  while (env !== undefined && !visited.has(env)) {
    visited.add(env);
    const edge = o.edges.find((e) => e.from === env);
    if (!edge) break;
    lines.push(`npx regman promote ${s} --repository ${o.repository} --tag ${o.tag} --from ${edge.from} --to ${edge.to} --wait`);
    const approval = edge.gates.approval;
    if (approval) {
      const who = approval.approvers.slice(0, approval.required).map((a) => `npx regman approve <execution id> ${s} --as ${a}`);
      lines.push(`  (in another terminal) ${who.join('  &&  ')}`);
    }
    env = edge.to;
  }
  if (o.edges.length === 0) lines.push(`npx regman promote ${s} --repository ${o.repository} --tag ${o.tag} --from <env> --to <env> --wait`);
  lines.push(`npx regman promotions list ${s}`);
  return lines;
}
