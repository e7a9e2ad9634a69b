// The console's route handlers: thin adapters from a request to the approvals engine and a render function.
import { approvalPageView } from '../approvals/view-model.ts';
import { ApprovalRefusedError, SeparationOfDutiesError } from '../approvals/errors.ts';
import { checkSeparationOfDuties } from '../approvals/checks.ts';
import { handleSlackInteraction } from '../approvals/notify/slack.ts';
import { renderApprovalPage, renderDecisionDone } from './approval-page.ts';
import type { ConsoleContext } from './console-context.ts';
import { renderPendingApprovals, renderRecentPromotions, rowsFromApprovals } from './console-pages.ts';
import { formFields, htmlResponse, type WebRequest, type WebResponse } from './http.ts';
import type { NavLink } from './layout.ts';
import { renderRefusal } from './refusal-page.ts';

type Handler = (req: WebRequest, params: Readonly<Record<string, string>>, ctx: ConsoleContext) => Promise<WebResponse>;

/** Header links: serveConsole fills them from the route table. */
function nav(ctx: ConsoleContext): readonly NavLink[] {
  return ctx.nav ?? [];
}

/** Runs a handler; an approval refusal becomes its page and status. */
async function refusing(run: () => Promise<WebResponse>): Promise<WebResponse> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ApprovalRefusedError) {
      const { status, body } = renderRefusal(err);
      return htmlResponse(status, body);
    }
    throw err;
  }
}

export const home: Handler = (req, params, ctx) => pendingApprovals(req, params, ctx);

export const pendingApprovals: Handler = async (_req, _params, ctx) => htmlResponse(200, renderPendingApprovals(await ctx.approvals.listPending(), nav(ctx)));

export const recentPromotions: Handler = async (_req, _params, ctx) => {
  const rows = ctx.recentPromotions ? await ctx.recentPromotions() : rowsFromApprovals(await ctx.approvals.listRecent());
  return htmlResponse(200, renderRecentPromotions(rows, nav(ctx)));
};

export const approvalGet: Handler = (_req, params, ctx) =>
  refusing(async () => {
    const view = await ctx.approvals.viewLink(params.execution ?? '', params.token ?? '');
    let mayApprove = true;
    try {
      checkSeparationOfDuties(view.snapshot.request, view.link.approver, view.link.approver);
    } catch (err) {
      if (!(err instanceof SeparationOfDutiesError)) throw err;
      mayApprove = false;
    }
    return htmlResponse(200, renderApprovalPage(approvalPageView(view, mayApprove)));
  });

export const approvalPost: Handler = (req, params, ctx) =>
  refusing(async () => {
    const form = formFields(req.body);
    const action = form.get('action') === 'reject' ? 'reject' : form.get('action') === 'approve' ? 'approve' : (form.get('action') as 'approve');
    const comment = form.get('comment') ?? undefined;
    const result = await ctx.approvals.decideByLink(params.execution ?? '', params.token ?? '', form.get('csrf') ?? undefined, {
      action,
      ...(comment ? { comment } : {}),
    });
    const snapshot = await ctx.approvals.getSnapshot(result.requestId);
    return htmlResponse(
      200,
      renderDecisionDone({
        action,
        state: result.state,
        remaining: result.outcome.state === 'pending' ? result.outcome.remaining : 0,
        repository: snapshot?.request.repository ?? '',
        tag: snapshot?.request.tag ?? '',
      }),
    );
  });

export const slackInteractions: Handler = async (req, _params, ctx) => {
  if (!ctx.slackSigningSecret) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Slack is not configured.' };
  const out = await handleSlackInteraction(
    { approvals: ctx.approvals, signingSecret: ctx.slackSigningSecret, ...(ctx.slackPost ? { post: ctx.slackPost } : {}), ...(ctx.now ? { now: ctx.now } : {}) },
    { timestamp: req.headers['x-slack-request-timestamp'], signature: req.headers['x-slack-signature'] },
    req.body,
  );
  return { status: out.status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: out.body };
};
