// The wording of schema errors for each kind of zod issue, and the registry host each kind implies.
import { describe, expect, it } from 'vitest';
import { formatConfigIssue, registryHost, repositoryNamespace, validateConfig, type RegistryConfig } from '../../../functions/config/index.ts';

const REGISTRY = '  ecr: { kind: ecr, region: eu-west-1, accountId: "123456789012" }\n';

function firstError(text: string): string {
  const { errors } = validateConfig(text, 'c.yaml');
  expect(errors.length).toBeGreaterThan(0);
  return formatConfigIssue(errors[0]!);
}

describe('schema error wording', () => {
  it.each([
    ['an enum value', `registries:\n  g: { kind: gcr, project: acme-platform, host: de.gcr.io, public: true }\n`,
      'c.yaml:2 registries.g.host: "de.gcr.io" is not valid (expected one of: gcr.io, us.gcr.io, eu.gcr.io, asia.gcr.io)'],
    ['a list where a mapping belongs', 'registries: [ecr]\n', 'c.yaml:1 registries: ["ecr"] is a list (expected a mapping of registry name to registry)'],
    ['an empty section', 'registries:\n', 'c.yaml:1 registries: is empty (expected a mapping of registry name to registry)'],
    ['no registries', 'registries: {}\n', 'c.yaml:1 registries: defines no registry (expected at least one registry)'],
    ['a bad registry name', 'registries:\n  "bad name": { kind: ecr, region: eu-west-1, accountId: "123456789012" }\n',
      'c.yaml:2 registries["bad name"]: "bad name" is not a valid name (expected a name of letters, digits, "-" and "_", starting with a letter or digit)'],
    ['a string where a list belongs', `registries:\n${REGISTRY}replication:\n  - { name: r, source: ecr, repositories: "*", targets: [] }\n`,
      'c.yaml:4 replication[0].repositories: "*" is a string (expected a list of patterns (a glob like release-* or a regex like /^v\\d+$/))'],
    ['a number out of range', `registries:\n${REGISTRY}retention:\n  - { name: p, rules: { delete: { untagged: true } }, maxDeleteShare: 2 }\n`,
      'c.yaml:4 retention[0].maxDeleteShare: 2 is too large (expected a share between 0 and 1)'],
    ['a value of no accepted form', `registries:\n${REGISTRY}retention:\n  - { name: p, ecrLifecyclePolicy: 5 }\n`,
      'c.yaml:4 retention[0].ecrLifecyclePolicy: 5 is not valid here (expected the path of a .json file, or an ECR lifecycle policy mapping { rules: [...] })'],
    ['a missing kind', 'registries:\n  x: { region: eu-west-1 }\n', 'c.yaml:2 registries.x.kind: is missing (expected one of: ecr, gar, gcr, acr, dockerhub, oci)'],
    ['a rate limit without a limit', 'registries:\n  h: { kind: dockerhub, namespace: acme, public: true, rateLimit: { windowHours: 6 } }\n',
      'c.yaml:2 registries.h.rateLimit: sets no limit (expected pulls (per windowHours, default 6) or requestsPerSecond)'],
  ])('%s', (_what, text, line) => {
    expect(firstError(text)).toBe(line);
  });
});

describe('registryHost and repositoryNamespace', () => {
  const common = { public: false } as const;
  it.each<[RegistryConfig, string, string]>([
    [{ kind: 'ecr', region: 'eu-west-1', accountId: '123456789012', ...common }, '123456789012.dkr.ecr.eu-west-1.amazonaws.com', ''],
    [{ kind: 'gar', project: 'acme-platform', location: 'europe', ...common }, 'europe-docker.pkg.dev', 'acme-platform'],
    [{ kind: 'gar', project: 'acme-platform', location: 'us-east1', host: 'us-docker.pkg.dev', ...common }, 'us-docker.pkg.dev', 'acme-platform'],
    [{ kind: 'gcr', project: 'acme-platform', host: 'eu.gcr.io', ...common }, 'eu.gcr.io', 'acme-platform'],
    [{ kind: 'acr', name: 'AcmeProd', ...common }, 'acmeprod.azurecr.io', ''],
    [{ kind: 'acr', loginServer: 'acme.azurecr.cn', ...common }, 'acme.azurecr.cn', ''],
    [{ kind: 'dockerhub', namespace: 'acme', ...common }, 'registry-1.docker.io', 'acme'],
    [{ kind: 'oci', url: 'http://127.0.0.1:5000', insecure: false, ...common }, '127.0.0.1:5000', ''],
  ])('%o → %s', (registry, host, namespace) => {
    expect(registryHost(registry)).toBe(host);
    expect(repositoryNamespace(registry)).toBe(namespace);
  });
});
