// Public API of the retention policy shapes: parse and validate a policy document in any accepted format.
// It sits below both config/ (which validates the config file's retention rules) and retention/ (which evaluates them).
export { parsePolicy, detectPolicyFormat, type ParsePolicyOptions } from './parse.ts';
export { AWS_RULES } from './parse-ecr.ts';
export { RetentionError, PolicyError, formatIssue, formatPath, fromZodIssues, type InputIssue } from './errors.ts';
export type * from './types.ts';
