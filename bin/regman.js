#!/usr/bin/env node
// Entry for `npx regman` / a global install: the prebuilt bundle (package.json's `prepare` builds it on
// `npm ci` and on a git install) unless a source it was built from changed since, else the TypeScript
// sources through tsx's loader (with a hint on stderr when a build exists but is stale).
import { cliBuildState, STALE_BUILD_HINT } from './cli-build-state.js';

const built = new URL('../dist/cli/regman.js', import.meta.url);
const state = cliBuildState(built, new URL('../dist/cli/inputs.json', import.meta.url), new URL('../', import.meta.url));

if (state === 'fresh') {
  await import(built.href);
} else {
  if (state === 'stale') process.stderr.write(`${STALE_BUILD_HINT}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('./regman.ts');
}
