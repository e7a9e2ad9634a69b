// Public API of the retention module: parse a policy, validate an inventory, plan.
export { planRetention, shortDigest, DEFAULT_MAX_DELETE_SHARE } from './planner.ts';
export { parsePolicy, detectPolicyFormat, type ParsePolicyOptions } from './policy.ts';
export { parseInventory } from './inventory.ts';
export { toPlanJson, type PlanJson } from './plan-json.ts';
export { AWS_RULES } from '../retention-policy/parse-ecr.ts';
export { RetentionError, PolicyError, InventoryError, formatIssue, type InputIssue } from './errors.ts';
export type * from './types.ts';
