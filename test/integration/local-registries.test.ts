// The local stack's registries: port planning from the config's URL references, the missing-binary path, restart with storage kept.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalRegistries } from '../../local/registries.ts';
import { INSTALL_COMMAND, RegistryMissingError, ensureRegistryBinary } from '../../local/registry-process.ts';
import { planRegistryPorts } from '../../local/registries.ts';
import { pushImage } from '../helpers/images.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const yaml = (urls: Record<string, string>): string =>
  `version: 1\nregistries:\n${Object.entries(urls)
    .map(([name, url]) => `  ${name}:\n    kind: oci\n    url: ${url}\n    public: true\n`)
    .join('')}`;

describe('planRegistryPorts', () => {
  it('prefers the default of ${VAR:-url}, takes any port for ${VAR}, and pins literal URLs and set variables', () => {
    // Prepare
    const text = yaml({ a: '${A_URL:-http://127.0.0.1:5000}', b: '${B_URL}', c: 'http://127.0.0.1:5999', d: '${D_URL:-http://127.0.0.1:6000}' });

    // Act
    const plans = planRegistryPorts(text, 'x.yaml', { D_URL: 'http://127.0.0.1:7000' });

    // Assess
    expect(plans).toEqual([
      { name: 'a', envVar: 'A_URL', preferredPort: 5000, pinned: false },
      { name: 'b', envVar: 'B_URL', pinned: false },
      { name: 'c', preferredPort: 5999, pinned: true },
      { name: 'd', envVar: 'D_URL', preferredPort: 7000, pinned: true },
    ]);
  });

  it.each([
    ['a non-loopback URL', yaml({ a: 'http://10.0.0.1:5000' }), /serves plain http on 127\.0\.0\.1/],
    ['https', yaml({ a: 'https://127.0.0.1:5000' }), /serves plain http on 127\.0\.0\.1/],
    ['a cloud registry', 'version: 1\nregistries:\n  e:\n    kind: ecr\n    accountId: "123456789012"\n    region: us-east-1\n', /registries\.e: the local stack runs only kind: oci/],
    ['a URL mixing text and a variable', yaml({ a: 'http://127.0.0.1:${PORT}' }), /one \$\{VAR:-url\} reference/],
  ])('rejects %s, naming the file and the registry', (_name, text, message) => {
    expect(() => planRegistryPorts(text, 'x.yaml', {})).toThrow(message);
    expect(() => planRegistryPorts(text, 'x.yaml', {})).toThrow(/^x\.yaml: registries\./);
  });
});

describe('ensureRegistryBinary', () => {
  it('returns an existing binary', () => {
    assertRegistryInstalled();
    expect(ensureRegistryBinary({ bin: '/usr/bin/docker-registry', log: () => undefined })).toBe('/usr/bin/docker-registry');
  });

  it('without root, fails with the exact install command and installs nothing', () => {
    // Prepare
    const lines: string[] = [];

    // Act
    let caught: unknown;
    try {
      ensureRegistryBinary({ bin: '/nonexistent/docker-registry', log: (l) => lines.push(l), isRoot: false });
    } catch (err) {
      caught = err;
    }

    // Assess
    expect(caught).toBeInstanceOf(RegistryMissingError);
    expect((caught as RegistryMissingError).hint).toBe(INSTALL_COMMAND);
    expect(INSTALL_COMMAND).toBe('sudo apt-get install -y docker-registry');
    expect(lines).toEqual([]);
  });

  it('as root with a custom REGISTRY_BIN, does not run apt-get (the package cannot provide that path)', () => {
    const lines: string[] = [];
    expect(() => ensureRegistryBinary({ bin: '/nonexistent/docker-registry', log: (l) => lines.push(l), isRoot: true })).toThrow(RegistryMissingError);
    expect(lines).toEqual([]);
  });
});

describe('startLocalRegistries', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('starts every registry, exports the chosen URLs, keeps storage across a restart, and wires notifications on sources only', async () => {
    // Prepare
    assertRegistryInstalled();
    const dir = mkdtempSync(join(tmpdir(), 'regman-local-regs-'));
    dirs.push(dir);
    const configFile = join(dir, 'local.yaml');
    writeFileSync(
      configFile,
      `${yaml({ up: '${LR_UP_URL}', down: '${LR_DOWN_URL}' })}replication:\n  - name: r\n    source: up\n    repositories: ["**"]\n    targets:\n      - registry: down\n`,
    );
    const env: NodeJS.ProcessEnv = {};

    // Act
    const regs = await startLocalRegistries({ configFile, stateDir: join(dir, 'state'), notifyUrlFor: (n) => `http://127.0.0.1:9/notifications/${n}`, log: () => undefined, env });
    try {
      // Assess: URLs chosen and exported, config interpolated with them.
      const up = regs.processes.get('up')!;
      const down = regs.processes.get('down')!;
      expect(env.LR_UP_URL).toBe(up.url);
      expect(regs.urlEnv).toEqual({ LR_UP_URL: up.url, LR_DOWN_URL: down.url });
      expect(regs.config.registries.up).toMatchObject({ url: up.url });
      expect(regs.sources).toEqual(['up']);
      expect(up.rootDir).toBe(join(dir, 'state', 'registries', 'up'));
      expect(readFileSync(join(dir, 'state', 'run', 'up', 'config.yml'), 'utf8')).toContain('url: http://127.0.0.1:9/notifications/up');
      expect(readFileSync(join(dir, 'state', 'run', 'down', 'config.yml'), 'utf8')).not.toContain('notifications');

      // Act: push, stop, restart.
      const image = await pushImage(down, 'kept', 'v1');
      await down.stop();
      expect(down.running()).toBe(false);
      const again = await regs.restart('down');

      // Assess
      expect(again.port).toBe(down.port);
      expect(await skopeoDigest(`${again.host}/kept:v1`)).toBe(image.digest);
      await expect(regs.restart('nope')).rejects.toThrow(/no local registry named nope/);
    } finally {
      await regs.stop();
    }
  });
});
