// Shared fixtures of the ECR adapter unit tests: a mocked ECRClient, an adapter on it, and AWS-shaped errors.
import { ECRClient, ECRServiceException } from '@aws-sdk/client-ecr';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { createEcrAdapter, type EcrAdapter, type EcrAdapterDeps } from '../../../functions/registries/ecr/adapter.ts';
import type { EcrRegistryConfig } from '../../../functions/config/types.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
export const CONFIG: EcrRegistryConfig = { kind: 'ecr', region: REGION, accountId: ACCOUNT, public: false };

export interface Harness {
  readonly adapter: EcrAdapter;
  readonly mock: AwsClientStub<ECRClient>;
  /** Delays the throttling retry asked for (no real waiting). */
  readonly sleeps: number[];
}

/** An adapter whose ECR client is mocked; throttling retries sleep for 0 ms and are recorded. */
export function harness(deps: EcrAdapterDeps = {}, config: EcrRegistryConfig = CONFIG): Harness {
  const client = new ECRClient({ region: REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } });
  const mock = mockClient(client);
  const sleeps: number[] = [];
  const { throttleRetry, ...rest } = deps;
  const adapter = createEcrAdapter('ecr-main', config, {
    ecrClientFactory: () => client,
    ...rest,
    throttleRetry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, ...throttleRetry },
  });
  return { adapter, mock, sleeps };
}

/** An exception as the SDK builds it from ECR's answer (ThrottlingException has no class of its own in client-ecr). */
export function awsError(name: string, message = `${name} happened`, status = 400): ECRServiceException {
  return new ECRServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A fake digest numbered `n` (64 hex digits). */
export function digestN(n: number): string {
  return `sha256:${n.toString(16).padStart(64, '0')}`;
}

export function tokenOf(password: string): string {
  return Buffer.from(`AWS:${password}`).toString('base64');
}

/**
 * Answers `command` with `responses` in turn (the last one repeats) and records a copy of each input:
 * the SDK's paginators reuse one input object and set its nextToken in place, so the inputs
 * aws-sdk-client-mock keeps all show the last token.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function answer<I extends object>(mock: AwsClientStub<ECRClient>, command: any, responses: readonly (object | ((input: I) => object) | Error)[]): I[] {
  const inputs: I[] = [];
  mock.on(command).callsFake(async (input: I) => {
    inputs.push(structuredClone(input));
    const r = responses[Math.min(inputs.length - 1, responses.length - 1)];
    if (r instanceof Error) throw r;
    return typeof r === 'function' ? r(input) : r;
  });
  return inputs;
}
