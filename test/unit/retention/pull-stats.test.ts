// Pull statistics: BatchGetImage events parsed, own roles ignored, counters added atomically in DynamoDB (dynalite).
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPullStatsHandler } from '../../../functions/handlers/pull-stats.ts';
import { TABLE_SPECS } from '../../../functions/dynamo/tables.ts';
import {
  DynamoPullStatsStore, InMemoryPullStatsStore, PullStatsEventError, isIgnoredPrincipal, parseBatchGetImageEvent, recordBatchGetImage, windowStartDay,
} from '../../../functions/retention/pull-stats.ts';
import { startDynalite, type DynaliteHandle } from '../../helpers/dynalite.ts';

const RECORD = JSON.parse(readFileSync(new URL('../../fixtures/ecr-events/cloudtrail-record-batchgetimage.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const SCOPE = { registryId: '123456789012', region: 'us-east-2' };

/** The CloudTrail record wrapped as EventBridge delivers it ("AWS API Call via CloudTrail"). */
function eventBridge(detail: Record<string, unknown>, id = 'evt-1'): Record<string, unknown> {
  return { version: '0', id, 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ecr', account: '123456789012', time: detail.eventTime, region: 'us-east-2', resources: [], detail };
}

function withImageIds(imageIds: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...RECORD, ...extra, requestParameters: { ...(RECORD.requestParameters as object), imageIds } };
}

describe('parseBatchGetImageEvent', () => {
  it('reads the documented CloudTrail sample, bare and inside the EventBridge envelope', () => {
    for (const event of [RECORD, eventBridge(RECORD)]) {
      expect(parseBatchGetImageEvent(event)).toEqual({
        eventId: 'c84f5880-c2f9-4585-9757-28fa5c1065df',
        registryId: '123456789012',
        region: 'us-east-2',
        repository: 'testrepo',
        digests: [],
        tags: ['latest'],
        time: '2019-04-15T17:23:20.000Z',
        actor: 'arn:aws:sts::123456789012:user/Mary_Major',
      });
    }
  });

  it('separates digests from tags and removes duplicates', () => {
    const pull = parseBatchGetImageEvent(withImageIds([{ imageDigest: D1 }, { imageDigest: D1 }, { imageTag: 'v1' }, { imageDigest: D2, imageTag: 'v2' }]));
    expect(pull.digests).toEqual([D1, D2]);
    expect(pull.tags).toEqual(['v1']);
  });

  it.each([
    ['another API call', { ...RECORD, eventName: 'PutImage' }, /expected "BatchGetImage"/],
    ['a failed call', { ...RECORD, errorCode: 'ImageNotFoundException' }, /the call failed/],
    ['no repository', { ...RECORD, requestParameters: { imageIds: [{ imageTag: 'x' }] } }, /repositoryName is missing/],
    ['no image ids', withImageIds([]), /names no image/],
    ['not an object', 'x', /not a JSON object/],
  ])('rejects %s', (_name, event, message) => {
    expect(() => parseBatchGetImageEvent(event)).toThrow(PullStatsEventError);
    expect(() => parseBatchGetImageEvent(event)).toThrow(message);
  });
});

describe('isIgnoredPrincipal', () => {
  const role = 'arn:aws:iam::123456789012:role/service/regman-replicate';
  it.each([
    ['the exact ARN', role, true],
    ['an assumed-role session of the role', 'arn:aws:sts::123456789012:assumed-role/regman-replicate/1700000000000', true],
    ['the same role name in another account', 'arn:aws:sts::999999999999:assumed-role/regman-replicate/s', false],
    ['another role', 'arn:aws:sts::123456789012:assumed-role/ci-deploy/s', false],
    ['a user', 'arn:aws:iam::123456789012:user/alice', false],
  ])('%s → %s', (_name, actor, ignored) => {
    expect(isIgnoredPrincipal(actor, [role])).toBe(ignored);
  });
  it('never ignores an unknown actor', () => expect(isIgnoredPrincipal(undefined, [role])).toBe(false));
});

describe('windowStartDay', () => {
  it('counts today as the first day of the window', () => {
    expect(windowStartDay(new Date('2024-06-10T23:00:00Z'), 1)).toBe('2024-06-10');
    expect(windowStartDay(new Date('2024-06-10T00:00:00Z'), 30)).toBe('2024-05-12');
  });
});

describe('DynamoPullStatsStore (dynalite)', () => {
  let db: DynaliteHandle;
  let store: DynamoPullStatsStore;

  beforeAll(async () => {
    db = await startDynalite({ tables: { pullStats: TABLE_SPECS.pullStats } });
    store = new DynamoPullStatsStore({ docClient: db.docClient, tableName: db.tableNames.pullStats });
  });
  afterAll(() => db?.stop());

  it('adds concurrent increments without losing any (UpdateItem ADD)', async () => {
    // Act
    await Promise.all(Array.from({ length: 25 }, () => store.increment(SCOPE, 'app', D1, '2024-06-01', 1)));
    await store.increment(SCOPE, 'app', D1, '2024-06-02', 3);

    // Assess
    const pulls = await store.pullsFor(SCOPE, 'app', [D1, D2], 30, { now: new Date('2024-06-02T12:00:00Z') });
    expect(pulls.get(D1)).toEqual([{ day: '2024-06-01', count: 25 }, { day: '2024-06-02', count: 3 }]);
    expect(pulls.get(D2)).toEqual([]);
  });

  it('reads only the window, and only its own repository and scope', async () => {
    await store.increment(SCOPE, 'app2', D2, '2024-01-01', 5);
    await store.increment(SCOPE, 'app2', D2, '2024-06-01', 2);
    await store.increment({ registryId: '999999999999', region: 'us-east-2' }, 'app2', D2, '2024-06-01', 7);
    const pulls = await store.pullsFor(SCOPE, 'app2', [D2], 7, { now: new Date('2024-06-02T00:00:00Z') });
    expect(pulls.get(D2)).toEqual([{ day: '2024-06-01', count: 2 }]);
  });

  it('adds the pulls counted by tag to the digest the tag names now', async () => {
    await store.increment(SCOPE, 'app3', 'tag:latest', '2024-06-01', 4);
    await store.increment(SCOPE, 'app3', D1, '2024-06-01', 1);
    const pulls = await store.pullsFor(SCOPE, 'app3', [D1, D2], 7, { now: new Date('2024-06-02T00:00:00Z'), tags: new Map([[D1, ['latest']]]) });
    expect(pulls.get(D1)).toEqual([{ day: '2024-06-01', count: 5 }]);
    expect(pulls.get(D2)).toEqual([]);
  });

  it('the handler counts a BatchGetImage once, ignores duplicates and regman\'s own role, and rejects other events', async () => {
    // Prepare
    const own = 'arn:aws:iam::123456789012:role/regman-sweep';
    const handler = createPullStatsHandler(() => ({ store, ignorePrincipals: [own] }), { logger: new Logger({ logLevel: 'SILENT' }) });
    const pull = withImageIds([{ imageDigest: D1 }, { imageTag: 'v1' }], { eventID: 'e-100', eventTime: '2024-06-01T08:00:00Z', requestParameters: undefined });
    (pull as { requestParameters: unknown }).requestParameters = { repositoryName: 'svc', registryId: '123456789012', imageIds: [{ imageDigest: D1 }, { imageTag: 'v1' }] };
    const ownPull = { ...pull, eventID: 'e-101', userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/regman-sweep/lambda' } };

    // Act
    const first = await handler(eventBridge(pull, 'a'));
    const duplicate = await handler(eventBridge(pull, 'b'));
    const ignored = await handler(eventBridge(ownPull, 'c'));
    const rejected = await handler(eventBridge({ ...pull, eventName: 'PutImage' }, 'd'));

    // Assess
    expect(first).toEqual({ status: 'counted', refs: [D1, 'tag:v1'], day: '2024-06-01' });
    expect(duplicate).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/already counted/) });
    expect(ignored).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/ignored principal/) });
    expect(rejected).toMatchObject({ status: 'rejected' });
    const pulls = await store.pullsFor(SCOPE, 'svc', [D1], 7, { now: new Date('2024-06-01T12:00:00Z'), tags: new Map([[D1, ['v1']]]) });
    expect(pulls.get(D1)).toEqual([{ day: '2024-06-01', count: 2 }]);
    expect(await store.wasCounted('e-100')).toBe(true);
    expect(await store.wasCounted('e-101')).toBe(false);
  });
});

describe('InMemoryPullStatsStore', () => {
  it('behaves as the DynamoDB store for counting and duplicates', async () => {
    const store = new InMemoryPullStatsStore();
    const pull = parseBatchGetImageEvent(withImageIds([{ imageDigest: D1 }], { eventTime: '2024-06-01T00:00:00Z' }));
    await recordBatchGetImage(store, pull);
    expect(await recordBatchGetImage(store, pull)).toMatchObject({ status: 'ignored' });
    expect((await store.pullsFor(SCOPE, 'testrepo', [D1], 1, { now: new Date('2024-06-01T10:00:00Z') })).get(D1)).toEqual([{ day: '2024-06-01', count: 1 }]);
  });
});
