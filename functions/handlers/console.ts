// Lambda entry behind the HTTP API's authorized routes (IAM or JWT): the read-only console pages, pending approvals and recent promotions.
import { readEnvironment } from '../env.ts';
import { consoleRoutes } from '../web/routes.ts';
import { consoleDepsFromEnvironment } from './approvals-deps.ts';
import { createConsoleHttpHandler, type HttpApiHandler } from './console-http.ts';
import { moduleDir } from './deps.ts';

/** The operator pages: API Gateway lets a request reach them only through the authorizer. */
export const OPERATOR_ROUTES = consoleRoutes.filter((r) => r.operator);

export function createConsoleHandler(env = readEnvironment(), handlerDir = moduleDir(import.meta.url)): HttpApiHandler {
  return createConsoleHttpHandler(OPERATOR_ROUTES, async () => ({ approvals: (await consoleDepsFromEnvironment(env, handlerDir)).service }));
}

/** The Lambda handler (CDK entry functions/handlers/console.ts). */
export const handler = createConsoleHandler();
