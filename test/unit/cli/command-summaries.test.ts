// `regman --version` / `--help` load no command module; the one-line summaries stay true to the commands they stand for.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_SUMMARIES, commandsToLoad } from '../../../bin/commands/command-summaries.ts';

const entry = readFileSync(new URL('../../../bin/regman.ts', import.meta.url), 'utf8');
/** The COMMANDS table of bin/regman.ts: name → [module, register function]. */
const table = [...entry.matchAll(/^\s+(\w+): async \(\) => \(await import\('\.\/commands\/([\w-]+\.ts)'\)\)\.(\w+),$/gm)].map(
  (m) => [m[1] as string, m[2] as string, m[3] as string] as const,
);
const names = table.map(([n]) => n);

describe('commandsToLoad', () => {
  it.each([
    ['--version', ['--version'], [], true],
    ['-V', ['-V'], [], true],
    ['--help', ['--help'], [], true],
    ['no arguments', [], [], true],
    ['help', ['help'], [], true],
    ['help copy', ['help', 'copy'], ['copy'], false],
    ['copy --help', ['copy', '--help'], ['copy'], false],
    ['--debug sync …', ['--debug', 'sync', '--source', 'a'], ['sync'], false],
    ['an unknown word loads every command (for the suggestion)', ['cpy'], names, false],
  ])('%s', (_name, args, load, stubs) => {
    expect(commandsToLoad(args, names)).toEqual({ load, stubs });
  });

  it('loads a command without a summary even for --help (so it is listed)', () => {
    expect(commandsToLoad(['--help'], [...names, 'newcommand'])).toEqual({ load: ['newcommand'], stubs: true });
  });
});

describe('COMMAND_SUMMARIES', () => {
  it('names only commands of bin/regman.ts (a command without one still shows in --help, loaded)', () => {
    expect(names.length).toBeGreaterThan(15);
    expect(Object.keys(COMMAND_SUMMARIES).filter((n) => !names.includes(n))).toEqual([]);
  });

  it.each(table.filter(([name]) => COMMAND_SUMMARIES[name] !== undefined))('%s: the summary opens the real description, and names its arguments', async (name, module, register) => {
    const mod = (await import(`../../../bin/commands/${module}`)) as Record<string, (p: Command) => void>;
    const program = new Command('regman');
    mod[register]!(program);
    const real = program.commands.find((c) => c.name() === name);
    expect(real, `${module} registers "${name}"`).toBeDefined();
    const [args, summary] = COMMAND_SUMMARIES[name]!;
    expect(real!.description().startsWith(summary)).toBe(true);
    const realArgs = real!.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}]`));
    const stubArgs = args.split(' ').filter((a) => a !== '[options]' && a !== '<command>');
    expect(stubArgs).toEqual(realArgs);
  });
});
