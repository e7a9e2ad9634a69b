// A small analyser of the TypeScript import graph: which module imports which, which folder imports which,
// and the cycles. The dependency test (test/unit/architecture/dependencies.test.ts) checks it against the design.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** One import of one module: the file it resolves to inside the tree, or the bare package name. */
export interface ImportEdge {
  readonly from: string;
  /** A path relative to the root (`functions/oci/blob.ts`), or a package (`zod`, `node:fs`). */
  readonly to: string;
  readonly internal: boolean;
  readonly typeOnly: boolean;
  readonly line: number;
}

// Static `import … from '…'`, `export … from '…'`, side-effect `import '…'`, and `import('…')` with a literal.
const IMPORT_RE = /(?:^|[\s;])(?:(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?|import\s*\(\s*)(['"])([^'"\n]+)\3/g;

/** The imports written in one source text (comments removed first so examples in TSDoc do not count). */
export function importsOf(text: string): { specifier: string; typeOnly: boolean; line: number }[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
  const out: { specifier: string; typeOnly: boolean; line: number }[] = [];
  for (const m of code.matchAll(IMPORT_RE)) {
    const specifier = m[4] as string;
    out.push({ specifier, typeOnly: m[2] !== undefined, line: code.slice(0, m.index + m[0].lastIndexOf(m[3] as string)).split('\n').length });
  }
  return out;
}

/** Every `.ts` file under `dir` (relative to `root`, `/`-separated), skipping declaration files. */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(resolve(root, dir));
  return out;
}

/** Resolves a specifier from a file: relative ones to a root-relative path, packages to their name. */
export function resolveImport(root: string, from: string, specifier: string): { to: string; internal: boolean } {
  if (!specifier.startsWith('.')) {
    const parts = specifier.split('/');
    return { to: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string), internal: false };
  }
  const abs = resolve(root, dirname(from), specifier);
  const candidates = [abs, abs.replace(/\.js$/, '.ts'), `${abs}.ts`, join(abs, 'index.ts')];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? abs;
  return { to: relative(root, hit).split(sep).join('/'), internal: true };
}

/** The import edges of every file under `dirs`. */
export function importGraph(root: string, dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of dirs.flatMap((d) => sourceFiles(root, d))) {
    for (const imp of importsOf(readFileSync(resolve(root, file), 'utf8'))) {
      edges.push({ from: file, ...resolveImport(root, file, imp.specifier), typeOnly: imp.typeOnly, line: imp.line });
    }
  }
  return edges;
}

/**
 * The module a file belongs to under `base`: its folder (`functions/oci/blob.ts` → `oci`), a nested folder
 * when `nested` names its parent (`functions/registries/ecr/x.ts` → `registries/ecr`), or the file itself
 * for a file directly under `base` (`functions/env.ts` → `env.ts`). Undefined outside `base`.
 */
export function moduleOf(file: string, base: string, nested: readonly string[] = []): string | undefined {
  if (!file.startsWith(`${base}/`)) return undefined;
  const parts = file.slice(base.length + 1).split('/');
  if (parts.length === 1) return parts[0];
  const top = parts[0] as string;
  if (nested.includes(top) && parts.length > 2) return `${top}/${parts[1] as string}`;
  return top;
}

/** The cycles of a directed graph (Tarjan's strongly connected components of more than one node, or a self-loop). */
export function cycles(edges: Iterable<readonly [string, string]>): string[][] {
  const next = new Map<string, string[]>();
  for (const [a, b] of edges) {
    next.set(a, [...(next.get(a) ?? []), b]);
    if (!next.has(b)) next.set(b, []);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** What one module may import: other modules of the tree, and packages (`node:` builtins are always allowed). */
export interface ModuleRule {
  /** Modules it may import; `'*'` for any module except those in `never`. */
  readonly modules: readonly string[] | '*';
  /** Packages it may import; omitted: any package the runtime dependencies list. */
  readonly packages?: readonly string[];
  /** Modules it must not import even under `'*'`. */
  readonly never?: readonly string[];
}

export interface DependencyRules {
  readonly base: string;
  /** Top-level folders whose subfolders are modules of their own (`registries/ecr`). */
  readonly nested?: readonly string[];
  readonly modules: Readonly<Record<string, ModuleRule>>;
  /** The rule of a module the table does not name. */
  readonly fallback: ModuleRule;
  /** Packages no module under `base` may import (CDK in runtime code). */
  readonly forbiddenPackages?: readonly string[];
  /** The packages a production install has: one imported under `base` must be one, or it is missing at run time. */
  readonly dependencies?: readonly string[];
}

/** The violations of the rules, one sentence each naming the file, the line and the import. */
export function checkDependencies(edges: readonly ImportEdge[], rules: DependencyRules): string[] {
  const out: string[] = [];
  const nested = rules.nested ?? [];
  const ruleOf = (m: string) => rules.modules[m] ?? rules.modules[m.split('/')[0] as string] ?? rules.fallback;
  for (const e of edges) {
    const from = moduleOf(e.from, rules.base, nested);
    if (from === undefined) continue;
    const at = `${e.from}:${e.line}`;
    const rule = ruleOf(from);
    if (!e.internal) {
      if (e.to.startsWith('node:')) continue;
      if (rules.forbiddenPackages?.includes(e.to)) out.push(`${at} imports ${e.to}, which runtime code must never import`);
      else if (rule.packages && !rule.packages.includes(e.to)) out.push(`${at}: ${from} imports package ${e.to}, outside its allow-list (${rule.packages.join(', ') || 'node builtins only'})`);
      // A type-only import is erased from the bundle, so a devDependency (@aws-sdk/types) is enough for it.
      else if (rules.dependencies && !e.typeOnly && !rules.dependencies.includes(e.to)) out.push(`${at} imports ${e.to}, which a production install does not have`);
      continue;
    }
    const to = moduleOf(e.to, rules.base, nested);
    if (to === undefined) {
      out.push(`${at}: ${from} imports ${e.to}, outside ${rules.base}/`);
      continue;
    }
    if (to === from) continue;
    // Exact names: allowing `registries` (the shared interface) does not allow a kind (`registries/ecr`).
    // A subfolder the table does not name (replication/pusher) belongs to its family: its parent may use it.
    const family = (m: string) => m.split('/')[0] as string;
    const ownFamily = family(from) === family(to) && rules.modules[to] === undefined;
    const allowed = ownFamily || (rule.modules === '*' ? !(rule.never ?? []).some((n) => n === to || to.startsWith(`${n}/`)) : rule.modules.includes(to));
    if (!allowed) out.push(`${at}: ${from} imports ${to} (${e.to}), outside its allow-list`);
  }
  return out;
}

/**
 * The cycles among files and among top-level modules, each as `a ↔ b` text. Value imports only: they run at
 * load time, where a cycle breaks initialization order; a type-only import is erased (`import type`).
 */
export function importCycles(edges: readonly ImportEdge[], base: string): string[] {
  const internal = edges.filter((e) => e.internal && !e.typeOnly && e.from.startsWith(`${base}/`) && e.to.startsWith(`${base}/`));
  const files = cycles(internal.map((e) => [e.from, e.to] as const)).map((c) => `files: ${c.join(' ↔ ')}`);
  const folders = cycles(
    internal.map((e) => [moduleOf(e.from, base) as string, moduleOf(e.to, base) as string] as const).filter(([a, b]) => a !== b),
  ).map((c) => `folders: ${c.join(' ↔ ')}`);
  return [...files.sort(), ...folders.sort()];
}
