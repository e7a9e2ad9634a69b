// `regman lineage IMAGE [--format text|json|html] [--out FILE]`: where an image came from (annotations, base image, provenance, SBOMs, signatures) and where it went (replication, promotion).
import type { Command } from 'commander';
import type { AuditLog } from '../../functions/audit/index.ts';
import { RegistryClient } from '../../functions/oci/client.ts';
import { isOciError } from '../../functions/oci/errors.ts';
import { parseReference, referenceTarget, registryEndpoint } from '../../functions/oci/reference.ts';
import type { Registry } from '../../functions/oci/registry.ts';
import type { Reference } from '../../functions/oci/types.ts';
import { collectLineage } from '../../functions/reports/lineage/collect.ts';
import type { Lineage } from '../../functions/reports/lineage/model.ts';
import { lineageText } from '../../functions/reports/lineage/render.ts';
import { auditRepositoriesFor, registryForHost } from '../../functions/reports/lineage/resolve.ts';
import { renderLineagePage } from '../../functions/web/reports/lineage-page.ts';
import { connectionOptions, openAuditLog, type ConnectionFlags } from './audit.ts';
import { credentialsFor } from './copy.ts';
import { defaultIo, loadRegistries, runningStackOf, withConfigOption, type LoadedRegistries } from './load-adapters.ts';
import { emit, parseFormat, type ReportFormat } from './report-output.ts';
import { UsageError } from './run-cli.ts';

interface LineageFlags extends ConnectionFlags {
  readonly config?: string;
  readonly json?: boolean;
  readonly format?: string;
  readonly out?: string;
  readonly creds?: string;
  readonly plainHttp?: boolean;
  readonly insecure?: boolean;
}

const EXAMPLE = 'regman lineage 127.0.0.1:5000/team/app:v1 --state-dir .state --config config/local.yaml';
const FORMATS: readonly ReportFormat[] = ['text', 'json', 'html'];

/** `text` for a terminal, `json` the model, `html` the console's self-contained lineage page (without the console's form and links). */
export function renderLineage(lineage: Lineage, format: ReportFormat): string {
  return format === 'json' ? JSON.stringify(lineage, null, 2) : format === 'html' ? renderLineagePage(lineage) : lineageText(lineage);
}

/** `--json` is `--format json`; given together with another `--format`, it is a usage error, not a silent choice. */
export function lineageFormat(flags: Pick<LineageFlags, 'json' | 'format'>, formatGiven: boolean): ReportFormat {
  const format = parseFormat(flags.format, FORMATS);
  if (flags.json && formatGiven && format !== 'json') throw new UsageError(`--json and --format ${format} ask for different formats`, '--format json   (--json is the same)');
  return flags.json ? 'json' : format;
}

const isLoopback = (host: string): boolean => /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);

export function registerLineage(program: Command): void {
  withConfigOption(
    connectionOptions(
      program
        .command('lineage')
        .description('where an image came from (OCI annotations, base image, SLSA provenance, SBOMs, signatures) and where it went (replication, promotions, from the audit log)')
        .argument('<image>', 'an image reference: registry/repository:tag or @sha256:…')
        .option('--format <format>', 'text, json or html (the console\'s self-contained page)', 'text')
        .option('--json', 'the same as --format json')
        .option('--out <file>', 'write to a file instead of stdout')
        .option('--creds <user:pass>', 'credentials for a registry that is not configured')
        .option('--plain-http', 'plain HTTP for a registry that is not configured (loopback hosts use it anyway)')
        .option('--insecure', 'skip TLS verification for a registry that is not configured'),
    ),
  ).action(async (imageText: string, flags: LineageFlags, command: Command) => {
    const format = lineageFormat(flags, command.getOptionValueSource('format') === 'cli');
    let image: Reference;
    try {
      image = parseReference(imageText);
    } catch (err) {
      if (isOciError(err, 'INVALID_REFERENCE')) throw new UsageError(`IMAGE: ${err.message}`, EXAMPLE);
      throw err;
    }
    const io = defaultIo();
    // The config is optional: without one, the image's registry is reached directly and named by its host.
    const stack = await runningStackOf(flags);
    let loaded: LoadedRegistries | undefined;
    try {
      loaded = await loadRegistries(flags.config, io, stack);
    } catch (err) {
      if (flags.config !== undefined) throw err;
    }
    const local = stack?.registries;
    const name = registryForHost(image.registry, [...(loaded?.adapters.values() ?? [])].map((a) => ({ name: a.name, host: a.host })), local ?? {});
    const adapter = name !== undefined ? loaded?.adapters.get(name) : undefined;
    let client: RegistryClient | undefined;
    let registry: Registry;
    if (adapter) registry = adapter.oci;
    else {
      client = new RegistryClient({
        host: registryEndpoint(image.registry),
        credentials: credentialsFor(undefined, '--creds', flags.creds, io.env),
        ...(flags.plainHttp || isLoopback(image.registry) ? { plainHttp: true } : {}),
        ...(flags.insecure ? { insecure: true } : {}),
      });
      registry = client;
    }
    let opened: { log: AuditLog; close(): Promise<void> } | undefined;
    try {
      try {
        opened = await openAuditLog(flags);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        io.stderr(`lineage: no audit log read (${(err as Error).message}); replication and promotions are not shown`);
      }
      const lineage = await collectLineage({
        registry,
        registryName: name ?? image.registry,
        repository: image.repository,
        reference: referenceTarget(image),
        display: imageText,
        auditRepositories: auditRepositoriesFor(loaded?.config, name, image.repository),
        ...(opened ? { log: opened.log } : {}),
      });
      await emit(renderLineage(lineage, format), flags.out);
    } finally {
      await opened?.close();
      client?.close();
      loaded?.close();
    }
  });
}
