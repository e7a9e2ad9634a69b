// Parses the YAML text keeping node positions, so that an error at a document path can name its line.
import { LineCounter, isMap, isScalar, isSeq, parseDocument, visit, type Node } from 'yaml';

export interface YamlSource {
  /** The document as plain data; `undefined` for an empty file. */
  readonly data: unknown;
  /** YAML syntax errors, with their line: when present, `data` must not be trusted. */
  readonly syntaxErrors: readonly { readonly line?: number; readonly message: string }[];
  /** The 1-based line of the node at `path`, or of its nearest existing ancestor. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/** Parses `text`; never throws. Duplicate keys are syntax errors (yaml's `uniqueKeys`). */
export function parseYamlSource(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxErrors: { line?: number; message: string }[] = doc.errors.map((e) => ({
    line: e.linePos?.[0]?.line ?? lineFromOffset(lineCounter, e.pos[0]),
    message: firstLine(e.message),
  }));
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    const node = nodeAt(doc.contents as Node | null, path);
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineFromOffset(lineCounter, offset);
  };
  // `maxAliasCount` guards against alias bombs ("billion laughs"); yaml throws past it: report it as a
  // syntax error at the first alias, like any other, so the CLI exits 2 with file:line.
  let data: unknown;
  if (syntaxErrors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (err) {
      let line: number | undefined;
      visit(doc, {
        Alias(_key, node) {
          line = lineFromOffset(lineCounter, node.range?.[0]);
          return visit.BREAK;
        },
      });
      syntaxErrors.push({ ...(line !== undefined ? { line } : {}), message: `too many alias expansions (a YAML alias bomb?): ${firstLine(err instanceof Error ? err.message : String(err))}` });
    }
  }
  return { data: data ?? undefined, syntaxErrors, lineOf };
}

/** Walks the YAML node tree along `path`; stops at the deepest node that exists. */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): Node | null {
  let node: Node | null = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) return node;
      const next = (pair.value ?? pair.key) as Node | null;
      if (next === null) return node;
      node = next;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

function lineFromOffset(lineCounter: LineCounter, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
