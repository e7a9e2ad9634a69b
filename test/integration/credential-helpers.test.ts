// Credentials as docker, podman and skopeo users set them up, against a real htpasswd-protected registry:
// a fake `docker-credential-*` helper on PATH, credsStore, auth.json files and their precedence.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCopy } from '../../bin/commands/copy.ts';
import { lineReporter } from '../../bin/commands/progress-bar.ts';
import { RegistryClient } from '../../functions/oci/client.ts';
import { localCredentialProvider } from '../../functions/oci/credential-files.ts';
import { StaticCredentialProvider } from '../../functions/oci/credentials.ts';
import { pushImage } from '../helpers/memory-registry.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const PASSWORD = 'helper-s3cret-771';

describe('credential helpers and auth files (htpasswd registry)', () => {
  let reg: RunningRegistry;
  let dir: string;
  let bin: string;
  let asked: string;

  beforeAll(async () => {
    reg = await startRegistry({ htpasswd: { alice: PASSWORD } });
    dir = mkdtempSync(join(tmpdir(), 'regman-credhelper-'));
    bin = join(dir, 'bin');
    asked = join(dir, 'asked.log');
    mkdirSync(bin);
    // The helper protocol: server URL on stdin, JSON on stdout, "credentials not found" with exit 1.
    writeFileSync(
      join(bin, 'docker-credential-fake'),
      `#!/bin/sh\n[ "$1" = get ] || exit 2\nread -r server\necho "$server" >> '${asked}'\n` +
        `if [ "$server" = '${reg.host}' ]; then printf '{"ServerURL":"%s","Username":"alice","Secret":"${PASSWORD}"}' "$server"; exit 0; fi\n` +
        `echo "credentials not found in native keychain"; exit 1\n`,
    );
    writeFileSync(join(bin, 'docker-credential-broken'), `#!/bin/sh\necho "keychain is locked" >&2\nexit 3\n`);
    writeFileSync(join(bin, 'docker-credential-wrong'), `#!/bin/sh\nprintf '{"Username":"alice","Secret":"not-the-password-9"}'\n`);
    for (const h of ['fake', 'broken', 'wrong']) chmodSync(join(bin, `docker-credential-${h}`), 0o755);
    const client = new RegistryClient({ host: reg.host, plainHttp: true, credentials: new StaticCredentialProvider({ username: 'alice', password: PASSWORD }) });
    await pushImage(client, 'team/app', 'v1', { layers: [1000] });
    client.close();
  });

  afterAll(async () => {
    await reg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh HOME with the given files written (paths relative to it), and the env that goes with it. */
  function home(name: string, files: Record<string, unknown>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const h = join(dir, name);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(h, path, '..'), { recursive: true });
      writeFileSync(join(h, path), JSON.stringify(content));
    }
    return { HOME: h, PATH: `${bin}:${process.env.PATH ?? ''}`, ...extra };
  }

  async function tags(env: NodeJS.ProcessEnv): Promise<string[]> {
    const client = new RegistryClient({ host: reg.host, plainHttp: true, credentials: localCredentialProvider(env) });
    try {
      return await client.tagList('team/app');
    } finally {
      client.close();
    }
  }

  const basic = (user: string, pass: string) => ({ auth: Buffer.from(`${user}:${pass}`).toString('base64') });

  it('runs the credHelpers helper for its host, with the host on stdin', async () => {
    const env = home('helpers', { '.docker/config.json': { credHelpers: { [reg.host]: 'fake', 'other.example': 'broken' } } });
    expect(await tags(env)).toEqual(['v1']);
    expect(readFileSync(asked, 'utf8').split('\n')).toContain(reg.host);
  });

  it('runs credsStore under DOCKER_CONFIG, and goes anonymous when the store has nothing', async () => {
    const env = home('store', { 'dc/config.json': { credsStore: 'fake', auths: { [reg.host]: {} } } });
    const dockerConfig = join(env.HOME as string, 'dc');
    expect(await tags({ ...env, DOCKER_CONFIG: dockerConfig })).toEqual(['v1']);
    const provider = localCredentialProvider({ ...env, DOCKER_CONFIG: dockerConfig });
    expect(await provider.credentialsFor('elsewhere.example:5000')).toBeUndefined();
  });

  it('reads REGISTRY_AUTH_FILE before docker config, and XDG_RUNTIME_DIR / ~/.config auth.json without it', async () => {
    const wrongDocker = { '.docker/config.json': { auths: { [reg.host]: basic('alice', 'stale-docker-pw') } } };
    const authFile = home('authfile', { ...wrongDocker, 'custom/auth.json': { auths: { [`http://${reg.host}`]: basic('alice', PASSWORD) } } });
    expect(await tags({ ...authFile, REGISTRY_AUTH_FILE: join(authFile.HOME as string, 'custom/auth.json') })).toEqual(['v1']);

    const xdg = home('xdg', { ...wrongDocker, 'run/containers/auth.json': { auths: { [reg.host]: basic('alice', PASSWORD) } } });
    expect(await tags({ ...xdg, XDG_RUNTIME_DIR: join(xdg.HOME as string, 'run') })).toEqual(['v1']);

    const config = home('dotconfig', { ...wrongDocker, '.config/containers/auth.json': { credHelpers: { [reg.host]: 'fake' } } });
    expect(await tags(config)).toEqual(['v1']);

    // Alone, the stale docker entry is what is sent, and the registry refuses it.
    await expect(tags(home('stale', wrongDocker))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it.each([
    ['missing', 'nothere', /credential helper docker-credential-nothere \(credHelpers in .*config\.json\) is not on PATH/],
    ['failing', 'broken', /docker-credential-broken \(credHelpers in .*config\.json\) failed for 127\.0\.0\.1:\d+ \(exit 3\): keychain is locked/],
  ])('a %s helper is an error that names it and its file', async (_what, helper, message) => {
    const env = home(`bad-${helper}`, { '.docker/config.json': { credHelpers: { [reg.host]: helper } } });
    await expect(tags(env)).rejects.toThrow(message);
  });

  it('never prints what a helper gave: a refused password is redacted from the error', async () => {
    const env = home('wrong', { '.docker/config.json': { credHelpers: { [reg.host]: 'wrong' } } });
    const err = (await tags(env).catch((e: unknown) => e)) as Error;
    expect((err as { code?: string }).code).toBe('UNAUTHORIZED');
    expect(`${err.message} ${String((err as { cause?: unknown }).cause)}`).not.toContain('not-the-password-9');
  });

  it('regman copy uses the helper for both sides (cross-repository mount on one host)', async () => {
    const env = home('copy', { '.docker/config.json': { credHelpers: { [reg.host]: 'fake' } } });
    let out = '';
    const lines: string[] = [];
    await runCopy(`${reg.host}/team/app:v1`, `${reg.host}/mirror/app`, { platform: [], referrers: true, plainHttp: true }, {
      stdout: (t) => (out += t), env, reporter: lineReporter((l) => lines.push(l)), stderr: () => undefined,
    });
    expect(out).toMatch(/copied .* → .*mirror\/app:v1/);
    expect(out).toMatch(/2 mounted/);
    expect(out + lines.join('\n')).not.toContain(PASSWORD);
  });
});
