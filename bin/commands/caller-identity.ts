// Who the CLI acts as on AWS: the caller's IAM principal ARN from STS GetCallerIdentity, recorded as the requester of promote and rollback.
//
// The project has no STS client package; GetCallerIdentity is one signed POST of the Query API
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), signed with SigV4 by
// @smithy/signature-v4 (the SDK's own signer) with credentials from the SDK's default provider chain.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../functions/node-sha256.ts';

type AwsCredentialIdentityProvider = ReturnType<typeof fromNodeProviderChain>;
type AwsCredentialIdentity = Awaited<ReturnType<AwsCredentialIdentityProvider>>;

/** The caller's identity, behind a small interface (tests pass their own). */
export interface CallerIdentitySource {
  /** e.g. `arn:aws:sts::111122223333:assumed-role/ops/alice` or `arn:aws:iam::111122223333:user/bob`. */
  callerArn(): Promise<string>;
}

/** STS said no, or could not be reached. `code` is STS's error code when it answered (ExpiredToken, InvalidClientTokenId, …). */
export class CallerIdentityError extends Error {
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly code: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CallerIdentityError';
    this.retryable = options.retryable ?? false;
  }
}

export interface StsCallerIdentityOptions {
  /** STS region (its regional endpoint). @default AWS_REGION, else us-east-1 */
  readonly region?: string;
  /** @default `https://sts.<region>.amazonaws.com/` */
  readonly endpoint?: string;
  /** @default the SDK's default provider chain (env, SSO, profile, IMDS, …) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

/**
 * @example
 * const arn = await new StsCallerIdentity({ region: 'eu-west-1' }).callerArn();
 */
export class StsCallerIdentity implements CallerIdentitySource {
  constructor(private readonly o: StsCallerIdentityOptions = {}) {}

  async callerArn(): Promise<string> {
    const region = this.o.region ?? process.env.AWS_REGION ?? 'us-east-1';
    const url = new URL(this.o.endpoint ?? `https://sts.${region}.amazonaws.com/`);
    const signer = new SignatureV4({ service: 'sts', region, credentials: this.o.credentials ?? fromNodeProviderChain(), sha256: NodeSha256 });
    let signed;
    try {
      signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: {},
        headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: BODY,
      });
    } catch (err) {
      throw new CallerIdentityError(`no AWS credentials to identify the caller: ${(err as Error).message}. Try: aws sso login, or set AWS_PROFILE`, 'NoCredentials', { cause: err });
    }
    const { status, text } = await post(url, signed.headers, BODY, this.o.timeoutMs ?? 10_000);
    if (status < 200 || status > 299) {
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${status}`;
      const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
      throw new CallerIdentityError(`STS GetCallerIdentity failed (${code}): ${message}`, code, { retryable: status >= 500 || status === 429 });
    }
    const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
    if (!arn) throw new CallerIdentityError(`STS GetCallerIdentity answered without an Arn: ${text.slice(0, 200)}`, 'MalformedResponse');
    return arn;
  }
}

function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new CallerIdentityError(`STS at ${url.host} did not answer within ${timeoutMs / 1000}s`, 'Timeout', { retryable: true })));
    req.on('error', (err) => reject(err instanceof CallerIdentityError ? err : new CallerIdentityError(`STS at ${url.host} could not be reached: ${err.message}`, 'Unreachable', { retryable: true, cause: err })));
    req.end(body);
  });
}
