// The demo's offline artifacts: real tar+gzip layers (read back by GNU tar), a two-platform OCI index, a cosign signature the gate verifies, SPDX and SARIF.
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatDemo } from '../../../bin/commands/demo.ts';
import { checkPayload } from '../../../functions/gates/cosign-sig.ts';
import { evaluateFindings } from '../../../functions/gates/findings.ts';
import { findingsFromSarif } from '../../../functions/gates/reports/sarif.ts';
import { cosignSignature, sarifReport, spdxSbom } from '../../../local/demo/artifacts.ts';
import { buildDemoImage } from '../../../local/demo/image.ts';
import { runDemo } from '../../../local/demo/run-demo.ts';
import { tarGzip } from '../../../local/demo/tar-gzip.ts';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('tarGzip', () => {
  it('writes a gzip\'d ustar archive that GNU tar lists and extracts, with its diff id', () => {
    const { gzip, diffId } = tarGzip([
      { name: 'etc/demo-release', data: Buffer.from('VERSION=1\n') },
      { name: 'usr/local/bin/hello', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    ]);
    expect(diffId).toBe(sha256(gunzipSync(gzip)));
    const dir = mkdtempSync(join(tmpdir(), 'regman-tar-'));
    try {
      writeFileSync(join(dir, 'layer.tgz'), gzip);
      expect(execFileSync('tar', ['-tvzf', join(dir, 'layer.tgz')], { encoding: 'utf8' })).toMatch(/^-rw-r--r-- .*etc\/demo-release\n-rwxr-xr-x .*usr\/local\/bin\/hello\n$/);
      expect(execFileSync('tar', ['-xzOf', join(dir, 'layer.tgz'), 'usr/local/bin/hello'], { encoding: 'utf8' })).toBe('#!/bin/sh\necho hi\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic and refuses names tar cannot hold', () => {
    const entries = [{ name: 'a', data: Buffer.from('x') }];
    expect(tarGzip(entries).gzip.equals(tarGzip(entries).gzip)).toBe(true);
    expect(() => tarGzip([{ name: 'n'.repeat(101), data: Buffer.alloc(0) }])).toThrow(/over 100 bytes/);
  });
});

describe('buildDemoImage', () => {
  const created = new Date('2026-02-03T04:05:06Z');
  const image = buildDemoImage('v1.0.0', created);

  it('is an OCI index of linux/amd64 and linux/arm64 whose children and blobs are all included, by digest', () => {
    const index = JSON.parse(image.index.bytes.toString()) as { mediaType: string; manifests: { digest: string; platform: { architecture: string } }[] };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(index.manifests.map((m) => m.digest)).toEqual(image.manifests.map((m) => m.digest));
    const blobDigests = new Set(image.blobs.map((b) => b.digest));
    for (const item of [image.index, ...image.manifests, ...image.blobs]) expect(item.digest).toBe(sha256(item.bytes));
    for (const m of image.manifests) {
      const manifest = JSON.parse(m.bytes.toString()) as { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
      expect(blobDigests.has(manifest.config.digest)).toBe(true);
      expect(manifest.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip']);
      const config = JSON.parse(image.blobs.find((b) => b.digest === manifest.config.digest)!.bytes.toString()) as { rootfs: { diff_ids: string[] } };
      const layer = image.blobs.find((b) => b.digest === manifest.layers[0]!.digest)!;
      expect(config.rootfs.diff_ids).toEqual([sha256(gunzipSync(layer.bytes))]);
    }
  });

  it('builds the same bytes for the same version and time, other digests for another version', () => {
    expect(buildDemoImage('v1.0.0', created).index.digest).toBe(image.index.digest);
    expect(buildDemoImage('v1.0.1', created).index.digest).not.toBe(image.index.digest);
  });
});

describe('demo artifacts', () => {
  const image = buildDemoImage('v1.0.0');
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('signs like cosign: the signature gate verifies it with the public key, and not over another digest or with another key', () => {
    const sig = cosignSignature('127.0.0.1:5000/demo/app', image.index.digest, pair.privateKey);
    const manifest = JSON.parse(sig.manifest.bytes.toString()) as { layers: { mediaType: string; digest: string; annotations: Record<string, string> }[] };
    const layer = manifest.layers[0]!;
    expect(layer.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(sig.blobs.map((b) => b.digest)).toContain(layer.digest);
    const signature = Buffer.from(layer.annotations['dev.cosignproject.cosign/signature']!, 'base64');
    const keys = [{ id: 'regman-local', key: pair.publicKey }];
    expect(checkPayload(sig.payload, signature, image.index.digest, keys, layer.digest)).toEqual({ outcome: 'verified', keyId: 'regman-local', layer: layer.digest });
    expect(checkPayload(sig.payload, signature, image.manifests[0]!.digest, keys, layer.digest).outcome).toBe('other-digest');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(checkPayload(sig.payload, signature, image.index.digest, [{ id: 'x', key: other.publicKey }], layer.digest).outcome).toBe('no-key-verifies');
  });

  it('writes a SARIF report the scan gate reads as 1 high and 1 medium (within critical 0, high ≤ 2), and an SPDX 2.3 SBOM of each platform', () => {
    const findings = findingsFromSarif(JSON.parse(sarifReport().toString()), 'demo');
    expect(findings).toEqual([
      { id: 'DEMO-2026-0001', severity: 'high', fixable: true },
      { id: 'DEMO-2026-0002', severity: 'medium', fixable: false },
    ]);
    expect(evaluateFindings(findings, { thresholds: { critical: 0, high: 2 } }, new Date()).passed).toBe(true);
    const sbom = JSON.parse(spdxSbom('demo/app', 'v1.0.0', image, new Date()).toString()) as { spdxVersion: string; packages: { checksums: { checksumValue: string }[] }[] };
    expect(sbom.spdxVersion).toBe('SPDX-2.3');
    expect(sbom.packages.map((p) => `sha256:${p.checksums[0]!.checksumValue}`)).toEqual(image.manifests.map((m) => m.digest));
  });

  it('formatDemo prints the image, each platform, the referrers, the replication and the next commands', () => {
    const text = formatDemo({
      registry: 'dev', image: 'h/demo/app:v1', repository: 'demo/app', tag: 'v1', digest: 'sha256:i',
      platforms: [{ platform: 'linux/amd64', digest: 'sha256:a' }],
      signature: { tag: 'sha256-i.sig', digest: 'sha256:s', keyPath: '/k' },
      sbom: { digest: 'sha256:b', artifactType: 'application/spdx+json', listedVia: 'fallback-tag' },
      scanReport: { digest: 'sha256:r', artifactType: 'application/sarif+json', listedVia: 'api' },
      replication: [{ target: 'dr', repository: 'demo/app', outcome: 'failure', error: 'boom' }],
      next: ['npx regman promotions list'],
    });
    expect(text.split('\n')).toEqual([
      'pushed h/demo/app:v1 → sha256:i',
      '  linux/amd64      sha256:a',
      '  signature        sha256-i.sig (sha256:s), key /k',
      '  sbom             sha256:b (application/spdx+json, listed via fallback-tag)',
      '  scan report      sha256:r (application/sarif+json, listed via api)',
      '  replicated       → dr/demo/app: failure (boom)',
      '',
      'Next:',
      '  npx regman promotions list',
    ]);
  });
});

describe('formatDemo with audit records', () => {
  it('lists each replication record with its time, actor, correlation id, chain position and bytes', () => {
    const text = formatDemo({
      registry: 'dev', image: 'h/demo/app:v1', repository: 'demo/app', tag: 'v1', digest: 'sha256:i',
      platforms: [],
      signature: { tag: 'sha256-i.sig', digest: 'sha256:s', keyPath: '/k' },
      sbom: { digest: 'sha256:b', artifactType: 'application/spdx+json', listedVia: 'api' },
      scanReport: { digest: 'sha256:r', artifactType: 'application/sarif+json', listedVia: 'api' },
      replication: [{ target: 'dr', repository: 'demo/app', outcome: 'success' }],
      audit: [{ time: '2026-12-03T12:00:01.000Z', action: 'replicate', outcome: 'success', actor: 'event:aws.ecr', target: 'dr', correlationId: 'evt-1', chain: 'repo#demo/app #4', bytes: 2048, durationMs: 35 }],
      next: [],
    });
    expect(text.split('\n').slice(4, 8)).toEqual([
      '  replicated       → dr/demo/app: success',
      '',
      'Audit records (hash-chained; `regman audit query` lists them all):',
      '  2026-12-03T12:00:01.000Z  replicate success → dr  by event:aws.ecr  correlation evt-1  repo#demo/app #4  2.0 KiB in 35 ms',
    ]);
  });
});

describe('runDemo refusals', () => {
  it('says to start the stack when none runs on the state folder, and to restart it when the signing key is gone', async () => {
    const state = mkdtempSync(join(tmpdir(), 'regman-demo-'));
    try {
      await expect(runDemo({ stateDir: state })).rejects.toMatchObject({ code: 'NO_STACK', message: expect.stringMatching(/no local stack runs on .*: start it with `npm start`/) });
      // A live stack's endpoints.json (this process stands in for it), but no key pair in the folder.
      writeFileSync(join(state, 'endpoints.json'), JSON.stringify({ registries: { dev: 'http://127.0.0.1:1' }, source: 'dev', environments: {}, pid: process.pid }));
      await expect(runDemo({ stateDir: state })).rejects.toMatchObject({ code: 'NO_SIGNING_KEY', message: expect.stringMatching(/no signing key at .*cosign\.key: the local stack creates it on start/) });
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
