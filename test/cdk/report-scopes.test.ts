// Unit tests of lib/report-scopes.ts: the config's registries → what the console's report pages read (every ECR repository, secrets, assumed roles).
import { describe, expect, it } from 'vitest';
import type { RegmanConfig } from '../../functions/config/index.ts';
import { reportAccess } from '../../lib/report-scopes.ts';

describe('reportAccess', () => {
  it.each<[string, RegmanConfig['registries'], ReturnType<typeof reportAccess>]>([
    ['no registry', {}, { ecr: [], secrets: [], roles: [] }],
    [
      'an ECR registry with its own role: every repository',
      { main: { kind: 'ecr', accountId: '111122223333', region: 'eu-west-1', public: false } },
      { ecr: [{ registry: 'main', accountId: '111122223333', region: 'eu-west-1', names: [{ prefix: '' }] }], secrets: [], roles: [] },
    ],
    [
      'an ECR registry through an assumed role: the role, no repository grant',
      { dr: { kind: 'ecr', accountId: '444455556666', region: 'us-east-1', public: false, credentials: { iamRole: 'arn:aws:iam::444455556666:role/reader' } } },
      { ecr: [], secrets: [], roles: ['arn:aws:iam::444455556666:role/reader'] },
    ],
    [
      'registries with secrets by name and by ARN',
      {
        harbor: { kind: 'oci', url: 'https://harbor.example', public: false, insecure: false, credentials: { secretName: 'regman/harbor' } },
        ghcr: { kind: 'oci', url: 'https://ghcr.io', public: false, insecure: false, credentials: { secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:ghcr-AbCdEf' } },
      },
      { ecr: [], secrets: [{ registry: 'ghcr', secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:ghcr-AbCdEf' }, { registry: 'harbor', secretName: 'regman/harbor' }], roles: [] },
    ],
  ])('%s', (_name, registries, expected) => {
    expect(reportAccess({ registries })).toEqual(expected);
  });
});
