// AnchorSink on S3 with Object Lock: each anchor an object under `audit-anchors/`, locked in compliance mode so nobody can delete or overwrite it before it expires.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AnchorDocument, AnchorSink } from '../anchor.ts';
import { AuditError } from '../errors.ts';

export interface S3AnchorSinkOptions {
  readonly client: S3Client;
  /** A bucket created with Object Lock enabled (lib/constructs/audit-anchors.ts). */
  readonly bucket: string;
  /** Days each object stays locked (default 400: a year of audits plus slack). */
  readonly retainDays?: number;
  readonly prefix?: string;
}

export class S3AnchorSink implements AnchorSink {
  private readonly prefix: string;
  private readonly retainDays: number;

  constructor(private readonly options: S3AnchorSinkOptions) {
    this.prefix = options.prefix ?? 'audit-anchors/';
    this.retainDays = options.retainDays ?? 400;
  }

  async write(doc: AnchorDocument): Promise<string> {
    const key = `${this.prefix}${doc.time}.json`;
    const body = JSON.stringify(doc);
    await this.options.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html: COMPLIANCE cannot be shortened, even by root.
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date(Date.parse(doc.time) + this.retainDays * 86_400_000),
        // Object Lock puts require an integrity checksum.
        ChecksumAlgorithm: 'SHA256',
        // Never replace an existing anchor.
        IfNoneMatch: '*',
      }),
    );
    return `s3://${this.options.bucket}/${key}`;
  }

  async latest(): Promise<AnchorDocument | undefined> {
    let newest: string | undefined;
    let token: string | undefined;
    do {
      const page = await this.options.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key && (newest === undefined || o.Key > newest)) newest = o.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (newest === undefined) return undefined;
    const out = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: newest }));
    const text = (await out.Body?.transformToString()) ?? '';
    try {
      return JSON.parse(text) as AnchorDocument;
    } catch (err) {
      throw new AuditError(`Audit anchor s3://${this.options.bucket}/${newest} is not JSON: ${(err as Error).message}`, { code: 'AUDIT_ANCHOR_INVALID', cause: err });
    }
  }
}
