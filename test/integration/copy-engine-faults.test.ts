// copyImage through the fault proxy: every fault either recovers with identical digests or fails typed with no tag.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyImage, type CopyResult } from '../../functions/oci/copy.ts';
import type { RegistryClient } from '../../functions/oci/client.ts';
import type { OciErrorCode } from '../../functions/oci/errors.ts';
import { startFaultProxy, Routes, type FaultProxy, type FaultRule } from '../helpers/fault-proxy.ts';
import { pushImage, type PushedImage } from '../helpers/images.ts';
import { startRegistry, startTokenRegistry, type RunningRegistry, type TokenRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';
import { clientFor, codesOf, manifestStatus, messagesOf, rejection, skopeoCreds, type Creds } from './copy-engine-support.ts';

const KiB = 1024;
/** The big layer: large enough that a fault can strike in the middle of its body. */
const BIG_LAYER = 256 * KiB;
const CI: Creds = { username: 'ci', password: 'ci-password-faults' };

/** Where a fault sits: in front of the source, the plain target, or the token-auth target. */
type Side = 'source' | 'target' | 'token target';

interface FaultCase {
  readonly name: string;
  readonly side: Side;
  /**
   * Rules injected at that side's proxy. `big` holds the path patterns of the big layer's GET and
   * upload commit, so that mid-body faults strike a body long enough to be cut.
   */
  readonly rules?: (big: BigLayerRoutes) => readonly FaultRule[];
  /** Token server mischief, e.g. issue already-expired tokens. */
  readonly tokens?: (reg: TokenRegistry) => void;
  /** `recovers`, or the code expected in the error's cause chain (the top is COPY_INCOMPLETE). */
  readonly outcome: 'recovers' | OciErrorCode;
  /**
   * The registry must hold no upload session afterwards. Only where no byte of the abandoned upload
   * reached it: distribution 2.8 answers a DELETE whose `_state` offset is stale (part of a body
   * arrived) with 404 BLOB_UPLOAD_INVALID and closes the writer before its own cancel, so those
   * sessions stay until its upload purger runs (a registry bug, not fixable from the client).
   */
  readonly cancelled?: boolean;
  /** A lower bound on the copy's duration, e.g. a Retry-After that must be honoured. */
  readonly minSeconds?: number;
}

interface BigLayerRoutes {
  /** GET of the big layer at the source. */
  readonly get: FaultRule['path'];
  /** The upload commit (PUT ?digest=) of the big layer at the target. */
  readonly commit: FaultRule['path'];
}

/**
 * Upload sessions the registry still holds for a repository: folders of its `_uploads` with a
 * `startedat` or `data` file. (A cancelled session leaves only an empty `hashstates/` husk in
 * distribution 2.8, which holds no bytes and which its purger ignores.)
 */
function openUploads(reg: RunningRegistry, repo: string): string[] {
  const dir = join(reg.rootDir, 'docker/registry/v2/repositories', repo, '_uploads');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((id) => existsSync(join(dir, id, 'startedat')) || existsSync(join(dir, id, 'data')));
}

const cases: readonly FaultCase[] = [
  { name: '429 with Retry-After on a source blob GET', side: 'source', rules: () => [{ ...Routes.blobGet, fault: { kind: 'status', status: 429, retryAfter: 1 } }], outcome: 'recovers', minSeconds: 0.9 },
  { name: '429 with Retry-After on the target manifest PUT', side: 'target', rules: () => [{ ...Routes.manifestPut, fault: { kind: 'status', status: 429, retryAfter: 1 } }], outcome: 'recovers', minSeconds: 0.9 },
  { name: '500 on the target upload start', side: 'target', rules: () => [{ ...Routes.blobUploadStart, times: 2, fault: { kind: 'status', status: 500 } }], outcome: 'recovers' },
  { name: '503 on the source manifest GET', side: 'source', rules: () => [{ ...Routes.manifestGet, times: 2, fault: { kind: 'status', status: 503 } }], outcome: 'recovers' },
  { name: '503 on the target upload commit (streamed PUT)', side: 'target', rules: () => [{ ...Routes.blobUploadCommit, fault: { kind: 'status', status: 503 } }], outcome: 'recovers' },
  { name: '500 on a target blob HEAD', side: 'target', rules: () => [{ ...Routes.blobHead, fault: { kind: 'status', status: 500 } }], outcome: 'recovers' },
  { name: 'connection reset in the middle of a source blob GET', side: 'source', rules: (big) => [{ ...Routes.blobGet, path: big.get, fault: { kind: 'reset-mid-body', afterBytes: 64 * KiB } }], outcome: 'recovers' },
  { name: 'connection reset in the middle of a blob upload (request side)', side: 'target', rules: (big) => [{ ...Routes.blobUploadCommit, path: big.commit, fault: { kind: 'reset-mid-body', afterBytes: 64 * KiB, side: 'request' } }], outcome: 'recovers' },
  { name: 'truncated source blob body', side: 'source', rules: (big) => [{ ...Routes.blobGet, path: big.get, fault: { kind: 'truncate', afterBytes: 100 * KiB } }], outcome: 'recovers' },
  { name: 'slow source blob body', side: 'source', rules: (big) => [{ ...Routes.blobGet, path: big.get, times: Infinity, fault: { kind: 'slow', bytesPerSecond: 1024 * KiB } }], outcome: 'recovers', minSeconds: 0.2 },
  { name: 'slow upload body to the target', side: 'target', rules: (big) => [{ ...Routes.blobUploadCommit, path: big.commit, times: Infinity, fault: { kind: 'slow', bytesPerSecond: 1024 * KiB, side: 'request' } }], outcome: 'recovers', minSeconds: 0.2 },
  { name: '401 expired token (proxy) on the target manifest PUT', side: 'token target', rules: () => [{ ...Routes.manifestPut, fault: { kind: 'expired-token' } }], outcome: 'recovers' },
  { name: '401 expired token (proxy) on a target upload start', side: 'token target', rules: () => [{ ...Routes.blobUploadStart, fault: { kind: 'expired-token' } }], outcome: 'recovers' },
  { name: '401 expired token (token server issues an expired one)', side: 'token target', tokens: (reg) => reg.tokenServer.expireNextTokens(1), outcome: 'recovers' },
  // Permanent failures: the copy gives up with a typed error and publishes nothing.
  { name: '500 forever on blob upload', side: 'target', rules: () => [{ ...Routes.blobUpload, times: Infinity, fault: { kind: 'status', status: 500 } }], outcome: 'UNAVAILABLE' },
  { name: '503 forever on the target upload commit', side: 'target', rules: () => [{ ...Routes.blobUploadCommit, times: Infinity, fault: { kind: 'status', status: 503 } }], outcome: 'UNAVAILABLE', cancelled: true },
  { name: 'reset forever on source blob GETs', side: 'source', rules: (big) => [{ ...Routes.blobGet, path: big.get, times: Infinity, fault: { kind: 'reset-mid-body', afterBytes: 64 * KiB } }], outcome: 'NETWORK' },
  { name: 'truncated body forever on the source big layer', side: 'source', rules: (big) => [{ ...Routes.blobGet, path: big.get, times: Infinity, fault: { kind: 'truncate', afterBytes: 100 * KiB } }], outcome: 'NETWORK' },
  { name: '401 expired token forever on the target manifest PUT', side: 'token target', rules: () => [{ ...Routes.manifestPut, times: Infinity, fault: { kind: 'expired-token' } }], outcome: 'UNAUTHORIZED' },
];

describe('copyImage under injected faults', () => {
  let srcReg: RunningRegistry;
  let dstReg: RunningRegistry;
  let tokenReg: TokenRegistry;
  const proxies = {} as Record<Side, FaultProxy>;
  const clients = {} as Record<Side, RegistryClient>;
  let image: PushedImage;
  let big: BigLayerRoutes;
  let n = 0;

  beforeAll(async () => {
    [srcReg, dstReg, tokenReg] = await Promise.all([
      startRegistry(),
      startRegistry(),
      startTokenRegistry({ users: { ci: { password: CI.password, access: [{ repository: '**', actions: ['pull', 'push'] }] } } }),
    ]);
    [proxies.source, proxies.target, proxies['token target']] = await Promise.all([
      startFaultProxy(srcReg.url),
      startFaultProxy(dstReg.url),
      startFaultProxy(tokenReg.url),
    ]);
    clients.source = clientFor(proxies.source);
    clients.target = clientFor(proxies.target);
    clients['token target'] = clientFor(proxies['token target'], CI);
    image = await pushImage(srcReg, 'fault/app', 'v1', { layers: [BIG_LAYER, KiB] });
    const hex = (image.layers[0]?.digest ?? '').replace('sha256:', '');
    big = { get: new RegExp(`/blobs/sha256:${hex}$`), commit: new RegExp(`/blobs/uploads/.*[?&]digest=sha256(:|%3A)${hex}`) };
  });

  afterAll(async () => {
    for (const c of Object.values(clients)) c.close();
    await Promise.all(Object.values(proxies).map((p) => p.stop()));
    await Promise.all([srcReg?.stop(), dstReg?.stop(), tokenReg?.stop()]);
  });

  beforeEach(() => {
    for (const p of Object.values(proxies)) p.reset();
  });

  it.each(cases)('$name: $outcome', async (c) => {
    // Prepare: a fresh target repository, so nothing is there yet.
    const repo = `faults/case${++n}`;
    const targetSide: Side = c.side === 'token target' ? 'token target' : 'target';
    const targetReg = targetSide === 'token target' ? tokenReg : dstReg;
    const auth = targetSide === 'token target' ? { creds: CI } : {};
    const injected = (c.rules?.(big) ?? []).map((r) => proxies[c.side].inject(r));
    c.tokens?.(tokenReg);
    const issuedBefore = tokenReg.tokenServer.issued;
    // Act
    const started = performance.now();
    const outcome = await copyImage(
      { registry: clients.source, repository: 'fault/app', reference: 'v1' },
      { registry: clients[targetSide], repository: repo, tag: 'v1' },
      { retryDelayMs: 20 },
    ).then(
      (result: CopyResult) => ({ result }),
      (error: unknown) => ({ error }),
    );
    const seconds = (performance.now() - started) / 1000;
    // Assess: the fault did strike.
    for (const f of injected) expect(f.fired).toBeGreaterThan(0);
    if (c.tokens) expect(tokenReg.tokenServer.issued).toBeGreaterThan(issuedBefore + 1);
    if (c.outcome === 'recovers') {
      if ('error' in outcome) throw new Error(`expected recovery, got: ${messagesOf(outcome.error)}`);
      expect(outcome.result.digest).toBe(image.digest);
      expect(outcome.result.blobs.uploaded).toBe(image.blobs.length);
      expect(await skopeoDigest(`${targetReg.host}/${repo}:v1`, targetSide === 'token target' ? { creds: skopeoCreds(CI) } : {})).toBe(image.digest);
      if (c.minSeconds !== undefined) expect(seconds).toBeGreaterThanOrEqual(c.minSeconds);
    } else {
      const err = await rejection(Promise.reject('error' in outcome ? outcome.error : new Error('the copy succeeded')));
      expect(err.code).toBe('COPY_INCOMPLETE');
      expect(codesOf(err)).toContain(c.outcome);
      expect(err.message).toContain('"v1" was not published');
      expect(await manifestStatus(targetReg, repo, 'v1', auth)).toBe(404);
      expect(await manifestStatus(targetReg, repo, image.digest, auth)).toBe(404);
      // Every upload session the copy opened and did not commit was cancelled (DELETE on its Location).
      const proxy = proxies[targetSide];
      const opened = proxy.requests.filter((r) => r.method === 'POST' && r.status === 202 && r.path.includes('/blobs/uploads/')).length;
      const committed = proxy.requests.filter((r) => r.method === 'PUT' && r.status === 201 && r.path.includes('/blobs/uploads/')).length;
      expect(proxy.count('DELETE', /\/blobs\/uploads\//)).toBe(opened - committed);
      if (c.cancelled) expect(openUploads(targetReg, repo)).toEqual([]);
    }
  });
});
