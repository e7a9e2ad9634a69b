// The local stack's push events: a real distribution registry's notifications reach the control listener and become ECR Image Action events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newControlToken } from '../../local/control-auth.ts';
import { startControlServer, type ControlServer } from '../../local/control-server.ts';
import { parseImageActionEvent } from '../../functions/replication/event.ts';
import { toImageActionEvents, type EcrImageActionEvent } from '../../local/notifications.ts';
import { freePort } from '../../local/ports.ts';
import { registryConfigYaml, startRegistryProcess, type RegistryProcess } from '../../local/registry-process.ts';
import { FixtureMediaType, pushImage, pushOciIndex } from '../helpers/images.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('local stack notifications: distribution webhook → ECR Image Action', () => {
  let dir: string;
  let control: ControlServer;
  let registry: RegistryProcess;
  const envelopes: { registry: string; envelope: unknown }[] = [];
  const events: EcrImageActionEvent[] = [];

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-local-notify-'));
    control = await startControlServer({
      controlToken: newControlToken(),
      log: () => undefined,
      onReconcile: async () => ({ ran: true }),
      onNotification: (name, envelope) => {
        envelopes.push({ registry: name, envelope });
        events.push(...toImageActionEvents(envelope, { registry: name }));
      },
    });
    registry = await startRegistryProcess({
      name: 'source',
      port: await freePort(),
      rootDir: join(dir, 'data'),
      workDir: join(dir, 'run'),
      notifyUrl: control.notifyUrlFor('source'),
      notifyHeaders: control.notifyHeaders,
    });
  });

  afterAll(async () => {
    await registry?.stop();
    await control?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(envelopes).slice(0, 2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('turns a tagged single-arch push into one ECR Image Action event, ignoring the blob pushes', async () => {
    // Prepare / Act
    const image = await pushImage(registry, 'team/app', 'v1', { layers: [1024, 2048] });

    // Assess
    const event = await waitFor('the manifest push event', () => events.find((e) => e.detail['image-digest'] === image.digest));
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: '000000000000',
      region: 'us-east-1',
      detail: {
        result: 'SUCCESS',
        'action-type': 'PUSH',
        'repository-name': 'team/app',
        'image-digest': image.digest,
        'image-tag': 'v1',
        'manifest-media-type': FixtureMediaType.OciManifest,
      },
    });
    expect(event.id).toMatch(UUID);
    // The handler's own parser accepts it, as it accepts ECR's events.
    expect(parseImageActionEvent(event)).toMatchObject({ repository: 'team/app', digest: image.digest, tag: 'v1', actionType: 'PUSH', result: 'SUCCESS' });
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(envelopes.every((e) => e.registry === 'source')).toBe(true);
    // Blob pushes reached the listener too (distribution reports them) but became no events.
    const blobDigests = new Set(image.blobs.map((b) => b.digest));
    expect(events.some((e) => blobDigests.has(e.detail['image-digest']))).toBe(false);
  });

  it('reports a multi-arch push as the tagged index plus untagged child manifests', async () => {
    // Prepare / Act
    const index = await pushOciIndex(registry, 'team/multi', 'v2', ['linux/amd64', 'linux/arm64']);

    // Assess
    const indexEvent = await waitFor('the index event', () => events.find((e) => e.detail['image-digest'] === index.digest));
    expect(indexEvent.detail).toMatchObject({ 'image-tag': 'v2', 'manifest-media-type': FixtureMediaType.OciIndex, 'repository-name': 'team/multi' });
    for (const child of index.children) {
      const childEvent = await waitFor(`child ${child.digest}`, () => events.find((e) => e.detail['image-digest'] === child.digest));
      expect(childEvent.detail['image-tag']).toBeUndefined();
      expect(childEvent.detail['manifest-media-type']).toBe(FixtureMediaType.OciManifest);
    }
  });

  it('receives pull events too, and turns none of them into an ECR event', async () => {
    // Prepare
    const image = await pushImage(registry, 'team/pulled', 'v3');
    await waitFor('the push', () => events.find((e) => e.detail['image-digest'] === image.digest));
    const before = { envelopes: envelopes.length, events: events.length };

    // Act: pull the manifest
    const res = await fetch(`${registry.url}/v2/team/pulled/manifests/v3`, { headers: { accept: FixtureMediaType.OciManifest } });
    await res.arrayBuffer();

    // Assess
    expect(res.status).toBe(200);
    const actions = await waitFor('the pull notification', () => {
      const later = envelopes.slice(before.envelopes).flatMap((e) => ((e.envelope as { events?: { action: string }[] }).events ?? []).map((x) => x.action));
      return later.includes('pull') ? later : undefined;
    });
    expect(actions).toContain('pull');
    expect(events.length).toBe(before.events);
  });
});

describe('toImageActionEvents', () => {
  const manifestPush = {
    id: 'f5e1c7e5-1111-4c1b-9a53-3f3b3c7c0001',
    timestamp: '2024-05-01T10:20:30.123456789Z',
    action: 'push',
    target: {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: `sha256:${'a'.repeat(64)}`,
      repository: 'team/app',
      tag: 'latest',
      size: 528,
      url: 'http://127.0.0.1:5000/v2/team/app/manifests/sha256:aaaa',
    },
    request: { id: 'r1', addr: '127.0.0.1:5555', method: 'PUT', useragent: 'skopeo' },
    actor: {},
  };

  it('gives the same event id for the same registry event, and different ids across registries', () => {
    // Act
    const [a] = toImageActionEvents({ events: [manifestPush] }, { registry: 'source' });
    const [b] = toImageActionEvents({ events: [manifestPush] }, { registry: 'source' });
    const [c] = toImageActionEvents({ events: [manifestPush] }, { registry: 'other' });

    // Assess
    expect(a!.id).toBe(b!.id);
    expect(c!.id).not.toBe(a!.id);
    expect(a!.time).toBe('2024-05-01T10:20:30Z');
  });

  it.each([
    ['a blob push', { ...manifestPush, target: { ...manifestPush.target, mediaType: 'application/octet-stream', url: 'http://h/v2/team/app/blobs/sha256:aa', tag: undefined } }],
    ['a pull', { ...manifestPush, action: 'pull' }],
    ['a delete', { ...manifestPush, action: 'delete' }],
    ['an event without a digest', { ...manifestPush, target: { ...manifestPush.target, digest: undefined } }],
    ['not an object', 'push'],
  ])('drops %s', (_name, event) => {
    expect(toImageActionEvents({ events: [event] }, { registry: 'source' })).toEqual([]);
  });

  it('accepts a body without events', () => {
    expect(toImageActionEvents({}, { registry: 'source' })).toEqual([]);
    expect(toImageActionEvents(null, { registry: 'source' })).toEqual([]);
  });

  it('writes a notifications section only for a registry with a webhook', () => {
    const withHook = registryConfigYaml({ port: 5000, rootDir: '/d', notifyUrl: 'http://127.0.0.1:1/notifications/source' });
    const without = registryConfigYaml({ port: 5001, rootDir: '/e' });
    expect(withHook).toContain('url: http://127.0.0.1:1/notifications/source');
    expect(withHook).toContain('addr: 127.0.0.1:5000');
    expect(without).not.toContain('notifications');
  });
});
