// The zod schema of a registry entry: one strict object per kind (location fields), credentials, rate limit.
// Error strings given to zod here are the "expected" half of a ConfigIssue (see zod-issues.ts).
import * as z from 'zod';
import { quote } from './errors.ts';
import { addProblem, digitString, isLoopbackHost, parseHttpUrl, strict } from './schema-helpers.ts';
import { checkPriceAlias, pricingSchema } from './schema-pricing.ts';

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9/_+=,.@-]+$/;

export const CREDENTIAL_SOURCES = ['secretArn', 'secretName', 'iamRole', 'env', 'dockerConfig'] as const;

/**
 * Where the credentials of a registry come from: never the credentials themselves.
 * `secretArn` / `secretName`: a Secrets Manager secret; `iamRole`: a role to assume (ECR only);
 * `env` (local use): `<PREFIX>_USERNAME` and `<PREFIX>_PASSWORD`; `dockerConfig` (local use): the podman / skopeo / docker credential files (auth.json, ~/.docker/config.json).
 */
const credentialsSchema = strict({
  secretArn: z
    .string()
    .regex(SECRET_ARN, { error: 'a Secrets Manager secret ARN: arn:aws:secretsmanager:<region>:<account>:secret:<name>' })
    .optional(),
  secretName: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, { error: 'a Secrets Manager secret name (letters, digits and /_+=.@-)' })
    .optional(),
  iamRole: z.string().regex(ROLE_ARN, { error: 'an IAM role ARN: arn:aws:iam::<account>:role/<name>' }).optional(),
  env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'an environment variable prefix in capitals, e.g. REGMAN_HARBOR' })
    .optional(),
  dockerConfig: z.literal(true, { error: 'true (read the podman / docker credential files)' }).optional(),
}).superRefine((c, ctx) => {
  const given = CREDENTIAL_SOURCES.filter((k) => c[k] !== undefined);
  if (given.length === 0) {
    addProblem(ctx, 'names no credential source', `one of: ${CREDENTIAL_SOURCES.join(', ')}`);
  } else if (given.length > 1) {
    addProblem(ctx, `names ${given.length} credential sources (${given.join(', ')})`, 'exactly one credential source');
  }
});

const rateLimitSchema = strict({
  /** Docker Hub: the pulls this credential may spend per window. */
  pulls: z.number().int({ error: 'a whole number of pulls' }).positive({ error: 'a positive number of pulls' }).optional(),
  windowHours: z.number().positive({ error: 'a positive number of hours' }).default(6),
  requestsPerSecond: z.number().positive({ error: 'a positive number' }).optional(),
}).superRefine((r, ctx) => {
  if (r.pulls === undefined && r.requestsPerSecond === undefined) {
    addProblem(ctx, 'sets no limit', 'pulls (per windowHours, default 6) or requestsPerSecond');
  }
});

/**
 * `rateLimit.pulls` is Docker Hub's pull limit and only the Docker Hub adapter counts it: on another kind it
 * would be accepted and do nothing, so it is refused there (requestsPerSecond paces any registry).
 */
function checkPullsOnlyOnHub(r: { kind: string; rateLimit?: { pulls?: number | undefined } | undefined }, ctx: z.RefinementCtx): void {
  if (r.rateLimit?.pulls === undefined) return;
  addProblem(
    ctx,
    `pulls is set on a kind: ${r.kind} registry, where nothing counts pulls`,
    'pulls only on kind: dockerhub (its per-account pull limit); rateLimit.requestsPerSecond for other registries',
    ['rateLimit', 'pulls'],
  );
}

/** Fields every registry kind accepts. */
const registryCommon = {
  description: z.string().optional(),
  credentials: credentialsSchema.optional(),
  /** Anonymous access: no credential reference needed. */
  public: z.boolean({ error: 'true or false' }).default(false),
  rateLimit: rateLimitSchema.optional(),
  /** USD per GB-month, for the cost figures of retention plans and reports: the older name of `pricing.storagePerGbMonth`. */
  storagePricePerGbMonth: z.number({ error: 'a price in USD per GB-month' }).nonnegative({ error: 'a price >= 0' }).optional(),
  /** Overrides of the kind's list prices in the cost report (schema-pricing.ts). */
  pricing: pricingSchema.optional(),
};

const AWS_REGION_EXPECTED = 'an AWS region, e.g. eu-west-1';
const GCP_PROJECT_EXPECTED = 'a Google Cloud project id, e.g. my-project-123';
const gcpProject = z
  .string({ error: GCP_PROJECT_EXPECTED })
  .regex(/^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { error: GCP_PROJECT_EXPECTED });

export const ecrRegistrySchema = strict({
  kind: z.literal('ecr'),
  region: z.string({ error: AWS_REGION_EXPECTED }).regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, { error: AWS_REGION_EXPECTED }),
  accountId: digitString(/^\d{12}$/, '12 digits in quotes, e.g. "123456789012"'),
  ...registryCommon,
}).superRefine(checkPriceAlias).superRefine(checkPullsOnlyOnHub);

export const garRegistrySchema = strict({
  kind: z.literal('gar'),
  project: gcpProject,
  location: z
    .string({ error: 'an Artifact Registry location, e.g. europe-west1 or europe' })
    .regex(/^[a-z]+(-[a-z]+\d+)?$/, { error: 'an Artifact Registry location, e.g. europe-west1 or europe' }),
  /** @default `<location>-docker.pkg.dev` */
  host: z
    .string()
    .regex(/^[a-z0-9-]+-docker\.pkg\.dev$/, { error: 'an Artifact Registry host, e.g. europe-docker.pkg.dev' })
    .optional(),
  ...registryCommon,
}).superRefine(checkPriceAlias).superRefine(checkPullsOnlyOnHub);

export const gcrRegistrySchema = strict({
  kind: z.literal('gcr'),
  project: gcpProject,
  host: z.enum(['gcr.io', 'us.gcr.io', 'eu.gcr.io', 'asia.gcr.io']).default('gcr.io'),
  ...registryCommon,
}).superRefine(checkPriceAlias).superRefine(checkPullsOnlyOnHub);

const HOSTNAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;

export const acrRegistrySchema = strict({
  kind: z.literal('acr'),
  /** The registry name: `<name>.azurecr.io`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9]{5,50}$/, { error: 'an ACR registry name: 5 to 50 letters and digits' })
    .optional(),
  /** For other clouds (`*.azurecr.cn`, `*.azurecr.us`) or custom domains. */
  loginServer: z.string().regex(HOSTNAME, { error: 'a host name, e.g. myregistry.azurecr.io' }).optional(),
  ...registryCommon,
}).superRefine(checkPriceAlias).superRefine(checkPullsOnlyOnHub).superRefine((r, ctx) => {
  if (r.name === undefined && r.loginServer === undefined) {
    addProblem(ctx, 'names no registry', 'name (for <name>.azurecr.io) or loginServer');
  }
});

export const dockerhubRegistrySchema = strict({
  kind: z.literal('dockerhub'),
  namespace: z
    .string({ error: 'a Docker Hub namespace (user or organization), e.g. library' })
    .regex(/^[a-z0-9][a-z0-9_-]{1,254}$/, { error: 'a Docker Hub namespace: lower-case letters, digits, "-" and "_"' }),
  ...registryCommon,
}).superRefine(checkPriceAlias);

export const ociRegistrySchema = strict({
  kind: z.literal('oci'),
  url: z.string({ error: 'the registry URL, e.g. https://harbor.example.com' }).superRefine((text, ctx) => {
    const parsed = parseHttpUrl(text);
    if ('problem' in parsed) addProblem(ctx, parsed.problem, 'the registry URL, e.g. https://harbor.example.com');
  }),
  /** Allow plain http to a non-loopback host, or a certificate the system does not trust. */
  insecure: z.boolean({ error: 'true or false' }).default(false),
  ...registryCommon,
}).superRefine(checkPriceAlias).superRefine(checkPullsOnlyOnHub).superRefine((r, ctx) => {
  const parsed = parseHttpUrl(r.url);
  if ('url' in parsed && parsed.url.protocol === 'http:' && !isLoopbackHost(parsed.url.hostname) && !r.insecure) {
    addProblem(
      ctx,
      `${quote(r.url)} uses plain http on a non-loopback host`,
      'an https:// URL, http:// on 127.0.0.1 or localhost, or insecure: true',
      ['url'],
    );
  }
});

export const REGISTRY_KINDS = ['ecr', 'gar', 'gcr', 'acr', 'dockerhub', 'oci'] as const;

export const registrySchema = z.discriminatedUnion(
  'kind',
  [ecrRegistrySchema, garRegistrySchema, gcrRegistrySchema, acrRegistrySchema, dockerhubRegistrySchema, ociRegistrySchema],
  { error: (iss) => (iss.code === 'invalid_union' ? `one of: ${REGISTRY_KINDS.join(', ')}` : undefined) },
);
