// ECR throttling: single calls and paginated calls retried with backoff, resuming at the throttled page; other errors not retried.
import { afterEach, describe, expect, it } from 'vitest';
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ListImagesCommand,
  RepositoryNotFoundException,
  type ListImagesRequest,
} from '@aws-sdk/client-ecr';
import { isOciError } from '../../../functions/oci/errors.ts';
import { ecrError, isThrottlingError } from '../../../functions/registries/ecr/errors.ts';
import { retryingPages, withThrottleRetry } from '../../../functions/registries/ecr/retry.ts';
import { answer, awsError, digestN, harness, type Harness } from './ecr-support.ts';

let h: Harness | undefined;
afterEach(() => {
  h?.adapter.close();
  h?.mock.restore();
  h = undefined;
});

describe('isThrottlingError', () => {
  it.each([
    ['ThrottlingException', 400, true],
    ['TooManyRequestsException', 400, true],
    ['SomethingElse', 429, true],
    ['LimitExceededException', 400, false], // ECR: a quota (e.g. images per repository), not a rate
    ['AccessDeniedException', 403, false],
  ])('%s (HTTP %d) → %s', (name, status, expected) => {
    expect(isThrottlingError(awsError(name, 'x', status))).toBe(expected);
  });
});

describe('withThrottleRetry', () => {
  it('retries throttling with growing full-jitter backoff, then gives up with the last error', async () => {
    // Prepare
    const sleeps: number[] = [];
    let calls = 0;
    const call = async (): Promise<string> => {
      calls++;
      throw awsError('ThrottlingException', 'Rate exceeded');
    };

    // Act
    const err = await withThrottleRetry(call, { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250, random: () => 0.999, sleep: async (ms) => void sleeps.push(ms) }).catch((e: unknown) => e);

    // Assess
    expect(calls).toBe(4);
    expect(sleeps).toEqual([99, 199, 249]); // 100, 200, then capped at 250 (times the jitter draw)
    expect((err as Error).name).toBe('ThrottlingException');
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const err = await withThrottleRetry(async () => {
      calls++;
      throw awsError('AccessDeniedException');
    }, { sleep: async () => undefined }).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect((err as Error).name).toBe('AccessDeniedException');
  });

  it('stops retrying once the signal is aborted', async () => {
    const ac = new AbortController();
    let calls = 0;
    await withThrottleRetry(async () => {
      calls++;
      ac.abort();
      throw awsError('ThrottlingException');
    }, { signal: ac.signal, sleep: async () => undefined }).catch(() => undefined);
    expect(calls).toBe(1);
  });
});

describe('retryingPages', () => {
  it('restarts the paginator at the token of the page that was throttled', async () => {
    // Prepare: page 2 is throttled twice.
    const starts: (string | undefined)[] = [];
    let throttles = 2;
    async function* paginate(startingToken: string | undefined): AsyncGenerator<{ items: number[]; nextToken?: string }> {
      starts.push(startingToken);
      let token = startingToken;
      for (;;) {
        if (token === 'p2' && throttles-- > 0) throw awsError('TooManyRequestsException');
        const n = token === undefined ? 1 : Number(token.slice(1));
        yield { items: [n], ...(n < 3 ? { nextToken: `p${n + 1}` } : {}) };
        if (n >= 3) return;
        token = `p${n + 1}`;
      }
    }

    // Act
    const items: number[] = [];
    for await (const page of retryingPages(paginate, (p) => p.nextToken, { sleep: async () => undefined })) items.push(...page.items);

    // Assess
    expect(items).toEqual([1, 2, 3]);
    expect(starts).toEqual([undefined, 'p2', 'p2']);
  });
});

describe('ECR adapter under throttling', () => {
  it('retries a throttled ListImages page without reading earlier pages again', async () => {
    // Prepare
    h = harness();
    const inputs = answer<ListImagesRequest>(h.mock, ListImagesCommand, [
      { imageIds: [{ imageDigest: digestN(1) }], nextToken: 'p2' },
      awsError('ThrottlingException', 'Rate exceeded'),
      awsError('ThrottlingException', 'Rate exceeded'),
      { imageIds: [{ imageDigest: digestN(2) }] },
    ]);
    h.mock.on(DescribeImagesCommand).callsFake(async (input: { imageIds?: { imageDigest?: string }[] }) => ({
      imageDetails: (input.imageIds ?? []).map((id) => ({ imageDigest: id.imageDigest })),
    }));

    // Act
    const images = await h.adapter.listImages('team/app', { withManifests: false });

    // Assess
    expect(images.map((i) => i.digest)).toEqual([digestN(1), digestN(2)]);
    expect(inputs.map((i) => i.nextToken)).toEqual([undefined, 'p2', 'p2', 'p2']);
    expect(h.sleeps).toHaveLength(2);
  });

  it('retries throttled single calls (BatchDeleteImage answering TooManyRequestsException)', async () => {
    h = harness();
    h.mock
      .on(BatchDeleteImageCommand)
      .rejectsOnce(awsError('TooManyRequestsException', 'slow down', 429))
      .resolves({ imageIds: [{ imageDigest: digestN(7) }], failures: [] });
    await expect(h.adapter.deleteImage('team/app', digestN(7))).resolves.toBeUndefined();
    expect(h.mock.commandCalls(BatchDeleteImageCommand)).toHaveLength(2);
    expect(h.sleeps).toHaveLength(1);
  });

  it('gives up after the configured attempts with a retryable TOO_MANY_REQUESTS error', async () => {
    h = harness({ throttleRetry: { maxAttempts: 3 } });
    h.mock.on(DescribeRepositoriesCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const err = await h.adapter.listRepositories().catch((e: unknown) => e);
    expect(isOciError(err, 'TOO_MANY_REQUESTS')).toBe(true);
    expect(err).toMatchObject({ retryable: true, operation: 'DescribeRepositories', registryName: 'ecr-main' });
    expect(h.mock.commandCalls(DescribeRepositoriesCommand)).toHaveLength(3);
  });

  it('does not retry a missing repository, and names it in a NAME_UNKNOWN error', async () => {
    h = harness();
    h.mock.on(ListImagesCommand).rejects(new RepositoryNotFoundException({ message: "The repository with name 'team/nope' does not exist", $metadata: {} }));
    const err = await h.adapter.listImages('team/nope').catch((e: unknown) => e);
    expect(isOciError(err, 'NAME_UNKNOWN')).toBe(true);
    expect((err as Error).message).toMatch(/ECR ListImages failed on registry "ecr-main" .*repository team\/nope.*RepositoryNotFoundException/);
    expect(h.mock.commandCalls(ListImagesCommand)).toHaveLength(1);
    expect(h.sleeps).toHaveLength(0);
  });
});

describe('ecrError', () => {
  const ctx = { operation: 'PutImage', registryName: 'ecr-main', registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repository: 'team/app', reference: 'v1' };
  it.each([
    ['ImageNotFoundException', 400, 'MANIFEST_UNKNOWN', false],
    ['ImageDigestDoesNotMatchException', 400, 'DIGEST_MISMATCH', false],
    ['UnsupportedImageTypeException', 400, 'UNSUPPORTED_MANIFEST', false],
    ['ExpiredTokenException', 400, 'DENIED', false],
    ['InvalidParameterException', 400, 'PROTOCOL', false],
    ['ServerException', 500, 'UNAVAILABLE', true],
    ['InternalFailure', 503, 'UNAVAILABLE', true],
    ['ECONNRESET', undefined, 'NETWORK', true],
  ])('maps %s (HTTP %s) to %s, retryable %s', (name, status, code, retryable) => {
    const cause = status === undefined ? Object.assign(new Error('socket hang up'), { code: name }) : awsError(name, 'boom', status);
    const err = ecrError(cause, ctx);
    expect(err).toMatchObject({ code, retryable, operation: 'PutImage', repository: 'team/app', registry: ctx.registry });
    expect(err.message).toMatch(/^ECR PutImage failed on registry "ecr-main" \(123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\), repository team\/app @ v1: /);
  });

  it('passes an EcrError through unchanged', () => {
    const first = ecrError(awsError('ServerException', 'x', 500), ctx);
    expect(ecrError(first, { ...ctx, operation: 'Other' })).toBe(first);
  });
});
