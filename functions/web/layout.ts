// The console's page frame: one inline style sheet (no external assets), readable at phone width, no JavaScript.
import { html, raw, type Html } from '../html.ts';

const STYLE = raw(`
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f4f5f7}
header{background:#1f2937;color:#fff;padding:.6rem 1rem}header a{color:#fff;text-decoration:none;font-weight:600}
nav a{color:#d1d5db;margin-left:1rem;font-weight:400}
main{max-width:52rem;margin:0 auto;padding:1rem}
section{background:#fff;border:1px solid #d8dce1;border-radius:8px;padding:1rem;margin:0 0 1rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:0 0 .6rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{color:#57606a}dd{margin:0;min-width:0;overflow-wrap:anywhere}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef0f3;padding:.05em .3em;border-radius:4px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
.ok{color:#116329;font-weight:600}.bad{color:#b42318;font-weight:600}.muted{color:#57606a}
.pill{display:inline-block;padding:.1rem .5rem;border-radius:999px;background:#eef0f3;margin:.1rem .2rem .1rem 0;font-size:.9em}
.sev-critical{background:#fde2e1}.sev-high{background:#fdebd3}.sev-medium{background:#fff5c2}
.notice{border-left:4px solid #b42318;background:#fff4f2}
textarea{width:100%;min-height:5rem;font:inherit;padding:.5rem;border:1px solid #b8bec6;border-radius:6px}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:.75rem}
button{font:inherit;font-weight:600;padding:.6rem 1.4rem;border-radius:6px;border:1px solid transparent;cursor:pointer}
.approve{background:#1a7f37;color:#fff}.reject{background:#fff;color:#b42318;border-color:#b42318}
@media (max-width:540px){dl{grid-template-columns:1fr}dt{margin-top:.4rem}main{padding:.5rem}button{flex:1}}
`);

/** Links in the console header: the console's pages add themselves through `consoleRoutes` (routes.ts). */
export interface NavLink {
  readonly href: string;
  readonly label: string;
}

export interface PageOptions {
  readonly title: string;
  readonly nav?: readonly NavLink[];
}

/** A whole page: doctype, viewport for phones, inline style, header and the body. */
export function page(options: PageOptions, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<title>${options.title} · regman</title><style>${STYLE}</style></head>
<body><header><a href="/">regman</a><nav>${(options.nav ?? []).map((l) => html`<a href="${l.href}">${l.label}</a>`)}</nav></header>
<main>${body}</main></body></html>`.value;
}
