// Self-contained HTML for the reports: escaping, one page shell with inline CSS (no external assets), tables and inline SVG charts.

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:24px 0 8px}
.meta{color:#57606a}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:12px 0;overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;background:#f6f8fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,Menlo,monospace;word-break:break-all}
svg{max-width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#1b1f24}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
`;

/** Links back to the console, when the page is served there. */
export interface PageLink {
  readonly href: string;
  readonly label: string;
}

/** One page: title, a meta line, and sections of already-rendered HTML; `nav` links when served by the console. */
export function page(title: string, meta: string, body: string, nav: readonly PageLink[] = []): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>${nav.length > 0 ? `<nav class="meta">${nav.map((l) => `<a href="${esc(l.href)}">${esc(l.label)}</a>`).join(' · ')}</nav>` : ''}<h1>${esc(title)}</h1><p class="meta">${esc(meta)}</p>
${body}
</main></body></html>
`;
}

export function section(heading: string, inner: string, id?: string): string {
  return `<section${id ? ` id="${esc(id)}"` : ''}><h2>${esc(heading)}</h2>${inner}</section>`;
}

/** A table; cells are text (escaped) unless given as `{ html }`; `num` columns align right. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | { readonly html: string })[])[], numeric: readonly number[] = []): string {
  if (rows.length === 0) return '<p class="meta">none</p>';
  const cell = (v: string | number | { readonly html: string }, i: number, tag: 'td' | 'th'): string =>
    `<${tag}${numeric.includes(i) ? ' class="num"' : ''}>${typeof v === 'object' ? v.html : esc(v)}</${tag}>`;
  return `<table><thead><tr>${headers.map((h, i) => cell(h, i, 'th')).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((v, i) => cell(v, i, 'td')).join('')}</tr>`).join('')}</tbody></table>`;
}

export const PALETTE = ['#0969da', '#1a7f37', '#bf8700', '#cf222e', '#8250df', '#1b7c83', '#bc4c00', '#57606a'];

export interface StackedBar {
  readonly label: string;
  /** Segment values by series name. */
  readonly values: Readonly<Record<string, number>>;
}

/**
 * Horizontal stacked bars (one row per bar), with a legend and each bar's total at its end.
 * `format` prints values (e.g. dollars).
 */
export function stackedBars(
  bars: readonly StackedBar[],
  options: { readonly title: string; readonly format: (v: number) => string; readonly width?: number; readonly colors?: Readonly<Record<string, string>> },
): string {
  const series = [...new Set(bars.flatMap((b) => Object.keys(b.values)))];
  const color = (s: string, i: number): string => options.colors?.[s] ?? PALETTE[i % PALETTE.length]!;
  const width = options.width ?? 720;
  const labelW = 180;
  const rowH = 22;
  const plotW = width - labelW - 90;
  const max = Math.max(0, ...bars.map((b) => Object.values(b.values).reduce((s, v) => s + v, 0)));
  const height = bars.length * rowH + 10;
  const rows = bars.map((b, i) => {
    let x = labelW;
    const y = 5 + i * rowH;
    const segments = series.map((s, si) => {
      const v = b.values[s] ?? 0;
      const w = max > 0 ? (v / max) * plotW : 0;
      const rect = w > 0 ? `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${color(s, si)}"><title>${esc(`${b.label} · ${s}: ${options.format(v)}`)}</title></rect>` : '';
      x += w;
      return rect;
    });
    const total = Object.values(b.values).reduce((s, v) => s + v, 0);
    return `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${esc(truncate(b.label, 28))}</text>${segments.join('')}<text x="${(x + 4).toFixed(1)}" y="${y + 12}">${esc(options.format(total))}</text>`;
  });
  const legend = series.length > 1 ? `<p class="legend">${series.map((s, i) => `<span><i style="background:${color(s, i)}"></i>${esc(s)}</span>`).join('')}</p>` : '';
  return `<svg role="img" aria-label="${esc(options.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${esc(options.title)}</title>${rows.join('')}</svg>${legend}`;
}

/** Points on a time axis: one row per lane, a dot per event coloured by outcome. */
export function timeline(events: readonly { readonly lane: string; readonly time: string; readonly label: string; readonly ok: boolean }[], options: { readonly title: string; readonly width?: number }): string {
  if (events.length === 0) return '<p class="meta">none</p>';
  const width = options.width ?? 720;
  const labelW = 180;
  const lanes = [...new Set(events.map((e) => e.lane))];
  const times = events.map((e) => Date.parse(e.time));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const span = Math.max(1, t1 - t0);
  const rowH = 22;
  const plotW = width - labelW - 20;
  const height = lanes.length * rowH + 30;
  const xOf = (t: number): number => labelW + ((t - t0) / span) * plotW;
  const laneRows = lanes.map((lane, i) => `<text x="${labelW - 6}" y="${i * rowH + 16}" text-anchor="end">${esc(truncate(lane, 28))}</text><line x1="${labelW}" x2="${labelW + plotW}" y1="${i * rowH + 12}" y2="${i * rowH + 12}" stroke="#d0d7de"/>`);
  const dots = events.map((e) => {
    const y = lanes.indexOf(e.lane) * rowH + 12;
    return `<circle cx="${xOf(Date.parse(e.time)).toFixed(1)}" cy="${y}" r="5" fill="${e.ok ? '#1a7f37' : '#cf222e'}"><title>${esc(`${e.time} ${e.label}`)}</title></circle>`;
  });
  const axis = `<text x="${labelW}" y="${height - 6}">${esc(new Date(t0).toISOString().slice(0, 16).replace('T', ' '))}</text><text x="${labelW + plotW}" y="${height - 6}" text-anchor="end">${esc(new Date(t1).toISOString().slice(0, 16).replace('T', ' '))}</text>`;
  return `<svg role="img" aria-label="${esc(options.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${esc(options.title)}</title>${laneRows.join('')}${dots.join('')}${axis}</svg>`;
}

const truncate = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Lines over days (one per series), with a legend: storage over time. `format` prints the y values. */
export function lineChart(series: readonly { readonly label: string; readonly points: readonly { readonly x: string; readonly y: number }[] }[], options: { readonly title: string; readonly format: (v: number) => string; readonly width?: number }): string {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort();
  if (xs.length === 0) return '<p class="meta">none</p>';
  const width = options.width ?? 720;
  const height = 220;
  const left = 80;
  const plotW = width - left - 20;
  const plotH = height - 40;
  const max = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.y)));
  const xOf = (x: string): number => left + (xs.length === 1 ? plotW / 2 : (xs.indexOf(x) / (xs.length - 1)) * plotW);
  const yOf = (y: number): number => 10 + plotH - (max > 0 ? (y / max) * plotH : 0);
  const lines = series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.points.map((p) => `${xOf(p.x).toFixed(1)},${yOf(p.y).toFixed(1)}`).join(' ');
    const last = s.points.at(-1);
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"><title>${esc(`${s.label}: ${last ? options.format(last.y) : ''}`)}</title></polyline>`;
  });
  const axis = `<line x1="${left}" x2="${left + plotW}" y1="${10 + plotH}" y2="${10 + plotH}" stroke="#d0d7de"/><text x="${left - 6}" y="16" text-anchor="end">${esc(options.format(max))}</text><text x="${left - 6}" y="${10 + plotH}" text-anchor="end">${esc(options.format(0))}</text><text x="${left}" y="${height - 6}">${esc(xs[0])}</text><text x="${left + plotW}" y="${height - 6}" text-anchor="end">${esc(xs.at(-1))}</text>`;
  const legend = `<p class="legend">${series.map((s, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(s.label)}</span>`).join('')}</p>`;
  return `<svg role="img" aria-label="${esc(options.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${esc(options.title)}</title>${axis}${lines.join('')}</svg>${legend}`;
}
