// The zod schema of config/registries.yaml: registries, environments, replication, promotion, retention.
// Error strings given to zod here are the "expected" half of a ConfigIssue (see zod-issues.ts).
import * as z from 'zod';
import { quote } from './errors.ts';
import { patternError, regexError } from './patterns.ts';
import { addProblem, strict } from './schema-helpers.ts';
import { scanGateSchema, signatureGateSchema, testsGateSchema } from './schema-gates.ts';
import { promotionTriggerSchema } from './schema-triggers.ts';
import { SCHEDULE_EXPECTED, parseScheduleExpression } from './schedule-expression.ts';
import { registrySchema } from './schema-registries.ts';

export * from './schema-registries.ts';
export * from './schema-gates.ts';
export * from './schema-triggers.ts';

// ---------------------------------------------------------------------------------------------
// Names and patterns

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const NAME_EXPECTED = 'a name of letters, digits, "-" and "_", starting with a letter or digit';
const name = z.string({ error: NAME_EXPECTED }).regex(NAME, { error: NAME_EXPECTED });
/** A reference to something defined elsewhere in the file (checked after the schema, see cross-checks.ts). */
const reference = z.string({ error: 'a name defined in this file' }).min(1, { error: 'a name defined in this file' });

const PATTERN_EXPECTED = 'a glob like release-* or a regex like /^v\\d+$/';

/** A glob or a `/…/flags` regex; the regex must compile. */
export const patternSchema = z
  .string({ error: PATTERN_EXPECTED })
  .min(1, { error: PATTERN_EXPECTED })
  .superRefine((p, ctx) => {
    const err = patternError(p);
    if (err) addProblem(ctx, `invalid regex ${quote(p)}: ${err}`, 'a JavaScript regular expression between slashes');
  });
const patterns = z.array(patternSchema, { error: `a list of patterns (${PATTERN_EXPECTED})` });

/** A regular expression with or without the slashes (GitLab's `name_regex`, a rename's `match`). */
const regexSchema = z
  .string({ error: 'a regular expression' })
  .min(1, { error: 'a regular expression' })
  .superRefine((source, ctx) => {
    const err = patternError(source) ?? (source.startsWith('/') ? undefined : regexError(source));
    if (err) addProblem(ctx, `invalid regex ${quote(source)}: ${err}`, 'a JavaScript regular expression');
  });


// ---------------------------------------------------------------------------------------------
// Environments

/** A time span in which promotions into the environment are refused (unless overridden with a reason). */
export const freezeWindowSchema = strict({
  start: z.iso.datetime({ offset: true, error: 'an ISO 8601 time, e.g. 2026-12-20T00:00:00Z' }),
  end: z.iso.datetime({ offset: true, error: 'an ISO 8601 time, e.g. 2027-01-04T00:00:00Z' }),
  reason: z.string().optional(),
});

export const environmentSchema = strict({
  description: z.string().optional(),
  registries: z.array(reference, { error: 'a list of registry names' }).min(1, { error: 'at least one registry name' }),
  /** Promotions into this environment are refused inside these windows (`regman promote --override-freeze --reason`). */
  freezeWindows: z.array(freezeWindowSchema, { error: 'a list of { start, end, reason }' }).default([]),
});

// ---------------------------------------------------------------------------------------------
// Replication

const REPOSITORY_PREFIX = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*\/?$/;

export const replicationTargetSchema = strict({
  registry: reference,
  /** Prepended to the repository name, joined with "/" (e.g. `mirror` → `mirror/team-a/app`). */
  repositoryPrefix: z
    .string()
    .regex(REPOSITORY_PREFIX, { error: 'a repository path prefix: lower-case components separated by "/", e.g. mirror' })
    .optional(),
  /** Rewrites the repository name: `match` is a regex, `replace` may use $1…$9. */
  rename: strict({ match: regexSchema, replace: z.string({ error: 'the new repository name, e.g. mirror/$1' }) }).optional(),
}).superRefine((t, ctx) => {
  if (t.repositoryPrefix !== undefined && t.rename !== undefined) {
    addProblem(ctx, 'sets both repositoryPrefix and rename', 'either repositoryPrefix or rename, not both', ['rename']);
  }
});

const PLATFORM_EXPECTED = 'a platform os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8';

export const replicationRuleSchema = strict({
  name,
  description: z.string().optional(),
  source: reference,
  repositories: patterns.min(1, { error: 'at least one repository pattern' }),
  tags: strict({
    include: patterns.min(1, { error: 'at least one tag pattern' }).default(['*']),
    exclude: patterns.default([]),
  }).default({ include: ['*'], exclude: [] }),
  targets: z.array(replicationTargetSchema, { error: 'a list of targets' }).min(1, { error: 'at least one target' }),
  /** Copy signatures, SBOMs and attestations (OCI 1.1 referrers and cosign tags) with their subject. */
  referrers: z.boolean({ error: 'true or false' }).default(true),
  /** Never replicate a quarantined digest (a failed scan or signature gate) along this rule, e.g. to prod mirrors; such pushes are skipped and audited. @default false */
  protected: z.boolean({ error: 'true or false' }).optional(),
  /** Copy only these platforms of a multi-platform index (the index is then rewritten: new digest). */
  platforms: z
    .array(z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, { error: PLATFORM_EXPECTED }))
    .min(1, { error: 'at least one platform' })
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// Promotion

const APPROVER_EXPECTED = 'an e-mail address or a user id';

/** Gate: a human approval through a signed, single-use link. */
export const approvalGateSchema = strict({
  approvers: z
    .array(z.string().regex(/^([^@\s]+@[^@\s]+\.[^@\s]+|[A-Za-z0-9._:-]+)$/, { error: APPROVER_EXPECTED }), {
      error: 'a list of approvers',
    })
    .min(1, { error: 'at least one approver' }),
  /** How many distinct approvers must approve. @default 1 */
  required: z.number({ error: 'a number of approvals' }).int({ error: 'a whole number' }).min(1, { error: 'at least 1' }).default(1),
  /** How long the approval link stays valid. @default 24 */
  expiresInHours: z.number().positive({ error: 'a positive number of hours' }).default(24),
  /** At least one approval must come from these (a subset of `approvers`, e.g. the release leads). */
  requiredFrom: z
    .array(z.string({ error: APPROVER_EXPECTED }), { error: 'a list of approvers' })
    .min(1, { error: 'at least one approver' })
    .optional(),
  /** How approvers are told; approvers with an `@` get e-mail, the others Slack. Locally every message goes to the outbox. */
  channels: strict({
    /** SES sender identity (an verified address or domain). */
    email: strict({ from: z.string().regex(/^[^@\s]+@[^@\s]+$/, { error: 'a sender e-mail address' }) }).optional(),
    slack: strict({
      /** Secrets Manager secret (name or ARN) holding the incoming-webhook URL. */
      webhookUrlSecretName: z.string().min(1).optional(),
      /** Secrets Manager secret holding the Slack app's bot token (interactive buttons, chat.postMessage). */
      botTokenSecretName: z.string().min(1).optional(),
      /** Channel id the app posts to (mentions the approvers). */
      channel: z.string().min(1).optional(),
    }).optional(),
  }).optional(),
});

export const promotionEdgeSchema = strict({
  from: reference,
  to: reference,
  description: z.string().optional(),
  gates: strict({
    scan: scanGateSchema.optional(),
    signature: signatureGateSchema.optional(),
    tests: testsGateSchema.optional(),
    approval: approvalGateSchema.optional(),
  }).default({}),
  /** Restore the previous tags in the target environment when a later step fails. */
  autoRollback: z.boolean({ error: 'true or false' }).default(true),
  /** Environments the digest must have been promoted to first (e.g. `[staging]` on staging → prod). */
  requires: z.array(reference, { error: 'a list of environment names' }).default([]),
  /** Hours since the digest reached `from` (and every `requires`) before it may move on. @default 0 */
  soakHours: z.number({ error: 'a number of hours' }).nonnegative({ error: 'a number of hours >= 0' }).default(0),
  /** The environment tag written next to the original: {env}, {tag}, {yyyyMMdd-HHmmss} (UTC). */
  envTagTemplate: z.string().regex(/\{env\}|\{tag\}|\{yyyyMMdd-HHmmss\}/, { error: 'a template with {env}, {tag} and/or {yyyyMMdd-HHmmss}' }).default('{env}-{tag}-{yyyyMMdd-HHmmss}'),
  /** CI events (GitHub / GitLab webhooks) that start a promotion on this edge (functions/webhooks/). */
  triggers: z.array(promotionTriggerSchema, { error: 'a list of triggers' }).default([]),
});

// ---------------------------------------------------------------------------------------------
// Retention (the shape only; functions/retention validates the rules themselves)

const POLICY_SOURCES = ['rules', 'ecrLifecyclePolicy', 'gitlab'] as const;

/**
 * The rule documents are checked here for shape only; functions/retention's `parsePolicy` validates
 * their contents (validate-config.ts merges its issues under the same path).
 */
const ruleDocument = (expected: string) => z.looseObject({}, { error: expected });

/** GitLab's `container_expiration_policy` attributes, as GitLab spells them (keep_n, older_than, name_regex, name_regex_keep). */
export const gitlabPolicySchema = ruleDocument('a GitLab cleanup policy mapping: keep_n, older_than, name_regex, name_regex_keep');

/** An ECR lifecycle policy: inline, or the path of a JSON file (relative to the config file). */
export const ecrLifecyclePolicySchema = z.union([z.string().regex(/\.json$/i), ruleDocument('')], {
  error: 'the path of a .json file, or an ECR lifecycle policy mapping { rules: [...] }',
});

export const retentionPolicySchema = strict({
  name,
  description: z.string().optional(),
  environments: z.array(reference, { error: 'a list of environment names' }).min(1, { error: 'at least one environment' }).optional(),
  registries: z.array(reference, { error: 'a list of registry names' }).min(1, { error: 'at least one registry' }).optional(),
  repositories: patterns.min(1, { error: 'at least one repository pattern' }).optional(),
  /** Our own rules (see docs/RETENTION.md): `{ delete: {...}, keep: {...} }`. */
  rules: ruleDocument('a mapping with delete and keep (see docs/RETENTION.md)').optional(),
  ecrLifecyclePolicy: ecrLifecyclePolicySchema.optional(),
  gitlab: gitlabPolicySchema.optional(),
  /** Safety valve: a sweep that would expire more than this share of a repository stops. @default 0.5 */
  maxDeleteShare: z.number().gt(0, { error: 'a share between 0 and 1' }).max(1, { error: 'a share between 0 and 1' }).optional(),
  /** Untagged images younger than this are kept (a multi-arch push may still be in progress); 0 turns it off. @default 24 */
  untaggedGraceHours: z.number().min(0, { error: 'a number of hours, 0 or more' }).optional(),
}).superRefine((p, ctx) => {
  const given = POLICY_SOURCES.filter((k) => p[k] !== undefined);
  if (given.length !== 1) {
    addProblem(
      ctx,
      given.length === 0 ? 'has no rules' : `sets ${given.join(' and ')}`,
      'exactly one of: rules, ecrLifecyclePolicy, gitlab',
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Schedules (EventBridge Scheduler on AWS; timers in the local stack)

const scheduleExpression = z.string({ error: SCHEDULE_EXPECTED }).superRefine((text, ctx) => {
  const parsed = parseScheduleExpression(text);
  if ('problem' in parsed) addProblem(ctx, parsed.problem, SCHEDULE_EXPECTED);
});

export const schedulesSchema = strict({
  /** When reconcile compares sources and targets and repairs drift. @default rate(1 hour) */
  reconcile: scheduleExpression.optional(),
  /** When the retention sweep runs. @default cron(0 3 * * ? *) (03:00 UTC nightly) */
  retention: scheduleExpression.optional(),
  /** What a scheduled sweep does: plan and audit only, or delete. Deleting is opt-in. @default dry-run */
  retentionMode: z.enum(['dry-run', 'apply'], { error: 'dry-run or apply' }).default('dry-run'),
});

// ---------------------------------------------------------------------------------------------
// The file

export const configSchema = strict({
  /** The file format version. @default 1 */
  version: z.literal(1, { error: '1' }).default(1),
  registries: z.record(z.string().regex(NAME, { error: NAME_EXPECTED }), registrySchema, {
    error: 'a mapping of registry name to registry',
  }),
  environments: z.record(z.string().regex(NAME, { error: NAME_EXPECTED }), environmentSchema, {
    error: 'a mapping of environment name to environment',
  }).default({}),
  replication: z.array(replicationRuleSchema, { error: 'a list of replication rules' }).default([]),
  promotion: z.array(promotionEdgeSchema, { error: 'a list of promotion edges' }).default([]),
  retention: z.array(retentionPolicySchema, { error: 'a list of retention policies' }).default([]),
  schedules: schedulesSchema.default({ retentionMode: 'dry-run' }),
}).superRefine((c, ctx) => {
  if (Object.keys(c.registries).length === 0) addProblem(ctx, 'defines no registry', 'at least one registry', ['registries']);
});
