// The Amazon ECR adapter: listing, tagging, deletion and scan findings through the ECR API; manifests and blobs through the OCI client.
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  paginateDescribeImageScanFindings,
  paginateDescribeImages,
  paginateDescribeRepositories,
  paginateListImages,
  type DescribeImageScanFindingsResponse,
  type ECRClientConfig,
  type ECRPaginationConfiguration,
  type ImageDetail,
  type ImageFailure,
} from '@aws-sdk/client-ecr';
import type { EcrRegistryConfig } from '../../config/types.ts';
import { registryHost } from '../../config/registry-host.ts';
import { digestProblem } from '../../oci/digest.ts';
import { INDEX_MANIFEST_TYPES, IMAGE_MANIFEST_TYPES, SCHEMA1_TYPES } from '../../oci/media-types.ts';
import { repositoryProblem, tagProblem } from '../../oci/reference.ts';
import { OciError } from '../../oci/errors.ts';
import type { ImageInfo, ListImagesOptions, RegistryAdapter } from '../adapter.ts';
import type { AdapterDeps } from '../deps.ts';
import { CredentialError } from '../errors.ts';
import { EcrTokenProvider, type EcrAuthorizationData } from './auth.ts';
import { EcrError, EcrImageFailureError, describeContext, ecrError, type EcrCallContext, type EcrImageFailure } from './errors.ts';
import { addManifestFields, chunk, imageFromDetail } from './images.ts';
import { retryingPages, withThrottleRetry, type ThrottleRetryOptions } from './retry.ts';
import { mapScanFindings, zeroCounts, type ScanFindings, type ScanFindingsSource } from './scan.ts';
import { RotatingRegistry } from '../rotating-registry.ts';
import { mapLimit } from '../map-limit.ts';
import { paceSdkClient, sharedTokenBucket } from '../request-rate.ts';

export { EcrError, EcrImageFailureError, type EcrImageFailure } from './errors.ts';
export { isScanFindingsSource, type ScanFindings, type ScanFindingsSource, type ScanFinding, type Severity } from './scan.ts';

type AwsCredentials = NonNullable<ECRClientConfig['credentials']>;

/** AdapterDeps, plus what only the ECR adapter takes. */
export interface EcrAdapterDeps extends AdapterDeps {
  /**
   * AWS credentials of an assumed role, for `credentials: { iamRole }`.
   * @default `fromTemporaryCredentials` of `@aws-sdk/credential-providers`, loaded when first needed
   */
  readonly assumeRole?: (roleArn: string, region: string) => AwsCredentials;
  /** Retries of throttled ECR calls beyond the SDK's own (ecr-retry.ts). */
  readonly throttleRetry?: ThrottleRetryOptions;
  /** Refresh the registry token this long before it expires. @default 300000 (5 min) */
  readonly tokenRefreshBeforeMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * ECR's batch calls take at most 100 image ids
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html, API_DescribeImages.html).
 */
const BATCH_SIZE = 100;
/** The largest page ListImages, DescribeRepositories and DescribeImageScanFindings return. */
const PAGE_SIZE = 1000;
/** Batches of one listing in flight at once: ECR's per-account API rate is shared by everything else. */
const BATCH_CONCURRENCY = 4;
/** The SDK's own attempts per call (it retries throttling, 5xx and network errors itself). */
const SDK_MAX_ATTEMPTS = 3;

/**
 * Every manifest type we understand, so that BatchGetImage returns each manifest as stored: with a
 * narrower list ECR converts between formats (e.g. Docker schema2 to schema1) or fails with
 * UnsupportedImageTypeException, and the bytes, hence the digest, change.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html#ECR-BatchGetImage-request-acceptedMediaTypes
 */
const ACCEPTED_MEDIA_TYPES = [...INDEX_MANIFEST_TYPES, ...IMAGE_MANIFEST_TYPES, ...SCHEMA1_TYPES];

/**
 * The adapter of one configured ECR registry. Nothing is contacted until it is used.
 *
 * @example
 * const ecr = createEcrAdapter('ecr-main', { kind: 'ecr', region: 'eu-west-1', accountId: '123456789012', public: false }, {});
 * const images = await ecr.listImages('team/app');
 * if (isScanFindingsSource(ecr)) console.log((await ecr.describeScanFindings('team/app', images[0].digest)).counts);
 */
export function createEcrAdapter(name: string, config: EcrRegistryConfig, deps: EcrAdapterDeps = {}): EcrAdapter {
  return new EcrAdapter(name, config, deps);
}

/** An ECR registry: the ECR API for the control plane, the OCI client with `AWS:<token>` for the data plane. */
export class EcrAdapter implements RegistryAdapter, ScanFindingsSource {
  readonly kind = 'ecr' as const;
  readonly host: string;
  readonly namespace = '';
  readonly oci: RotatingRegistry;
  readonly credentials: EcrTokenProvider;
  /** The account id: every call names it, so that a role of another account reads this registry. */
  readonly registryId: string;
  private readonly client: ECRClient;
  private readonly retry: ThrottleRetryOptions;

  constructor(
    readonly name: string,
    config: EcrRegistryConfig,
    deps: EcrAdapterDeps = {},
  ) {
    this.registryId = config.accountId;
    this.retry = deps.throttleRetry ?? {};
    const awsCredentials = awsCredentialsFor(name, config, deps);
    this.client = deps.ecrClientFactory
      ? deps.ecrClientFactory(config.region, awsCredentials)
      : new ECRClient({
          region: config.region,
          maxAttempts: SDK_MAX_ATTEMPTS,
          ...(awsCredentials !== undefined ? { credentials: awsCredentials } : {}),
          ...(deps.userAgent !== undefined ? { customUserAgent: deps.userAgent } : {}),
        });
    // rateLimit.requestsPerSecond: ECR's API calls take from the registry's bucket too, the one the factory put in
    // front of the OCI data plane (same key), so one rate covers both.
    const rps = config.rateLimit?.requestsPerSecond;
    if (rps !== undefined) paceSdkClient(this.client, () => sharedTokenBucket(`registry:${name}`, rps));

    const configuredHost = registryHost(config);
    const endpoint = deps.ociEndpoint?.(configuredHost) ?? {};
    this.host = endpoint.host ?? configuredHost;
    this.credentials = new EcrTokenProvider({
      registryName: name,
      host: this.host,
      fetchAuthorization: () => this.getAuthorizationToken(),
      ...(deps.tokenRefreshBeforeMs !== undefined ? { refreshBeforeMs: deps.tokenRefreshBeforeMs } : {}),
      ...(deps.now !== undefined ? { now: deps.now } : {}),
    });
    this.oci = new RotatingRegistry(
      {
        ...deps.ociOptions,
        ...endpoint,
        host: this.host,
        ...(deps.userAgent !== undefined ? { userAgent: deps.userAgent } : {}),
      },
      this.credentials,
    );
  }

  /** Gets a registry token (control plane and IAM), then GET /v2/ with it (data plane). */
  async ping(): Promise<void> {
    await this.credentials.token();
    await this.oci.ping();
  }

  /** Every repository of the registry (DescribeRepositories, every page), sorted. */
  async listRepositories(): Promise<string[]> {
    const names: string[] = [];
    const pages = this.pages('DescribeRepositories', {}, (cfg) =>
      paginateDescribeRepositories(cfg, { registryId: this.registryId, maxResults: PAGE_SIZE }),
    );
    for await (const page of pages) {
      for (const r of page.repositories ?? []) if (r.repositoryName !== undefined) names.push(r.repositoryName);
    }
    return [...new Set(names)].sort();
  }

  /**
   * Every image of a repository: ListImages (every page) for the digests and tags, DescribeImages
   * in batches of 100 for the metadata, then, unless `withManifests: false`, BatchGetImage in
   * batches of 100 for children, subjects, artifact types and blobs.
   *
   * Reading manifests with BatchGetImage is what `docker pull` does, so ECR may count it as a pull:
   * it can refresh `lastRecordedPullTime` and it shows as a BatchGetImage event in CloudTrail
   * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html). Pull
   * statistics built from CloudTrail must leave out this tool's own role; `lastPulledAt` here is
   * read before the manifests are.
   */
  async listImages(repository: string, options: ListImagesOptions = {}): Promise<ImageInfo[]> {
    this.checkRepository(repository);
    const signal = options.signal;
    const { digests, tagsOf } = await this.listImageIds(repository, signal);

    const details = (await mapLimit(chunk(digests, BATCH_SIZE), BATCH_CONCURRENCY, (batch) => this.describeImages(repository, batch, signal))).flat();
    const byDigest = new Map<string, ReturnType<typeof imageFromDetail>>();
    for (const d of details) {
      if (d.imageDigest === undefined || byDigest.has(d.imageDigest)) continue;
      byDigest.set(d.imageDigest, imageFromDetail(d, tagsOf.get(d.imageDigest) ?? []));
    }

    if (options.withManifests !== false) {
      await mapLimit(chunk([...byDigest.keys()], BATCH_SIZE), BATCH_CONCURRENCY, async (batch) => {
        signal?.throwIfAborted();
        const out = await this.call({ operation: 'BatchGetImage', repository }, () =>
          this.client.send(
            new BatchGetImageCommand({
              registryId: this.registryId,
              repositoryName: repository,
              imageIds: batch.map((imageDigest) => ({ imageDigest })),
              acceptedMediaTypes: ACCEPTED_MEDIA_TYPES,
            }),
            { abortSignal: signal },
          ),
        );
        // Per-image failures (an image deleted since DescribeImages) leave that image's ECR metadata as is.
        for (const image of out.images ?? []) {
          const info = image.imageId?.imageDigest !== undefined ? byDigest.get(image.imageId.imageDigest) : undefined;
          if (info !== undefined && image.imageManifest !== undefined) addManifestFields(info, image.imageManifest, image.imageManifestMediaType);
        }
      });
    }
    // ListImages order, images that vanished between the calls left out.
    return digests.flatMap((d) => byDigest.get(d) ?? []);
  }

  /**
   * Points `tag` at `digest` without moving bytes: BatchGetImage reads the manifest as stored and
   * PutImage writes the same string under the new tag, ECR's documented way to retag
   * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html). A tag already on that
   * digest answers ImageAlreadyExistsException, which is success here (idempotent).
   */
  async tagImage(repository: string, digest: string, tag: string): Promise<void> {
    this.checkRepository(repository);
    this.checkDigest(repository, digest);
    const problem = tagProblem(tag);
    if (problem !== undefined) {
      throw new OciError(`cannot tag ${repository}@${digest} on ECR registry "${this.name}": ${problem}`, { code: 'INVALID_REFERENCE', registry: this.host });
    }
    const ctx = { repository, reference: digest };
    const got = await this.call({ operation: 'BatchGetImage', ...ctx }, () =>
      this.client.send(
        new BatchGetImageCommand({
          registryId: this.registryId,
          repositoryName: repository,
          imageIds: [{ imageDigest: digest }],
          acceptedMediaTypes: ACCEPTED_MEDIA_TYPES,
        }),
      ),
    );
    const image = got.images?.find((i) => i.imageId?.imageDigest === digest && i.imageManifest !== undefined);
    if (image?.imageManifest === undefined) {
      const failures = imageFailures(got.failures, digest);
      throw new EcrImageFailureError(
        `cannot tag ${repository}@${digest} as "${tag}" on ${describeContext(this.context('BatchGetImage', ctx))}: ` +
          `ECR did not return the manifest (${failures.map((f) => `${f.failureCode}: ${f.failureReason}`).join('; ')})`,
        { ...this.context('BatchGetImage', ctx), failures },
      );
    }
    try {
      await this.call({ operation: 'PutImage', repository, reference: tag }, () =>
        this.client.send(
          new PutImageCommand({
            registryId: this.registryId,
            repositoryName: repository,
            // The exact string ECR returned: re-serialised JSON would hash to another digest.
            imageManifest: image.imageManifest,
            imageManifestMediaType: image.imageManifestMediaType,
            imageTag: tag,
            // ECR checks the manifest against it and refuses a mismatch.
            imageDigest: digest,
          }),
        ),
      );
    } catch (err) {
      // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html#API_PutImage_Errors
      if (err instanceof EcrError && err.awsCode === 'ImageAlreadyExistsException') return;
      throw err;
    }
  }

  /**
   * Deletes one manifest by digest with BatchDeleteImage (its tags go with it). ECR reports per-image
   * problems as `failures` in a 200 answer, e.g. ImageNotFound or ImageReferencedByManifestList
   * (a child of an index that still exists); they become an EcrImageFailureError.
   */
  async deleteImage(repository: string, digest: string): Promise<void> {
    this.checkRepository(repository);
    this.checkDigest(repository, digest);
    const ctx = { operation: 'BatchDeleteImage', repository, reference: digest };
    const out = await this.call(ctx, () =>
      this.client.send(new BatchDeleteImageCommand({ registryId: this.registryId, repositoryName: repository, imageIds: [{ imageDigest: digest }] })),
    );
    if ((out.failures ?? []).length > 0) {
      const failures = imageFailures(out.failures, digest);
      throw new EcrImageFailureError(
        `ECR BatchDeleteImage could not delete ${repository}@${digest} on ${describeContext(this.context('BatchDeleteImage', ctx))}: ` +
          failures.map((f) => `${f.failureCode}: ${f.failureReason}`).join('; '),
        { ...this.context('BatchDeleteImage', ctx), failures },
      );
    }
  }

  /**
   * The scan of one image (DescribeImageScanFindings, every page): status, counts per severity and
   * the findings, for the promotion scan gate. An image ECR never scanned has status `NOT_SCANNED`
   * (ScanNotFoundException), so the gate can refuse it rather than pass it.
   */
  async describeScanFindings(repository: string, digest: string): Promise<ScanFindings> {
    this.checkRepository(repository);
    this.checkDigest(repository, digest);
    const pages: DescribeImageScanFindingsResponse[] = [];
    try {
      const iter = this.pages('DescribeImageScanFindings', { repository, reference: digest }, (cfg) =>
        paginateDescribeImageScanFindings(cfg, {
          registryId: this.registryId,
          repositoryName: repository,
          imageId: { imageDigest: digest },
          maxResults: PAGE_SIZE,
        }),
      );
      for await (const page of iter) pages.push(page);
    } catch (err) {
      if (err instanceof EcrError && err.awsCode === 'ScanNotFoundException') return { status: 'NOT_SCANNED', counts: zeroCounts(), findings: [] };
      throw err;
    }
    return mapScanFindings(pages);
  }

  /** Closes the data plane's sockets and the ECR client's. */
  close(): void {
    this.oci.close();
    this.client.destroy();
  }

  /** ListImages, every page: digests in first-seen order, and the tags of each. */
  private async listImageIds(repository: string, signal: AbortSignal | undefined): Promise<{ digests: string[]; tagsOf: Map<string, string[]> }> {
    const tagsOf = new Map<string, string[]>();
    const pages = this.pages(
      'ListImages',
      { repository },
      (cfg) => paginateListImages(cfg, { registryId: this.registryId, repositoryName: repository, maxResults: PAGE_SIZE }),
      signal,
    );
    for await (const page of pages) {
      for (const id of page.imageIds ?? []) {
        if (id.imageDigest === undefined) continue;
        const tags = tagsOf.get(id.imageDigest) ?? [];
        if (id.imageTag !== undefined) tags.push(id.imageTag);
        tagsOf.set(id.imageDigest, tags);
      }
    }
    return { digests: [...tagsOf.keys()], tagsOf };
  }

  /**
   * DescribeImages for up to 100 digests. An image deleted since ListImages fails the whole call
   * with ImageNotFoundException (it has no per-image failures), so the batch is then described one
   * by one and the missing images are left out.
   */
  private async describeImages(repository: string, digests: readonly string[], signal: AbortSignal | undefined): Promise<ImageDetail[]> {
    signal?.throwIfAborted();
    const details: ImageDetail[] = [];
    try {
      const pages = this.pages(
        'DescribeImages',
        { repository },
        // No maxResults: ECR refuses it together with imageIds; nextToken is still followed.
        (cfg) => paginateDescribeImages(cfg, { registryId: this.registryId, repositoryName: repository, imageIds: digests.map((imageDigest) => ({ imageDigest })) }),
        signal,
      );
      for await (const page of pages) details.push(...(page.imageDetails ?? []));
      return details;
    } catch (err) {
      if (!isImageNotFound(err)) throw err;
      if (digests.length === 1) return [];
    }
    for (const imageDigest of digests) {
      try {
        const out = await this.call({ operation: 'DescribeImages', repository, reference: imageDigest }, () =>
          this.client.send(new DescribeImagesCommand({ registryId: this.registryId, repositoryName: repository, imageIds: [{ imageDigest }] }), { abortSignal: signal }),
        );
        details.push(...(out.imageDetails ?? []));
      } catch (err) {
        if (!isImageNotFound(err)) throw err;
      }
    }
    return details;
  }

  private async getAuthorizationToken(): Promise<EcrAuthorizationData> {
    // No registryIds: the parameter is deprecated and the token works for every registry the caller may read.
    // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
    const out = await this.call({ operation: 'GetAuthorizationToken' }, () => this.client.send(new GetAuthorizationTokenCommand({})));
    const data = out.authorizationData?.[0];
    if (data?.authorizationToken === undefined) {
      throw new EcrError(`ECR GetAuthorizationToken returned no authorization data for ${describeContext(this.context('GetAuthorizationToken', {}))}`, {
        ...this.context('GetAuthorizationToken', {}),
        code: 'UNAUTHORIZED',
      });
    }
    return { authorizationToken: data.authorizationToken, ...(data.expiresAt !== undefined ? { expiresAt: data.expiresAt } : {}) };
  }

  private context(operation: string, extra: Partial<Pick<EcrCallContext, 'repository' | 'reference'>>): EcrCallContext {
    return { operation, registryName: this.name, registry: this.host, ...extra };
  }

  /** One ECR call with throttling retried; whatever it throws becomes an EcrError. */
  private async call<T>(ctx: Pick<EcrCallContext, 'operation' | 'repository' | 'reference'>, send: () => Promise<T>): Promise<T> {
    try {
      return await withThrottleRetry(send, this.retry);
    } catch (err) {
      throw ecrError(err, this.context(ctx.operation, ctx));
    }
  }

  /** Every page of an SDK paginator, throttled pages retried from their token; errors become EcrErrors. */
  private async *pages<P extends { nextToken?: string | undefined }>(
    operation: string,
    extra: Partial<Pick<EcrCallContext, 'repository' | 'reference'>>,
    paginate: (cfg: ECRPaginationConfiguration) => AsyncIterable<P>,
    signal?: AbortSignal,
  ): AsyncGenerator<P> {
    try {
      yield* retryingPages(
        (startingToken) => paginate({ client: this.client, stopOnSameToken: true, ...(startingToken !== undefined ? { startingToken } : {}) }),
        (page) => page.nextToken,
        { ...this.retry, ...(signal !== undefined ? { signal } : {}) },
      );
    } catch (err) {
      throw ecrError(err, this.context(operation, extra));
    }
  }

  private checkRepository(repository: string): void {
    const problem = repositoryProblem(repository);
    if (problem !== undefined) throw new OciError(`ECR registry "${this.name}": ${problem}`, { code: 'INVALID_REFERENCE', registry: this.host });
  }

  private checkDigest(repository: string, digest: string): void {
    const problem = digestProblem(digest);
    if (problem !== undefined) {
      throw new OciError(`ECR registry "${this.name}", repository ${repository}: images are addressed by digest here (${problem})`, {
        code: 'INVALID_REFERENCE',
        registry: this.host,
      });
    }
  }
}

function isImageNotFound(err: unknown): boolean {
  return err instanceof EcrError && err.awsCode === 'ImageNotFoundException';
}

/** ECR's `failures[]` as EcrImageFailure, or one ImageNotFound when ECR said nothing. */
function imageFailures(failures: readonly ImageFailure[] | undefined, digest: string): EcrImageFailure[] {
  const out = (failures ?? []).map((f) => ({
    ...(f.imageId?.imageDigest !== undefined ? { digest: f.imageId.imageDigest } : {}),
    ...(f.imageId?.imageTag !== undefined ? { tag: f.imageId.imageTag } : {}),
    failureCode: f.failureCode ?? 'Unknown',
    failureReason: f.failureReason ?? 'no reason given',
  }));
  return out.length > 0 ? out : [{ digest, failureCode: 'ImageNotFound', failureReason: 'the image is not in the repository' }];
}

/**
 * The control plane's AWS credentials: none (the SDK's default chain, e.g. the Lambda's role), or
 * an assumed role for `iamRole`. Secrets Manager, env and docker-config references hold registry
 * passwords, which ECR does not have; they are refused with a message that says what to use.
 */
function awsCredentialsFor(name: string, config: EcrRegistryConfig, deps: EcrAdapterDeps): AwsCredentials | undefined {
  const ref = config.credentials;
  if (ref === undefined) return undefined;
  if (ref.iamRole !== undefined) return (deps.assumeRole ?? defaultAssumeRole)(ref.iamRole, config.region);
  const given = Object.keys(ref).filter((k) => ref[k as keyof typeof ref] !== undefined);
  throw new CredentialError(
    `ECR registry "${name}": credentials.${given.join(', ')} is not supported for ECR, whose registry passwords come from ` +
      'GetAuthorizationToken. Use credentials: { iamRole: arn:aws:iam::<account>:role/<name> }, or leave credentials out to use ' +
      'the caller\'s AWS credentials.',
    { problem: 'unsupported', reference: `credentials.${given.join(', ')}`, registryName: name },
  );
}

/** Not a dependency yet (see the report): loaded on first use so that everything else works without it. */
const CREDENTIAL_PROVIDERS_PACKAGE = '@aws-sdk/credential-providers';

interface CredentialProvidersModule {
  fromTemporaryCredentials(options: { params: { RoleArn: string; RoleSessionName: string }; clientConfig?: { region: string } }): Extract<AwsCredentials, (...args: never[]) => unknown>;
}

/**
 * Assumes `roleArn` with the SDK's STS provider (it refreshes the session before it expires). The
 * ECR client memoises the identity, so the provider runs once per session.
 */
function defaultAssumeRole(roleArn: string, region: string): AwsCredentials {
  let provider: Promise<Extract<AwsCredentials, (...args: never[]) => unknown>> | undefined;
  return async () => {
    provider ??= (import(CREDENTIAL_PROVIDERS_PACKAGE) as Promise<CredentialProvidersModule>).then(
      (mod) => mod.fromTemporaryCredentials({ params: { RoleArn: roleArn, RoleSessionName: 'registry-manager' }, clientConfig: { region } }),
      (err: unknown) => {
        throw new CredentialError(
          `cannot assume ${roleArn}: the package ${CREDENTIAL_PROVIDERS_PACKAGE} is not installed (npm install ${CREDENTIAL_PROVIDERS_PACKAGE})`,
          { problem: 'unsupported', reference: `iamRole: ${roleArn}`, cause: err },
        );
      },
    );
    return (await provider)();
  };
}
