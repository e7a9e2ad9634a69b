// Environment variables of the Lambda handlers: read once at load, checked on use, and a missing one is named.

/** A required variable is unset or empty. */
export class MissingEnvironmentError extends Error {
  readonly code = 'ENV_MISSING';
  readonly retryable = false;

  constructor(
    readonly variable: string,
    purpose?: string,
  ) {
    super(`Environment variable ${variable} is not set${purpose ? ` (${purpose})` : ''}: the deployment (CDK stack or local stack) must set it`);
    this.name = 'MissingEnvironmentError';
  }
}

/**
 * A snapshot of the environment taken once (at module load in handlers, so an invocation never sees
 * a half-changed environment). Reading a missing required variable throws, naming it; importing the
 * module never does, so tests can import a handler module without its variables.
 *
 * @example
 * const env = readEnvironment();
 * const table = env.required('AUDIT_TABLE', 'the audit log table');
 */
export class Environment {
  private readonly values: Readonly<Record<string, string | undefined>>;

  constructor(values: NodeJS.ProcessEnv = process.env) {
    this.values = Object.freeze({ ...values });
  }

  /** The value, or MissingEnvironmentError naming the variable when unset or empty. */
  required(name: string, purpose?: string): string {
    const value = this.values[name];
    if (value === undefined || value === '') throw new MissingEnvironmentError(name, purpose);
    return value;
  }

  /** The value, or `fallback` when unset or empty. */
  optional(name: string, fallback: string): string;
  optional(name: string): string | undefined;
  optional(name: string, fallback?: string): string | undefined {
    const value = this.values[name];
    return value === undefined || value === '' ? fallback : value;
  }
}

/** Takes the snapshot: call at module load. */
export function readEnvironment(values: NodeJS.ProcessEnv = process.env): Environment {
  return new Environment(values);
}

/** Names of the handlers' variables (shared with the CDK constructs and the local stack). */
export const ENV = {
  /** Validated config JSON bundled with the handler. @default `./regman.config.json` next to the handler */
  configPath: 'REGMAN_CONFIG_PATH',
  auditTable: 'AUDIT_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  stateTable: 'STATE_TABLE',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** Local stack only: the dynalite endpoint. */
  dynamoEndpoint: 'REGMAN_DYNAMODB_ENDPOINT',
  /** `cloudtrail` (look up who pushed in CloudTrail) or `none`. @default cloudtrail, none with a local DynamoDB endpoint */
  pusherLookup: 'REGMAN_PUSHER_LOOKUP',
} as const;
