// Whether dist/cli holds a build of the current sources: bin/regman.js runs the build when it is fresh, else the
// TypeScript sources through tsx (slower to start), and says so when a build exists but is older than a source.
import { readFileSync, statSync } from 'node:fs';

/**
 * `fresh`: `built` exists and none of the project sources listed in `inputs` (paths relative to `root`) is newer;
 * `stale`: a build exists but a source changed (or went) since; `absent`: no build (or no list of its inputs).
 * Strictly newer: installs from a tarball give every file the same mtime.
 *
 * @param {URL} built   dist/cli/regman.js
 * @param {URL} inputs  dist/cli/inputs.json
 * @param {URL} root    the project folder (ends with /)
 * @returns {'fresh' | 'stale' | 'absent'}
 */
export function cliBuildState(built, inputs, root) {
  let at;
  let list;
  try {
    at = statSync(built).mtimeMs;
    list = JSON.parse(readFileSync(inputs, 'utf8'));
  } catch {
    return 'absent';
  }
  try {
    return list.every((p) => statSync(new URL(p, root)).mtimeMs <= at) ? 'fresh' : 'stale';
  } catch {
    return 'stale';
  }
}

/** The line printed on stderr when the build is stale. */
export const STALE_BUILD_HINT =
  'regman: dist/cli is older than the sources (edited or pulled since the last build); running the TypeScript sources, which starts slower. Run `npm run build` to rebuild.';
