// The shared core of the two HTTP Lambdas (approvals, console): HTTP API event → serveConsole over a route subset → HTTP API result.
import { redact } from '../oci/redact.ts';
import type { ConsoleContext } from '../web/console-context.ts';
import { serveConsole } from '../web/console.ts';
import { htmlResponse } from '../web/http.ts';
import { page } from '../web/layout.ts';
import { html } from '../html.ts';
import type { Route } from '../web/routes.ts';
import { memoizeRetrying } from './memoize.ts';
import { HttpApiEventError, eventErrorResult, toHttpApiResult, toWebRequest, type HttpApiEventV2, type HttpApiResultV2 } from './http-api.ts';

export type HttpApiHandler = (event: HttpApiEventV2) => Promise<HttpApiResultV2>;

export interface ConsoleHttpHandlerOptions {
  /** Error lines (redacted before they are written). @default stderr */
  readonly log?: (line: string) => void;
}

const UNAVAILABLE = () =>
  toHttpApiResult(htmlResponse(503, page({ title: 'Unavailable' }, html`<h1>Temporarily unavailable</h1><section><p>Try again in a minute; operators can see the logs.</p></section>`)));

/**
 * Serves `routes` only (the approvals function gets the link and Slack routes, the console function the operator
 * pages), so a route wired to the wrong function is a 404, not a bypass of the authorizer. The context is built
 * once per container; a failed build (a Secrets Manager blip) is retried on the next request.
 * Nothing here logs the path: the approval token is in it.
 *
 * @example
 * export const handler = createConsoleHttpHandler(consoleRoutes.filter((r) => !r.operator), () => contextFromEnv());
 */
export function createConsoleHttpHandler(routes: readonly Route[], context: () => Promise<ConsoleContext> | ConsoleContext, options: ConsoleHttpHandlerOptions = {}): HttpApiHandler {
  const log = (line: string): void => (options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(redact(line));
  const getContext = memoizeRetrying(context);
  return async (event) => {
    let request;
    try {
      request = toWebRequest(event);
    } catch (err) {
      if (err instanceof HttpApiEventError) return eventErrorResult(err);
      throw err;
    }
    let ctx: ConsoleContext;
    try {
      ctx = await getContext();
    } catch (err) {
      log(`console: the handler could not start: ${err instanceof Error ? err.message : String(err)}`);
      return UNAVAILABLE();
    }
    return toHttpApiResult(await serveConsole(request, { ...ctx, log: (line) => log(line) }, routes));
  };
}
