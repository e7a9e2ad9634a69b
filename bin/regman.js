#!/usr/bin/env node
// Entry for `npx regman` / a global install: the prebuilt bundle (package.json's `prepare` builds it on
// `npm ci` and on a git install) unless a source it was built from changed since, else the TypeScript
// sources through tsx's loader.
import { readFileSync, statSync } from 'node:fs';

const built = new URL('../dist/cli/regman.js', import.meta.url);

/** True when dist/cli holds a build and none of its project sources is newer (an edit after `npm ci`). */
function builtIsFresh() {
  try {
    const at = statSync(built).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('../dist/cli/inputs.json', import.meta.url), 'utf8'));
    // Strictly newer: installs from a tarball give every file the same mtime.
    return inputs.every((p) => statSync(new URL(`../${p}`, import.meta.url)).mtimeMs <= at);
  } catch {
    return false;
  }
}

if (builtIsFresh()) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./regman.ts');
}
