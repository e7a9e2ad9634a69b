// Our own retention rules: the schema and its checks (the evaluator and its semantics: ../retention/policy-native.ts, docs/RETENTION.md).
import * as z from 'zod';
import { PolicyError, fromZodIssues, type InputIssue } from './errors.ts';
import type { NativePolicy } from './types.ts';

const positiveInt = z.number().int().positive();

const nativeSchema = z.strictObject({
  format: z.literal('regman').optional(),
  description: z.string().optional(),
  repositories: z
    .union([
      z.array(z.string().min(1)),
      z.strictObject({ include: z.array(z.string().min(1)).optional(), exclude: z.array(z.string().min(1)).optional() }),
    ])
    .optional(),
  delete: z.strictObject({
    match: z.enum(['any', 'all']).default('any'),
    olderThanDays: positiveInt.optional(),
    untagged: z.boolean().default(false),
    pulls: z.strictObject({ fewerThan: positiveInt, inDays: positiveInt }).optional(),
  }),
  keep: z
    .strictObject({
      last: positiveInt.optional(),
      tags: z.array(z.string().min(1)).default([]),
      tagRegex: z.array(z.string().min(1)).default([]),
    })
    .default({ tags: [], tagRegex: [] }),
});

/** Validates a native policy document (already parsed from YAML or JSON). */
export function parseNativePolicy(input: unknown, source?: string): NativePolicy {
  const parsed = nativeSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new PolicyError('regman', fromZodIssues(parsed.error.issues), source);
  const p = parsed.data;
  const issues: InputIssue[] = [];
  if (p.delete.olderThanDays === undefined && !p.delete.untagged && p.delete.pulls === undefined) {
    issues.push({ path: 'delete', message: 'needs at least one deletion rule: olderThanDays, untagged: true, or pulls' });
  }
  p.keep.tagRegex.forEach((source, i) => {
    try {
      new RegExp(source);
    } catch (err) {
      issues.push({ path: `keep.tagRegex[${i}]`, message: `not a valid regular expression: ${(err as Error).message}`, value: source });
    }
  });
  if (issues.length > 0) throw new PolicyError('regman', issues, source);
  const repos = Array.isArray(p.repositories) ? { include: p.repositories } : (p.repositories ?? {});
  return {
    format: 'regman',
    repositories: { include: repos.include ?? [], exclude: repos.exclude ?? [] },
    delete: {
      match: p.delete.match,
      untagged: p.delete.untagged,
      ...(p.delete.olderThanDays !== undefined ? { olderThanDays: p.delete.olderThanDays } : {}),
      ...(p.delete.pulls ? { pulls: p.delete.pulls } : {}),
    },
    keep: { tags: p.keep.tags, tagRegex: p.keep.tagRegex, ...(p.keep.last !== undefined ? { last: p.keep.last } : {}) },
  };
}
