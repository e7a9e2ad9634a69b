// A minimal, independent registry client (node:http) for test fixtures: it shares no code with functions/oci,
// so the product's client is checked against a pusher written separately.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Anything with the base URL of a registry: a RunningRegistry, a FaultProxy, a TokenRegistry. */
export interface RegistryTarget {
  readonly url: string;
}

/** Credentials for htpasswd (Basic) or token (Bearer via the challenge's realm) registries. */
export interface AuthOptions {
  /** User and password: sent as Basic, or exchanged for a Bearer token at the challenge's realm. */
  readonly creds?: { readonly username: string; readonly password: string };
  /** A fixed Bearer token, sent as is and never refreshed. */
  readonly bearer?: string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Every manifest type, listed: distribution 404s an OCI manifest GET whose Accept lacks its type. */
export const ACCEPT_ALL_MANIFESTS = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A registry's refusal, with the status and the body it sent. */
export class RawPushError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${message}: HTTP ${status} ${body.slice(0, 500)}`);
    this.name = 'RawPushError';
  }
}

function send(method: string, url: URL, headers: Record<string, string>, body?: Buffer | Readable): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

/** Parses `Bearer realm="…",service="…",scope="…"` into its parameters. */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = header.split(' ', 1)[0]?.toLowerCase() ?? '';
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

/**
 * One registry, one set of credentials. Authenticates on demand: a 401 challenge selects Basic or Bearer;
 * Bearer tokens are fetched from the realm (asking pull+push on the repository as well as the challenge's
 * scope) and cached per repository, and fetched again after a 401.
 */
export class RawRegistryClient {
  readonly base: URL;
  private basic = false;
  private readonly tokens = new Map<string, string>();

  constructor(
    target: RegistryTarget | string,
    private readonly auth: AuthOptions = {},
  ) {
    this.base = new URL(typeof target === 'string' ? target : target.url);
  }

  private authorization(repo: string | undefined): string | undefined {
    if (this.auth.bearer) return `Bearer ${this.auth.bearer}`;
    const token = this.tokens.get(repo ?? '');
    if (token) return `Bearer ${token}`;
    if (this.basic && this.auth.creds) {
      return `Basic ${Buffer.from(`${this.auth.creds.username}:${this.auth.creds.password}`).toString('base64')}`;
    }
    return undefined;
  }

  /** Answers a challenge; returns false when there is nothing more to try. */
  private async authenticate(challenge: string, repo: string | undefined): Promise<boolean> {
    const { scheme, params } = parseChallenge(challenge);
    if (this.auth.bearer) return false;
    if (scheme === 'basic') {
      if (this.basic || !this.auth.creds) return false;
      this.basic = true;
      return true;
    }
    if (scheme !== 'bearer' || !params.realm) return false;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    if (params.scope) url.searchParams.append('scope', params.scope);
    if (repo && params.scope !== `repository:${repo}:pull,push`) url.searchParams.append('scope', `repository:${repo}:pull,push`);
    const headers: Record<string, string> = {};
    if (this.auth.creds) {
      headers.authorization = `Basic ${Buffer.from(`${this.auth.creds.username}:${this.auth.creds.password}`).toString('base64')}`;
    }
    const res = await send('GET', url, headers);
    if (res.status !== 200) throw new RawPushError(`token request to ${url.origin} refused`, res.status, res.body.toString());
    const json = JSON.parse(res.body.toString()) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (!token) throw new RawPushError('token response has no token', res.status, res.body.toString());
    const previous = this.tokens.get(repo ?? '');
    this.tokens.set(repo ?? '', token);
    return previous !== token;
  }

  /**
   * Sends one request, authenticating on a 401 when the body can be sent again (a Buffer or none).
   * `pathOrUrl` may be absolute (an upload `Location`).
   */
  async request(
    method: string,
    pathOrUrl: string,
    init: { headers?: Record<string, string>; body?: Buffer | Readable; repo?: string } = {},
  ): Promise<RawResponse> {
    const url = new URL(pathOrUrl, this.base);
    const repo = init.repo ?? /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(url.pathname)?.[1];
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...init.headers };
      const authz = this.authorization(repo);
      if (authz) headers.authorization = authz;
      if (Buffer.isBuffer(init.body)) headers['content-length'] = String(init.body.length);
      const res = await send(method, url, headers, init.body);
      const challenge = res.headers['www-authenticate'];
      if (res.status !== 401 || !challenge || attempt >= 2 || init.body instanceof Readable) return res;
      if (!(await this.authenticate(challenge, repo))) return res;
    }
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`);
    return res.status === 200;
  }

  private async startUpload(repo: string): Promise<URL> {
    const res = await this.request('POST', `/v2/${repo}/blobs/uploads/`, { body: Buffer.alloc(0) });
    const location = res.headers.location;
    if (res.status !== 202 || !location) throw new RawPushError(`start upload to ${repo}`, res.status, res.body.toString());
    return new URL(location, this.base);
  }

  private async commitUpload(repo: string, location: URL, digest: string, body: Buffer): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.request('PUT', url.href, { body, repo, headers: { 'content-type': 'application/octet-stream' } });
    if (res.status !== 201) throw new RawPushError(`commit blob ${digest} to ${repo}`, res.status, res.body.toString());
  }

  /** Pushes a blob held in memory (POST then monolithic PUT); skips it when the registry has it. */
  async pushBlob(repo: string, data: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha256Digest(data);
    if (!(await this.blobExists(repo, digest))) {
      const location = await this.startUpload(repo);
      await this.commitUpload(repo, location, digest, data);
    }
    return { digest, size: data.length };
  }

  /**
   * Streams a blob (POST → one streamed PATCH, hashing while the bytes go → PUT ?digest=), so a layer is
   * never held whole in memory.
   */
  async pushBlobStream(repo: string, source: AsyncIterable<Buffer>): Promise<{ digest: string; size: number }> {
    const location = await this.startUpload(repo);
    const hash = createHash('sha256');
    let size = 0;
    const body = Readable.from(
      (async function* () {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      })(),
    );
    const res = await this.request('PATCH', location.href, {
      body,
      repo,
      headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    });
    const next = res.headers.location;
    if (res.status !== 202 || !next) throw new RawPushError(`stream blob to ${repo}`, res.status, res.body.toString());
    const digest = `sha256:${hash.digest('hex')}`;
    await this.commitUpload(repo, new URL(next, this.base), digest, Buffer.alloc(0));
    return { digest, size };
  }

  /** PUTs manifest bytes as they are, with Content-Type = their mediaType; returns their digest. */
  async putManifest(repo: string, reference: string, raw: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(raw);
    const res = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, { body: raw, headers: { 'content-type': mediaType } });
    if (res.status !== 201) throw new RawPushError(`put manifest ${repo}:${reference}`, res.status, res.body.toString());
    const returned = res.headers['docker-content-digest'];
    if (returned && returned !== digest) throw new Error(`registry stored ${repo}:${reference} as ${String(returned)}, expected ${digest}`);
    return digest;
  }

  /** GETs a manifest (every type accepted); undefined on 404. */
  async getManifest(repo: string, reference: string): Promise<{ raw: Buffer; mediaType: string; digest: string } | undefined> {
    const res = await this.request('GET', `/v2/${repo}/manifests/${reference}`, { headers: { accept: ACCEPT_ALL_MANIFESTS } });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new RawPushError(`get manifest ${repo}:${reference}`, res.status, res.body.toString());
    return { raw: res.body, mediaType: String(res.headers['content-type'] ?? ''), digest: sha256Digest(res.body) };
  }
}
