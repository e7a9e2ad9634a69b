// Unit tests of lib/promotion-scopes.ts: promotion edges → the source and target registries, keys and test runners the promotion functions may touch.
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../functions/config/index.ts';
import { promotionAccess } from '../../lib/promotion-scopes.ts';

describe('promotionAccess', () => {
  it('reads from each edge\'s first `from` registry, writes to every `to` registry, and leaves other registries out', async () => {
    // Prepare
    const config = await loadConfig('test/cdk/fixtures/promotion.yaml', { env: {} });

    // Act
    const access = promotionAccess(config);

    // Assess
    expect(access.sources.registries).toEqual(['ecr-dev', 'ecr-staging']);
    expect(access.targets.registries).toEqual(['ecr-prod', 'ecr-staging', 'gar-eu', 'harbor']);
    // ecr-prod is reached through its iamRole: no direct ECR scope, the role instead.
    expect(access.targets.ecr).toEqual([{ registry: 'ecr-staging', accountId: '111122223333', region: 'eu-central-1', names: [{ prefix: '' }] }]);
    expect(access.targets.roles).toEqual(['arn:aws:iam::444455556666:role/regman-promotion']);
    expect(access.targets.secrets).toEqual([{ registry: 'gar-eu', secretName: 'regman/gar' }, { registry: 'harbor', secretName: 'regman/harbor-robot' }]);
    expect(access.sources.secrets).toEqual([]);
    expect(access.ecrScanSources.registries).toEqual(['ecr-dev']);
    expect(access.signatureKeySecrets).toEqual([{ registry: 'signature key regman/cosign-pub (staging → prod)', secretName: 'regman/cosign-pub' }]);
    expect(access.testLambdas).toEqual(['smoke-tests']);
    expect(access.testProjects).toEqual(['acme-integration-tests']);
    expect(access.localOnlyCredentials).toEqual([]);
  });

  it('names a promotion registry with workstation-only credentials, and one key secret used by two edges once', () => {
    // Prepare
    const yaml = [
      'version: 1',
      'registries:',
      '  a: { kind: oci, url: "https://a.example", credentials: { env: REG_A } }',
      '  b: { kind: oci, url: "https://b.example", public: true }',
      '  c: { kind: oci, url: "https://c.example", public: true }',
      'environments: { dev: { registries: [a] }, staging: { registries: [b] }, prod: { registries: [c] } }',
      'promotion:',
      '  - { from: dev, to: staging, gates: { signature: { keys: [{ secretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:cosign-AbCdEf" }] } } }',
      '  - { from: staging, to: prod, gates: { signature: { keys: [{ secretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:cosign-AbCdEf" }] } } }',
      '',
    ].join('\n');
    const { config, errors } = validateConfig(yaml, 'inline.yaml');
    expect(errors).toEqual([]);

    // Act
    const access = promotionAccess(config!);

    // Assess
    expect(access.localOnlyCredentials).toEqual(['a']);
    expect(access.signatureKeySecrets.map((s) => s.secretArn)).toEqual(['arn:aws:secretsmanager:eu-west-1:111122223333:secret:cosign-AbCdEf']);
    expect(access.ecrScanSources.registries).toEqual([]);
    expect(access.testLambdas).toEqual([]);
  });
});
