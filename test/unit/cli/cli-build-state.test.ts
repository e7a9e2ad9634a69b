// bin/regman.js runs the prebuilt CLI when it is fresh, else the sources through tsx, and says so on stderr when a
// build exists but a source changed since (a `git pull` or an edit after `npm ci`): run in a small copy of the layout.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBuildState, STALE_BUILD_HINT } from '../../../bin/cli-build-state.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('bin/regman.js and the state of dist/cli', () => {
  let dir: string;
  const at = (seconds: number): Date => new Date(Date.UTC(2026, 11, 3, 12, 0, seconds));
  const touch = (rel: string, seconds: number): void => utimesSync(join(dir, rel), at(seconds), at(seconds));
  const run = (): { stdout: string; stderr: string } => {
    const stderrFile = join(dir, 'stderr.txt');
    const stdout = execFileSync('sh', ['-c', `node bin/regman.js --version 2>"${stderrFile}"`], { cwd: dir }).toString();
    return { stdout: stdout.trim(), stderr: readFileSync(stderrFile, 'utf8').trim() };
  };
  const state = () => cliBuildState(new URL(`file://${dir}/dist/cli/regman.js`), new URL(`file://${dir}/dist/cli/inputs.json`), new URL(`file://${dir}/`));

  beforeAll(() => {
    // Prepare: the entry and its helper, a "build" and a "source" that say which ran, the project's node_modules (tsx)
    dir = mkdtempSync(join(tmpdir(), 'regman-entry-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    copyFileSync(join(ROOT, 'bin', 'regman.js'), join(dir, 'bin', 'regman.js'));
    copyFileSync(join(ROOT, 'bin', 'cli-build-state.js'), join(dir, 'bin', 'cli-build-state.js'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'bin', 'regman.ts'), "console.log('from the sources');\n");
    writeFileSync(join(dir, 'dist', 'cli', 'regman.js'), "console.log('from the build');\n");
    writeFileSync(join(dir, 'dist', 'cli', 'inputs.json'), JSON.stringify(['bin/regman.ts']));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fresh: runs the build, quietly', () => {
    touch('bin/regman.ts', 0);
    touch('dist/cli/regman.js', 10);
    expect(state()).toBe('fresh');
    expect(run()).toEqual({ stdout: 'from the build', stderr: '' });
  });

  it('stale (a source newer than the build): runs the sources and says to rebuild', () => {
    touch('dist/cli/regman.js', 10);
    touch('bin/regman.ts', 20);
    expect(state()).toBe('stale');
    expect(run()).toEqual({ stdout: 'from the sources', stderr: STALE_BUILD_HINT });
    expect(STALE_BUILD_HINT).toContain('npm run build');
  });

  it('a source the build lists is gone: stale', () => {
    writeFileSync(join(dir, 'dist', 'cli', 'inputs.json'), JSON.stringify(['bin/regman.ts', 'bin/gone.ts']));
    touch('bin/regman.ts', 0);
    touch('dist/cli/regman.js', 10);
    expect(state()).toBe('stale');
    writeFileSync(join(dir, 'dist', 'cli', 'inputs.json'), JSON.stringify(['bin/regman.ts']));
  });

  it('absent (no build, e.g. an install without devDependencies): runs the sources without a hint', () => {
    rmSync(join(dir, 'dist', 'cli', 'regman.js'));
    expect(state()).toBe('absent');
    expect(run()).toEqual({ stdout: 'from the sources', stderr: '' });
  });
});
