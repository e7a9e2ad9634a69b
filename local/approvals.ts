// The local stack's approvals: the engine on dynalite, the outbox channel, a key file in the state folder, and an in-process task completer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AuditLog } from '../functions/audit/index.ts';
import { DynamoApprovalStore } from '../functions/approvals/dynamo-store.ts';
import { fileKey } from '../functions/approvals/keys.ts';
import { OutboxSender } from '../functions/approvals/notify/outbox.ts';
import { SlackWebhookSender } from '../functions/approvals/notify/slack.ts';
import { approvalPolicyFor } from '../functions/approvals/policy.ts';
import type { ApprovalDecision, TaskCompleter } from '../functions/approvals/requester.ts';
import { ApprovalService } from '../functions/approvals/service.ts';
import { isApprovalError } from '../functions/approvals/errors.ts';
import { toPendingJson } from '../functions/approvals/operator.ts';
import type { MessageSender } from '../functions/approvals/notify/types.ts';
import type { RegmanConfig } from '../functions/config/types.ts';
import { createDynamoClients } from '../functions/dynamo/client.ts';
import { serveConsole } from '../functions/web/console.ts';
import { consoleRoutes, matchRoute } from '../functions/web/routes.ts';
import type { ConsoleContext } from '../functions/web/console-context.ts';
import type { ConsoleReports } from '../functions/web/reports/console-reports.ts';

/** How the wait of one task ended: the workflow's `.waitForTaskToken` state resolves or fails with it. */
export type TaskOutcome = { readonly ok: true; readonly output: ApprovalDecision } | { readonly ok: false; readonly error: string; readonly cause: string };

/**
 * aws-local-stepfunctions has no task tokens: the local stack hands one out, waits on it, and this completer
 * settles the wait when the approval engine decides (as SendTaskSuccess/SendTaskFailure do in AWS).
 */
interface Wait {
  readonly promise: Promise<TaskOutcome>;
  resolve(outcome: TaskOutcome): void;
}

export class LocalTaskCompleter implements TaskCompleter {
  private readonly waits = new Map<string, Wait>();

  private entry(token: string): Wait {
    let e = this.waits.get(token);
    if (!e) {
      let resolve: (outcome: TaskOutcome) => void = () => undefined;
      const promise = new Promise<TaskOutcome>((r) => {
        resolve = r;
      });
      e = { promise, resolve };
      this.waits.set(token, e);
    }
    return e;
  }

  /** Resolves when the task with this token is completed (never rejects). */
  wait(token: string): Promise<TaskOutcome> {
    return this.entry(token).promise;
  }

  async succeed(token: string, output: ApprovalDecision): Promise<void> {
    this.entry(token).resolve({ ok: true, output });
  }

  async fail(token: string, error: string, cause: string): Promise<void> {
    this.entry(token).resolve({ ok: false, error, cause });
  }
}

export interface LocalApprovalsOptions {
  readonly stateDir: string;
  readonly config: Pick<RegmanConfig, 'promotion'>;
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  readonly audit: Pick<AuditLog, 'append'>;
  /** The console's base URL (the control listener). */
  readonly consoleUrl: string;
  readonly log: (line: string) => void;
  /** A real Slack incoming webhook, when configured (REGMAN_SLACK_WEBHOOK_URL): Slack messages go there too. */
  readonly slackWebhookUrl?: string;
  /** Who completes the waiting task (the promotion runner's); a LocalTaskCompleter when absent. */
  readonly completer?: TaskCompleter;
  readonly now?: () => Date;
  /** The console's report pages (local/reports.ts). */
  readonly reports?: ConsoleReports;
}

export interface LocalApprovals {
  readonly service: ApprovalService;
  /** The stand-in completer when none was given (tests wait on it). */
  readonly completer: LocalTaskCompleter;
  readonly outboxFile: string;
  /** Serves a console request on the control listener; false when the path is not the console's. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  close(): void;
}

const MAX_FORM_BYTES = 64 * 1024;

/**
 * Operator endpoints for `regman approvals list|approve|reject --state-dir`: the CLI cannot complete the stack's
 * in-process task, so it asks the stack. POSTs carry the control token (control-server.ts checks it: this prefix is
 * not exempt); the identity is the CLI's OS user or `--as`, with every check of the engine, separation of duties included.
 */
export const OPERATOR_PREFIX = '/operator/approvals';

async function serveOperator(service: ApprovalService, method: string, path: string, body: string): Promise<{ status: number; body: unknown }> {
  if (method === 'GET' && path === OPERATOR_PREFIX) return { status: 200, body: { pending: (await service.listPending()).map(toPendingJson) } };
  const m = /^\/operator\/approvals\/([^/]+)\/(approve|reject)$/.exec(path);
  if (method !== 'POST' || !m) return { status: 404, body: { error: `no route ${method} ${path}` } };
  let input: { identity?: unknown; comment?: unknown };
  try {
    input = JSON.parse(body || '{}') as typeof input;
  } catch {
    return { status: 400, body: { error: 'the body is not JSON' } };
  }
  if (typeof input.identity !== 'string' || input.identity === '') return { status: 400, body: { error: 'identity is required' } };
  try {
    const result = await service.decideAsIdentity(decodeURIComponent(m[1]!), input.identity, 'cli', {
      action: m[2] as 'approve' | 'reject',
      ...(typeof input.comment === 'string' && input.comment !== '' ? { comment: input.comment } : {}),
    });
    return { status: 200, body: { requestId: result.requestId, state: result.state, decision: result.decision } };
  } catch (err) {
    if (isApprovalError(err)) return { status: err.status, body: { error: err.message, code: err.code } };
    throw err;
  }
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Both channels land in the outbox; a configured Slack webhook gets the Slack messages as well. */
class TeeSender implements MessageSender {
  constructor(private readonly senders: readonly MessageSender[]) {}
  async send(message: Parameters<MessageSender['send']>[0]): Promise<void> {
    for (const s of this.senders) await s.send(message);
  }
}

export async function startLocalApprovals(options: LocalApprovalsOptions): Promise<LocalApprovals> {
  const clients = createDynamoClients({ endpoint: options.dynamoEndpoint, region: 'local' });
  const store = new DynamoApprovalStore({ docClient: clients.docClient, tableName: options.tableName });
  const completer = new LocalTaskCompleter();
  const outboxFile = join(options.stateDir, 'outbox.jsonl');
  const outbox = new OutboxSender(outboxFile, options.log, options.now);
  const slack = options.slackWebhookUrl ? new TeeSender([outbox, new SlackWebhookSender(async () => options.slackWebhookUrl!)]) : outbox;
  const keyFile = join(options.stateDir, 'approval-hmac.key');
  const service = new ApprovalService({
    store,
    key: () => fileKey(keyFile),
    completer: options.completer ?? completer,
    audit: options.audit,
    policyFor: (request) => approvalPolicyFor(options.config, request.edge),
    consoleUrl: options.consoleUrl,
    senderFor: (channel) => (channel === 'email' ? outbox : slack),
    log: options.log,
    ...(options.now ? { now: options.now } : {}),
  });
  const ctx: ConsoleContext = { approvals: service, log: options.log, ...(options.now ? { now: options.now } : {}), ...(options.reports ? { reports: options.reports } : {}) };
  return {
    service,
    completer,
    outboxFile,
    async serve(req, res) {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname.startsWith(OPERATOR_PREFIX)) {
        const body = req.method === 'POST' ? await readText(req) : '';
        const out = await serveOperator(service, req.method ?? 'GET', url.pathname, body);
        res.writeHead(out.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(out.body));
        return true;
      }
      if (!matchRoute(consoleRoutes, req.method ?? 'GET', url.pathname)) return false;
      const body = req.method === 'POST' ? await readText(req) : '';
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      const out = await serveConsole({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body }, ctx);
      res.writeHead(out.status, out.headers);
      res.end(out.body);
      return true;
    },
    close: () => clients.destroy(),
  };
}
