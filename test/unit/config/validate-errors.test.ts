// One test per class of configuration error: each asserts the file, path, line, value, message and expectation.
import { describe, expect, it } from 'vitest';
import { formatConfigIssue, validateConfig, type ConfigIssue } from '../../../functions/config/index.ts';

const FILE = 'config/registries.yaml';

/** A valid document's registries and environments, to which each case adds its own sections. */
const BASE = `registries:
  ecr-main:
    kind: ecr
    region: eu-west-1
    accountId: "123456789012"
  gar:
    kind: gar
    project: acme-platform
    location: europe
    credentials: { secretName: regman/gar }
environments:
  dev: { registries: [ecr-main] }
  prod: { registries: [gar] }
`;

function errorsOf(text: string): readonly ConfigIssue[] {
  const result = validateConfig(text, FILE);
  expect(result.config).toBeUndefined();
  return result.errors;
}

/** The 1-based line of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`fixture has no line with ${needle}`);
  return index + 1;
}

describe('validateConfig: one error class per test', () => {
  it('rejects an unknown registry kind, listing the kinds', () => {
    // Prepare
    const text = BASE.replace('kind: gar', 'kind: gcs');
    // Act
    const errors = errorsOf(text);
    // Assess
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      file: FILE,
      path: 'registries.gar.kind',
      line: lineOf(text, 'kind: gcs'),
      value: 'gcs',
      message: 'unknown registry kind "gcs"',
      expected: 'one of: ecr, gar, gcr, acr, dockerhub, oci',
    });
    expect(formatConfigIssue(errors[0]!)).toBe(
      `${FILE}:${lineOf(text, 'kind: gcs')} registries.gar.kind: unknown registry kind "gcs" (expected one of: ecr, gar, gcr, acr, dockerhub, oci)`,
    );
  });

  it('rejects a replication target that names no registry, in the documented format', () => {
    // Prepare
    const text = `${BASE}replication:
  - name: r
    source: ecr-main
    repositories: ["team-a/*"]
    targets:
      - registry: gar
      - registry: euwest
`;
    // Act
    const errors = errorsOf(text);
    // Assess
    expect(errors.map(formatConfigIssue)).toEqual([
      `${FILE}:${lineOf(text, 'euwest')} replication[0].targets[1].registry: "euwest" names no registry (expected one of: ecr-main, gar)`,
    ]);
    expect(errors[0]).toMatchObject({ value: 'euwest', path: 'replication[0].targets[1].registry' });
  });

  it('rejects a replication source that names no registry', () => {
    const text = `${BASE}replication:
  - name: r
    source: ecr-mian
    repositories: ["*"]
    targets: [{ registry: gar }]
`;
    const errors = errorsOf(text);
    expect(errors).toEqual([
      {
        file: FILE,
        path: 'replication[0].source',
        line: lineOf(text, 'ecr-mian'),
        value: 'ecr-mian',
        message: '"ecr-mian" names no registry',
        expected: 'one of: ecr-main, gar',
      },
    ]);
  });

  it('rejects an environment that names no registry, and one with no registries', () => {
    const text = BASE.replace('dev: { registries: [ecr-main] }', 'dev: { registries: [ecr-main, harbour] }\n  qa: { registries: [] }');
    const errors = errorsOf(text);
    expect(errors).toEqual([
      expect.objectContaining({ path: 'environments.dev.registries[1]', value: 'harbour', message: '"harbour" names no registry', expected: 'one of: ecr-main, gar' }),
      expect.objectContaining({ path: 'environments.qa.registries', value: [], message: '[] is too short', expected: 'at least one registry name' }),
    ]);
  });

  it.each([
    ['a repository pattern', 'repositories: ["/team-(a|b/"]', 'replication[0].repositories[0]', '/team-(a|b/', 'Invalid regular expression: /team-(a|b/: Unterminated group'],
    ['a tag exclusion', 'repositories: ["*"]\n    tags: { exclude: ["/[z-a]/"] }', 'replication[0].tags.exclude[0]', '/[z-a]/', 'Invalid regular expression: /[z-a]/: Range out of order in character class'],
    ['a rename', 'repositories: ["*"]\n    targets: [{ registry: gar, rename: { match: "(", replace: x } }]', 'replication[0].targets[0].rename.match', '(', 'Invalid regular expression: /(/: Unterminated group'],
  ])('rejects an invalid regex in %s, quoting the pattern and the JavaScript error', (_what, yaml, path, pattern, jsError) => {
    // Prepare
    const text = `${BASE}replication:
  - name: r
    source: ecr-main
    ${yaml}
${yaml.includes('targets') ? '' : '    targets: [{ registry: gar }]\n'}`;
    // Act
    const errors = errorsOf(text);
    // Assess
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path, value: pattern, message: `invalid regex ${JSON.stringify(pattern)}: ${jsError}` });
    expect(errors[0]!.expected).toMatch(/regular expression/);
  });

  it('rejects a promotion edge between undefined environments, naming each side', () => {
    const text = `${BASE}promotion:
  - from: qa
    to: production
`;
    const errors = errorsOf(text);
    expect(errors.map(formatConfigIssue)).toEqual([
      `${FILE}:${lineOf(text, 'from: qa')} promotion[0].from: "qa" names no environment (expected one of: dev, prod)`,
      `${FILE}:${lineOf(text, 'to: production')} promotion[0].to: "production" names no environment (expected one of: dev, prod)`,
    ]);
  });

  it('rejects a promotion cycle, at the edge that closes it', () => {
    const text = BASE.replace('  prod: {', '  staging: { registries: [gar] }\n  prod: {') + `promotion:
  - { from: dev, to: staging }
  - { from: staging, to: prod }
  - { from: prod, to: dev }
`;
    const errors = errorsOf(text);
    expect(errors).toEqual([
      {
        file: FILE,
        path: 'promotion[2]',
        line: lineOf(text, 'from: prod, to: dev'),
        value: 'dev → staging → prod → dev',
        message: 'promotion edges form a cycle: dev → staging → prod → dev',
        expected: 'edges that only move forward, e.g. dev → staging → prod',
      },
    ]);
  });

  it('rejects an edge from an environment to itself, and a duplicate edge', () => {
    const text = `${BASE}promotion:
  - { from: dev, to: prod }
  - { from: dev, to: prod }
  - { from: prod, to: prod }
`;
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      ['promotion[1]', 'duplicate promotion edge dev → prod (first at promotion[0])'],
      ['promotion[2].to', 'promotes "prod" to itself'],
    ]);
  });

  it('rejects approval.required greater than the number of approvers', () => {
    const text = `${BASE}promotion:
  - from: dev
    to: prod
    gates:
      approval:
        approvers: [alice@acme.example, U024BE7LH]
        required: 3
`;
    const errors = errorsOf(text);
    expect(errors).toEqual([
      {
        file: FILE,
        path: 'promotion[0].gates.approval.required',
        line: lineOf(text, 'required: 3'),
        value: 3,
        message: 'requires 3 approvals but lists 2 approvers',
        expected: 'a number <= 2, the number of approvers',
      },
    ]);
  });

  it('rejects a requiredFrom approver that is not an approver, and accepts channel settings', () => {
    const text = `${BASE}promotion:
  - from: dev
    to: prod
    gates:
      approval:
        approvers: [alice@acme.example, U024BE7LH]
        required: 2
        requiredFrom: [U024BE7LH, carol@acme.example]
        channels:
          email: { from: releases@acme.example }
          slack: { webhookUrlSecretName: regman/slack-webhook }
`;
    expect(errorsOf(text).map((e) => [e.path, e.message])).toEqual([
      ['promotion[0].gates.approval.requiredFrom[1]', '"carol@acme.example" is in requiredFrom but not in approvers'],
    ]);
  });

  it('rejects a private registry without a credential reference; ECR (default IAM) and public registries need none', () => {
    // Prepare: harbor is private and names no credentials; hub is public; ecr-main relies on the default IAM role.
    const text = BASE.replace(
      'environments:',
      `  harbor:
    kind: oci
    url: https://harbor.example.com
  hub:
    kind: dockerhub
    namespace: library
    public: true
environments:`,
    );
    // Act
    const errors = errorsOf(text);
    // Assess
    expect(errors).toEqual([
      {
        file: FILE,
        path: 'registries.harbor.credentials',
        line: lineOf(text, 'kind: oci'),
        value: undefined,
        message: 'private oci registry "harbor" has no credentials reference',
        expected: 'credentials: { secretArn | secretName | env | dockerConfig }, or public: true for anonymous access',
      },
    ]);
  });

  it('rejects rateLimit.pulls on a registry that is not Docker Hub (nothing would count them); accepts it on Docker Hub', () => {
    // Prepare: harbor sets a pull limit, which only the Docker Hub adapter counts; hub sets the same, as it should.
    const text = BASE.replace(
      'environments:',
      `  harbor:
    kind: oci
    url: https://harbor.example.com
    public: true
    rateLimit: { pulls: 100, requestsPerSecond: 5 }
  hub:
    kind: dockerhub
    namespace: library
    public: true
    rateLimit: { pulls: 100 }
environments:`,
    );
    // Act
    const errors = errorsOf(text);
    // Assess
    expect(errors.map((e) => [e.path, e.value, e.message, e.expected])).toEqual([
      [
        'registries.harbor.rateLimit.pulls',
        100,
        'pulls is set on a kind: oci registry, where nothing counts pulls',
        'pulls only on kind: dockerhub (its per-account pull limit); rateLimit.requestsPerSecond for other registries',
      ],
    ]);
    expect(validateConfig(text.replace('rateLimit: { pulls: 100, requestsPerSecond: 5 }', 'rateLimit: { requestsPerSecond: 5 }'), FILE).errors).toEqual([]);
  });

  it('rejects duplicate replication rule names and duplicate retention policy names', () => {
    const rule = `  - name: copy
    source: ecr-main
    repositories: ["*"]
    targets: [{ registry: gar }]
`;
    const policy = `  - name: sweep
    rules: { delete: { untagged: true } }
`;
    const text = `${BASE}replication:\n${rule}${rule}retention:\n${policy}${policy}`;
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.path, e.value, e.message])).toEqual([
      ['replication[1].name', 'copy', 'duplicate replication rule name "copy" (first at replication[0])'],
      ['retention[1].name', 'sweep', 'duplicate retention policy name "sweep" (first at retention[0])'],
    ]);
  });

  it('rejects inline credentials anywhere under a registry, never echoing them', () => {
    // Prepare
    const text = BASE.replace(
      'credentials: { secretName: regman/gar }',
      'credentials: { secretName: regman/gar, password: hunter2-canary }\n    token: tok-canary\n    auth: auth-canary',
    );
    // Act
    const errors = errorsOf(text);
    // Assess
    expect(errors.map((e) => e.path)).toEqual(['registries.gar.credentials.password', 'registries.gar.token', 'registries.gar.auth']);
    for (const e of errors) {
      expect(e.message).toMatch(/^inline credential "(password|token|auth)" is not allowed; credentials never live in the config file$/);
      expect(e.expected).toMatch(/Secrets Manager/);
      expect(e.value).toBe('<redacted>');
    }
    expect(JSON.stringify(errors)).not.toMatch(/canary/);
    expect(errors.map(formatConfigIssue).join('\n')).not.toMatch(/canary/);
  });

  it('rejects a URL with user:password@, without echoing it', () => {
    const text = BASE.replace('environments:', '  quay:\n    kind: oci\n    url: https://robot:s3cret-canary@quay.example.com\n    public: true\nenvironments:');
    const errors = errorsOf(text);
    expect(errors).toEqual([expect.objectContaining({ path: 'registries.quay.url', value: '<redacted>', message: expect.stringMatching(/URL holds credentials/) })]);
    expect(JSON.stringify(errors)).not.toMatch(/canary/);
  });
});

describe('validateConfig: registry locations', () => {
  it.each([
    ['plain http to a remote host', 'url: http://harbor.example.com', 'registries.harbor.url', /uses plain http on a non-loopback host/],
    ['a URL that is not one', 'url: harbor', 'registries.harbor.url', /"harbor" is not a URL/],
  ])('rejects %s', (_what, line, path, message) => {
    const text = BASE.replace('environments:', `  harbor:\n    kind: oci\n    ${line}\n    public: true\nenvironments:`);
    const errors = errorsOf(text);
    expect(errors).toEqual([expect.objectContaining({ path, message: expect.stringMatching(message) })]);
  });

  it.each([
    ['http on loopback', 'url: http://127.0.0.1:5000'],
    ['http on localhost', 'url: http://localhost:5000'],
    ['http with insecure: true', 'url: http://harbor.internal\n    insecure: true'],
  ])('accepts %s', (_what, line) => {
    const text = BASE.replace('environments:', `  harbor:\n    kind: oci\n    ${line}\n    public: true\nenvironments:`);
    expect(validateConfig(text, FILE).errors).toEqual([]);
  });

  it('rejects a bad ECR account id and region, and accepts an unquoted 12-digit id', () => {
    const bad = errorsOf(BASE.replace('region: eu-west-1', 'region: eu-west').replace('"123456789012"', '12345'));
    expect(bad.map((e) => [e.path, e.value, e.expected])).toEqual([
      ['registries.ecr-main.region', 'eu-west', 'an AWS region, e.g. eu-west-1'],
      ['registries.ecr-main.accountId', 12345, '12 digits in quotes, e.g. "123456789012"'],
    ]);
    const good = validateConfig(BASE.replace('"123456789012"', '123456789012'), FILE);
    expect(good.config?.registries['ecr-main']).toMatchObject({ kind: 'ecr', accountId: '123456789012' });
  });

  it('rejects iamRole outside ECR, and an ACR entry with neither name nor loginServer', () => {
    const text = BASE.replace('credentials: { secretName: regman/gar }', 'credentials: { iamRole: "arn:aws:iam::123456789012:role/x" }').replace(
      'environments:',
      '  acr:\n    kind: acr\n    credentials: { env: REGMAN_ACR }\nenvironments:',
    );
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      ['registries.gar.credentials.iamRole', 'iamRole is for ECR registries only, not gar'],
      ['registries.acr', 'names no registry'],
    ]);
  });

  it('names a misspelt field and suggests the right one', () => {
    const text = BASE.replace('location: europe', 'locaton: europe');
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      ['registries.gar.location', 'is missing'],
      ['registries.gar.locaton', 'unknown field "locaton", did you mean "location"?'],
    ]);
    expect(errors[1]!.expected).toMatch(/^one of: kind, project, location, host, /);
  });

  it('rejects two credential sources for one registry', () => {
    const errors = errorsOf(BASE.replace('{ secretName: regman/gar }', '{ secretName: regman/gar, env: REGMAN_GAR }'));
    expect(errors).toEqual([
      expect.objectContaining({ path: 'registries.gar.credentials', message: 'names 2 credential sources (secretName, env)', expected: 'exactly one credential source' }),
    ]);
  });
});

describe('validateConfig: promotion gates and retention', () => {
  it('checks the gates: scan thresholds, one test runner, approvers', () => {
    const text = `${BASE}promotion:
  - from: dev
    to: prod
    gates:
      scan: { maxFindings: { critical: -1 } }
      tests: { lambda: smoke, codebuild: it }
      approval: { approvers: [a@b.example, a@b.example], required: 1 }
`;
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      ['promotion[0].gates.scan.maxFindings.critical', '-1 is too small'],
      ['promotion[0].gates.tests', 'names 2 test runners (lambda, codebuild)'],
      ['promotion[0].gates.approval.approvers[1]', '"a@b.example" is listed twice (first at approvers[0])'],
    ]);
  });

  it('merges the retention module’s rule errors under the policy path, and checks the scope names', () => {
    const text = `${BASE}retention:
  - name: bad-ecr
    environments: [staging]
    ecrLifecyclePolicy:
      rules:
        - rulePriority: 1
          selection: { tagStatus: untagged, countType: sinceImagePushed, countUnit: days, countNumber: 0 }
          action: { type: expire }
  - name: two-sources
    rules: { delete: { untagged: true } }
    gitlab: { name_regex: ".*" }
`;
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.path, e.message.slice(0, 40)])).toEqual([
      ['retention[0].environments[0]', '"staging" names no environment'],
      ['retention[0].ecrLifecyclePolicy.rules[0].selection.countNumber', expect.stringContaining('AWS')],
      ['retention[1]', 'sets rules and gitlab'],
    ]);
    expect(errors[1]!.line).toBe(lineOf(text, 'countNumber: 0'));
  });
});

describe('validateConfig: the file itself', () => {
  it('reports a YAML syntax error with its line', () => {
    const errors = errorsOf('registries:\n  a: [1, 2\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: FILE, path: '', message: expect.stringMatching(/^YAML syntax error: /) });
    expect(errors[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('reports a duplicate key as a syntax error', () => {
    const errors = errorsOf(`${BASE}environments: {}\n`);
    expect(errors[0]!.message).toMatch(/YAML syntax error: Map keys must be unique/);
  });

  it('reports an empty file and an unknown top-level section', () => {
    expect(errorsOf('')).toEqual([expect.objectContaining({ path: '', message: 'the file is empty' })]);
    const errors = errorsOf(`${BASE}replicaton: []\n`);
    expect(errors.map((e) => [e.path, e.message])).toEqual([['replicaton', 'unknown field "replicaton", did you mean "replication"?']]);
  });

  it('rejects a schedule EventBridge Scheduler would refuse, and an unknown retention mode', () => {
    // Prepare
    const text = `${BASE}schedules:
  reconcile: rate(1 hours)
  retention: cron(0 3 * * *)
  retentionMode: delete
`;
    // Act
    const errors = errorsOf(text);
    // Assess
    expect(errors.map(formatConfigIssue)).toEqual([
      `${FILE}:${lineOf(text, 'rate(1 hours)')} schedules.reconcile: "rate(1 hours)" must say "1 hour" (singular for 1, plural otherwise) (expected an EventBridge Scheduler expression such as rate(15 minutes) or cron(0 3 * * ? *))`,
      `${FILE}:${lineOf(text, 'cron(0 3 * * *)')} schedules.retention: "cron(0 3 * * *)" has 5 cron fields, not 6 (minutes hours day-of-month month day-of-week year) (expected an EventBridge Scheduler expression such as rate(15 minutes) or cron(0 3 * * ? *))`,
      expect.stringMatching(new RegExp(`^${FILE}:${lineOf(text, 'retentionMode')} schedules.retentionMode: .*\\(expected dry-run or apply\\)$`)),
    ]);
  });

  it('collects every error of a file in one run, in line order', () => {
    const text = `registries:
  ecr-main: { kind: ecr, region: eu-west-1, accountId: "123456789012" }
  blob: { kind: s3 }
  harbor: { kind: oci, url: "https://harbor.example.com" }
environments:
  dev: { registries: [ecr-main] }
replication:
  - name: all
    source: ecr-main
    repositories: ["/team-(a|b/"]
    targets: [{ registry: euwest }]
promotion:
  - { from: dev, to: production }
`;
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.line, e.path])).toEqual([
      [3, 'registries.blob.kind'],
      [4, 'registries.harbor.credentials'],
      [10, 'replication[0].repositories[0]'],
      [11, 'replication[0].targets[0].registry'],
      [13, 'promotion[0].to'],
    ]);
  });
});
