// The gate sub-schemas of a promotion edge: scan source / allowlist / timeouts, signature keys, test runner timeouts.
import { describe, expect, it } from 'vitest';
import { validateConfig, type ConfigIssue } from '../../../functions/config/index.ts';
import { testsTimeoutSeconds } from '../../../functions/config/schema-gates.ts';

const FILE = 'config/registries.yaml';
const BASE = `registries:
  dev: { kind: oci, url: http://127.0.0.1:5000, public: true }
  prod: { kind: oci, url: http://127.0.0.1:5001, public: true }
environments:
  dev: { registries: [dev] }
  prod: { registries: [prod] }
promotion:
  - from: dev
    to: prod
    gates:
`;
const PEM = '-----BEGIN PUBLIC KEY-----\\nMFkw\\n-----END PUBLIC KEY-----';

function errorsOf(gates: string): readonly ConfigIssue[] {
  const result = validateConfig(BASE + gates, FILE);
  expect(result.config).toBeUndefined();
  return result.errors;
}

describe('gates schema', () => {
  it('applies defaults and keeps a bare allowlist date', () => {
    // Act
    const result = validateConfig(`${BASE}      scan:
        maxFindings: { critical: 0, high: 2 }
        allowlist:
          - { id: CVE-2023-38545, expires: 2026-06-30, reason: curl not used }
      signature:
        keys: [{ pem: "${PEM}" }, { id: ci, secretName: regman/cosign-pub }]
      tests: { http: "http://127.0.0.1:8080/hook", timeoutSeconds: 30 }
`, FILE);
    // Assess
    expect(result.errors).toEqual([]);
    const gates = result.config!.promotion[0]!.gates;
    expect(gates.scan).toMatchObject({ source: 'referrer', fixableOnly: false, timeouts: { pendingSeconds: 600, pollSeconds: 10 } });
    expect(gates.scan!.allowlist).toEqual([{ id: 'CVE-2023-38545', expires: '2026-06-30', reason: 'curl not used' }]);
    expect(gates.signature!.keys).toHaveLength(2);
    expect(testsTimeoutSeconds(gates.tests!)).toBe(30);
  });

  it('names the path and value of each bad gate field', () => {
    // Act
    const errors = errorsOf(`      scan:
        source: trivy
        maxFindings: { high: 1 }
        allowlist: [{ id: CVE-1, expires: soon, reason: x }, { id: CVE-2, expires: 2026-01-01 }]
        timeouts: { pendingSeconds: -5 }
      signature:
        keys: [{ pem: "${PEM}", secretName: a/b }, { pem: "not a key" }]
      tests: { lambda: smoke, timeoutSeconds: 10, timeoutMinutes: 1 }
`);
    // Assess
    expect(errors.map((e) => e.path)).toEqual([
      'promotion[0].gates.scan.source',
      'promotion[0].gates.scan.allowlist[0].expires',
      'promotion[0].gates.scan.allowlist[1].reason',
      'promotion[0].gates.scan.timeouts.pendingSeconds',
      'promotion[0].gates.signature.keys[0]',
      'promotion[0].gates.signature.keys[1].pem',
      'promotion[0].gates.tests',
    ]);
    expect(errors.every((e) => e.file === FILE)).toBe(true);
    expect(errors[0]!.expected).toBe('referrer or ecr');
    expect(errors[1]!.expected).toBe('a date like 2026-03-01 or an ISO date-time');
    expect(errors[4]!.message).toBe('gives 2 key sources (pem, secretName)');
    expect(errors[6]!.message).toBe('sets both timeoutSeconds and timeoutMinutes');
  });

  it.each([[{ timeoutSeconds: 5 }, 5], [{ timeoutMinutes: 2 }, 120], [{}, 900]])('test timeout %j is %d s', (t, s) => expect(testsTimeoutSeconds(t)).toBe(s));
});

describe('promotion triggers schema', () => {
  it('defaults tags to every tag and checks provider, event and patterns', () => {
    // Act
    const ok = validateConfig(`${BASE}      scan: { maxFindings: { critical: 0 } }
    triggers:
      - { provider: github, event: release, repository: team/app }
`, FILE);
    const bad = validateConfig(`${BASE}      scan: { maxFindings: { critical: 0 } }
    triggers:
      - { provider: bitbucket, event: tag, repository: team/app }
      - { provider: gitlab, event: release, repository: team/app, tags: ['/(/'] }
`, FILE);
    // Assess
    expect(ok.errors).toEqual([]);
    expect(ok.config!.promotion[0]!.triggers).toEqual([{ provider: 'github', event: 'release', tags: ['*'], repository: 'team/app' }]);
    expect(bad.errors.map((e) => e.path)).toEqual(['promotion[0].triggers[0].provider', 'promotion[0].triggers[1].tags[0]', 'promotion[0].triggers[1].event']);
  });
});
