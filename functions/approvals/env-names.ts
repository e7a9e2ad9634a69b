// Environment variables of the approvals Lambdas (approvals HTTP, console, the promotion's RequestApproval), shared with lib/.

/** Names only: lib/ sets them (lib/constructs/approvals.ts), functions/handlers/approvals-deps.ts reads them. */
export const APPROVALS_ENV = {
  /** The approvals table (functions/dynamo/tables.ts APPROVALS_TABLE). */
  table: 'APPROVALS_TABLE',
  /** ARN of the Secrets Manager secret holding the HMAC key that signs links and CSRF tokens (base64, >= 32 bytes). */
  hmacKeySecret: 'REGMAN_APPROVALS_HMAC_SECRET_ARN',
  /** ARN of the secret holding the Slack app's signing secret; without it `POST /slack/interactions` answers 404. */
  slackSigningSecret: 'REGMAN_SLACK_SIGNING_SECRET_ARN',
  /** Base URL of the console (the HTTP API's endpoint): links are `<url>/approvals/<execution>/<token>`. */
  consoleUrl: 'REGMAN_CONSOLE_URL',
} as const;
