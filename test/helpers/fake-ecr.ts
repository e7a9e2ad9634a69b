// A small fake of ECR's control plane (aws-sdk-client-mock handlers) whose answers come from a REAL registry over HTTP.
//
// The data plane stays the real distribution registry: every DescribeRepositories, ListImages,
// DescribeImages, BatchGetImage, PutImage and BatchDeleteImage call here reads or changes that
// registry (catalog, tags/list, manifests), so the adapter's control-plane view and its OCI view
// agree, as they do on ECR. Pages are deliberately small so that every paginated call has
// several pages.
import { createHash } from 'node:crypto';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ImageAlreadyExistsException,
  ImageNotFoundException,
  InvalidParameterException,
  ListImagesCommand,
  PutImageCommand,
  RepositoryNotFoundException,
  type BatchDeleteImageRequest,
  type BatchGetImageRequest,
  type DescribeImagesRequest,
  type DescribeRepositoriesRequest,
  type ImageDetail,
  type ImageFailure,
  type ImageIdentifier,
  type ListImagesRequest,
  type PutImageRequest,
} from '@aws-sdk/client-ecr';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { IMAGE_MANIFEST_TYPES, INDEX_MANIFEST_TYPES } from '../../functions/oci/media-types.ts';

const ACCEPT = [...INDEX_MANIFEST_TYPES, ...IMAGE_MANIFEST_TYPES].join(', ');

export interface FakeEcrOptions {
  /** Base URL of the real registry (`http://127.0.0.1:PORT`). */
  readonly registryUrl: string;
  /** The htpasswd password of user `AWS`: handed out by GetAuthorizationToken. */
  readonly token: string;
  readonly accountId?: string;
  readonly region?: string;
  /** Items per page of every paginated answer (ECR's real pages hold up to 1000). @default 2 */
  readonly pageSize?: number;
  /** Lifetime of each authorization token. @default 12 hours, as ECR's */
  readonly tokenLifetimeMs?: number;
}

export interface FakeEcr {
  /** A real ECRClient whose `send` is answered by the fake: hand it to the adapter's ecrClientFactory. */
  readonly client: ECRClient;
  readonly mock: AwsClientStub<ECRClient>;
  readonly accountId: string;
  readonly region: string;
  /** How many times each operation was called (`ListImages` → 3). */
  calls(operation: string): number;
  restore(): void;
}

interface StoredImage {
  readonly digest: string;
  readonly raw: string;
  readonly mediaType: string;
  readonly tags: string[];
  readonly size: number;
  readonly children: readonly string[];
  readonly artifactType?: string;
  readonly subject?: string;
}

interface ManifestJson {
  mediaType?: string;
  artifactType?: string;
  config?: { mediaType?: string; size?: number };
  layers?: { size?: number }[];
  manifests?: { digest: string }[];
  subject?: { digest: string };
}

const sha256 = (s: string): string => `sha256:${createHash('sha256').update(s, 'utf8').digest('hex')}`;

/** ECR's exceptions need `$metadata`; the message is what ECR would say. */
const meta = { $metadata: { httpStatusCode: 400 } };

/**
 * Starts the fake on a fresh ECRClient instance (other ECRClients are untouched).
 *
 * @example
 * const reg = await startRegistry({ htpasswd: { AWS: token } });
 * const ecr = fakeEcr({ registryUrl: reg.url, token });
 * const adapter = createEcrAdapter('ecr', config, { ecrClientFactory: () => ecr.client, ociEndpoint: () => ({ host: reg.host, plainHttp: true }) });
 */
export function fakeEcr(options: FakeEcrOptions): FakeEcr {
  const accountId = options.accountId ?? '123456789012';
  const region = options.region ?? 'eu-west-1';
  const pageSize = options.pageSize ?? 2;
  const authorization = `Basic ${Buffer.from(`AWS:${options.token}`).toString('base64')}`;
  const pushedAt = new Map<string, Date>();
  const counts = new Map<string, number>();
  const client = new ECRClient({ region, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' } });
  const mock = mockClient(client);
  const count = (op: string): void => {
    counts.set(op, (counts.get(op) ?? 0) + 1);
  };

  async function http(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(`${options.registryUrl}${path}`, { method, headers: { authorization, ...headers }, ...(body !== undefined ? { body } : {}) });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  async function repositories(): Promise<string[]> {
    const res = await http('GET', '/v2/_catalog?n=1000');
    if (res.status !== 200) throw new Error(`fake ECR: catalog answered ${res.status}: ${res.text}`);
    return ((JSON.parse(res.text) as { repositories?: string[] }).repositories ?? []).sort();
  }

  async function manifest(repo: string, reference: string): Promise<{ raw: string; mediaType: string } | undefined> {
    const res = await http('GET', `/v2/${repo}/manifests/${reference}`, { accept: ACCEPT });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`fake ECR: GET manifest ${repo}:${reference} answered ${res.status}`);
    return { raw: res.text, mediaType: res.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json' };
  }

  /** Every manifest of a repository: the tagged ones, and everything their indexes point at. */
  async function images(repo: string): Promise<Map<string, StoredImage>> {
    const res = await http('GET', `/v2/${repo}/tags/list`);
    if (res.status === 404) throw new RepositoryNotFoundException({ message: `The repository with name '${repo}' does not exist in the registry with id '${accountId}'`, ...meta });
    const tags = ((JSON.parse(res.text) as { tags?: string[] | null }).tags ?? []).sort();
    const found = new Map<string, StoredImage>();
    const visit = async (reference: string, tag?: string): Promise<StoredImage | undefined> => {
      const known = reference.startsWith('sha256:') ? found.get(reference) : undefined;
      const m = known ?? (await manifest(repo, reference));
      if (m === undefined) return undefined;
      const digest = sha256(m.raw);
      let image = found.get(digest);
      if (image === undefined) {
        const json = JSON.parse(m.raw) as ManifestJson;
        const children: StoredImage[] = [];
        for (const child of json.manifests ?? []) {
          const c = await visit(child.digest);
          if (c !== undefined) children.push(c);
        }
        if (!pushedAt.has(digest)) pushedAt.set(digest, new Date(Date.UTC(2024, 0, 1) + pushedAt.size * 60_000));
        image = {
          digest,
          raw: m.raw,
          mediaType: json.mediaType ?? m.mediaType,
          tags: [],
          // ECR: an image's size is its config and layers; an index's is the MAX of its children's (API_ImageDetail).
          size: json.manifests
            ? Math.max(0, ...children.map((c) => c.size))
            : (json.config?.size ?? 0) + (json.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0),
          children: children.map((c) => c.digest),
          ...(json.artifactType ?? json.config?.mediaType ? { artifactType: json.artifactType ?? json.config?.mediaType } : {}),
          ...(json.subject ? { subject: json.subject.digest } : {}),
        };
        found.set(digest, image);
      }
      if (tag !== undefined && !image.tags.includes(tag)) image.tags.push(tag);
      return image;
    };
    for (const tag of tags) await visit(tag, tag);
    return found;
  }

  function page<T>(items: readonly T[], nextToken: string | undefined, maxResults: number | undefined): { items: T[]; nextToken?: string } {
    const start = nextToken ? Number(nextToken) : 0;
    const end = start + Math.min(pageSize, maxResults ?? pageSize);
    return { items: items.slice(start, end), ...(end < items.length ? { nextToken: String(end) } : {}) };
  }

  function find(all: Map<string, StoredImage>, id: ImageIdentifier): StoredImage | undefined {
    if (id.imageDigest !== undefined) return all.get(id.imageDigest);
    return [...all.values()].find((i) => id.imageTag !== undefined && i.tags.includes(id.imageTag));
  }

  function detail(repo: string, i: StoredImage): ImageDetail {
    return {
      registryId: accountId,
      repositoryName: repo,
      imageDigest: i.digest,
      ...(i.tags.length > 0 ? { imageTags: [...i.tags] } : {}),
      imageSizeInBytes: i.size,
      imagePushedAt: pushedAt.get(i.digest) ?? new Date(0),
      imageManifestMediaType: i.mediaType,
      ...(i.artifactType ? { artifactMediaType: i.artifactType } : {}),
    };
  }

  mock.on(GetAuthorizationTokenCommand).callsFake(async () => {
    count('GetAuthorizationToken');
    return {
      authorizationData: [{
        authorizationToken: Buffer.from(`AWS:${options.token}`).toString('base64'),
        expiresAt: new Date(Date.now() + (options.tokenLifetimeMs ?? 12 * 3600_000)),
        proxyEndpoint: options.registryUrl,
      }],
    };
  });

  mock.on(DescribeRepositoriesCommand).callsFake(async (input: DescribeRepositoriesRequest) => {
    count('DescribeRepositories');
    const all = await repositories();
    const p = page(all, input.nextToken, input.maxResults);
    return {
      repositories: p.items.map((repositoryName) => ({
        registryId: accountId,
        repositoryName,
        repositoryUri: `${accountId}.dkr.ecr.${region}.amazonaws.com/${repositoryName}`,
      })),
      ...(p.nextToken ? { nextToken: p.nextToken } : {}),
    };
  });

  mock.on(ListImagesCommand).callsFake(async (input: ListImagesRequest) => {
    count('ListImages');
    const all = await images(input.repositoryName ?? '');
    // One entry per tag, or one without a tag for an untagged image (API_ListImages).
    const ids: ImageIdentifier[] = [...all.values()].flatMap((i) => (i.tags.length === 0 ? [{ imageDigest: i.digest }] : i.tags.map((imageTag) => ({ imageDigest: i.digest, imageTag }))));
    const p = page(ids, input.nextToken, input.maxResults);
    return { imageIds: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  });

  mock.on(DescribeImagesCommand).callsFake(async (input: DescribeImagesRequest) => {
    count('DescribeImages');
    const repo = input.repositoryName ?? '';
    const all = await images(repo);
    if (input.imageIds !== undefined) {
      if (input.maxResults !== undefined) throw new InvalidParameterException({ message: 'maxResults cannot be used with imageIds', ...meta });
      const chosen: StoredImage[] = [];
      for (const id of input.imageIds) {
        const i = find(all, id);
        if (i === undefined) throw new ImageNotFoundException({ message: `The image with imageId {imageDigest:'${id.imageDigest}'} does not exist within the repository with name '${repo}'`, ...meta });
        chosen.push(i);
      }
      // With imageIds, ECR answers in one go (no nextToken).
      return { imageDetails: chosen.map((i) => detail(repo, i)) };
    }
    const p = page([...all.values()], input.nextToken, input.maxResults);
    return { imageDetails: p.items.map((i) => detail(repo, i)), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  });

  mock.on(BatchGetImageCommand).callsFake(async (input: BatchGetImageRequest) => {
    count('BatchGetImage');
    const repo = input.repositoryName ?? '';
    const all = await images(repo);
    const failures: ImageFailure[] = [];
    const found = [];
    for (const id of input.imageIds ?? []) {
      const i = find(all, id);
      if (i === undefined) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
      } else if (input.acceptedMediaTypes !== undefined && !input.acceptedMediaTypes.includes(i.mediaType)) {
        failures.push({ imageId: id, failureCode: 'UnsupportedImageType' as ImageFailure['failureCode'], failureReason: `media type ${i.mediaType} not accepted` });
      } else {
        found.push({ registryId: accountId, repositoryName: repo, imageId: { imageDigest: i.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) }, imageManifest: i.raw, imageManifestMediaType: i.mediaType });
      }
    }
    return { images: found, failures };
  });

  mock.on(PutImageCommand).callsFake(async (input: PutImageRequest) => {
    count('PutImage');
    const repo = input.repositoryName ?? '';
    const raw = input.imageManifest ?? '';
    const digest = sha256(raw);
    if (input.imageDigest !== undefined && input.imageDigest !== digest) {
      throw new InvalidParameterException({ message: `Invalid parameter: the manifest hashes to ${digest}, not ${input.imageDigest}`, ...meta });
    }
    const all = await images(repo);
    if (input.imageTag !== undefined && all.get(digest)?.tags.includes(input.imageTag)) {
      throw new ImageAlreadyExistsException({ message: `Image with digest '${digest}' and tag '${input.imageTag}' already exists in the repository`, ...meta });
    }
    const mediaType = input.imageManifestMediaType ?? (JSON.parse(raw) as ManifestJson).mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
    const res = await http('PUT', `/v2/${repo}/manifests/${input.imageTag ?? digest}`, { 'content-type': mediaType }, raw);
    if (res.status !== 201) throw new InvalidParameterException({ message: `registry refused the manifest: ${res.status} ${res.text}`, ...meta });
    return { image: { registryId: accountId, repositoryName: repo, imageId: { imageDigest: digest, imageTag: input.imageTag }, imageManifest: raw, imageManifestMediaType: mediaType } };
  });

  mock.on(BatchDeleteImageCommand).callsFake(async (input: BatchDeleteImageRequest) => {
    count('BatchDeleteImage');
    const repo = input.repositoryName ?? '';
    const imageIds: ImageIdentifier[] = [];
    const failures: ImageFailure[] = [];
    for (const id of input.imageIds ?? []) {
      const res = await http('DELETE', `/v2/${repo}/manifests/${id.imageDigest ?? ''}`);
      if (res.status === 202) imageIds.push(id);
      else failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
    }
    return { imageIds, failures };
  });

  return {
    client,
    mock,
    accountId,
    region,
    calls: (op) => counts.get(op) ?? 0,
    restore: () => mock.restore(),
  };
}
