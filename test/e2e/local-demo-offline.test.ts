// A first run with no network: `npm start`'s stack (config/local.yaml) and `regman demo` run with the network taken
// away from every Node process (test/helpers/offline.mjs through NODE_OPTIONS); the demo image is built, pushed and
// replicated, and no process even tried to reach a host beyond loopback.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoResult } from '../../local/demo/run-demo.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OFFLINE = join(ROOT, 'test', 'helpers', 'offline.mjs');

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('regman demo with no network (e2e)', () => {
  let dir: string;
  let log: string;
  let env: NodeJS.ProcessEnv;
  let stack: ChildProcess | undefined;
  let exited: Promise<void>;
  const stderr: string[] = [];

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-offline-'));
    log = join(dir, 'refused.log');
    // Every Node process of the tree (the stack, the CLI, anything they start) loads the guard.
    env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${OFFLINE}`.trim(), REGMAN_OFFLINE_LOG: log };
    const options = { configFile: join(ROOT, 'config', 'local.yaml'), stateDir: join(dir, 'state'), reconcileEveryMinutes: 0 };
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'local-stack-child.ts'), JSON.stringify(options)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    stack = child;
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr.on('data', (b: Buffer) => stderr.push(b.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (/^READY /m.test(out)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the local stack exited (${code}) before it was ready:\n${stderr.join('').slice(-3000)}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (stack?.exitCode === null) {
      stack.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the guard is on in the processes it starts: a fetch of a public host is refused and logged', async () => {
    const probe = await run(['-e', "fetch('https://registry.npmjs.org/').then(() => process.exit(3), (e) => { console.log(e.cause?.code); })"], env);
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.stdout.trim()).toBe('ENETUNREACH');
    expect(readFileSync(log, 'utf8')).toMatch(/ connect registry\.npmjs\.org\n$/);
    rmSync(log);
  });

  it('builds, pushes and replicates the signed two-platform demo image, and nothing tried the network', async () => {
    // Act: the CLI as a user runs it, from the sources
    const demo = await run(['--import', 'tsx', join(ROOT, 'bin', 'regman.ts'), 'demo', '--state-dir', join(dir, 'state'), '--json'], env);
    // Assess
    expect(demo.code, `${demo.stderr}\n${stderr.join('').slice(-2000)}`).toBe(0);
    const result = JSON.parse(demo.stdout) as DemoResult;
    expect(result).toMatchObject({ registry: 'dev', repository: 'demo/app', tag: 'v1.0.0' });
    expect(result.platforms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(result.replication).toEqual([{ target: 'dr', repository: 'demo/app', outcome: 'success' }]);
    // The demo shows the audit record of that replication, as the log holds it.
    expect(result.audit).toEqual([expect.objectContaining({ action: 'replicate', outcome: 'success', target: 'dr', actor: expect.any(String), correlationId: expect.any(String), chain: expect.stringMatching(/^repo#demo\/app #\d+$/) })]);
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('');
  }, 120_000);
});
