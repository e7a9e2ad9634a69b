// Referrers copied between registries with and without the OCI 1.1 referrers API: the target lists them
// through whichever discovery it has (its API, or the fallback tag index the client maintains).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../functions/oci/copy.ts';
import type { RegistryClient } from '../../functions/oci/client.ts';
import { fallbackTag, findReferrers } from '../../functions/oci/referrers.ts';
import { MemoryRegistry, pushImage, pushReferrer } from '../helpers/memory-registry.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { clientFor } from './copy-engine-support.ts';

describe('referrers across registries with and without the referrers API', () => {
  let regA: RunningRegistry;
  let regB: RunningRegistry;
  let proxyB: FaultProxy;
  let a: RegistryClient;
  let b: RegistryClient;

  beforeAll(async () => {
    [regA, regB] = await Promise.all([startRegistry(), startRegistry()]);
    proxyB = await startFaultProxy(regB.url);
    a = clientFor(regA);
    b = clientFor(proxyB);
  });

  afterAll(async () => {
    a?.close();
    b?.close();
    await proxyB?.stop();
    await Promise.all([regA?.stop(), regB?.stop()]);
  });

  it('API → no API: the SBOM is listed in the fallback index the client writes at distribution', async () => {
    // Prepare: an OCI 1.1 source (in memory, with the API) holding an image and an SBOM.
    const src = new MemoryRegistry({ host: 'api.test', referrersApi: true });
    const image = await pushImage(src, 'team/app', 'v1', { layers: [2000] });
    const sbom = await pushReferrer(src, 'team/app', image);
    expect(await src.tagList('team/app')).toEqual(['v1']); // no fallback tag at the source
    // Act
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: b, repository: 'api-to-none/app', tag: 'v1' });
    // Assess: distribution has no API, so discovery goes through the fallback tag, which lists the SBOM.
    expect(result.referrers).toEqual([sbom.digest]);
    expect(await b.referrers('api-to-none/app', image.digest)).toBeUndefined();
    const found = await findReferrers(b, 'api-to-none/app', image.digest);
    expect(found.source).toBe('fallback-tag');
    expect(found.descriptors).toEqual([expect.objectContaining({ digest: sbom.digest, artifactType: 'application/spdx+json', size: sbom.raw.length })]);
  });

  it('no API → API: the SBOM found through the source fallback tag is listed by the target API, and no fallback tag is pushed', async () => {
    // Prepare: distribution as the source; pushing the SBOM there made the client write its fallback index.
    const image = await pushImage(a, 'none-src/app', 'v1', { layers: [2000] });
    const sbom = await pushReferrer(a, 'none-src/app', image);
    expect((await findReferrers(a, 'none-src/app', image.digest)).source).toBe('fallback-tag');
    const dst = new MemoryRegistry({ host: 'api.test', referrersApi: true });
    // Act
    await copyImage({ registry: a, repository: 'none-src/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    // Assess
    expect((await dst.referrers('team/app', image.digest))?.map((d) => d.digest)).toEqual([sbom.digest]);
    expect(await dst.tagList('team/app')).toEqual(['v1']);
  });

  it('no API → no API: the target index keeps the entries it had and gains the copied one', async () => {
    // Prepare: the subject and one SBOM at the source; the same subject at the target with its own, other SBOM.
    const image = await pushImage(a, 'none-none/app', 'v1', { layers: [2000] });
    const sbom = await pushReferrer(a, 'none-none/app', image);
    await copyImage({ registry: a, repository: 'none-none/app', reference: 'v1' }, { registry: b, repository: 'none-none/app', tag: 'v1' }, { referrers: false });
    const local = await pushReferrer(b, 'none-none/app', image, 'application/vnd.example.scan+json');
    proxyB.clearRequests();
    // Act
    await copyImage({ registry: a, repository: 'none-none/app', reference: 'v1' }, { registry: b, repository: 'none-none/app', tag: 'v1' });
    // Assess: both SBOMs listed, the target's own first; the index was read, then pushed once by tag.
    const found = await findReferrers(b, 'none-none/app', image.digest);
    expect(found.descriptors.map((d) => d.digest)).toEqual([local.digest, sbom.digest]);
    const indexPath = `/v2/none-none/app/manifests/${fallbackTag(image.digest)}`;
    expect(proxyB.requests.filter((r) => r.method === 'PUT' && r.path === indexPath)).toHaveLength(1);
    // A second copy finds everything there: nothing is pushed, the index is untouched.
    proxyB.clearRequests();
    const again = await copyImage({ registry: a, repository: 'none-none/app', reference: 'v1' }, { registry: b, repository: 'none-none/app', tag: 'v1' });
    expect(again.noop).toBe(true);
    expect(proxyB.count('PUT')).toBe(0);
  });

  it('several referrers of one subject pushed at once are all listed (updates of one index are serialised)', async () => {
    // Prepare
    const image = await pushImage(b, 'parallel/app', 'v1', { layers: [500] });
    // The referrers share their config and body blobs. The first push stores them, because distribution 2.8 can
    // answer MANIFEST_BLOB_UNKNOWN to a manifest PUT while a concurrent upload of the same digest is still being
    // committed. That race is the registry's; what this test proves is the serialised index updates.
    const first = await pushReferrer(b, 'parallel/app', image, 'application/vnd.example.a+json');
    // Act
    const rest = await Promise.all(['b', 'c', 'd', 'e'].map((k) => pushReferrer(b, 'parallel/app', image, `application/vnd.example.${k}+json`)));
    const pushed = [first, ...rest];
    // Assess
    const found = await findReferrers(b, 'parallel/app', image.digest);
    expect(new Set(found.descriptors.map((d) => d.digest))).toEqual(new Set(pushed.map((m) => m.digest)));
  });
});
