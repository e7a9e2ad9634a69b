// Checks across sections, run on the raw document so that they report even when the schema also failed:
// names that refer to nothing, duplicates, promotion cycles, approvals, and missing credential references.
import { oneOf, quote } from './errors.ts';
import { asArray, asRecord, type PathSegment } from './path.ts';
import { CREDENTIAL_SOURCES, REGISTRY_KINDS } from './schema.ts';
import type { RawIssue } from './zod-issues.ts';

/** Every cross-reference problem in `data` (a parsed, credential-stripped document). */
export function crossCheck(data: unknown): RawIssue[] {
  const root = asRecord(data) ?? {};
  const registries = asRecord(root.registries) ?? {};
  const environments = asRecord(root.environments) ?? {};
  const registryNames = Object.keys(registries);
  const environmentNames = Object.keys(environments);
  const issues: RawIssue[] = [];

  const refersTo = (path: PathSegment[], value: unknown, names: readonly string[], what: 'registry' | 'environment') => {
    if (typeof value !== 'string' || value === '' || names.includes(value)) return;
    issues.push({ path, value, message: `${quote(value)} names no ${what}`, expected: oneOf(names, `a ${what} defined under ${what === 'registry' ? 'registries' : 'environments'} (none is)`) });
  };

  checkCredentials(registries, issues);

  for (const [env, body] of Object.entries(environments)) {
    asArray(asRecord(body)?.registries).forEach((r, i) => refersTo(['environments', env, 'registries', i], r, registryNames, 'registry'));
  }

  const rules = asArray(root.replication);
  rules.forEach((rule, i) => {
    const r = asRecord(rule);
    if (!r) return;
    refersTo(['replication', i, 'source'], r.source, registryNames, 'registry');
    asArray(r.targets).forEach((target, j) => {
      const t = asRecord(target);
      refersTo(['replication', i, 'targets', j, 'registry'], t?.registry, registryNames, 'registry');
      if (t && typeof r.source === 'string' && t.registry === r.source && t.repositoryPrefix === undefined && t.rename === undefined) {
        issues.push({
          path: ['replication', i, 'targets', j, 'registry'],
          value: t.registry,
          message: `${quote(t.registry)} is the rule's source: the images would be copied onto themselves`,
          expected: 'another registry, or a repositoryPrefix or rename',
        });
      }
    });
  });
  duplicates(rules, 'replication', 'replication rule', issues);

  checkPromotion(asArray(root.promotion), environmentNames, refersTo, issues);

  const policies = asArray(root.retention);
  policies.forEach((policy, i) => {
    const p = asRecord(policy);
    asArray(p?.environments).forEach((e, j) => refersTo(['retention', i, 'environments', j], e, environmentNames, 'environment'));
    asArray(p?.registries).forEach((r, j) => refersTo(['retention', i, 'registries', j], r, registryNames, 'registry'));
  });
  duplicates(policies, 'retention', 'retention policy', issues);
  return issues;
}

/**
 * A private registry needs a credential reference; ECR without one uses the default IAM credentials
 * of the caller (the Lambda's role). `iamRole` only makes sense for ECR.
 */
function checkCredentials(registries: Record<string, unknown>, issues: RawIssue[]): void {
  for (const [name, body] of Object.entries(registries)) {
    const r = asRecord(body);
    const kind = r?.kind;
    if (!r || typeof kind !== 'string' || !(REGISTRY_KINDS as readonly string[]).includes(kind)) continue;
    const credentials = asRecord(r.credentials);
    if (r.credentials === undefined && r.public !== true && kind !== 'ecr') {
      issues.push({
        path: ['registries', name, 'credentials'],
        value: undefined,
        message: `private ${kind} registry ${quote(name)} has no credentials reference`,
        expected: `credentials: { secretArn | secretName | env | dockerConfig }, or public: true for anonymous access`,
      });
    }
    if (credentials?.iamRole !== undefined && kind !== 'ecr') {
      issues.push({
        path: ['registries', name, 'credentials', 'iamRole'],
        value: credentials.iamRole,
        message: `iamRole is for ECR registries only, not ${kind}`,
        expected: `one of: ${CREDENTIAL_SOURCES.filter((s) => s !== 'iamRole').join(', ')}`,
      });
    }
  }
}

function checkPromotion(
  edges: readonly unknown[],
  environmentNames: readonly string[],
  refersTo: (path: PathSegment[], value: unknown, names: readonly string[], what: 'registry' | 'environment') => void,
  issues: RawIssue[],
): void {
  const seen = new Map<string, number>();
  const graph = new Map<string, { to: string; index: number }[]>();
  edges.forEach((edge, i) => {
    const e = asRecord(edge);
    if (!e) return;
    refersTo(['promotion', i, 'from'], e.from, environmentNames, 'environment');
    refersTo(['promotion', i, 'to'], e.to, environmentNames, 'environment');
    checkApproval(asRecord(asRecord(e.gates)?.approval), i, issues);
    if (typeof e.from !== 'string' || typeof e.to !== 'string') return;
    if (e.from === e.to) {
      issues.push({ path: ['promotion', i, 'to'], value: e.to, message: `promotes ${quote(e.from)} to itself`, expected: 'another environment' });
      return;
    }
    const key = `${e.from}\u0000${e.to}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({
        path: ['promotion', i],
        value: `${e.from} → ${e.to}`,
        message: `duplicate promotion edge ${e.from} → ${e.to} (first at promotion[${first}])`,
        expected: 'one edge per pair of environments',
      });
      return;
    }
    seen.set(key, i);
    graph.set(e.from, [...(graph.get(e.from) ?? []), { to: e.to, index: i }]);
  });
  for (const cycle of findCycles(graph)) {
    issues.push({
      path: ['promotion', cycle.closingEdge],
      value: cycle.nodes.join(' → '),
      message: `promotion edges form a cycle: ${cycle.nodes.join(' → ')}`,
      expected: 'edges that only move forward, e.g. dev → staging → prod',
    });
  }
}

function checkApproval(approval: Record<string, unknown> | undefined, i: number, issues: RawIssue[]): void {
  if (!approval) return;
  const approvers = asArray(approval.approvers);
  const required = approval.required ?? 1;
  if (Array.isArray(approval.approvers) && typeof required === 'number' && required > approvers.length) {
    issues.push({
      path: ['promotion', i, 'gates', 'approval', 'required'],
      value: required,
      message: `requires ${required} approvals but lists ${approvers.length} ${approvers.length === 1 ? 'approver' : 'approvers'}`,
      expected: `a number <= ${approvers.length}, the number of approvers`,
    });
  }
  asArray(approval.requiredFrom).forEach((r, j) => {
    if (Array.isArray(approval.approvers) && !approvers.includes(r)) {
      issues.push({
        path: ['promotion', i, 'gates', 'approval', 'requiredFrom', j],
        value: r,
        message: `${quote(r)} is in requiredFrom but not in approvers`,
        expected: 'one of the approvers',
      });
    }
  });
  const firstIndex = new Map<unknown, number>();
  approvers.forEach((a, j) => {
    const first = firstIndex.get(a);
    if (first === undefined) firstIndex.set(a, j);
    else {
      issues.push({
        path: ['promotion', i, 'gates', 'approval', 'approvers', j],
        value: a,
        message: `${quote(a)} is listed twice (first at approvers[${first}])`,
        expected: 'distinct approvers',
      });
    }
  });
}

/** Each elementary cycle once (by its set of environments), reported at the edge that closes it. */
export function findCycles(graph: ReadonlyMap<string, readonly { to: string; index: number }[]>): { nodes: string[]; closingEdge: number }[] {
  const cycles: { nodes: string[]; closingEdge: number }[] = [];
  const reported = new Set<string>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'active');
    stack.push(node);
    for (const { to, index } of graph.get(node) ?? []) {
      const s = state.get(to);
      if (s === 'active') {
        const nodes = [...stack.slice(stack.indexOf(to)), to];
        const key = [...new Set(nodes)].sort().join('\u0000');
        if (!reported.has(key)) {
          reported.add(key);
          cycles.push({ nodes, closingEdge: index });
        }
      } else if (s === undefined) {
        visit(to);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

/** A name used by two entries of a list: reported at the second. */
function duplicates(list: readonly unknown[], section: string, what: string, issues: RawIssue[]): void {
  const first = new Map<string, number>();
  list.forEach((item, i) => {
    const name = asRecord(item)?.name;
    if (typeof name !== 'string') return;
    const at = first.get(name);
    if (at === undefined) first.set(name, i);
    else {
      issues.push({
        path: [section, i, 'name'],
        value: name,
        message: `duplicate ${what} name ${quote(name)} (first at ${section}[${at}])`,
        expected: `a name no other ${what} uses`,
      });
    }
  });
}
