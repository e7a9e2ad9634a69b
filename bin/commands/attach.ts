// `regman attach --artifact-type TYPE FILE IMAGE`: attaches a file (a SARIF / Trivy report, an SBOM) to an image as an OCI 1.1 referrer.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { attachArtifact, type AttachResult } from '../../functions/oci/attach.ts';
import { isOciError } from '../../functions/oci/errors.ts';
import { formatReference, parseReference, referenceTarget } from '../../functions/oci/reference.ts';
import type { Reference } from '../../functions/oci/types.ts';
import { registryClientFor } from './copy.ts';
import { UsageError } from './run-cli.ts';

export interface AttachCommandOptions {
  readonly artifactType: string;
  readonly json?: boolean;
  readonly creds?: string;
  readonly plainHttp?: boolean;
  readonly insecure?: boolean;
}

const EXAMPLE = 'regman attach --artifact-type application/sarif+json trivy.sarif 127.0.0.1:5000/team/app:1.0 --plain-http';

/** Runs the command; returns the result (printed as one line, or JSON with --json). */
export async function runAttach(file: string, imageText: string, opts: AttachCommandOptions, io: { stdout: (t: string) => void; env: NodeJS.ProcessEnv }): Promise<AttachResult> {
  if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(opts.artifactType)) {
    throw new UsageError(`--artifact-type "${opts.artifactType}" is not a media type (type/subtype)`, EXAMPLE);
  }
  let image: Reference;
  try {
    image = parseReference(imageText);
  } catch (err) {
    if (isOciError(err, 'INVALID_REFERENCE')) throw new UsageError(`IMAGE: ${err.message}`, EXAMPLE);
    throw err;
  }
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw new UsageError(`FILE: cannot read ${file}: ${(err as Error).message}`, EXAMPLE);
  }
  const client = registryClientFor(image, opts, io.env);
  try {
    const result = await attachArtifact(client, image.repository, referenceTarget(image), data, { artifactType: opts.artifactType, fileName: basename(file) });
    io.stdout(opts.json
      ? JSON.stringify(result)
      : `attached ${basename(file)} to ${formatReference({ ...image, digest: result.subject })} as ${result.digest} (${result.artifactType}, listed via ${result.listedVia})`);
    return result;
  } finally {
    client.close();
  }
}

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('attach a file to an image as an OCI 1.1 referrer (and maintain the sha256-<hex> fallback tag index when the registry has no referrers API)')
    .argument('<file>', 'the file to attach, e.g. a SARIF report')
    .argument('<image>', 'the subject image, e.g. 127.0.0.1:5000/team/app:1.0 or …@sha256:…')
    .requiredOption('--artifact-type <type>', 'the artifact type, e.g. application/sarif+json')
    .option('--json', 'print the result as JSON on stdout')
    .option('--creds <user:pass>', 'registry credentials (else REGMAN_USERNAME/REGMAN_PASSWORD, then ~/.docker/config.json)')
    .option('--plain-http', 'use http:// (loopback registries)')
    .option('--insecure', 'skip TLS certificate verification')
    .action(async (file: string, image: string, opts: AttachCommandOptions) => {
      await runAttach(file, image, opts, { stdout: (t) => process.stdout.write(t + '\n'), env: process.env });
    });
}
