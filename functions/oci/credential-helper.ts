// Runs a docker credential helper (`docker-credential-<name> get`), as docker, crane, skopeo and regctl do.
// Protocol: https://github.com/docker/docker-credential-helpers#development — the server URL on stdin,
// `{"ServerURL","Username","Secret"}` on stdout; Username `<token>` means Secret is an identity token.
import { spawn } from 'node:child_process';
import { OciError } from './errors.ts';
import { redact, registerSecret } from './redact.ts';

/** A helper that is missing, fails, hangs or answers nonsense. The message names the helper and the file that configures it. */
export class CredentialHelperError extends OciError {
  constructor(
    message: string,
    readonly helper: string,
    readonly problem: 'missing' | 'failed' | 'timeout' | 'invalid-output',
    cause?: unknown,
  ) {
    super(message, { code: 'UNAUTHORIZED', ...(cause !== undefined ? { cause } : {}) });
    this.name = 'CredentialHelperError';
  }
}

export interface CredentialHelperOptions {
  /** Environment of the helper (its PATH finds it). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the helper was configured, for messages (`credHelpers in ~/.docker/config.json`). */
  readonly configuredIn?: string;
  /** A helper may call a cloud API (ECR's does); one that hangs longer fails. @default 30000 */
  readonly timeoutMs?: number;
}

/** The server URL a helper is asked about: Docker Hub's credentials are stored under its v1 index URL, as `docker login` stores them. */
export function helperServerUrl(host: string): string {
  return host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
}

/** What a helper gave: a user and password, or an identity (refresh) token (the shapes of credentials.ts). */
export type HelperCredentials = { readonly username: string; readonly password: string } | { readonly identityToken: string };

/** docker-credential-helpers' `errCredentialsNotFoundMessage`: the helper has nothing for this server. */
const NOT_FOUND = /credentials not found/i;
/** Output beyond this is not credentials. */
const MAX_OUTPUT = 64 * 1024;

/**
 * Asks helper `name` for `host`'s credentials; undefined when it has none. What it returns is
 * registered as secret at once (redact.ts), and neither its output nor its input is ever put in an
 * error message (only the first line of its stderr, redacted).
 */
export async function credentialsFromHelper(name: string, host: string, options: CredentialHelperOptions = {}): Promise<HelperCredentials | undefined> {
  const program = `docker-credential-${name}`;
  const where = options.configuredIn ? ` (${options.configuredIn})` : '';
  const { code, stdout, stderr } = await runHelper(program, helperServerUrl(host), options, where);
  if (code !== 0) {
    if (NOT_FOUND.test(stdout) || NOT_FOUND.test(stderr)) return undefined;
    const said = redact((stderr.trim() || stdout.trim()).split('\n')[0] ?? '').slice(0, 200);
    throw new CredentialHelperError(`${program}${where} failed for ${host} (exit ${code})${said ? `: ${said}` : ''}`, program, 'failed');
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(stdout) as typeof answer;
  } catch (err) {
    throw new CredentialHelperError(`${program}${where} answered ${host} with something that is not the helper protocol's JSON`, program, 'invalid-output', err);
  }
  const username = typeof answer.Username === 'string' ? answer.Username : '';
  const secret = typeof answer.Secret === 'string' ? answer.Secret : '';
  if (secret === '') return undefined;
  registerSecret(secret);
  return username === '<token>' ? { identityToken: secret } : { username, password: secret };
}

function runHelper(
  program: string,
  serverUrl: string,
  options: CredentialHelperOptions,
  where: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new CredentialHelperError(`${program}${where} did not answer within ${(options.timeoutMs ?? 30_000) / 1000} s`, program, 'timeout'));
    }, options.timeoutMs ?? 30_000);
    timer.unref();
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT'
          ? new CredentialHelperError(`credential helper ${program}${where} is not on PATH: install it, or remove the entry`, program, 'missing', err)
          : new CredentialHelperError(`credential helper ${program}${where} could not be run: ${err.message}`, program, 'failed', err),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A helper that exits without reading its stdin makes the write fail with EPIPE: its exit code says more.
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverUrl);
  });
}
