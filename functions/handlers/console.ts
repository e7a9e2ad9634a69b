// Lambda entry behind the HTTP API's authorized routes (IAM or JWT): the read-only console pages, pending approvals, recent promotions and the reports.
import { readEnvironment } from '../env.ts';
import { consoleRoutes } from '../web/routes.ts';
import { consoleDepsFromEnvironment } from './approvals-deps.ts';
import { createConsoleHttpHandler, type ConsoleHttpHandlerOptions, type HttpApiHandler } from './console-http.ts';
import { consoleReportsFromEnvironment, type ConsoleReportsDeps } from './console-reports-deps.ts';
import { moduleDir } from './deps.ts';

/** The operator pages: API Gateway lets a request reach them only through the authorizer. */
export const OPERATOR_ROUTES = consoleRoutes.filter((r) => r.operator);

/** `options`: the error log (console-http.ts) and the reports' secret resolver (console-reports-deps.ts). */
export function createConsoleHandler(env = readEnvironment(), handlerDir = moduleDir(import.meta.url), options: ConsoleHttpHandlerOptions & ConsoleReportsDeps = {}): HttpApiHandler {
  return createConsoleHttpHandler(
    OPERATOR_ROUTES,
    async () => {
      const { config, service } = await consoleDepsFromEnvironment(env, handlerDir);
      const reports = consoleReportsFromEnvironment(env, config, options.secrets ? { secrets: options.secrets } : {});
      return { approvals: service, ...(reports ? { reports } : {}) };
    },
    options.log ? { log: options.log } : {},
  );
}

/** The Lambda handler (CDK entry functions/handlers/console.ts). */
export const handler = createConsoleHandler();
