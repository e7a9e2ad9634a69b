// The two-environment promotion config the promotion tests share: a dev and a staging registry and one edge between them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../functions/config/index.ts';
import type { RegmanConfig } from '../../functions/config/types.ts';

/**
 * Writes `<dir>/registries.yaml` with registries `dev` and `stg` (public OCI registries at these URLs),
 * environments dev and staging, and the edge dev → staging with `gates` (a YAML flow mapping), and loads it.
 *
 * @example
 * const config = await devStagingConfig(dir, { dev: dev.url, stg: stg.url }, '{ approval: { approvers: [alice], required: 1 } }');
 */
export async function devStagingConfig(dir: string, urls: { readonly dev: string; readonly stg: string }, gates: string): Promise<RegmanConfig> {
  const file = join(dir, 'registries.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'registries:',
      `  dev: { kind: oci, url: '${urls.dev}', public: true }`,
      `  stg: { kind: oci, url: '${urls.stg}', public: true }`,
      'environments:',
      '  dev: { registries: [dev] }',
      '  staging: { registries: [stg] }',
      'promotion:',
      `  - { from: dev, to: staging, gates: ${gates} }`,
      '',
    ].join('\n'),
  );
  return loadConfig(file, { env: {} });
}
