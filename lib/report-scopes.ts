// What the console's report pages read, from the validated config: every registry (costs, usage and lineage cover them all), read only.
//
// Pure data, no CDK: lib/report-grants.ts turns it into IAM statements.
import type { RegmanConfig } from '../functions/config/index.ts';
import type { EcrRepositoryScope, SecretScope } from './replication-scopes.ts';

/** Everything the console function reads for the reports. */
export interface ReportAccess {
  /** ECR registries reached with the function's own role: every repository of each (the inventory lists them all). */
  readonly ecr: readonly EcrRepositoryScope[];
  /** Secrets of the registries (no other secret). */
  readonly secrets: readonly SecretScope[];
  /** `credentials.iamRole` of ECR registries: the assumed role carries the ECR rights. */
  readonly roles: readonly string[];
}

/**
 * The registries' read scopes for the reports: all of them, as `regman report costs|usage` read every configured registry.
 *
 * @example
 * reportAccess(config).ecr[0] // { registry: 'ecr-dev', accountId: '111122223333', region: 'eu-west-1', names: [{ prefix: '' }] }
 */
export function reportAccess(config: Pick<RegmanConfig, 'registries'>): ReportAccess {
  const ecr: EcrRepositoryScope[] = [];
  const secrets: SecretScope[] = [];
  const roles = new Set<string>();
  for (const name of Object.keys(config.registries).sort()) {
    const r = config.registries[name]!;
    const creds = r.credentials;
    if (r.kind === 'ecr' && creds?.iamRole === undefined) ecr.push({ registry: name, accountId: r.accountId, region: r.region, names: [{ prefix: '' }] });
    if (creds?.secretArn !== undefined) secrets.push({ registry: name, secretArn: creds.secretArn });
    if (creds?.secretName !== undefined) secrets.push({ registry: name, secretName: creds.secretName });
    if (creds?.iamRole !== undefined) roles.add(creds.iamRole);
  }
  return { ecr, secrets, roles: [...roles].sort() };
}
