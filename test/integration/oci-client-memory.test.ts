// Streams a 256 MiB blob through the client (push, then GET piped into a PUT to another registry) and checks memory stays bounded.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { RegistryClient } from '../../functions/oci/client.ts';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;

/** 256 MiB made of one random MiB repeated, generated as it is read (nothing held but that MiB). */
function source(block: Buffer): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= SIZE) return void this.push(null);
      sent += block.length;
      this.push(block);
    },
  });
}

describe('RegistryClient memory', () => {
  let a: RunningRegistry;
  let b: RunningRegistry;
  beforeAll(async () => {
    [a, b] = await Promise.all([startRegistry(), startRegistry()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('streams a 256 MiB blob up, down and across without growing RSS by more than 100 MiB', async () => {
    // Prepare
    const block = randomBytes(MiB);
    const hash = createHash('sha256');
    for (let i = 0; i < SIZE / MiB; i++) hash.update(block);
    const digest = `sha256:${hash.digest('hex')}`;
    const src = new RegistryClient({ host: a.host, plainHttp: true });
    const dst = new RegistryClient({ host: b.host, plainHttp: true });
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    // Act: push, then copy A → B by piping the verified GET stream into the PUT.
    await src.blobPut('big/blob', { digest, size: SIZE }, source(block));
    const reader = await src.blobGet('big/blob', digest, { expectedSize: SIZE });
    await dst.blobPut('big/copy', { digest, size: SIZE }, reader.stream);
    clearInterval(sampler);
    // Assess
    expect(await dst.blobHead('big/copy', digest)).toBe(SIZE);
    const grewMiB = (peak - baseline) / MiB;
    expect(grewMiB).toBeLessThan(100);
    if (process.env.REGMAN_DEBUG_MEMORY) console.log(`RSS grew ${grewMiB.toFixed(1)} MiB over ${(baseline / MiB).toFixed(0)} MiB`);
    src.close();
    dst.close();
  }, 120_000);
});
