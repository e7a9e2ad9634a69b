// Graph-aware planning: index children, BuildKit attestations, referrers by subject and by tag schema,
// digests under a kept and an expired tag, locks, deletion order, and bytesFreed over shared layers.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy, planRetention } from '../../../functions/retention/index.ts';
import type { InventoryImage, RetentionPlan } from '../../../functions/retention/types.ts';
import { MediaType } from '../../../functions/oci/media-types.ts';
import { NOW, d, daysAgo, img } from './helpers.ts';

const INDEX_FILE = new URL('../../fixtures/retention/oci-index-attestations.moby-buildkit-master.json', import.meta.url);

interface IndexDoc {
  manifests: { digest: string; size: number; platform: { os: string }; annotations?: Record<string, string> }[];
}

/** The moby/buildkit:master index (6 platforms + 6 attestation manifests) as inventory entries under `tags`. */
function buildkitImages(tags: string[], days: number): { index: InventoryImage; children: InventoryImage[]; attestations: string[] } {
  const bytes = readFileSync(INDEX_FILE);
  const doc = JSON.parse(bytes.toString('utf8')) as IndexDoc;
  const index: InventoryImage = {
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    tags,
    pushedAt: daysAgo(days),
    lastPulledAt: null,
    mediaType: MediaType.OciIndex,
    manifests: doc.manifests.map((m) => m.digest),
  };
  const children = doc.manifests.map((m) => ({
    digest: m.digest,
    tags: [],
    pushedAt: daysAgo(days),
    lastPulledAt: null,
    mediaType: MediaType.OciManifest,
    blobs: [{ digest: d(`layer-of-${m.digest}`), size: 1000 }],
  }));
  const attestations = doc.manifests.filter((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest').map((m) => m.digest);
  return { index, children, attestations };
}

const plan = (images: InventoryImage[], policy: unknown, lockedDigests: string[] = []): RetentionPlan =>
  planRetention({ repository: 'moby/buildkit', images }, parsePolicy(policy), { now: NOW, force: true, lockedDigests });
const decision = (p: RetentionPlan, digest: string) => p.decisions.find((x) => x.digest === digest);

describe('multi-arch index with BuildKit attestation manifests', () => {
  it('uses the published moby/buildkit:master index (digest-verified fixture)', () => {
    const { index, attestations } = buildkitImages(['master'], 1);
    expect(index.digest).toBe('sha256:d895e8fdcf5e2bb39acb5966f97fc4cd87a2d13d27c939c320025eb4aca5440c');
    expect(attestations).toHaveLength(6);
  });

  it.each([
    { name: 'regman delete.untagged', policy: { delete: { untagged: true } } },
    { name: 'ECR untagged imageCountMoreThan 1', policy: { rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] } },
  ])('keeps every untagged child of a kept index, attestations included ($name)', ({ policy }) => {
    // Prepare: the tagged index is recent; its 12 children are untagged.
    const { index, children, attestations } = buildkitImages(['master'], 1);
    // Act
    const p = plan([index, ...children], policy);
    // Assess: nothing expires; children say why.
    expect(p.expire).toEqual([]);
    for (const child of children) {
      expect(decision(p, child.digest)).toMatchObject({ action: 'keep', rule: 'graph.index-child', role: 'child' });
      expect(decision(p, child.digest)?.reason).toContain(`child of kept index sha256:d895e8fdcf5e (master)`);
    }
    expect(attestations.every((a) => decision(p, a)?.action === 'keep')).toBe(true);
  });

  it('expires the untagged children with their expiring index, under the index rule, index first in the delete order', () => {
    const { index, children } = buildkitImages(['nightly-2023'], 400);
    const p = plan([index, ...children, img('current', ['v2'], 1)], { delete: { olderThanDays: 90 } });
    expect(p.expire).toHaveLength(13);
    for (const child of children) {
      expect(decision(p, child.digest)).toMatchObject({ action: 'expire', rule: 'delete.olderThanDays' });
      expect(decision(p, child.digest)?.reason).toBe('untagged child of expiring index sha256:d895e8fdcf5e (nightly-2023)');
    }
    expect(p.deleteOrder[0]).toBe(index.digest);
    expect(p.bytesFreed).toBe(12 * 1000);
  });

  it('keeps a child shared with another, kept index (the policy would have expired it with the old one)', () => {
    const { index, children } = buildkitImages(['old'], 400);
    const shared = children[0] as InventoryImage;
    const newer = img('newer-index', ['new'], 1, { mediaType: MediaType.OciIndex, manifests: [shared.digest] });
    const p = plan([index, ...children, newer], { delete: { olderThanDays: 90 } });
    expect(decision(p, shared.digest)).toMatchObject({ action: 'keep', rule: 'graph.index-child' });
    expect(decision(p, index.digest)?.action).toBe('expire');
    expect(p.expire).toHaveLength(12);
  });

  it('judges a tagged child on its own tag, and still keeps it under a kept index', () => {
    // Prepare: child A also tagged v1-amd64 (preserved); child B tagged ci-amd64 but its index is kept.
    const a = img('child-a', ['v1-amd64'], 300);
    const b = img('child-b', ['ci-amd64'], 300);
    const oldIndex = img('index-old', ['v1'], 300, { manifests: [a.digest] });
    const keptIndex = img('index-kept', ['release'], 300, { manifests: [b.digest] });
    // Act
    const p = plan([a, b, oldIndex, keptIndex], { delete: { olderThanDays: 90 }, keep: { tags: ['*-amd64', 'release'] } });
    // Assess
    expect(p.expire.map((e) => e.digest)).toEqual([d('index-old')]);
    expect(decision(p, a.digest)).toMatchObject({ action: 'keep', rule: 'keep.tags' });
  });
});

describe('referrers: signatures, SBOMs and attestations', () => {
  it('keeps a cosign signature whose subject is kept and expires one whose subject expires, referrer first', () => {
    // Prepare: the cosign tag schema sha256-<hex>.sig names the subject.
    const kept = img('app-v2', ['v2'], 1);
    const gone = img('app-v1', ['v1'], 200);
    const sigKept = img('sig-v2', [`${kept.digest.replace(':', '-')}.sig`], 1);
    const sigGone = img('sig-v1', [`${gone.digest.replace(':', '-')}.sig`], 200);
    const sbomGone = img('sbom-v1', [], 200, { subject: gone.digest, mediaType: MediaType.OciManifest });
    // Act
    const p = plan([kept, gone, sigKept, sigGone, sbomGone], { delete: { olderThanDays: 30, untagged: true } });
    // Assess
    expect(decision(p, sigKept.digest)).toMatchObject({ action: 'keep', rule: 'graph.referrer', role: 'referrer' });
    expect(decision(p, sigKept.digest)?.reason).toMatch(/referrer \(cosign tag sha256-.*\.sig\) of kept sha256:.* \(v2\)/);
    expect(decision(p, sigGone.digest)).toMatchObject({ action: 'expire', rule: 'delete.olderThanDays' });
    expect(decision(p, sbomGone.digest)?.reason).toMatch(/^referrer \(subject field\) of expiring sha256:[0-9a-f]{12} \(v1\)$/);
    expect(p.deleteOrder.indexOf(gone.digest)).toBeGreaterThan(p.deleteOrder.indexOf(sigGone.digest));
    expect(p.deleteOrder.indexOf(gone.digest)).toBeGreaterThan(p.deleteOrder.indexOf(sbomGone.digest));
  });

  it('does not judge an old, untagged OCI 1.1 referrer on its own: it stays with its recent subject', () => {
    const subject = img('app', ['v9'], 1);
    const attestation = img('provenance', [], 365, { subject: subject.digest });
    const p = plan([subject, attestation], { delete: { olderThanDays: 30, untagged: true } });
    expect(p.expire).toEqual([]);
  });

  it('follows the referrers fallback index (tag sha256-<hex>) and the referrers it lists', () => {
    const subject = img('app', ['v1'], 100);
    const sbom = img('sbom', [], 100, { subject: subject.digest });
    const fallback = img('referrers-index', [subject.digest.replace(':', '-')], 100, { manifests: [sbom.digest], mediaType: MediaType.OciIndex });
    const p = plan([subject, sbom, fallback], { delete: { olderThanDays: 30 } });
    expect(p.expire.map((e) => e.digest).sort()).toEqual([subject.digest, sbom.digest, fallback.digest].sort());
    expect(decision(p, fallback.digest)?.reason).toMatch(/referrer \(referrers tag sha256-[0-9a-f]{64}\) of expiring/);
    expect(p.deleteOrder.at(-1)).toBe(subject.digest);
  });

  it('treats a referrer whose subject is not in the inventory as an ordinary image', () => {
    const orphan = img('orphan-sig', [], 100, { subject: d('deleted-long-ago') });
    const p = plan([orphan], { delete: { untagged: true } });
    expect(decision(p, orphan.digest)).toMatchObject({ action: 'expire', role: 'image', rule: 'delete.untagged' });
  });
});

describe('tags, locks and bytesFreed', () => {
  it('never deletes a digest kept under any of its tags', () => {
    const both = img('both', ['prod-1', 'ci-77'], 300);
    const p = plan([both, img('other', ['ci-78'], 300)], { delete: { olderThanDays: 30 }, keep: { tags: ['prod-*'] } });
    expect(decision(p, both.digest)).toMatchObject({ action: 'keep', rule: 'keep.tags' });
    expect(decision(p, both.digest)?.reason).toMatch(/^tag prod-1 matches preserved glob prod-\*/);
  });

  it('keeps a locked index together with its children and referrers', () => {
    const child = img('child', [], 300);
    const index = img('index', ['rc-1'], 300, { manifests: [child.digest] });
    const sig = img('sig', [`${index.digest.replace(':', '-')}.sig`], 300);
    const p = plan([child, index, sig], { delete: { olderThanDays: 30 } }, [index.digest]);
    expect(p.expire).toEqual([]);
    expect(decision(p, index.digest)?.rule).toBe('lock');
    expect(decision(p, child.digest)?.rule).toBe('graph.index-child');
    expect(decision(p, sig.digest)?.rule).toBe('graph.referrer');
  });

  it('counts each freed blob once, and never a blob a kept image still uses', () => {
    // Prepare: A and B expire and share L1; C is kept and shares L2 with A.
    const blob = (name: string, size: number) => ({ digest: d(name), size });
    const a = img('A', ['a'], 100, { sizeBytes: 700, blobs: [blob('L1', 100), blob('L2', 200), blob('L3', 400)] });
    const b = img('B', ['b'], 100, { sizeBytes: 900, blobs: [blob('L1', 100), blob('L4', 800)] });
    const c = img('C', ['c'], 1, { sizeBytes: 300, blobs: [blob('L2', 200), blob('L5', 100)] });
    // Act
    const p = plan([a, b, c], { delete: { olderThanDays: 30 } });
    // Assess: L1 + L3 + L4, not the 1600 bytes of summed image sizes.
    expect(p.bytesFreed).toBe(100 + 400 + 800);
    expect(p.bytesFreedEstimated).toBe(false);
  });

  it('falls back to sizeBytes when blobs are unknown, and says the number is an estimate', () => {
    const p = plan([img('A', ['a'], 100, { sizeBytes: 5000 }), img('B', ['b'], 1, { sizeBytes: 7000 })], { delete: { olderThanDays: 30 } });
    expect(p.bytesFreed).toBe(5000);
    expect(p.bytesFreedEstimated).toBe(true);
    expect(p.warnings.join()).toMatch(/bytesFreed is an estimate/);
  });
});
