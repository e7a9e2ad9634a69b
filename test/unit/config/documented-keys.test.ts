// Every key the config schema accepts is documented in docs/CONFIGURATION.md, in its section (no hidden or dead config).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { pricingSchema } from '../../../functions/config/schema-pricing.ts';
import { dockerhubRegistrySchema } from '../../../functions/config/schema-registries.ts';
import { approvalGateSchema, environmentSchema, promotionEdgeSchema, replicationRuleSchema, retentionPolicySchema, schedulesSchema } from '../../../functions/config/schema.ts';

const doc = readFileSync(new URL('../../../docs/CONFIGURATION.md', import.meta.url), 'utf8');

/** The text of one `## Title` section. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`docs/CONFIGURATION.md has no section "${title}"`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** Field names a section's tables document: the backticked first cells, `a.b` also as `b`, `from`, `to` split. */
function documentedFields(text: string, prefix = ''): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const cell = /^\| ([^|]+) \|/.exec(line)?.[1];
    for (const m of cell?.matchAll(/`([A-Za-z.[\]]+)`/g) ?? []) {
      const field = m[1]!;
      if (prefix === '' || field.startsWith(prefix)) out.add(field.slice(prefix.length));
    }
  }
  return out;
}

const keys = (schema: z.ZodObject) => Object.keys(schema.shape);

describe('docs/CONFIGURATION.md documents every config key', () => {
  it.each([
    // The fields every registry kind shares (the kind's own fields are in the kinds table); `pricing` key by key.
    { title: 'Registries', schema: dockerhubRegistrySchema, prefix: '', kindFields: ['kind', 'namespace'] },
    { title: 'Registries', schema: pricingSchema, prefix: 'pricing.' },
    { title: 'Environments', schema: environmentSchema, prefix: '' },
    { title: 'Replication', schema: replicationRuleSchema, prefix: '' },
    { title: 'Promotion', schema: promotionEdgeSchema, prefix: '' },
    { title: 'Promotion', schema: approvalGateSchema, prefix: 'gates.approval.' },
    { title: 'Retention', schema: retentionPolicySchema, prefix: '' },
    { title: 'Schedules', schema: schedulesSchema, prefix: '' },
  ])('$title $prefix', ({ title, schema, prefix, kindFields = [] }: { title: string; schema: unknown; prefix: string; kindFields?: string[] }) => {
    const documented = documentedFields(section(title), prefix);
    // `gates` is documented through its gates (`gates.scan.…`); `tags` through `tags.include` / `tags.exclude`.
    const covered = (key: string) => documented.has(key) || [...documented].some((d) => d.startsWith(`${key}.`) || d.startsWith(`${key}[`));
    expect(keys(schema as z.ZodObject).filter((k) => !kindFields.includes(k) && !covered(k))).toEqual([]);
  });
});
