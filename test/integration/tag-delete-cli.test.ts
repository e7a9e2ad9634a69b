// `regman tag` and `regman delete` against a real registry behind a counting proxy, audited into a dynalite table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDelete, type DeleteResult } from '../../bin/commands/delete.ts';
import { UsageError } from '../../bin/commands/run-cli.ts';
import { runTag, type TagResult } from '../../bin/commands/tag.ts';
import { RegistryClient } from '../../functions/oci/client.ts';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { fallbackTag } from '../../functions/oci/referrers.ts';
import type { Manifest } from '../../functions/oci/types.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushCosignSignature, pushMultiPlatform } from '../helpers/memory-registry.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const env = { REGMAN_USER: 'tester' };

describe('regman tag and regman delete (real registry)', () => {
  let reg: RunningRegistry;
  let proxy: FaultProxy;
  let db: DynaliteHandle;
  let client: RegistryClient;
  let index: Manifest;
  let children: Manifest[];
  let sig: Manifest;
  let audit: { auditTable: string; auditEndpoint: string };
  let out: string;

  const io = () => {
    out = '';
    return { stdout: (t: string) => (out += t + '\n'), stderr: () => undefined, env };
  };
  const tag = (src: string, tags: string[], opts = {}) => runTag(src, tags, { plainHttp: true, ...audit, ...opts }, io());
  const del = (ref: string, opts = {}) => runDelete(ref, { plainHttp: true, ...audit, ...opts }, io());
  const auditRecords = async (action: string) => {
    const { log, close } = openDynamoAuditLog({ endpoint: db.endpoint, tableName: db.tableNames.audit, region: 'local' });
    try {
      return await log.query({ action, order: 'oldest-first' });
    } finally {
      close();
    }
  };

  beforeAll(async () => {
    [reg, db] = await Promise.all([startRegistry({}), startDynalite()]);
    proxy = await startFaultProxy(reg.url);
    audit = { auditTable: db.tableNames.audit, auditEndpoint: db.endpoint };
    client = new RegistryClient({ host: reg.host, plainHttp: true });
    ({ index, children } = await pushMultiPlatform(client, 'team/app', 'v1', { layerSize: 2000 }));
    sig = await pushCosignSignature(client, 'team/app', index);
  });

  afterAll(async () => {
    client?.close();
    await proxy?.stop();
    await Promise.all([reg?.stop(), db?.stop()]);
  });

  it('tag: a new tag and a moved tag in the same repository, no blob moved, each audited', async () => {
    // Prepare: `old` names the amd64 child.
    await client.manifestPut('team/app', 'old', children[0]!);
    proxy.clearRequests();
    // Act
    const plan = await tag(`${proxy.host}/team/app:v1`, ['stable', 'old'], { dryRun: true });
    const writesInDryRun = proxy.count(['PUT', 'POST', 'PATCH', 'DELETE']);
    const result: TagResult = await tag(`${proxy.host}/team/app:v1`, ['stable', 'old', 'v1'], { json: true });
    // Assess
    expect(writesInDryRun).toBe(0);
    expect(plan.tags.map((t) => [t.tag, t.outcome])).toEqual([['stable', 'created'], ['old', 'moved']]);
    expect(JSON.parse(out)).toEqual(result);
    expect(result.tags).toEqual([
      { repository: 'team/app', tag: 'stable', outcome: 'created' },
      { repository: 'team/app', tag: 'old', outcome: 'moved', previous: children[0]!.digest },
      { repository: 'team/app', tag: 'v1', outcome: 'unchanged', previous: index.digest },
    ]);
    expect((await client.manifestHead('team/app', 'old'))?.digest).toBe(index.digest);
    expect(proxy.count(['POST', 'PATCH'], /\/blobs\//)).toBe(0);
    expect(proxy.count('PUT', /\/blobs\//)).toBe(0);
    const records = await auditRecords('tag');
    expect(records.map((r) => [r.tags?.[0], r.outcome, r.digest, r.actor])).toEqual([
      ['stable', 'success', index.digest, 'cli:tester'],
      ['old', 'success', index.digest, 'cli:tester'],
    ]);
  });

  it('tag into another repository of the registry mounts the blobs (none uploaded); another registry is refused', async () => {
    proxy.clearRequests();
    const result = await tag(`${proxy.host}/team/app:v1`, [`${proxy.host}/release/app:1.0`]);
    expect(result.tags[0]).toMatchObject({ repository: 'release/app', tag: '1.0', outcome: 'created' });
    expect(result.tags[0]!.mounted).toBeGreaterThan(0);
    expect(proxy.count('PATCH', /\/blobs\//)).toBe(0);
    expect(proxy.count('PUT', /\/blobs\//)).toBe(0);
    expect((await client.manifestHead('release/app', '1.0'))?.digest).toBe(index.digest);
    await expect(tag(`${proxy.host}/team/app:v1`, ['elsewhere.example/app:1'])).rejects.toThrow(/a tag moves no bytes between registries/);
  });

  it('delete --dry-run of a child: what points at it, refused without --force; nothing deleted', async () => {
    proxy.clearRequests();
    const plan: DeleteResult = await del(`${proxy.host}/team/app@${children[1]!.digest}`, { dryRun: true, json: true });
    expect(proxy.count('DELETE')).toBe(0);
    expect(plan.parents.map((p) => p.digest)).toEqual([index.digest]);
    expect(plan.parents[0]!.tags).toEqual(expect.arrayContaining(['v1', 'stable', 'old']));
    await expect(del(`${proxy.host}/team/app@${children[1]!.digest}`)).rejects.toBeInstanceOf(UsageError);
    expect(proxy.count('DELETE')).toBe(0);
  });

  it('delete by tag: the tag resolves to the index; its tags, signature and children go; audited', async () => {
    // Prepare: a tag on one child directly keeps that child.
    await client.manifestPut('team/app', 'amd64', children[0]!);
    // Act
    const dry = await del(`${proxy.host}/team/app:stable`, { dryRun: true });
    const dryText = out;
    const result = await del(`${proxy.host}/team/app:stable`, { json: true });
    // Assess
    expect(dryText).toMatch(new RegExp(`team/app:stable is ${index.digest}`));
    expect(dryText).toMatch(/tags that go with it: old, stable, v1/);
    expect(dryText).toMatch(new RegExp(`child ${children[0]!.digest}: kept, still used by tag amd64`));
    expect(dry.deleted).toEqual([]);
    expect(result.deleted).toEqual(dry.deletes);
    expect(result.deleted).toEqual([index.digest, sig.digest, children[1]!.digest, children[2]!.digest]);
    expect(result.referrerTags).toEqual([`${fallbackTag(index.digest)}.sig`]);
    expect(await client.manifestHead('team/app', 'v1')).toBeUndefined();
    expect(await client.manifestHead('team/app', `${fallbackTag(index.digest)}.sig`)).toBeUndefined();
    expect((await client.manifestHead('team/app', 'amd64'))?.digest).toBe(children[0]!.digest);
    expect((await client.manifestHead('release/app', '1.0'))?.digest).toBe(index.digest);
    const [record] = await auditRecords('delete');
    expect(record).toMatchObject({ outcome: 'success', digest: index.digest, repository: 'team/app', tags: ['old', 'stable', 'v1'] });
    expect(record?.details?.deleted).toEqual(result.deleted);
  });

  it('delete of what is not there is a usage error', async () => {
    await expect(del(`${proxy.host}/team/app:gone`)).rejects.toThrow(/does not exist/);
  });
});
