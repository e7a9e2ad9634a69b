// Blob progress of resumable copies: the `blobs#` records on dynalite (batches, TTL, forget) and the resume handle's write-behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciError } from '../../../functions/oci/errors.ts';
import { openBlobResume, type BlobProgressKey, type BlobProgressStore } from '../../../functions/replication/blob-progress.ts';
import { DynamoBlobProgress } from '../../../functions/replication/dynamo-blob-progress.ts';
import { startDynalite, type DynaliteHandle } from '../../helpers/dynalite.ts';

const digestOf = (i: number): string => `sha256:${i.toString(16).padStart(64, '0')}`;
const KEY: BlobProgressKey = { target: 'east', repository: 'team/app', digest: digestOf(999) };

describe('DynamoBlobProgress', () => {
  let db: DynaliteHandle;
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());
  const store = (now = Date.now): DynamoBlobProgress => new DynamoBlobProgress({ docClient: db.docClient, tableName: db.tableNames.replicationState, now });

  it('records blobs in batches of 25, reads them back per image, and filters by `only`', async () => {
    // Prepare: 30 digests are two BatchWriteItem calls
    const digests = Array.from({ length: 30 }, (_, i) => digestOf(i));
    // Act
    await store().recordVerified(KEY, [...digests, digests[0]!]);
    // Assess
    expect([...(await store().verifiedBlobs(KEY))].sort()).toEqual(digests);
    expect([...(await store().verifiedBlobs(KEY, [digestOf(3)]))]).toEqual([digestOf(3)]);
    expect([...(await store().verifiedBlobs(KEY, [digestOf(3), digestOf(77)]))]).toEqual([digestOf(3)]);
    expect((await store().verifiedBlobs({ ...KEY, target: 'west' })).size).toBe(0);
    expect((await store().verifiedBlobs({ ...KEY, digest: digestOf(998) })).size).toBe(0);
  });

  it('ignores records past their TTL (dynalite does not expire them) and forgets an image on demand', async () => {
    const key = { ...KEY, repository: 'team/ttl' };
    await store().recordVerified(key, [digestOf(1), digestOf(2)]);
    expect((await store(() => Date.now() + 25 * 3600_000).verifiedBlobs(key)).size).toBe(0);
    await store().forget(key);
    expect((await store().verifiedBlobs(key)).size).toBe(0);
  });
});

/** A store in memory that records each write and can hold writes back. */
class GatedStore implements BlobProgressStore {
  readonly writes: string[][] = [];
  forgotten = 0;
  private release: (() => void) | undefined;
  private gate: Promise<void> | undefined;
  constructor(
    private readonly known: Set<string> = new Set(),
    private readonly failRead = false,
  ) {}
  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  open(): void {
    this.release?.();
    this.gate = undefined;
  }
  async verifiedBlobs(): Promise<Set<string>> {
    if (this.failRead) throw new Error('table unreachable');
    return new Set(this.known);
  }
  async recordVerified(_key: BlobProgressKey, digests: readonly string[]): Promise<void> {
    this.writes.push([...digests]);
    await this.gate;
  }
  async forget(): Promise<void> {
    this.forgotten++;
  }
}

describe('openBlobResume', () => {
  it('writes behind the copy: one write at a time, what arrives meanwhile goes in the next batch, each blob once', async () => {
    const store = new GatedStore(new Set([digestOf(0)]));
    const progress = await openBlobResume(store, KEY);
    expect(progress.resumed).toBe(1);
    expect(progress.resume.verified.has(digestOf(0))).toBe(true);
    store.hold();
    progress.resume.blobVerified(digestOf(1));
    progress.resume.blobVerified(digestOf(2));
    progress.resume.blobVerified(digestOf(3));
    progress.resume.blobVerified(digestOf(2));
    progress.resume.blobVerified(digestOf(0));
    store.open();
    await progress.close();
    expect(store.writes).toEqual([[digestOf(1)], [digestOf(2), digestOf(3)]]);
    expect(store.forgotten).toBe(0);
  });

  it('a store that cannot be read costs HEADs only: nothing is skipped, the copy goes on', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const progress = await openBlobResume(new GatedStore(new Set([digestOf(0)]), true), KEY, { logger });
    expect(progress.resumed).toBe(0);
    expect(progress.resume.verified.size).toBe(0);
    expect(warnings.join()).toMatch(/Could not read the blob progress/);
  });

  it.each([
    { name: 'BLOB_UNKNOWN (a recorded blob is gone at the target)', error: new OciError('x', { code: 'COPY_INCOMPLETE', cause: new OciError('blob unknown', { code: 'BLOB_UNKNOWN' }) }), forgotten: 1 },
    { name: 'another failure', error: new OciError('reset', { code: 'NETWORK' }), forgotten: 0 },
    { name: 'success', error: undefined, forgotten: 0 },
  ])('after $name the records are forgotten: $forgotten', async ({ error, forgotten }) => {
    const store = new GatedStore(new Set([digestOf(0)]));
    const progress = await openBlobResume(store, KEY);
    await progress.close(error);
    expect(store.forgotten).toBe(forgotten);
  });
});
