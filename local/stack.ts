// The embedded local stack behind `npm start`: registries, push events → the replicate handler, dynalite, DLQ file, reconcile, retention sweeps.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { openDynamoAuditLog } from '../functions/audit/index.ts';
import { startLocalAnchoring } from './audit-anchors.ts';
import { createDynamoClients } from '../functions/dynamo/client.ts';
import { createIdempotencyStore } from '../functions/handlers/idempotency.ts';
import { DynamoReplicationState } from '../functions/replication/dynamo-state.ts';
import { DynamoBlobProgress } from '../functions/replication/dynamo-blob-progress.ts';
import type { DeferredReplication } from '../functions/replication/deferral.ts';
import { createLargeImageCopyBlobHandler } from '../functions/handlers/large-image-copy-blob.ts';
import { createLargeImagePlanHandler } from '../functions/handlers/large-image-plan.ts';
import { createLargeImagePublishHandler } from '../functions/handlers/large-image-publish.ts';
import { createLargeImageRecordHandler } from '../functions/handlers/large-image-record.ts';
import { createReplicateHandler, type ReplicateHandlerResult } from '../functions/handlers/replicate.ts';
import { Environment } from '../functions/env.ts';
import { formatBytes } from '../functions/format-bytes.ts';
import { closeAdapters, createAdapters } from '../functions/registries/factory.ts';
import { DynamoPullStatsStore } from '../functions/retention/pull-stats.ts';
import { promotionLockedDigests } from '../functions/promotion/retention-locks.ts';
import type { PromotionStore } from '../functions/promotion/store.ts';
import { runRetentionSweep } from '../functions/retention/sweep-run.ts';
import type { SweepMode, SweepReport } from '../functions/retention/sweep.ts';
import { policiesForRegistry } from '../functions/retention/sweep-targets.ts';
import {
  JsonlDeadLetterSink, fanoutPolicyFromEnvironment, reconcile, type FanoutPolicy, type ReconcileReport, type ReplicationCopyOptions, type ReplicationDeps,
} from '../functions/replication/index.ts';
import { createAsyncInvoker, type AsyncInvoker } from './async-invoker.ts';
import { startLocalPromotions } from './promotion-setup.ts';
import { DynamoPromotionStore } from '../functions/promotion/store.ts';
import { quarantineLookupOf } from '../functions/replication/quarantine-guard.ts';
import { LocalSecretResolver } from './secrets.ts';
import { ensureLocalSigningKey } from './signing-key.ts';
import { LOCAL_TEST_HOOK_PATH, localTestHookRoute } from './test-hook.ts';
import { promotionHints } from './promotion-hints.ts';
import { WEBHOOK_PATH_PREFIX, localWebhookEndpoints, localWebhookSecret, webhookRoutes } from './webhook-routes.ts';
import { DynamoDeliveryLog } from '../functions/webhooks/delivery-log.ts';
import { startControlServer, type ControlServer } from './control-server.ts';
import { startLocalApprovals, type LocalApprovals } from './approvals.ts';
import { createLocalReports } from './reports.ts';
import { SELF_AUTHENTICATED_PREFIXES } from '../functions/web/routes.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLocalDynamo, type LocalDynamo } from './dynamodb.ts';
import { newControlToken } from './control-auth.ts';
import { controlAnswers, readLiveEndpoints, removeEndpoints, writeEndpoints, type LocalEndpoints } from './endpoints.ts';
import { formatRecovery, recoverLocalState } from './recovery.ts';
import { toImageActionEvents, type EcrImageActionEvent } from './notifications.ts';
import { startLocalRegistries, type LocalRegistries } from './registries.ts';
import { startReconcileSchedule, type ReconcileSchedule } from './reconcile-schedule.ts';
import { formatAttempt, formatFanoutFinished, formatPush, formatReconcile, formatReplicationEvent } from './replication-log.ts';
import { createLocalFanoutStarter, type LocalTaskHandler } from './step-functions.ts';
import { LocalPushLog, startRetentionSchedule, type RetentionSchedule } from './retention-schedule.ts';
import { formatDailyTime, planLocalSchedules, type LocalSchedulePlan } from './schedules.ts';

export interface StartLocalStackOptions {
  /** The local config (registries kind: oci on loopback; see config/local.yaml). */
  readonly configFile: string;
  /** State folder: registries/<name>, dynamodb/, dlq.jsonl, endpoints.json. */
  readonly stateDir: string;
  /** Where progress lines go (the CLI: stderr). @default nowhere */
  readonly log?: (line: string) => void;
  /** Minutes between scheduled reconciles (0: only on demand, `POST /reconcile`). @default the config's `schedules.reconcile` rate, else on demand only */
  readonly reconcileEveryMinutes?: number;
  /**
   * Minutes between scheduled retention sweeps; 0 or undefined: the config's `schedules.retention`,
   * else nightly at 03:00 UTC. Scheduled sweeps do what `schedules.retentionMode` says (dry run by default).
   */
  readonly retentionEveryMinutes?: number;
  /** Delays of the two async-invoke retries. @default [1000, 2000] (Lambda waits about 1 and 2 minutes) */
  readonly retryDelaysMs?: readonly number[];
  /** Port of the control listener. @default a free one */
  readonly controlPort?: number;
  /** Copy engine settings (tests shorten the engine's own retries). @default the engine's */
  readonly copyOptions?: ReplicationCopyOptions;
  /**
   * When an image fans out over the replicate-large state machine (run in this process) instead of
   * being copied in the handler, as on AWS; `false`: never. @default REGMAN_FANOUT_* from the
   * environment, else 2 GiB missing over all targets (docs/LARGE_IMAGES.md)
   */
  readonly fanout?: FanoutPolicy | false;
  /** Registries that run elsewhere (name → URL): not started, not stopped (see StartLocalRegistriesOptions.external). @default none */
  readonly externalRegistries?: Readonly<Record<string, string>>;
  /** Longest wait of work deferred for a rate budget (tests shorten it; AWS waits what the registry asked). @default no cap */
  readonly maxDeferralMs?: number;
}

export interface LocalStack {
  /** What D/endpoints.json holds. */
  readonly endpoints: LocalEndpoints;
  /** The registry processes (tests stop and restart a target to simulate an outage). */
  readonly registries: LocalRegistries;
  /** The file dead letters go to. */
  readonly dlqPath: string;
  /** Approvals: the engine (the promotion's RequestApproval calls `approvals.service.request`) and the task completer to wait on. */
  readonly approvals: LocalApprovals;
  /** Runs a reconcile now (the same as `POST <control>/reconcile`). */
  reconcile(): Promise<ReconcileReport>;
  /** Runs a retention sweep of every covered registry now (the same as `POST <control>/retention[?apply=1]`). */
  retention(options?: { readonly apply?: boolean }): Promise<LocalRetentionResult>;
  /** Resolves when every received push event has been handled (retries, dead letters and fanned-out executions included). */
  idle(): Promise<void>;
  /** Stops everything: listener, retries, registries, DynamoDB; removes endpoints.json. Idempotent. */
  stop(): Promise<void>;
}

/** What a local retention sweep answers (and `POST /retention` returns as JSON). */
export interface LocalRetentionResult {
  readonly mode: SweepMode;
  readonly correlationId: string;
  readonly reports: readonly SweepReport[];
  /** Registries whose sweep could not start (e.g. their repositories could not be listed). */
  readonly errors: readonly { readonly registry: string; readonly error: string }[];
}

/**
 * Starts the local stack and resolves once every part answers and D/endpoints.json is written.
 *
 * @example
 * const stack = await startLocalStack({ configFile: 'config/local.yaml', stateDir: '.state', log: (l) => console.error(l) });
 * // push to stack.endpoints.registries[stack.endpoints.source] ...
 * await stack.stop();
 */
export async function startLocalStack(options: StartLocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const stateDir = options.stateDir;
  mkdirSync(stateDir, { recursive: true });
  const found = await readLiveEndpoints(stateDir);
  // A live pid is not enough: after a crash the pid may belong to another process now.
  const running = found && (await controlAnswers(found.control)) ? found : undefined;
  if (found && !running) log(`endpoints.json of pid ${found.pid} is stale (its control listener ${found.control} does not answer): starting anew`);
  if (running) throw new Error(`a local stack (pid ${running.pid}) already runs on ${stateDir}: stop it first, or use another --state-dir`);

  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`stop: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    cleanups.length = 0;
  };

  try {
    const db: LocalDynamo = await startLocalDynamo({ path: join(stateDir, 'dynamodb') });
    cleanups.push(() => db.stop());

    // Late-bound: the listener must exist before the registries (they need its URL), the handler after them.
    let onNotification: (registry: string, envelope: unknown) => void = () => undefined;
    let onReconcile: () => Promise<unknown> = async () => ({ error: 'starting' });
    let onRetention: (apply: boolean) => Promise<unknown> = async () => ({ error: 'starting' });
    let routes: NonNullable<Parameters<typeof startControlServer>[0]['routes']> = async () => undefined;
    let onConsole: (req: IncomingMessage, res: ServerResponse) => Promise<boolean> = async () => false;
    const controlToken = newControlToken();
    const control: ControlServer = await startControlServer({
      log,
      controlToken,
      routes: (req) => routes(req),
      onNotification: (registry, envelope) => onNotification(registry, envelope),
      onReconcile: () => onReconcile(),
      onRetention: (apply) => onRetention(apply),
      onConsole: (req, res) => onConsole(req, res),
      // CI webhooks authenticate by their provider's signature (local/webhook-routes.ts); the local test hook only reads.
      exemptPathPrefixes: [...SELF_AUTHENTICATED_PREFIXES, WEBHOOK_PATH_PREFIX, LOCAL_TEST_HOOK_PATH],
      ...(options.controlPort !== undefined ? { port: options.controlPort } : {}),
    });
    cleanups.push(() => control.stop());
    // The promotion gates of config/local.yaml: a test hook on this listener (${REGMAN_LOCAL_CONTROL_URL}),
    // and a signing key pair made on first start, whose public half the signature gate reads as a local secret.
    process.env.REGMAN_LOCAL_CONTROL_URL = control.url;
    const signingKey = ensureLocalSigningKey(stateDir);
    if (signingKey.created) log(`signing key: created an ECDSA P-256 pair in ${signingKey.privateKeyPath} (+ .pub)`);

    const registries = await startLocalRegistries({ configFile: options.configFile, stateDir, notifyUrlFor: control.notifyUrlFor, notifyHeaders: control.notifyHeaders, log, ...(options.externalRegistries ? { external: options.externalRegistries } : {}) });
    cleanups.push(() => registries.stop());
    const source = registries.sources[0];
    if (!source) throw new Error(`${options.configFile} has no replication rule: the local stack needs one, with a source and targets`);

    const config = registries.config;
    const adapters = createAdapters(config);
    cleanups.push(() => closeAdapters(adapters.values()));
    // Event ids whose current attempt emitted progress: an attempt without any was answered by idempotency.
    const worked = new Set<string>();
    const audit = openDynamoAuditLog({ endpoint: db.endpoint, tableName: db.tables.audit, region: 'local' });
    cleanups.push(() => audit.close());
    // Signed digests of every chain head in D/audit-anchors/ (hourly and at stop): `regman audit verify` checks against the newest.
    const anchoring = startLocalAnchoring({ log: audit.log, stateDir, everyMinutes: 60, onError: log });
    cleanups.push(() => anchoring.stop());
    // Large images: the same four step handlers as the replicate-large state machine's Lambdas, run by
    // the same ASL in this process. Their deps are the replication deps (late-bound: defined below).
    const stepTools = localPowertools();
    const taskHandlers: Record<string, LocalTaskHandler> = {
      LargeImagePlanFunctionArn: createLargeImagePlanHandler(() => deps, stepTools),
      LargeImageCopyBlobFunctionArn: createLargeImageCopyBlobHandler(() => deps, stepTools),
      LargeImagePublishFunctionArn: createLargeImagePublishHandler(() => deps, stepTools),
      LargeImageRecordFunctionArn: createLargeImageRecordHandler(() => deps, stepTools),
    };
    const fanoutPolicy = options.fanout === false ? undefined : (options.fanout ?? fanoutPolicyFromEnvironment(new Environment()));
    // A step out of rate budget Waits in the ASL; tests cap the wait as they cap the invoker's deferrals.
    const fanout = createLocalFanoutStarter({
      taskHandlers,
      ...(options.maxDeferralMs !== undefined ? { waitMs: options.maxDeferralMs } : {}),
      onFinished: (name, result) => log(formatFanoutFinished(name, result)),
    });
    cleanups.push(async () => {
      // Let running executions finish (their registries are still up) rather than cut them mid-blob.
      await Promise.allSettled(fanout.executions.values());
    });
    const stateDb = createDynamoClients({ endpoint: db.endpoint, region: 'local' });
    cleanups.push(() => stateDb.destroy());
    const deps: ReplicationDeps = {
      config,
      adapters,
      audit: audit.log,
      state: new DynamoReplicationState({ docClient: stateDb.docClient, tableName: db.tables.replicationState }),
      blobProgress: new DynamoBlobProgress({ docClient: stateDb.docClient, tableName: db.tables.replicationState }),
      // Rules with `protected: true` skip quarantined digests (the promotion tables, shared with local/promotion-setup.ts).
      quarantine: quarantineLookupOf(new DynamoPromotionStore({ docClient: stateDb.docClient, tables: db.tables })),
      // Out of rate budget: the async invoker runs the event again after the registry's delay (late-bound: defined below).
      deferrals: { defer: async (work, delaySeconds) => invoker.invokeLater(work, Math.min(delaySeconds * 1000, options.maxDeferralMs ?? Infinity)) },
      ...(options.copyOptions ? { copyOptions: options.copyOptions } : {}),
      ...(fanoutPolicy ? { fanout: { starter: fanout, policy: fanoutPolicy } } : {}),
      onEvent: (event) => {
        worked.add(event.correlationId);
        const line = formatReplicationEvent(event);
        if (line) log(line);
      },
    };

    // The source registry of each received event: the handler's default looks for an ECR registry by account and region.
    const sourceOf = new Map<string, string>();
    const replicate = createReplicateHandler(() => deps, {
      idempotency: { persistenceStore: createIdempotencyStore({ tableName: db.tables.idempotency, endpoint: db.endpoint, region: 'local' }) },
      sourceRegistry: (event) => sourceOf.get(event.id) ?? source,
      ...localPowertools(),
    });

    const dlqPath = join(stateDir, 'dlq.jsonl');
    const retryDelaysMs = options.retryDelaysMs ?? [1_000, 2_000];
    const invoker: AsyncInvoker<EcrImageActionEvent | DeferredReplication> = createAsyncInvoker<EcrImageActionEvent | DeferredReplication>({
      name: 'regman-local-replicate',
      handler: (event, context) => {
        worked.delete(event.id);
        return replicate(event, context) as Promise<ReplicateHandlerResult>;
      },
      retryDelaysMs,
      deadLetters: new JsonlDeadLetterSink(dlqPath),
      onAttempt: (report) => {
        const line = formatAttempt(report, retryDelaysMs, dlqPath, worked.has(report.event.id));
        if (line) log(line);
        worked.delete(report.event.id);
        if (report.ok || report.deadLettered) sourceOf.delete(report.event.id);
      },
    });
    cleanups.push(() => invoker.stop());
    // Stopped first (cleanups run in reverse): no new work while the rest shuts down.
    cleanups.push(() => {
      onNotification = () => undefined;
    });

    const pushLog = new LocalPushLog(join(stateDir, 'pushes.jsonl'));
    onNotification = (registry, envelope) => {
      for (const event of toImageActionEvents(envelope, { registry })) {
        pushLog.record(registry, event.detail['repository-name'], event.detail['image-digest'], event.time);
        log(formatPush(registry, event));
        sourceOf.set(event.id, registry);
        invoker.invoke(event);
      }
    };
    const runReconcile = async (): Promise<ReconcileReport> => {
      const report = await reconcile(deps, {});
      log(formatReconcile(report));
      return report;
    };
    // The config's `schedules` (as on AWS), unless the options (the CLI's flags) say otherwise.
    const timers = planLocalSchedules(config.schedules, {
      ...(options.reconcileEveryMinutes !== undefined ? { reconcileEveryMinutes: options.reconcileEveryMinutes } : {}),
      ...(options.retentionEveryMinutes !== undefined ? { retentionEveryMinutes: options.retentionEveryMinutes } : {}),
    });
    for (const note of timers.notes) log(note);
    const schedule: ReconcileSchedule<ReconcileReport> = startReconcileSchedule({ everyMinutes: timers.reconcileEveryMinutes, run: runReconcile, log });
    cleanups.push(() => schedule.stop());
    onReconcile = () => schedule.trigger('on demand');
    // After a crash: audit what the dead process left unfinished, then reconcile before taking events.
    const recovered = await recoverLocalState({ state: deps.state!, audit: audit.log, docClient: stateDb.docClient, idempotencyTable: db.tables.idempotency });
    for (const line of formatRecovery(recovered)) log(line);
    await schedule.trigger('at start-up').catch((err: unknown) => log(`reconcile: failed: ${err instanceof Error ? err.message : String(err)}`));

    // Retention: the same sweep as the state machine's items, over every registry a policy covers.
    const pullStatsClients = createDynamoClients({ endpoint: db.endpoint, region: 'local' });
    cleanups.push(() => pullStatsClients.destroy());
    const pullStats = new DynamoPullStatsStore({ docClient: pullStatsClients.docClient, tableName: db.tables.pullStats });
    // Set once promotions start (below); a sweep before that has no promotion to lock.
    const promotionLocks: { store?: PromotionStore } = {};
    const runRetention = async (mode: SweepMode): Promise<LocalRetentionResult> => {
      const correlationId = randomUUID();
      const reports: SweepReport[] = [];
      const errors: { registry: string; error: string }[] = [];
      for (const registry of Object.keys(config.registries).filter((r) => policiesForRegistry(config, r).length > 0)) {
        try {
          // Promoted digests and their rollback targets are locked (read per sweep: a promotion may have just landed).
          const lockedDigests = promotionLocks.store ? await promotionLockedDigests(promotionLocks.store) : undefined;
          reports.push(...(await runRetentionSweep({ config, adapters, registry, mode, audit: audit.log, actor: 'system:retention', correlationId, pullStats, pushTimes: pushLog, ...(lockedDigests ? { lockedDigests } : {}) })));
        } catch (err) {
          errors.push({ registry, error: err instanceof Error ? err.message : String(err) });
        }
      }
      const sum = (f: (r: SweepReport) => number): number => reports.reduce((n, r) => n + f(r), 0);
      log(`retention: ${mode} over ${reports.length} repositor${reports.length === 1 ? 'y' : 'ies'}: ${sum((r) => r.counts.expired)} expired, ${sum((r) => r.counts.deleted)} deleted, ${sum((r) => r.counts.failed)} failed${errors.length > 0 ? `; ${errors.length} registr${errors.length === 1 ? 'y' : 'ies'} failed` : ''}${reports.some((r) => r.status === 'blocked') ? '; some plans blocked by the safety valve' : ''}`);
      return { mode, correlationId, reports, errors };
    };
    const retentionSchedule: RetentionSchedule<LocalRetentionResult> = startRetentionSchedule({
      ...timers.retention,
      scheduledMode: timers.retentionMode,
      run: runRetention,
      log,
    });
    cleanups.push(() => retentionSchedule.stop());
    onRetention = (apply) => retentionSchedule.trigger(apply ? 'apply' : 'dry-run', 'on demand');

    // Approvals: links and the console on the control listener, messages in D/outbox.jsonl (see local/approvals.ts).
    const approvals = await startLocalApprovals({
      stateDir,
      config,
      dynamoEndpoint: db.endpoint,
      tableName: db.tables.approvals,
      audit: audit.log,
      consoleUrl: control.url,
      log,
      // The promotion runner's completer settles its waiting RequestApproval (late-bound: the runner needs the requester).
      completer: { succeed: (t, o) => promotion.promotions.completer.succeed(t, o), fail: (t, e, c) => promotion.promotions.completer.fail(t, e, c) },
      ...(process.env.REGMAN_SLACK_WEBHOOK_URL ? { slackWebhookUrl: process.env.REGMAN_SLACK_WEBHOOK_URL } : {}),
      reports: createLocalReports({ config, adapters, log: audit.log, dlqPath, pullStats }),
    });
    cleanups.push(() => approvals.close());
    onConsole = (req, res) => approvals.serve(req, res);
    // Promotions: the promotion ASL in process, its API on the control URL (local/promotion-setup.ts).
    const promotion = startLocalPromotions({ config, adapters, audit: audit.log, db, log, approvals: approvals.service, secrets: new LocalSecretResolver(stateDir) });
    cleanups.push(() => promotion.stop());
    promotionLocks.store = promotion.store;
    const testHook = localTestHookRoute({ config, adapters });
    // CI webhooks (GitHub / GitLab) start promotions their triggers map; deliveries are claimed once in DynamoDB.
    const webhookSecret = localWebhookSecret(stateDir);
    const webhooks = webhookRoutes({
      config, secret: webhookSecret.secret, promotions: promotion.promotions, audit: audit.log,
      deliveries: new DynamoDeliveryLog({ docClient: stateDb.docClient, tableName: db.tables.webhookDeliveries }),
    });
    routes = async (req) => (await testHook(req)) ?? (await webhooks(req)) ?? promotion.routes(req);

    const endpoints: LocalEndpoints = {
      // In config order (the processes start in parallel and register in any order).
      registries: Object.fromEntries(Object.keys(config.registries).flatMap((name) => {
        const p = registries.processes.get(name);
        return p ? [[name, p.url] as const] : [];
      })),
      configFile: resolve(options.configFile),
      configEnv: { ...registries.urlEnv, REGMAN_LOCAL_CONTROL_URL: control.url },
      source,
      environments: Object.fromEntries(Object.entries(config.environments).map(([name, env]) => [name, env.registries])),
      dynamodb: { endpoint: db.endpoint, tables: db.tables },
      control: control.url,
      controlToken,
      console: control.url,
      webhooks: localWebhookEndpoints(control.url, webhookSecret.file),
      pid: process.pid,
    };
    await writeEndpoints(stateDir, endpoints);
    cleanups.push(() => removeEndpoints(stateDir));
    log(banner(endpoints, stateDir, registries, timers, fanoutPolicy));

    let stopped: Promise<void> | undefined;
    return {
      endpoints,
      registries,
      dlqPath,
      approvals,
      reconcile: () => schedule.trigger('on demand'),
      retention: (o) => retentionSchedule.trigger(o?.apply ? 'apply' : 'dry-run', 'on demand'),
      async idle() {
        await invoker.idle();
        await Promise.allSettled(fanout.executions.values());
      },
      stop() {
        stopped ??= cleanup();
        return stopped;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Powertools for the local process: the handler's JSON logs are off unless POWERTOOLS_LOG_LEVEL asks
 * for them (the stack prints readable lines instead), metrics are not emitted, tracing is off.
 */
function localPowertools(): { logger: Logger; metrics: Metrics; tracer: Tracer } {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const serviceName = 'regman-local';
  const logger = new Logger({ serviceName, logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT') as 'SILENT' });
  return {
    logger,
    // Its warnings ("No application metrics to publish") go to the same quiet logger.
    metrics: new Metrics({ serviceName, namespace: 'RegistryManagerLocal', logger }),
    tracer: new Tracer({ serviceName, enabled: false }),
  };
}

function banner(endpoints: LocalEndpoints, stateDir: string, registries: LocalRegistries, timers: LocalSchedulePlan, fanout: FanoutPolicy | undefined): string {
  const everyMinutes = timers.reconcileEveryMinutes;
  const sweeps = 'everyMinutes' in timers.retention ? `every ${timers.retention.everyMinutes} min` : `nightly at ${formatDailyTime(timers.retention.daily)}`;
  const source = endpoints.source;
  const sourceHost = endpoints.registries[source]!.replace(/^http:\/\//, '');
  const rule = registries.config.replication.find((r) => r.source === source)!;
  // The rule's first target (not merely another registry: staging and prod are written by promotion only).
  const firstTarget = rule.targets[0]?.registry;
  const targetRepo = (name: string): string => {
    const t = rule.targets.find((x) => x.registry === name);
    return t?.repositoryPrefix ? `${t.repositoryPrefix.replace(/\/+$/, '')}/app` : 'app';
  };
  // The token itself is never printed: the command reads it from endpoints.json (mode 0600).
  const auth = `-H "Authorization: Bearer $(node -p "require('${join(stateDir, 'endpoints.json')}').controlToken")"`;
  const lines = [
    '',
    'regman local stack is up',
    ...Object.entries(endpoints.registries).map(([name, url]) => `  registry ${name.padEnd(12)} ${url}${name === source ? '   (source: pushes here replicate)' : ''}  storage ${join(stateDir, 'registries', name)}`),
    `  dynamodb          ${endpoints.dynamodb.endpoint}   tables ${Object.values(endpoints.dynamodb.tables).join(', ')}  files ${join(stateDir, 'dynamodb')}`,
    `  control           ${endpoints.control}   (POST /reconcile, GET /health; notifications arrive at /notifications/<registry>; every POST needs Authorization: Bearer <controlToken from endpoints.json>)`,
    `  console           ${endpoints.console ?? endpoints.control}/   (pending approvals, recent promotions, reports at /reports/compliance|costs|usage|lineage; approval links arrive in ${join(stateDir, 'outbox.jsonl')})`,
    ...(endpoints.webhooks ? [`  CI webhooks       ${endpoints.webhooks.github}  ${endpoints.webhooks.gitlab}   (secret in ${endpoints.webhooks.secretFile}; promotion[].triggers map events to edges)`] : []),
    `  dead letters      ${join(stateDir, 'dlq.jsonl')}`,
    `  reconcile         ${everyMinutes > 0 ? `every ${everyMinutes} min, and ` : ''}on demand: curl -X POST ${auth} ${endpoints.control}/reconcile`,
    `  retention         ${sweeps} (${timers.retentionMode === 'apply' ? 'deleting: schedules.retentionMode apply' : 'dry runs'}), and on demand: curl -X POST ${auth} '${endpoints.control}/retention'  (delete: ?apply=1)`,
    fanout
      ? `  large images      over ${formatBytes(fanout.maxBytes)} to copy (all targets): the replicate-large state machine, in process (REGMAN_FANOUT_BYTES)`
      : '  large images      copied in the handler (fan-out off)',
    `  endpoints.json    ${join(stateDir, 'endpoints.json')}`,
    '',
    `Rule "${rule.name}": ${rule.source} → ${rule.targets.map((t) => t.registry).join(', ')} for tags ${rule.tags.include.join(' ')}. Try:`,
    `  skopeo copy --dest-tls-verify=false docker-archive:image.tar docker://${sourceHost}/app:v1`,
    `  skopeo copy --dest-tls-verify=false oci:./layout:tag docker://${sourceHost}/app:v1`,
    ...(firstTarget ? [`  skopeo inspect --tls-verify=false docker://${endpoints.registries[firstTarget]!.replace(/^http:\/\//, '')}/${targetRepo(firstTarget)}:v1`] : []),
    `  npx regman audit query --state-dir ${stateDir}`,
    `  npx regman audit verify --state-dir ${stateDir}`,
    ...promotionHints({ config: registries.config, endpoints, stateDir }),
    '',
    'Ctrl-C stops everything; images and the audit log stay in the state folder.',
    '',
  ];
  return lines.join('\n');
}
