// The zod schemas of a promotion edge's gates: scan (thresholds, allowlist, source), signature (keys) and tests.
import * as z from 'zod';
import { addProblem, httpsUrl, strict } from './schema-helpers.ts';

const findings = z.number({ error: 'a number of findings >= 0' }).int({ error: 'a whole number' }).nonnegative({ error: 'a number >= 0' });
const seconds = (what: string) => z.number({ error: `a number of seconds (${what})` }).positive({ error: 'a positive number of seconds' });

const DATE_EXPECTED = 'a date like 2026-03-01 or an ISO date-time';

/** One CVE allowlist entry: an id, when it stops applying, and why it was accepted. */
export const allowlistEntrySchema = strict({
  id: z.string({ error: 'a vulnerability id like CVE-2024-1234' }).min(1, { error: 'a vulnerability id like CVE-2024-1234' }),
  /** A YAML loader with timestamps may give a Date: keep a bare date bare (it means the end of that day). */
  expires: z.preprocess(
    (v) => (v instanceof Date ? v.toISOString().replace(/T00:00:00\.000Z$/, '') : v),
    z.string({ error: DATE_EXPECTED }).refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(new Date(s).getTime()), { error: DATE_EXPECTED }),
  ),
  reason: z.string({ error: 'why the finding is accepted' }).min(1, { error: 'why the finding is accepted' }),
});

/** Gate: the image's scan findings, per severity, must not exceed these counts (`high: 2` means fewer than 3). */
export const scanGateSchema = strict({
  /** Where findings come from: a SARIF / Trivy JSON report attached as a referrer, or ECR's own scan. @default referrer */
  source: z.enum(['referrer', 'ecr'], { error: 'referrer or ecr' }).default('referrer'),
  maxFindings: strict({
    critical: findings.optional(),
    high: findings.optional(),
    medium: findings.optional(),
    low: findings.optional(),
    informational: findings.optional(),
    undefined: findings.optional(),
  }).superRefine((m, ctx) => {
    if (Object.values(m).every((v) => v === undefined)) {
      addProblem(ctx, 'sets no threshold', 'at least one severity, e.g. critical: 0');
    }
  }),
  /** Accepted findings, each until its expiry date; an expired entry no longer applies. */
  allowlist: z.array(allowlistEntrySchema, { error: 'a list of { id, expires, reason }' }).default([]),
  /** Count only findings that have a fix. @default false */
  fixableOnly: z.boolean({ error: 'true or false' }).default(false),
  /** ECR: how long to wait for a pending scan, and between polls. */
  timeouts: strict({
    pendingSeconds: seconds('waiting for a pending scan').default(600),
    pollSeconds: seconds('between polls').default(10),
  }).default({ pendingSeconds: 600, pollSeconds: 10 }),
});

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const KEY_SOURCES = ['pem', 'secretArn', 'secretName'] as const;

/** One public key: inline PEM (a public key is no secret), or a Secrets Manager secret holding the PEM. */
export const signatureKeySchema = strict({
  /** Shown in the gate's result (which key verified). */
  id: z.string({ error: 'a key id' }).min(1, { error: 'a key id' }).optional(),
  pem: z
    .string({ error: 'a PEM public key' })
    .refine((s) => s.includes('-----BEGIN PUBLIC KEY-----'), { error: 'a PEM public key (-----BEGIN PUBLIC KEY-----)' })
    .optional(),
  secretArn: z.string({ error: 'a Secrets Manager secret ARN' }).regex(SECRET_ARN, { error: 'a Secrets Manager secret ARN: arn:aws:secretsmanager:<region>:<account>:secret:<name>' }).optional(),
  secretName: z.string({ error: 'a Secrets Manager secret name' }).regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, { error: 'a Secrets Manager secret name (letters, digits and /_+=.@-)' }).optional(),
}).superRefine((k, ctx) => {
  const given = KEY_SOURCES.filter((s) => k[s] !== undefined);
  if (given.length !== 1) addProblem(ctx, given.length === 0 ? 'gives no key' : `gives ${given.length} key sources (${given.join(', ')})`, 'exactly one of: pem, secretArn, secretName');
});

/** Gate: a cosign signature (`.sig` tag or sigstore bundle referrer) by one of these ECDSA P-256 keys. */
export const signatureGateSchema = strict({
  keys: z.array(signatureKeySchema, { error: 'a list of keys ({ pem }, { secretArn } or { secretName })' }).min(1, { error: 'at least one key' }),
});

/** Gate: a test run that must pass. Exactly one of lambda, codebuild, http. */
export const testsGateSchema = strict({
  lambda: z.string().min(1, { error: 'a Lambda function name or ARN' }).optional(),
  codebuild: z.string().min(1, { error: 'a CodeBuild project name' }).optional(),
  http: httpsUrl.optional(),
  /** How long the run may take. @default 900 (or timeoutMinutes) */
  timeoutSeconds: seconds('the test run').optional(),
  timeoutMinutes: z.number().int({ error: 'a whole number of minutes' }).positive({ error: 'a positive number of minutes' }).optional(),
}).superRefine((t, ctx) => {
  const given = (['lambda', 'codebuild', 'http'] as const).filter((k) => t[k] !== undefined);
  if (given.length !== 1) {
    addProblem(
      ctx,
      given.length === 0 ? 'names no test runner' : `names ${given.length} test runners (${given.join(', ')})`,
      'exactly one of: lambda, codebuild, http',
    );
  }
  if (t.timeoutSeconds !== undefined && t.timeoutMinutes !== undefined) addProblem(ctx, 'sets both timeoutSeconds and timeoutMinutes', 'one of them');
});

/** The test gate's timeout in seconds: `timeoutSeconds`, else `timeoutMinutes`, else 15 minutes. */
export function testsTimeoutSeconds(t: { timeoutSeconds?: number | undefined; timeoutMinutes?: number | undefined }): number {
  return t.timeoutSeconds ?? (t.timeoutMinutes !== undefined ? t.timeoutMinutes * 60 : 900);
}
