// The registry adapter contract: one suite (list, metadata, copy, tag, delete) run against every adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryAdapter } from '../../../functions/registries/adapter.ts';
import { copyImage } from '../../../functions/oci/copy.ts';
import { RegistryClient } from '../../../functions/oci/client.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';
import {
  pushCosignSignature,
  pushImage,
  pushOciIndex,
  pushSbomReferrer,
  type AuthOptions,
  type PushedImage,
  type PushedIndex,
} from '../../helpers/images.ts';
import { skopeoDigest } from '../../helpers/skopeo.ts';

/** What one adapter kind brings to the contract: a running adapter over a real registry data plane. */
export interface ContractFixture {
  readonly adapter: RegistryAdapter;
  /**
   * Where the independent fixture pusher reaches the same registry, and with which auth. Pushes go
   * to `${pushUrl}/<adapter.namespace + repository>`.
   */
  readonly pushUrl: string;
  readonly pushAuth?: AuthOptions;
  /** skopeo `--creds` for reading through the same data plane, if it needs auth. */
  readonly skopeoCreds?: string;
  /** Host skopeo reads from (defaults to the adapter's host). */
  readonly skopeoHost?: string;
  /** Repository name as the adapter's API names it (defaults to the name itself). */
  readonly repositoryName?: (name: string) => string;
  stop(): Promise<void>;
}

/**
 * Runs the contract against an adapter kind. `setup` starts whatever the kind needs (registry, token
 * endpoint, control-plane mocks) and returns the fixture; the suite pushes its own images.
 */
export function describeAdapterContract(kind: string, setup: () => Promise<ContractFixture>): void {
  describe(`registry adapter contract: ${kind}`, () => {
    let fx: ContractFixture;
    let plain: RunningRegistry;
    let image: PushedImage;
    let index: PushedIndex;
    let signatureDigest: string;
    let sbomDigest: string;
    const repo = 'contract/app';
    const full = (r: string): string => (fx.adapter.namespace ? `${fx.adapter.namespace}/${r}` : r);
    const api = (r: string): string => (fx.repositoryName ? fx.repositoryName(r) : r);

    beforeAll(async () => {
      fx = await setup();
      plain = await startRegistry();
      const reg = { url: fx.pushUrl };
      const auth = fx.pushAuth ?? {};
      image = await pushImage(reg, full(repo), 'v1', { ...auth, layers: [2048, 4096] });
      index = await pushOciIndex(reg, full(repo), 'multi', undefined, auth);
      signatureDigest = (await pushCosignSignature(reg, full(repo), image.digest, auth)).digest;
      sbomDigest = (await pushSbomReferrer(reg, full(repo), image.descriptor, auth)).digest;
    }, 120_000);

    afterAll(async () => {
      await plain?.stop();
      fx?.adapter.close();
      await fx?.stop();
    });

    it('answers ping with its credentials accepted', async () => {
      await expect(fx.adapter.ping()).resolves.toBeUndefined();
    });

    it('lists the repository', async () => {
      const repos = await fx.adapter.listRepositories();
      expect(repos).toContain(api(repo));
    });

    it('lists images with tags, sizes, children and subjects', async () => {
      const images = await fx.adapter.listImages(api(repo));
      const byDigest = new Map(images.map((i) => [i.digest, i]));

      const single = byDigest.get(image.digest);
      expect(single?.tags).toContain('v1');
      expect(single?.sizeBytes).toBeGreaterThan(0);
      expect(single?.blobs?.map((b) => b.digest).sort()).toEqual(image.blobs.map((b) => b.digest).sort());

      const idx = byDigest.get(index.digest);
      expect(idx?.tags).toContain('multi');
      expect([...(idx?.manifests ?? [])].sort()).toEqual(index.children.map((c) => c.digest).sort());
      for (const child of index.children) {
        expect(byDigest.get(child.digest)?.tags ?? []).toEqual([]);
      }

      expect(byDigest.get(sbomDigest)?.subject).toBe(image.digest);
      expect(byDigest.get(sbomDigest)?.artifactType).toBe('application/spdx+json');
      expect(byDigest.get(signatureDigest)?.tags).toContain(`sha256-${image.digest.slice(7)}.sig`);
    });

    it('copies an index out through its OCI data plane with identical digests', async () => {
      const result = await copyImage(
        { registry: fx.adapter.oci, repository: full(repo), reference: 'multi' },
        { registry: new RegistryClient({ host: plain.host, plainHttp: true }), repository: 'mirror/app', tag: 'multi' },
      );
      expect(result.digest).toBe(index.digest);
      expect(await skopeoDigest(`${plain.host}/mirror/app:multi`)).toBe(index.digest);
    });

    it('tags an existing digest without moving blobs', async () => {
      await fx.adapter.tagImage(api(repo), image.digest, 'promoted');
      const head = await fx.adapter.oci.manifestHead(full(repo), 'promoted');
      expect(head?.digest).toBe(image.digest);
      const creds = fx.skopeoCreds ? { creds: fx.skopeoCreds } : {};
      expect(await skopeoDigest(`${fx.skopeoHost ?? fx.adapter.host}/${full(repo)}:promoted`, creds)).toBe(image.digest);
    });

    it('deletes by digest: the manifest and its tags are gone', async () => {
      const doomed = await pushImage({ url: fx.pushUrl }, full(repo), 'doomed', { ...(fx.pushAuth ?? {}), layers: [512] });
      await fx.adapter.deleteImage(api(repo), doomed.digest);
      expect(await fx.adapter.oci.manifestHead(full(repo), doomed.digest)).toBeUndefined();
      const after = await fx.adapter.listImages(api(repo), { withManifests: false });
      expect(after.map((i) => i.digest)).not.toContain(doomed.digest);
      expect(after.flatMap((i) => i.tags)).not.toContain('doomed');
    });
  });
}
