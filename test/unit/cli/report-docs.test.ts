// docs/REPORTS.md's command lines for `report usage` and `lineage` name only options those commands have, and exactly the formats they accept.
import { readFileSync } from 'node:fs';
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { lineageFormat, registerLineage } from '../../../bin/commands/lineage.ts';
import { registerReport } from '../../../bin/commands/report.ts';
import { parseFormat } from '../../../bin/commands/report-output.ts';
import { UsageError } from '../../../bin/commands/run-cli.ts';

const doc = readFileSync(new URL('../../../docs/REPORTS.md', import.meta.url), 'utf8');
/** The `## \`regman …\`` heading that starts with `prefix`. */
const heading = (prefix: string): string => doc.split('\n').find((l) => l.startsWith(`## \`regman ${prefix} `)) ?? '';
const flagsOf = (line: string): string[] => [...new Set([...line.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]))];
const formatsOf = (line: string): string[] => /--format ([a-z|]+)/.exec(line)?.[1]?.split('|') ?? [];

const program = new Command('regman');
registerReport(program);
registerLineage(program);
const command = (...path: string[]): Command => path.reduce((c, name) => c.commands.find((x) => x.name() === name)!, program);
const longFlags = (c: Command): string[] => (c.options as readonly Option[]).map((o) => o.long!);

describe('docs/REPORTS.md command lines', () => {
  it.each([
    ['lineage', ['lineage']],
    ['report usage', ['report', 'usage']],
  ])('%s: every option in the heading is one of the command\'s', (prefix, path) => {
    const line = heading(prefix);
    expect(line).not.toBe('');
    expect(flagsOf(line).filter((f) => !longFlags(command(...path)).includes(f))).toEqual([]);
  });

  it('lineage: the heading lists text, json and html, which the command accepts, and no other format', () => {
    const formats = formatsOf(heading('lineage'));
    expect(formats).toEqual(['text', 'json', 'html']);
    for (const format of formats) expect(lineageFormat({ format }, true)).toBe(format);
    expect(() => lineageFormat({ format: 'md' }, true)).toThrow(UsageError);
    // --json is documented as --format json.
    expect(lineageFormat({ json: true, format: 'text' }, false)).toBe('json');
    expect(() => lineageFormat({ json: true, format: 'html' }, true)).toThrow(/--json and --format html/);
  });

  it('report usage: the heading lists the formats report usage accepts', () => {
    const formats = formatsOf(heading('report usage'));
    expect(formats).toEqual(['text', 'json', 'md', 'html']);
    for (const format of formats) expect(parseFormat(format)).toBe(format);
  });
});
