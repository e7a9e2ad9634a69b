// Who pushed an image: read from the CloudTrail PutImage record (pure parsing) behind a small lookup interface.

/** The pushing principal, or why it is not known. Stored in the replication record's `details.pushedBy`. */
export type PushedBy =
  | { readonly principal: string; readonly type?: string; readonly source: 'cloudtrail'; readonly eventId?: string; readonly eventTime?: string }
  | { readonly unknown: true; readonly reason: string };

export interface PushLookupKey {
  readonly account: string;
  readonly region: string;
  readonly repository: string;
  readonly digest: string;
  /** The ECR event's time: the PutImage call happened just before. */
  readonly time: string;
}

/** Finds the PutImage call that pushed a digest. */
export interface PusherLookup {
  pusherOf(key: PushLookupKey): Promise<PushedBy>;
}

interface CloudTrailUserIdentity {
  readonly type?: string;
  readonly arn?: string;
  readonly principalId?: string;
  readonly invokedBy?: string;
  readonly sessionContext?: { readonly sessionIssuer?: { readonly arn?: string } };
}

/** The fields we read of a CloudTrail record (`detail` of an "AWS API Call via CloudTrail" event). */
export interface CloudTrailPutImageRecord {
  readonly eventName?: string;
  readonly eventID?: string;
  readonly eventTime?: string;
  readonly userIdentity?: CloudTrailUserIdentity;
  readonly requestParameters?: { readonly repositoryName?: string };
  readonly responseElements?: { readonly image?: { readonly repositoryName?: string; readonly imageId?: { readonly imageDigest?: string } } } | null;
}

/**
 * The principal of a PutImage record when it pushed `digest` to `repository`; undefined when the
 * record is about another image. An empty `userIdentity` gives `unknown`.
 */
export function pusherFromRecord(record: CloudTrailPutImageRecord, repository: string, digest: string): PushedBy | undefined {
  if (record.eventName !== 'PutImage') return undefined;
  const image = record.responseElements?.image;
  if (image?.imageId?.imageDigest !== digest) return undefined;
  if ((image.repositoryName ?? record.requestParameters?.repositoryName) !== repository) return undefined;
  const id = record.userIdentity ?? {};
  const principal = id.arn ?? id.sessionContext?.sessionIssuer?.arn ?? id.invokedBy ?? id.principalId;
  if (!principal) return { unknown: true, reason: `the CloudTrail PutImage record ${record.eventID ?? ''} carries no userIdentity`.replace('  ', ' ') };
  return {
    principal,
    ...(id.type ? { type: id.type } : {}),
    source: 'cloudtrail',
    ...(record.eventID ? { eventId: record.eventID } : {}),
    ...(record.eventTime ? { eventTime: record.eventTime } : {}),
  };
}
