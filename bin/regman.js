#!/usr/bin/env node
// Entry for `npx regman` / a global install: the prebuilt bundle when `npm run build` made one (fast
// start-up), else the TypeScript sources through tsx's loader.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/regman.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./regman.ts');
}
