// Lineage, pure: in-toto statements (SLSA v0.2 as BuildKit writes it, v1 as GitHub writes it, SPDX, CycloneDX), the shared BuildKit attestation index, annotations over labels, audit history, host resolution.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoredAuditRecord } from '../../../functions/audit/types.ts';
import { parseManifest } from '../../../functions/oci/manifest.ts';
import { buildLineage, type LineageInput } from '../../../functions/reports/lineage/model.ts';
import { readStatement } from '../../../functions/reports/lineage/provenance.ts';
import { lineageText } from '../../../functions/reports/lineage/render.ts';
import { auditRepositoriesFor, registryForHost } from '../../../functions/reports/lineage/resolve.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'manifests');
const fixture = (name: string) => parseManifest(readFileSync(join(FIXTURES, name)), 'application/vnd.oci.image.index.v1+json');
const AMD64 = 'sha256:fbd10fe50b4b174bb9ea273e2eb9827fa8bf5c88edd8635a93dc83e0d1aecb55';
const ATT = 'sha256:a9de632c16998489fd63fbca42a03431df00639cfb2ecb8982bf9984b83c5b2b';
const REV = '0123456789abcdef0123456789abcdef01234567';

/** The shape of BuildKit's SLSA v0.2 provenance (docs/attestations/slsa-definitions.md). */
const buildkitProvenance = (subject: string) => ({
  _type: 'https://in-toto.io/Statement/v0.1',
  predicateType: 'https://slsa.dev/provenance/v0.2',
  subject: [{ name: 'pkg:docker/crazymax/buildkit@attest?platform=linux%2Famd64', digest: { sha256: subject.replace('sha256:', '') } }],
  predicate: {
    builder: { id: 'https://github.com/docker/build-push-action' },
    buildType: 'https://mobyproject.org/buildkit@v1',
    materials: [{ uri: 'pkg:docker/alpine@3.20?platform=linux%2Famd64', digest: { sha256: 'b'.repeat(64) } }],
    invocation: { configSource: { uri: 'https://github.com/crazy-max/buildkit.git#refs/heads/attest', digest: { sha1: REV }, entryPoint: 'Dockerfile' } },
    metadata: { 'https://mobyproject.org/buildkit@v1#metadata': { vcs: { source: 'https://github.com/crazy-max/buildkit.git', revision: REV } } },
  },
});

const githubV1 = {
  _type: 'https://in-toto.io/Statement/v1',
  predicateType: 'https://slsa.dev/provenance/v1',
  subject: [{ name: 'app', digest: { sha256: 'c'.repeat(64) } }],
  predicate: {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: { workflow: { ref: 'refs/tags/v1.2.0', repository: 'https://github.com/team/app', path: '.github/workflows/release.yml' } },
      resolvedDependencies: [{ uri: 'git+https://github.com/team/app@refs/tags/v1.2.0', digest: { gitCommit: REV } }],
    },
    runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } },
  },
};

describe('in-toto statements', () => {
  it.each([
    ['BuildKit SLSA v0.2', buildkitProvenance(AMD64), { kind: 'provenance', provenance: { builder: 'https://github.com/docker/build-push-action', buildType: 'https://mobyproject.org/buildkit@v1', trigger: 'https://github.com/crazy-max/buildkit.git#refs/heads/attest (Dockerfile)', commit: { source: 'https://github.com/crazy-max/buildkit.git', revision: REV }, subjects: [AMD64] } }],
    ['GitHub SLSA v1', githubV1, { kind: 'provenance', provenance: { builder: 'https://github.com/actions/runner/github-hosted', trigger: 'https://github.com/team/app/.github/workflows/release.yml@refs/tags/v1.2.0', commit: { source: 'git+https://github.com/team/app@refs/tags/v1.2.0', revision: REV } } }],
    ['SPDX', { predicateType: 'https://spdx.dev/Document', subject: [], predicate: { packages: [{}, {}, {}] } }, { kind: 'sbom', sbom: { format: 'spdx', packages: 3 } }],
    ['CycloneDX', { predicateType: 'https://cyclonedx.org/bom', subject: [], predicate: { components: [{}] } }, { kind: 'sbom', sbom: { format: 'cyclonedx', packages: 1 } }],
    ['another predicate', { predicateType: 'https://example.com/test-result/v1', subject: [] }, { kind: 'other', predicateType: 'https://example.com/test-result/v1' }],
  ])('%s', (_name, statement, expected) => {
    expect(readStatement(statement)).toMatchObject(expected);
  });

  it.each([[null], ['text'], [{ subject: [] }], [[1, 2]]])('%j is not a statement', (value) => {
    expect(readStatement(value)).toBeUndefined();
  });
});

const base = (over: Partial<LineageInput>): LineageInput => ({
  reference: 'reg/crazymax/buildkit:attest', registry: 'hub', repository: 'crazymax/buildkit', manifest: fixture('oci-index-attestation.crazymax-buildkit-attest.json'),
  tags: ['attest'], parents: [], attestations: [], referrers: [], cosignTags: [], records: [], ...over,
});

let seq = 0;
const rec = (r: Partial<StoredAuditRecord> & Pick<StoredAuditRecord, 'action' | 'time'>): StoredAuditRecord => ({
  actor: 'workflow', outcome: 'success', correlationId: 'x', partition: 'repo#crazymax/buildkit', seq: ++seq, prevHash: '', hash: '', repository: 'crazymax/buildkit', digest: 'sha256:7007', ...r,
});

describe('lineage model', () => {
  it('reads the shared BuildKit index: platform children with their attestation manifests, provenance from the statement', () => {
    // Act
    const l = buildLineage(base({ attestations: [{ digest: ATT, describes: AMD64, via: 'buildkit-index', statements: [buildkitProvenance(AMD64), { predicateType: 'https://spdx.dev/Document', predicate: { packages: [{}] } }] }] }));
    // Assess
    expect(l.platforms).toEqual([{ digest: AMD64, platform: 'linux/amd64', attestation: ATT }]);
    expect(l.provenance).toEqual([expect.objectContaining({ attestation: ATT, via: 'buildkit-index', commit: { source: 'https://github.com/crazy-max/buildkit.git', revision: REV } })]);
    expect(l.sboms).toEqual([{ digest: ATT, via: 'buildkit-index', format: 'spdx', packages: 1 }]);
  });

  it('lists every platform of the moby/buildkit index and pairs each with its own attestation', () => {
    const l = buildLineage(base({ manifest: fixture('oci-index-attestations.moby-buildkit-master.json') }));
    expect(l.platforms).toHaveLength(6);
    expect(l.platforms.every((p) => p.attestation !== undefined && p.platform !== 'unknown/unknown')).toBe(true);
    expect(new Set(l.platforms.map((p) => p.attestation)).size).toBe(6);
  });

  it('prefers annotations over config labels, names the base image, sorts referrers into signatures, SBOMs and others', () => {
    // Prepare: an image manifest with annotations; the config has labels for what annotations lack.
    const manifest = { raw: Buffer.from('{}'), digest: 'sha256:img', mediaType: 'application/vnd.oci.image.manifest.v1+json', kind: 'image' as const, layers: [], manifests: [], annotations: { 'org.opencontainers.image.source': 'https://github.com/team/app', 'org.opencontainers.image.base.name': 'docker.io/library/alpine:3.20', 'org.opencontainers.image.base.digest': 'sha256:base' } };
    // Act
    const l = buildLineage(base({
      manifest,
      config: { labels: { 'org.opencontainers.image.source': 'https://wrong.example', 'org.opencontainers.image.version': '1.2.0' }, created: '2026-01-02T03:04:05Z' },
      cosignTags: ['sha256-img.sig', 'sha256-img.sbom'],
      referrers: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:bundle', size: 1, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:spdx', size: 1, artifactType: 'application/spdx+json' },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:sarif', size: 1, artifactType: 'application/sarif+json' },
      ],
    }));
    // Assess
    expect(l.origin).toEqual({ source: 'https://github.com/team/app', version: '1.2.0', created: '2026-01-02T03:04:05Z', baseName: 'docker.io/library/alpine:3.20', baseDigest: 'sha256:base' });
    expect(l.base).toEqual({ name: 'docker.io/library/alpine:3.20', digest: 'sha256:base' });
    expect(l.signatures).toEqual([{ via: 'cosign-tag', ref: 'sha256-img.sig' }, { via: 'referrer', ref: 'sha256:bundle', artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }]);
    expect(l.sboms.map((s) => [s.via, s.digest, s.format])).toEqual([['referrer', 'sha256:spdx', 'spdx'], ['cosign-tag', 'sha256-img.sbom', 'other']]);
    expect(l.otherReferrers).toEqual([{ digest: 'sha256:sarif', artifactType: 'application/sarif+json' }]);
  });

  it('tells where it went: copies with the pusher, and each promotion run with requester, approvers and outcome', () => {
    // Act
    const l = buildLineage(base({
      records: [
        // The workflow's record shapes (functions/promotion/deps.ts auditStep, functions/approvals/service.ts).
        rec({ action: 'approval.approve', time: '2026-01-03T00:01:00.000Z', actor: 'bob', correlationId: 'e1', details: { executionId: 'e1', requestId: 'e1', edge: 'staging->prod', comment: 'ok' } }),
        rec({ action: 'approval.refused', outcome: 'rejected', time: '2026-01-03T00:00:30.000Z', actor: 'mallory', correlationId: 'e1', details: { executionId: 'e1', requestId: 'e1', edge: 'staging->prod', attempted: 'approve' } }),
        rec({ action: 'replicate', time: '2026-01-01T00:00:00.000Z', actor: 'event:aws.ecr', source: 'ecr', target: 'gar', details: { targetRepository: 'mirror/app', pushedBy: { principal: 'arn:aws:iam::1:user/ci', source: 'cloudtrail' } } }),
        rec({ action: 'promote.validate', time: '2026-01-03T00:00:00.000Z', actor: 'alice', correlationId: 'e1', details: { executionId: 'e1', from: 'staging', to: 'prod' } }),
        rec({ action: 'promote.sync', time: '2026-01-03T00:01:30.000Z', actor: 'alice', correlationId: 'e1', source: 'staging-reg', target: 'prod-reg', bytes: 10, details: { executionId: 'e1', from: 'staging', to: 'prod' } }),
        rec({ action: 'promote.record', time: '2026-01-03T00:02:00.000Z', actor: 'alice', correlationId: 'e1', details: { executionId: 'e1', from: 'staging', to: 'prod', status: 'SUCCEEDED' } }),
      ],
    }));
    // Assess
    expect(l.copies).toEqual([{ action: 'replicate', outcome: 'success', time: '2026-01-01T00:00:00.000Z', actor: 'event:aws.ecr', correlationId: 'x', source: 'ecr', target: 'gar', targetRepository: 'mirror/app', pushedBy: 'arn:aws:iam::1:user/ci' }]);
    expect(l.promotions).toEqual([{ environment: 'prod', from: 'staging', outcome: 'promoted', requester: 'alice', approvers: ['bob'], time: '2026-01-03T00:02:00.000Z', executionId: 'e1' }]);
    const text = lineageText(l);
    expect(text).toContain('replicate ecr → gar/mirror/app success by event:aws.ecr (pushed by arn:aws:iam::1:user/ci)');
    expect(text).toContain('promoted staging → prod promoted requested by alice, approved by bob');
  });
});

describe('resolving an image reference', () => {
  it.each([
    ['a configured host', '127.0.0.1:5001', 'target-a'],
    ['a local stack registry from endpoints.json', '127.0.0.1:6000', 'local-src'],
    ['an unknown host', 'registry.example.com', undefined],
  ])('%s', (_name, host, expected) => {
    expect(registryForHost(host, [{ name: 'target-a', host: '127.0.0.1:5001' }], { 'local-src': 'http://127.0.0.1:6000' })).toBe(expected);
  });

  it('looks a prefixed target repository up under its source name too', () => {
    const config = { replication: [{ name: 'r', source: 's', repositories: ['**'], tags: { include: ['*'] }, targets: [{ registry: 'west', repositoryPrefix: 'mirror/' }] }] } as unknown as Parameters<typeof auditRepositoriesFor>[0];
    expect(auditRepositoriesFor(config, 'west', 'mirror/team/app')).toEqual(['mirror/team/app', 'team/app']);
    expect(auditRepositoriesFor(config, 'east', 'mirror/team/app')).toEqual(['mirror/team/app']);
  });
});
