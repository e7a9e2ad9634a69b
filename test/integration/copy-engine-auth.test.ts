// copyImage into authenticated targets: token auth (our token server) and htpasswd, right and wrong credentials.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../functions/oci/copy.ts';
import type { RegistryClient } from '../../functions/oci/client.ts';
import { pushOciIndex, type PushedIndex } from '../helpers/images.ts';
import { startRegistry, startTokenRegistry, type RunningRegistry, type TokenRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';
import { childDigests, clientFor, codesOf, manifestStatus, messagesOf, rejection, skopeoCreds, type Creds } from './copy-engine-support.ts';

/** Canaries: if any of these appears in an error message, a secret leaked. */
const PUSHER: Creds = { username: 'pusher', password: `push-pw-${randomBytes(8).toString('hex')}` };
const READER: Creds = { username: 'reader', password: `read-pw-${randomBytes(8).toString('hex')}` };
const ALICE: Creds = { username: 'alice', password: `alice-pw-${randomBytes(8).toString('hex')}` };
const WRONG = `canary-wrong-${randomBytes(8).toString('hex')}`;

describe('copyImage into authenticated registries', () => {
  let srcReg: RunningRegistry;
  let tokenReg: TokenRegistry;
  let basicReg: RunningRegistry;
  let src: RegistryClient;
  let index: PushedIndex;
  const opened: RegistryClient[] = [];
  const open = (c: RegistryClient): RegistryClient => (opened.push(c), c);

  beforeAll(async () => {
    [srcReg, tokenReg, basicReg] = await Promise.all([
      startRegistry(),
      startTokenRegistry({
        users: {
          pusher: { password: PUSHER.password, access: [{ repository: 'mirror/**', actions: ['pull', 'push'] }] },
          reader: { password: READER.password, access: [{ repository: '**', actions: ['pull'] }] },
        },
      }),
      startRegistry({ htpasswd: { alice: ALICE.password } }),
    ]);
    src = open(clientFor(srcReg));
    index = await pushOciIndex(srcReg, 'team/app', 'v1');
  });

  afterAll(async () => {
    for (const c of opened) c.close();
    await Promise.all([srcReg?.stop(), tokenReg?.stop(), basicReg?.stop()]);
  });

  const from = (): { registry: RegistryClient; repository: string; reference: string } => ({ registry: src, repository: 'team/app', reference: 'v1' });

  it.each([
    { kind: 'token auth', reg: () => tokenReg, creds: PUSHER },
    { kind: 'htpasswd', reg: () => basicReg, creds: ALICE },
  ])('copies an index into a $kind target with identical digests', async ({ reg, creds }) => {
    // Prepare
    const target = open(clientFor(reg(), creds));
    // Act
    const result = await copyImage(from(), { registry: target, repository: 'mirror/app', tag: 'v1' });
    // Assess
    expect(result.digest).toBe(index.digest);
    expect(await skopeoDigest(`${reg().host}/mirror/app:v1`, { creds: skopeoCreds(creds) })).toBe(index.digest);
    for (const child of childDigests(index.raw)) {
      expect(await manifestStatus(reg(), 'mirror/app', child, { creds })).toBe(200);
    }
  });

  it('the token target got scoped tokens: pull,push on the target repository only', async () => {
    // Prepare
    const target = open(clientFor(tokenReg, PUSHER));
    const before = tokenReg.tokenServer.requests.length;
    // Act
    await copyImage(from(), { registry: target, repository: 'mirror/scoped', tag: 'v1' });
    // Assess
    const asked = tokenReg.tokenServer.requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((r) => r.account === 'pusher' && r.status === 200)).toBe(true);
    const scopes = new Set(asked.flatMap((r) => r.scopes));
    expect(scopes).toContain('repository:mirror/scoped:pull,push');
    expect([...scopes].every((s) => s.startsWith('repository:mirror/scoped:'))).toBe(true);
  });

  it.each([
    { kind: 'htpasswd', reg: () => basicReg, username: 'alice', checker: ALICE },
    { kind: 'token auth', reg: () => tokenReg, username: 'pusher', checker: PUSHER },
  ])('a wrong password on a $kind target fails UNAUTHORIZED, naming the registry and not the password', async ({ reg, username, checker }) => {
    // Prepare
    const target = open(clientFor(reg(), { username, password: WRONG }));
    // Act
    const err = await rejection(copyImage(from(), { registry: target, repository: 'mirror/denied', tag: 'v1' }));
    // Assess
    expect(codesOf(err)).toContain('UNAUTHORIZED');
    expect(err.message).toContain(reg().host);
    const everything = `${messagesOf(err)}\n${JSON.stringify(err)}\n${String(err.stack)}`;
    expect(everything).not.toContain(WRONG);
    expect(everything).not.toContain(Buffer.from(`${username}:${WRONG}`).toString('base64'));
    expect(await manifestStatus(reg(), 'mirror/denied', 'v1', { creds: checker })).toBe(404);
  });

  it('a token user without push permission is refused (DENIED or UNAUTHORIZED) and no tag appears', async () => {
    // Prepare
    const target = open(clientFor(tokenReg, READER));
    // Act
    const err = await rejection(copyImage(from(), { registry: target, repository: 'mirror/readonly', tag: 'v1' }));
    // Assess
    const codes = codesOf(err);
    expect(codes.some((c) => c === 'DENIED' || c === 'UNAUTHORIZED')).toBe(true);
    expect(err.message).toContain(tokenReg.host);
    expect(messagesOf(err)).not.toContain(READER.password);
    expect(await manifestStatus(tokenReg, 'mirror/readonly', 'v1', { creds: PUSHER })).toBe(404);
    expect(await manifestStatus(tokenReg, 'mirror/readonly', index.digest, { creds: PUSHER })).toBe(404);
  });
});
