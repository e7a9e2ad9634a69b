// Lambda entry behind the HTTP API's unauthenticated routes: the approval page (GET), decisions (POST) and Slack's signed button clicks.
import { readEnvironment } from '../env.ts';
import type { ConsoleContext } from '../web/console-context.ts';
import { consoleRoutes } from '../web/routes.ts';
import { approvalsDepsFromEnvironment, type ApprovalsClients } from './approvals-deps.ts';
import { createConsoleHttpHandler, type HttpApiHandler } from './console-http.ts';
import { moduleDir } from './deps.ts';

/** The routes that authenticate themselves (signed link, Slack signature): everything but the operator pages. */
export const APPROVAL_ROUTES = consoleRoutes.filter((r) => !r.operator);

/** The approvals handler over an environment (tests pass their own, with mocked AWS clients). */
export function createApprovalsHttpHandler(env = readEnvironment(), handlerDir = moduleDir(import.meta.url), clients: ApprovalsClients = {}): HttpApiHandler {
  return createConsoleHttpHandler(APPROVAL_ROUTES, async (): Promise<ConsoleContext> => {
    const deps = await approvalsDepsFromEnvironment(env, handlerDir, clients);
    return {
      approvals: deps.service,
      ...(deps.slackSigningSecret ? { slackSigningSecret: deps.slackSigningSecret } : {}),
      ...(clients.post ? { slackPost: clients.post } : {}),
    };
  });
}

/** The Lambda handler (CDK entry functions/handlers/approvals-http.ts). */
export const handler = createApprovalsHttpHandler();
