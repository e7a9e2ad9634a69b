#!/usr/bin/env node
// Entry for `npm i -g` / `npx regman`: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('./regman.ts');
