// Aligned columns for the reports' terminal text: numbers right-aligned, the widest free-text column cut to fit a width.

export interface TextTableOptions {
  /** Indexes of the columns aligned right (sizes, money, counts). */
  readonly right?: readonly number[];
  /** The columns that give way, widest first, when a line would be wider than `width` (cut with `…`). @default the last column */
  readonly flex?: readonly number[];
  /** Widest line wanted, indent included. @default 100 */
  readonly width?: number;
  /** Put before every line. @default two spaces */
  readonly indent?: string;
}

/** `s` at most `max` characters: the start and the end kept (a repository's tail names it), `…` between. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 1) return '…'.slice(0, max);
  const tail = Math.floor((max - 1) / 2);
  return `${s.slice(0, max - 1 - tail)}…${tail > 0 ? s.slice(-tail) : ''}`;
}

/**
 * A header line and one line per row, columns two spaces apart. When the lines would be wider than
 * `width`, the widest `flex` column is narrowed, one character at a time, until they fit or each
 * `flex` column is down to its header (or 12 characters, whichever is more). An empty `rows` prints
 * `none` under the indent instead of a header with nothing under it.
 *
 * @example
 * textTable(['registry', 'stored'], [['ecr-main', '12.3 MiB']], { right: [1] });
 * // ['  REGISTRY    STORED', '  ecr-main  12.3 MiB']
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], options: TextTableOptions = {}): string[] {
  const indent = options.indent ?? '  ';
  if (rows.length === 0) return [`${indent}none`];
  const right = new Set(options.right ?? []);
  const flex = options.flex ?? [header.length - 1];
  const head = header.map((h) => h.toUpperCase());
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const limit = options.width ?? 100;
  let excess = indent.length + widths.reduce((n, w) => n + w, 0) + 2 * (widths.length - 1) - limit;
  const floor = (i: number): number => Math.max(head[i]!.length, 12);
  while (excess > 0) {
    const widest = flex.filter((i) => widths[i]! > floor(i)).sort((a, b) => widths[b]! - widths[a]!)[0];
    if (widest === undefined) break;
    widths[widest]! -= 1;
    excess -= 1;
  }
  const line = (cells: readonly string[]): string =>
    indent +
    cells
      .map((c, i) => {
        const w = widths[i]!;
        const v = cut(c, w);
        if (right.has(i)) return v.padStart(w);
        return i === cells.length - 1 ? v : v.padEnd(w);
      })
      .join('  ');
  return [line(head), ...rows.map((r) => line(header.map((_, i) => r[i] ?? '')))];
}
