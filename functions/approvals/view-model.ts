// The approval page's view model: plain data built from a link view, fed to the page, to `--json` and to the tests.
import type { GateSummary } from './requester.ts';
import type { LinkView } from './service.ts';
import type { ApprovalDecisionRecord, ApprovalState, DeliveryRecord } from './types.ts';

export interface GateView {
  readonly gate: GateSummary['gate'];
  readonly passed: boolean;
  readonly summary: string;
  /** Findings per severity (scan gate). */
  readonly counts?: Readonly<Record<string, number>>;
  /** Findings the allowlist removed (scan gate). */
  readonly allowlisted?: readonly string[];
  /** Report, build or test-run link. */
  readonly url?: string;
}

export interface ApprovalPageView {
  readonly requestId: string;
  readonly executionId: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly requester: string;
  readonly pusher?: string;
  readonly requestedAt: string;
  readonly edge: { readonly from: string; readonly to: string };
  readonly gates: readonly GateView[];
  readonly currentDigest?: string;
  readonly tagMoves: readonly { readonly tag: string; readonly from?: string; readonly to: string }[];
  readonly approvals: readonly ApprovalDecisionRecord[];
  readonly required: number;
  readonly approverCount: number;
  readonly requiredFrom: readonly string[];
  readonly remaining: number;
  readonly state: ApprovalState;
  readonly expiresAt: string;
  /** The approver this link is for. */
  readonly you: string;
  /** Whether separation of duties bars `you` from approving (you may still reject). */
  readonly youMayApprove: boolean;
  readonly failedDeliveries: readonly DeliveryRecord[];
  readonly form: { readonly action: string; readonly csrfToken: string };
}

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'informational', 'undefined'];

function gateView(g: GateSummary): GateView {
  const d = (g.details ?? {}) as Record<string, unknown>;
  const counts = d.counts && typeof d.counts === 'object' ? (d.counts as Record<string, unknown>) : undefined;
  const orderedCounts = counts
    ? Object.fromEntries(
        Object.entries(counts)
          .filter((e): e is [string, number] => typeof e[1] === 'number')
          .sort((a, b) => SEVERITY_ORDER.indexOf(a[0]) - SEVERITY_ORDER.indexOf(b[0])),
      )
    : undefined;
  const allowlisted = Array.isArray(d.allowlisted) ? d.allowlisted.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) : undefined;
  const urlValue = (g as { url?: unknown }).url ?? d.url;
  const url = typeof urlValue === 'string' && /^https?:\/\//.test(urlValue) ? urlValue : undefined;
  return {
    gate: g.gate,
    passed: g.passed,
    summary: g.summary,
    ...(orderedCounts ? { counts: orderedCounts } : {}),
    ...(allowlisted ? { allowlisted } : {}),
    ...(url ? { url } : {}),
  };
}

/** Builds the page's data from a verified link view. */
export function approvalPageView(view: LinkView, youMayApprove: boolean): ApprovalPageView {
  const { request, decisions, deliveries } = view.snapshot;
  const remaining = view.outcome.state === 'pending' ? view.outcome.remaining : 0;
  return {
    requestId: request.requestId,
    executionId: request.executionId,
    repository: request.repository,
    tag: request.tag,
    digest: request.digest,
    requester: request.requester,
    ...(request.pusher ? { pusher: request.pusher } : {}),
    requestedAt: request.createdAt,
    edge: request.edge,
    gates: request.gates.map(gateView),
    ...(request.target?.currentDigest ? { currentDigest: request.target.currentDigest } : {}),
    tagMoves: request.target?.tags ?? [],
    approvals: decisions.filter((d) => d.decision === 'approve').sort((a, b) => a.time.localeCompare(b.time)),
    required: request.policy.required,
    approverCount: request.policy.approvers.length,
    requiredFrom: request.policy.requiredFrom ?? [],
    remaining,
    state: view.state,
    expiresAt: request.expiresAt,
    you: view.link.approver,
    youMayApprove,
    failedDeliveries: deliveries.filter((d) => !d.ok),
    form: { action: view.formAction, csrfToken: view.csrfToken },
  };
}
