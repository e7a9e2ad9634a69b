// PusherLookup on CloudTrail LookupEvents: the PutImage calls around the push event's time, matched by repository and digest.
import { LookupEventsCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { pusherFromRecord, type CloudTrailPutImageRecord, type PushedBy, type PushLookupKey, type PusherLookup } from './pusher.ts';

export interface CloudTrailPusherLookupOptions {
  /** A client in the source registry's region (CloudTrail LookupEvents is regional). */
  readonly client: CloudTrailClient;
  /** How far before the ECR event to look (default 15 minutes). */
  readonly windowMs?: number;
  /** Pages of 50 events read at most (default 4: LookupEvents allows 2 requests per second per account). */
  readonly maxPages?: number;
}

/**
 * CloudTrail delivers management events within about 5 minutes of the call, and LookupEvents
 * (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html) only sees
 * delivered events, so at replication time (seconds after the push) the record is often not there
 * yet: the answer is then `unknown` with that reason, and the reconcile's later records can name it.
 * The lookup filters by `ResourceName` = the repository, then matches the digest in each record.
 */
export class CloudTrailPusherLookup implements PusherLookup {
  private readonly windowMs: number;
  private readonly maxPages: number;

  constructor(private readonly options: CloudTrailPusherLookupOptions) {
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.maxPages = options.maxPages ?? 4;
  }

  async pusherOf(key: PushLookupKey): Promise<PushedBy> {
    const end = new Date(Date.parse(key.time) + 60_000);
    const start = new Date(Date.parse(key.time) - this.windowMs);
    let token: string | undefined;
    let pages = 0;
    try {
      do {
        const out = await this.options.client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: key.repository }],
            StartTime: start,
            EndTime: end,
            MaxResults: 50,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        pages += 1;
        for (const event of out.Events ?? []) {
          if (event.EventName !== 'PutImage' || !event.CloudTrailEvent) continue;
          const found = pusherFromRecord(JSON.parse(event.CloudTrailEvent) as CloudTrailPutImageRecord, key.repository, key.digest);
          if (found) return found;
        }
        token = out.NextToken;
      } while (token && pages < this.maxPages);
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'Error';
      return { unknown: true, reason: `CloudTrail LookupEvents failed: ${name}: ${(err as Error).message}` };
    }
    return { unknown: true, reason: `no CloudTrail PutImage record for ${key.digest} in ${key.repository} yet (CloudTrail delivers within about 5 minutes)` };
  }
}
