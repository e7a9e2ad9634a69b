// `regman config validate`: exit codes and output, run as a real child process.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// bin/regman.ts once the lead registers `config` there; until then a CLI holding only registerConfig.
const ENTRY = readFileSync('bin/regman.ts', 'utf8').includes('registerConfig') ? 'bin/regman.ts' : 'test/fixtures/config/regman-config-only.ts';
const TSX = 'node_modules/.bin/tsx';

function regman(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [ENTRY, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('regman config validate', () => {
  it('exits 0 with a one-line summary for a valid file', async () => {
    expect(existsSync(TSX)).toBe(true);
    const { code, stdout, stderr } = await regman(['config', 'validate', 'config/registries.yaml']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(
      'config/registries.yaml: valid — 6 registries, 3 environments, 2 replication rules, 2 promotion edges, 2 retention policies\n',
    );
  });

  it('reads REGMAN_CONFIG when no file is given, and pluralizes the summary', async () => {
    const { code, stdout } = await regman(['config', 'validate'], { REGMAN_CONFIG: 'config/local.yaml' });
    expect(code).toBe(0);
    expect(stdout).toBe('config/local.yaml: valid — 4 registries, 3 environments, 1 replication rule, 2 promotion edges, 1 retention policy\n');
  });

  it('prints every error on stderr and exits 2 for an invalid file', async () => {
    const file = 'test/fixtures/config/five-errors.yaml';
    const { code, stdout, stderr } = await regman(['config', 'validate', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(`${file}:8 registries.blob.kind: unknown registry kind "s3" (expected one of: ecr, gar, gcr, acr, dockerhub, oci)`);
    expect(lines[3]).toBe(`${file}:21 replication[0].targets[0].registry: "euwest" names no registry (expected one of: ecr-main, blob, harbor)`);
    expect(lines[5]).toBe(`${file}: invalid — 5 errors`);
  });

  it('exits 2 with file:line for a YAML alias bomb, like every other config error', async () => {
    const file = 'test/fixtures/config/alias-bomb.yaml';
    const { code, stdout, stderr } = await regman(['config', 'validate', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:4 .*too many alias expansions`, 'm'));
  });

  it('exits 2 with a hint when the file cannot be read', async () => {
    const { code, stderr } = await regman(['config', 'validate', 'test/fixtures/config/nope.yaml']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: cannot read config file test\/fixtures\/config\/nope.yaml: ENOENT/);
    expect(stderr).toMatch(/Try: regman config validate/);
  });
});
