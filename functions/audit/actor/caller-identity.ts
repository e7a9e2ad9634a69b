// Who the CLI runs as on AWS: the IAM principal ARN from STS GetCallerIdentity, behind a small interface.
import { createHash, createHmac } from 'node:crypto';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';

/** Resolves the principal the CLI's AWS credentials belong to. */
export interface CallerIdentityResolver {
  /** The principal's ARN, e.g. `arn:aws:sts::123456789012:assumed-role/Deploy/alice`. */
  callerArn(): Promise<string>;
}

export interface StsCallerIdentityOptions {
  readonly credentials: AwsCredentialIdentityProvider;
  readonly region?: string;
  /** Default `https://sts.<region>.amazonaws.com` (tests: a local server). */
  readonly endpoint?: string;
}

const hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * GetCallerIdentity needs no IAM permission (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
 * The SDK's STS client is not among our dependencies, so the one Query API call is signed here with
 * Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
 */
export class StsCallerIdentity implements CallerIdentityResolver {
  constructor(private readonly options: StsCallerIdentityOptions) {}

  async callerArn(): Promise<string> {
    const region = this.options.region ?? 'us-east-1';
    const url = new URL(this.options.endpoint ?? `https://sts.${region}.amazonaws.com/`);
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const creds = await this.options.credentials();
    const headers = signV4(creds, region, url.host, body, new Date());
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`STS GetCallerIdentity answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
    if (!arn) throw new Error('STS GetCallerIdentity answered without an Arn');
    return arn;
  }
}

function signV4(creds: AwsCredentialIdentity, region: string, host: string, body: string, now: Date): Record<string, string> {
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    host,
    'x-amz-date': amzDate,
    ...(creds.sessionToken ? { 'x-amz-security-token': creds.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), hex(body)].join('\n');
  const scope = `${day}/${region}/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), 'sts'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  const { host: _host, ...sent } = headers;
  return { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}
