// A local stand-in for https://oauth2.googleapis.com/token: checks service-account JWT-bearer assertions
// (RFC 7523) and issues access tokens, plus the gaxios transporter that points google-auth-library at it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaxios } from 'google-auth-library';
import { readBody, sendJson } from './http-json.ts';

/** The audience google-auth-library signs its assertions for (and the only URL it posts them to). */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface GoogleTokenEndpointOptions {
  /** Lifetime announced in `expires_in`. @default 3600 */
  readonly expiresIn?: number;
  /** Prefix of the tokens issued (e.g. a canary string). @default 'ya29.test-' */
  readonly tokenPrefix?: string;
}

/** One assertion the endpoint judged. */
export interface AssertionRecord {
  readonly iss?: string;
  readonly scope?: string;
  readonly aud?: string;
  readonly status: number;
  readonly error?: string;
}

export interface RunningGoogleTokenEndpoint {
  /** e.g. http://127.0.0.1:41234/token */
  readonly tokenUrl: string;
  /** A service-account key (JSON object) whose assertions this endpoint accepts. */
  readonly serviceAccountKey: Readonly<Record<string, string>>;
  /** The same key as JSON text (what a Secrets Manager secret holds). */
  readonly keyJson: string;
  /** Path of the key written as a file (for keyFile / ADC tests). */
  readonly keyFile: string;
  readonly requests: readonly AssertionRecord[];
  /** Tokens issued, oldest first. */
  readonly issued: readonly string[];
  /** The last token issued, or undefined before the first. */
  latestToken(): string | undefined;
  setExpiresIn(seconds: number): void;
  /**
   * A gaxios instance for google-auth-library's `transporter`: rewrites requests for Google's token
   * URL to this endpoint, and refuses every other non-loopback URL (tests never contact Google).
   */
  transporter(): gaxios.Gaxios;
  stop(): Promise<void>;
}

/** Verifies an RS256 JWT against the public key; returns its claims or why it is refused. */
function verifyAssertion(assertion: string, publicKey: KeyObject): { claims: Record<string, unknown> } | { error: string } {
  const parts = assertion.split('.');
  if (parts.length !== 3) return { error: 'not a JWT' };
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: string };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string };
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { error: 'JWT parts are not JSON' };
  }
  if (header.alg !== 'RS256') return { error: `alg ${String(header.alg)} is not RS256` };
  const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(s, 'base64url'));
  if (!ok) return { error: 'invalid signature' };
  return { claims };
}

/**
 * Starts the endpoint on a free loopback port with a fresh RSA key pair and a service-account key for it.
 * The key's `token_uri` names this endpoint, which google-auth-library ignores: use `transporter()`.
 *
 * @example
 * const google = await startGoogleTokenEndpoint();
 * const jwt = new JWT({ email: google.serviceAccountKey.client_email, key: google.serviceAccountKey.private_key, transporter: google.transporter() });
 */
export async function startGoogleTokenEndpoint(opts: GoogleTokenEndpointOptions = {}): Promise<RunningGoogleTokenEndpoint> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = 'regman-test@regman-test-project.iam.gserviceaccount.com';
  let expiresIn = opts.expiresIn ?? 3600;
  const prefix = opts.tokenPrefix ?? 'ya29.test-';
  const requests: AssertionRecord[] = [];
  const issued: string[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/token') {
      return sendJson(res, 404, { error: 'not_found' });
    }
    const form = new URLSearchParams(await readBody(req));
    const refuse = (error: string, record: Partial<AssertionRecord> = {}): void => {
      requests.push({ ...record, status: 400, error });
      sendJson(res, 400, { error: 'invalid_grant', error_description: error });
    };
    if (form.get('grant_type') !== JWT_BEARER) return refuse(`unsupported grant_type ${form.get('grant_type') ?? ''}`);
    const checked = verifyAssertion(form.get('assertion') ?? '', publicKey);
    if ('error' in checked) return refuse(checked.error);
    const c = checked.claims;
    const record = { iss: String(c.iss), scope: String(c.scope), aud: String(c.aud) };
    const now = Math.floor(Date.now() / 1000);
    if (c.iss !== email) return refuse(`unknown issuer ${String(c.iss)}`, record);
    if (c.aud !== GOOGLE_TOKEN_URL) return refuse(`audience ${String(c.aud)} is not ${GOOGLE_TOKEN_URL}`, record);
    if (typeof c.exp !== 'number' || c.exp < now) return refuse('assertion expired', record);
    if (typeof c.iat !== 'number' || c.iat > now + 60) return refuse('assertion issued in the future', record);
    if (typeof c.scope !== 'string' || c.scope.split(' ').length === 0) return refuse('no scope', record);
    const token = `${prefix}${randomBytes(24).toString('base64url')}`;
    issued.push(token);
    requests.push({ ...record, status: 200 });
    sendJson(res, 200, { access_token: token, expires_in: expiresIn, token_type: 'Bearer' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('google token endpoint has no port');
  const tokenUrl = `http://127.0.0.1:${addr.port}/token`;

  const dir = mkdtempSync(join(tmpdir(), 'regman-gsa-'));
  const serviceAccountKey = {
    type: 'service_account',
    project_id: 'regman-test-project',
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: email,
    client_id: '100000000000000000001',
    // Ignored by google-auth-library (it posts to GOOGLE_TOKEN_URL): hence transporter().
    token_uri: tokenUrl,
  };
  const keyJson = JSON.stringify(serviceAccountKey);
  const keyFile = join(dir, 'key.json');
  writeFileSync(keyFile, keyJson, { mode: 0o600 });

  return {
    tokenUrl,
    serviceAccountKey,
    keyJson,
    keyFile,
    requests,
    issued,
    latestToken: () => issued[issued.length - 1],
    setExpiresIn(seconds: number) {
      expiresIn = seconds;
    },
    transporter() {
      const g = new gaxios.Gaxios();
      g.interceptors.request.add({
        resolved: async (config) => {
          const url = new URL(config.url.toString());
          if (url.origin + url.pathname === GOOGLE_TOKEN_URL) {
            config.url = new URL(tokenUrl);
          } else if (url.hostname !== '127.0.0.1') {
            throw new Error(`test transporter refuses to contact ${url.origin}`);
          }
          return config;
        },
      });
      return g;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
