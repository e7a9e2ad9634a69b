// skopeo as an independent client in tests: read a manifest's raw bytes and their digest.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';

export interface SkopeoOptions {
  /** `user:password` for htpasswd and token registries. */
  readonly creds?: string | { readonly username: string; readonly password: string };
}

/** `127.0.0.1:5000/app:v1` or `docker://…`: skopeo wants the transport prefix. */
function dockerRef(ref: string): string {
  return ref.startsWith('docker://') ? ref : `docker://${ref}`;
}

/** Runs `skopeo` with the given arguments; rejects with its stderr. */
export function skopeo(args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('skopeo', args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`skopeo ${args.join(' ')} failed: ${stderr.toString().trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The manifest's raw bytes, as the registry serves them (`skopeo inspect --raw`, plain HTTP allowed). */
export async function skopeoInspectRaw(ref: string, opts: SkopeoOptions = {}): Promise<Buffer> {
  const args = ['inspect', '--raw', '--tls-verify=false'];
  if (opts.creds) {
    args.push('--creds', typeof opts.creds === 'string' ? opts.creds : `${opts.creds.username}:${opts.creds.password}`);
  } else {
    args.push('--no-creds');
  }
  args.push(dockerRef(ref));
  return skopeo(args);
}

/** `sha256:<hex>` of the manifest bytes skopeo reads: the digest the registry holds for `ref`. */
export async function skopeoDigest(ref: string, opts: SkopeoOptions = {}): Promise<string> {
  const raw = await skopeoInspectRaw(ref, opts);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}
