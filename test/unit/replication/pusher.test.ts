// Who pushed: the CloudTrail PutImage record parsed (AWS doc samples), and the LookupEvents lookup (client mocked).
import { readFileSync } from 'node:fs';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudTrailPusherLookup } from '../../../functions/replication/pusher/cloudtrail-lookup.ts';
import { pusherFromRecord, type CloudTrailPutImageRecord } from '../../../functions/replication/pusher/pusher.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/ecr-events/${name}`, import.meta.url), 'utf8');
const record = JSON.parse(fixture('cloudtrail-record-putimage.json')) as CloudTrailPutImageRecord;
const blogEvent = JSON.parse(fixture('eventbridge-cloudtrail-putimage.json')) as { detail: CloudTrailPutImageRecord };
const DIGEST = 'sha256:98c8b060c21d9adbb6b8c41b916e95e6307102786973ab93a41e8b86d1fc6d3e';
const key = { account: '123456789012', region: 'us-east-2', repository: 'testrepo', digest: DIGEST, time: '2019-04-15T16:45:03Z' };

describe('pusherFromRecord', () => {
  it.each([
    ['the AWS doc PutImage record', record, 'testrepo', DIGEST, { principal: 'arn:aws:sts::123456789012:user/Mary_Major', type: 'IAMUser', source: 'cloudtrail', eventId: '2bfd4ee2-2178-4a82-a27d-b12939923f0f', eventTime: '2019-04-15T16:45:00Z' }],
    ['another digest', record, 'testrepo', `sha256:${'0'.repeat(64)}`, undefined],
    ['another repository', record, 'other', DIGEST, undefined],
    ['a BatchGetImage record', { ...record, eventName: 'BatchGetImage' }, 'testrepo', DIGEST, undefined],
  ])('%s', (_name, rec, repository, digest, expected) => {
    expect(pusherFromRecord(rec, repository, digest)).toEqual(expected);
  });

  it('says the pusher is unknown when the record has an empty userIdentity (the blog sample)', () => {
    const detail = blogEvent.detail;
    const image = detail.responseElements?.image;
    const found = pusherFromRecord(detail, image?.repositoryName ?? '', image?.imageId?.imageDigest ?? '');
    expect(found).toEqual({ unknown: true, reason: expect.stringMatching(/carries no userIdentity/) });
  });
});

describe('CloudTrailPusherLookup', () => {
  const cloudtrail = mockClient(CloudTrailClient);
  afterEach(() => cloudtrail.reset());

  it('pages through PutImage events of the repository around the push and matches the digest', async () => {
    // Prepare
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [{ EventName: 'BatchGetImage', CloudTrailEvent: '{}' }, { EventName: 'PutImage', CloudTrailEvent: JSON.stringify({ ...record, responseElements: { image: { repositoryName: 'testrepo', imageId: { imageDigest: 'sha256:other' } } } }) }], NextToken: 't2' })
      .resolvesOnce({ Events: [{ EventName: 'PutImage', CloudTrailEvent: JSON.stringify(record) }] });
    const lookup = new CloudTrailPusherLookup({ client: new CloudTrailClient({ region: 'us-east-2' }) });

    // Act
    const found = await lookup.pusherOf(key);

    // Assess
    expect(found).toMatchObject({ principal: 'arn:aws:sts::123456789012:user/Mary_Major' });
    const calls = cloudtrail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: 'testrepo' }], StartTime: new Date('2019-04-15T16:30:03Z'), EndTime: new Date('2019-04-15T16:46:03Z') });
    expect(calls[1]?.NextToken).toBe('t2');
  });

  it('answers unknown, with the reason, when CloudTrail has no record yet or refuses', async () => {
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });
    const lookup = new CloudTrailPusherLookup({ client: new CloudTrailClient({ region: 'us-east-2' }) });
    expect(await lookup.pusherOf(key)).toEqual({ unknown: true, reason: expect.stringMatching(/no CloudTrail PutImage record .* yet/) });
    cloudtrail.reset();
    cloudtrail.on(LookupEventsCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    expect(await lookup.pusherOf(key)).toEqual({ unknown: true, reason: 'CloudTrail LookupEvents failed: AccessDeniedException: not allowed' });
  });
});
