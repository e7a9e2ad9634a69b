// ECR tagging (BatchGetImage → PutImage, idempotent) and deletion (BatchDeleteImage failures → typed error).
import { afterEach, describe, expect, it } from 'vitest';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  ImageAlreadyExistsException,
  ImageTagAlreadyExistsException,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { EcrImageFailureError } from '../../../functions/registries/ecr/adapter.ts';
import { ACCOUNT, digestN, digestOf, harness, type Harness } from './ecr-support.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Odd spacing on purpose: re-serialising this JSON would change its digest. */
const MANIFEST = `{"schemaVersion": 2,  "mediaType": "${OCI_MANIFEST}", "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "${digestN(1)}", "size": 2}, "layers": []}`;
const DIGEST = digestOf(MANIFEST);

let h: Harness | undefined;
afterEach(() => {
  h?.adapter.close();
  h?.mock.restore();
  h = undefined;
});

function withManifest(harnessed: Harness): void {
  harnessed.mock.on(BatchGetImageCommand).resolves({
    images: [{ imageId: { imageDigest: DIGEST }, imageManifest: MANIFEST, imageManifestMediaType: OCI_MANIFEST }],
    failures: [],
  });
}

describe('tagImage', () => {
  it('puts the exact manifest string ECR returned under the new tag, with its media type and digest', async () => {
    // Prepare
    h = harness();
    withManifest(h);
    h.mock.on(PutImageCommand).resolves({ image: { imageId: { imageDigest: DIGEST, imageTag: 'prod' } } });

    // Act
    await h.adapter.tagImage('team/app', DIGEST, 'prod');

    // Assess
    expect(h.mock.commandCalls(BatchGetImageCommand)[0]?.args[0].input).toMatchObject({
      registryId: ACCOUNT, repositoryName: 'team/app', imageIds: [{ imageDigest: DIGEST }],
    });
    expect(h.mock.commandCalls(PutImageCommand)[0]?.args[0].input).toEqual({
      registryId: ACCOUNT,
      repositoryName: 'team/app',
      imageManifest: MANIFEST,
      imageManifestMediaType: OCI_MANIFEST,
      imageTag: 'prod',
      imageDigest: DIGEST,
    });
  });

  it('treats ImageAlreadyExistsException (the tag is already there) as success', async () => {
    h = harness();
    withManifest(h);
    h.mock.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ message: 'Image with digest and tag already exists', $metadata: {} }));
    await expect(h.adapter.tagImage('team/app', DIGEST, 'prod')).resolves.toBeUndefined();
  });

  it('reports an immutable tag that would have to move as DENIED', async () => {
    h = harness();
    withManifest(h);
    h.mock.on(PutImageCommand).rejects(new ImageTagAlreadyExistsException({ message: "The image tag 'prod' already exists", $metadata: {} }));
    await expect(h.adapter.tagImage('team/app', DIGEST, 'prod')).rejects.toMatchObject({
      code: 'DENIED', awsCode: 'ImageTagAlreadyExistsException', message: expect.stringMatching(/immutable tags/),
    });
  });

  it('fails with the failures ECR listed when the digest is not there', async () => {
    // Prepare
    h = harness();
    h.mock.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [{ imageId: { imageDigest: DIGEST }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
    });

    // Act
    const err = await h.adapter.tagImage('team/app', DIGEST, 'prod').catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(EcrImageFailureError);
    expect(err).toMatchObject({ code: 'MANIFEST_UNKNOWN', failures: [{ digest: DIGEST, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }] });
    expect(h.mock.commandCalls(PutImageCommand)).toHaveLength(0);
  });

  it.each([
    ['an invalid tag', DIGEST, '-bad'],
    ['a tag instead of a digest', 'latest', 'prod'],
  ])('refuses %s before calling ECR', async (_what, digest, tag) => {
    h = harness();
    await expect(h.adapter.tagImage('team/app', digest, tag)).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
    expect(h.mock.calls()).toHaveLength(0);
  });
});

describe('deleteImage', () => {
  it('deletes by digest with BatchDeleteImage', async () => {
    h = harness();
    h.mock.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageDigest: DIGEST, imageTag: 'v1' }], failures: [] });
    await h.adapter.deleteImage('team/app', DIGEST);
    expect(h.mock.commandCalls(BatchDeleteImageCommand)[0]?.args[0].input).toEqual({
      registryId: ACCOUNT, repositoryName: 'team/app', imageIds: [{ imageDigest: DIGEST }],
    });
  });

  it.each([
    ['ImageNotFound', 'MANIFEST_UNKNOWN'],
    ['ImageReferencedByManifestList', 'DENIED'],
    ['KmsError', 'DENIED'],
  ])('turns a %s failure in a 200 answer into an EcrImageFailureError (%s)', async (failureCode, code) => {
    // Prepare
    h = harness();
    h.mock.on(BatchDeleteImageCommand).resolves({
      imageIds: [],
      failures: [{ imageId: { imageDigest: DIGEST }, failureCode: failureCode as 'ImageNotFound', failureReason: `reason for ${failureCode}` }],
    });

    // Act
    const err = await h.adapter.deleteImage('team/app', DIGEST).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(EcrImageFailureError);
    expect(err).toMatchObject({ code, operation: 'BatchDeleteImage', repository: 'team/app', failures: [{ digest: DIGEST, failureCode }] });
    expect((err as Error).message).toContain(`team/app@${DIGEST}`);
    expect((err as Error).message).toContain(`${failureCode}: reason for ${failureCode}`);
  });
});
