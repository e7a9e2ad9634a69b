// ECR adapter listing: every call paginated, batches of 100, ImageDetail mapping, manifests read with BatchGetImage.
import { afterEach, describe, expect, it } from 'vitest';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ImageNotFoundException,
  ListImagesCommand,
  type BatchGetImageRequest,
  type DescribeImagesRequest,
  type DescribeRepositoriesRequest,
  type ListImagesRequest,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import { ACCOUNT, answer, digestN, digestOf, harness, type Harness } from './ecr-support.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

let h: Harness;
afterEach(() => {
  h?.adapter.close();
  h?.mock.restore();
});

describe('listRepositories', () => {
  it('follows every DescribeRepositories page with the registry id, and sorts the names', async () => {
    // Prepare
    h = harness();
    const inputs = answer<DescribeRepositoriesRequest>(h.mock, DescribeRepositoriesCommand, [
      { repositories: [{ repositoryName: 'b/app' }, { repositoryName: 'a/app' }], nextToken: 't1' },
      { repositories: [{ repositoryName: 'c/app' }], nextToken: 't2' },
      { repositories: [{ repositoryName: 'a/lib' }] },
    ]);

    // Act
    const repos = await h.adapter.listRepositories();

    // Assess
    expect(repos).toEqual(['a/app', 'a/lib', 'b/app', 'c/app']);
    expect(inputs.map((i) => i.nextToken)).toEqual([undefined, 't1', 't2']);
    expect(inputs.every((i) => i.registryId === ACCOUNT && i.maxResults === 1000)).toBe(true);
  });
});

describe('listImages', () => {
  /** 250 images over three ListImages pages; DescribeImages answers whatever it is asked. */
  function manyImages(): { digests: string[]; listInputs: ListImagesRequest[] } {
    const digests = Array.from({ length: 250 }, (_, i) => digestN(i + 1));
    const listInputs = answer<ListImagesRequest>(h.mock, ListImagesCommand, [
      { imageIds: digests.slice(0, 100).map((imageDigest) => ({ imageDigest })), nextToken: 'p2' },
      { imageIds: digests.slice(100, 200).map((imageDigest) => ({ imageDigest, imageTag: `t-${imageDigest.slice(-3)}` })), nextToken: 'p3' },
      { imageIds: digests.slice(200).map((imageDigest) => ({ imageDigest })) },
    ]);
    h.mock.on(DescribeImagesCommand).callsFake(async (input: DescribeImagesRequest) => ({
      imageDetails: (input.imageIds ?? []).map((id) => ({ imageDigest: id.imageDigest, imageSizeInBytes: 10, imageManifestMediaType: OCI_MANIFEST })),
    }));
    return { digests, listInputs };
  }

  it('reads every ListImages page, then describes and fetches manifests in batches of at most 100', async () => {
    // Prepare
    h = harness();
    const { digests, listInputs } = manyImages();
    h.mock.on(BatchGetImageCommand).resolves({ images: [] });

    // Act
    const images = await h.adapter.listImages('team/app');

    // Assess
    expect(images.map((i) => i.digest)).toEqual(digests);
    expect(images[150]?.tags).toEqual([`t-${digests[150]?.slice(-3)}`]);
    expect(listInputs.map((i) => i.nextToken)).toEqual([undefined, 'p2', 'p3']);
    expect(listInputs.every((i) => i.maxResults === 1000 && i.registryId === ACCOUNT && i.repositoryName === 'team/app')).toBe(true);
    const describeBatches = h.mock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input);
    expect(describeBatches.map((i) => i.imageIds?.length)).toEqual([100, 100, 50]);
    // ECR refuses maxResults together with imageIds.
    expect(describeBatches.every((i) => i.maxResults === undefined)).toBe(true);
    const getBatches = h.mock.commandCalls(BatchGetImageCommand).map((c) => c.args[0].input);
    expect(getBatches.map((i) => i.imageIds?.length)).toEqual([100, 100, 50]);
    expect(getBatches[0]?.acceptedMediaTypes).toEqual(expect.arrayContaining([OCI_MANIFEST, OCI_INDEX,
      'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json']));
  });

  it('follows a nextToken in a DescribeImages answer', async () => {
    // Prepare
    h = harness();
    h.mock.on(ListImagesCommand).resolves({ imageIds: [{ imageDigest: digestN(1) }, { imageDigest: digestN(2) }] });
    const describeInputs = answer<DescribeImagesRequest>(h.mock, DescribeImagesCommand, [
      { imageDetails: [{ imageDigest: digestN(1) }], nextToken: 'more' },
      { imageDetails: [{ imageDigest: digestN(2) }] },
    ]);

    // Act
    const images = await h.adapter.listImages('team/app', { withManifests: false });

    // Assess
    expect(images.map((i) => i.digest)).toEqual([digestN(1), digestN(2)]);
    expect(describeInputs.map((i) => i.nextToken)).toEqual([undefined, 'more']);
  });

  it('maps ImageDetail: tags, push time, size, media type, last pull (null when ECR has none)', async () => {
    // Prepare
    h = harness();
    const pulled: ImageDetail = {
      imageDigest: digestN(1),
      imageTags: ['v1', 'latest'],
      imagePushedAt: new Date('2024-03-01T10:00:00Z'),
      imageSizeInBytes: 1234,
      imageManifestMediaType: OCI_MANIFEST,
      artifactMediaType: 'application/vnd.oci.image.config.v1+json',
      lastRecordedPullTime: new Date('2024-04-02T08:30:00Z'),
    };
    const neverPulled: ImageDetail = { imageDigest: digestN(2), imageSizeInBytes: 99, artifactMediaType: 'application/vnd.dev.cosign.simplesigning.v1+json' };
    h.mock.on(ListImagesCommand).resolves({
      imageIds: [{ imageDigest: digestN(1), imageTag: 'v1' }, { imageDigest: digestN(1), imageTag: 'latest' }, { imageDigest: digestN(2) }],
    });
    h.mock.on(DescribeImagesCommand).resolves({ imageDetails: [pulled, neverPulled] });

    // Act
    const images = await h.adapter.listImages('team/app', { withManifests: false });

    // Assess
    expect(images).toEqual([
      {
        digest: digestN(1),
        tags: ['latest', 'v1'],
        pushedAt: '2024-03-01T10:00:00.000Z',
        sizeBytes: 1234,
        mediaType: OCI_MANIFEST,
        lastPulledAt: '2024-04-02T08:30:00.000Z',
      },
      { digest: digestN(2), tags: [], sizeBytes: 99, lastPulledAt: null, artifactType: 'application/vnd.dev.cosign.simplesigning.v1+json' },
    ]);
    expect(h.mock.commandCalls(BatchGetImageCommand)).toHaveLength(0);
  });

  it('reads children, subject, artifact type and blobs from the manifests, keeping ECR\'s own size of an index', async () => {
    // Prepare
    h = harness();
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestN(100), size: 300 };
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestN(101), size: 7000 };
    const image = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] });
    const imageDigest = digestOf(image);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: imageDigest, size: image.length, platform: { os: 'linux', architecture: 'amd64' } }],
    });
    const indexDigest = digestOf(index);
    const sbom = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/spdx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestN(102), size: 2 },
      layers: [{ mediaType: 'application/spdx+json', digest: digestN(103), size: 50 }],
      subject: { mediaType: OCI_MANIFEST, digest: imageDigest, size: image.length },
    });
    const sbomDigest = digestOf(sbom);
    const raw = new Map([[imageDigest, image], [indexDigest, index], [sbomDigest, sbom]]);
    h.mock.on(ListImagesCommand).resolves({ imageIds: [{ imageDigest: indexDigest, imageTag: 'multi' }, { imageDigest }, { imageDigest: sbomDigest }] });
    h.mock.on(DescribeImagesCommand).resolves({
      imageDetails: [
        // ECR: an index's imageSizeInBytes is the max of its children, not their sum.
        { imageDigest: indexDigest, imageTags: ['multi'], imageSizeInBytes: 7300, imageManifestMediaType: OCI_INDEX },
        { imageDigest, imageSizeInBytes: 7300, imageManifestMediaType: OCI_MANIFEST },
        { imageDigest: sbomDigest, imageSizeInBytes: 52, imageManifestMediaType: OCI_MANIFEST, artifactMediaType: 'application/vnd.oci.empty.v1+json' },
      ],
    });
    h.mock.on(BatchGetImageCommand).callsFake(async (input: BatchGetImageRequest) => ({
      images: (input.imageIds ?? []).map((id) => ({
        imageId: { imageDigest: id.imageDigest },
        imageManifest: raw.get(id.imageDigest ?? ''),
        imageManifestMediaType: JSON.parse(raw.get(id.imageDigest ?? '') ?? '{}').mediaType,
      })),
      failures: [],
    }));

    // Act
    const byDigest = new Map((await h.adapter.listImages('team/app')).map((i) => [i.digest, i]));

    // Assess
    expect(byDigest.get(indexDigest)).toMatchObject({ tags: ['multi'], manifests: [imageDigest], sizeBytes: 7300 });
    expect(byDigest.get(indexDigest)?.blobs).toBeUndefined();
    expect(byDigest.get(imageDigest)).toMatchObject({ tags: [], blobs: [{ digest: config.digest, size: 300 }, { digest: layer.digest, size: 7000 }] });
    expect(byDigest.get(imageDigest)?.artifactType).toBeUndefined();
    expect(byDigest.get(sbomDigest)).toMatchObject({ subject: imageDigest, artifactType: 'application/spdx+json' });
  });

  it('keeps the ECR metadata of an image whose manifest BatchGetImage could not return or parse', async () => {
    // Prepare
    h = harness();
    h.mock.on(ListImagesCommand).resolves({ imageIds: [{ imageDigest: digestN(1) }, { imageDigest: digestN(2) }] });
    h.mock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: digestN(1), imageSizeInBytes: 5 }, { imageDigest: digestN(2), imageSizeInBytes: 6 }] });
    h.mock.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: digestN(1) }, imageManifest: '{"schemaVersion":1,"name":"old"}' }],
      failures: [{ imageId: { imageDigest: digestN(2) }, failureCode: 'ImageNotFound', failureReason: 'gone' }],
    });

    // Act
    const images = await h.adapter.listImages('team/app');

    // Assess
    expect(images).toEqual([
      { digest: digestN(1), tags: [], sizeBytes: 5, lastPulledAt: null },
      { digest: digestN(2), tags: [], sizeBytes: 6, lastPulledAt: null },
    ]);
  });

  it('describes a batch one by one when an image vanished between ListImages and DescribeImages', async () => {
    // Prepare
    h = harness();
    h.mock.on(ListImagesCommand).resolves({ imageIds: [1, 2, 3].map((n) => ({ imageDigest: digestN(n) })) });
    h.mock.on(DescribeImagesCommand).callsFake(async (input: DescribeImagesRequest) => {
      const ids = input.imageIds ?? [];
      if (ids.some((id) => id.imageDigest === digestN(2))) {
        throw new ImageNotFoundException({ message: `The image with imageId {imageDigest:'${digestN(2)}'} does not exist`, $metadata: {} });
      }
      return { imageDetails: ids.map((id) => ({ imageDigest: id.imageDigest })) };
    });

    // Act
    const images = await h.adapter.listImages('team/app', { withManifests: false });

    // Assess
    expect(images.map((i) => i.digest)).toEqual([digestN(1), digestN(3)]);
    expect(h.mock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.imageIds?.length)).toEqual([3, 1, 1, 1]);
  });

  it('refuses an invalid repository name before calling ECR', async () => {
    h = harness();
    await expect(h.adapter.listImages('Team/App')).rejects.toMatchObject({ code: 'INVALID_REFERENCE', message: expect.stringMatching(/lowercase/) });
    expect(h.mock.calls()).toHaveLength(0);
  });
});
