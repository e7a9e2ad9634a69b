// Merges a benchmark run's `## ` sections into docs/BENCHMARKS.md: a run of some sections replaces those and keeps every other one.

/** Splits markdown into its preamble (before the first `## `) and its `## ` sections, each with its heading line. */
export function splitSections(markdown: string): { preamble: string; sections: { heading: string; text: string }[] } {
  const lines = markdown.split('\n');
  const sections: { heading: string; text: string }[] = [];
  const preamble: string[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.startsWith('## ')) {
      current = [line];
      sections.push({ heading: line.trim(), text: '' });
    } else if (current) current.push(line);
    else preamble.push(line);
    if (current) sections[sections.length - 1]!.text = current.join('\n');
  }
  return { preamble: preamble.join('\n'), sections };
}

/**
 * The new preamble, then every existing section in its place (replaced when the run wrote one with
 * the same heading), then the run's new sections at the end.
 */
export function mergeSections(existing: string, fresh: string): string {
  const old = splitSections(existing);
  const run = splitSections(fresh);
  const byHeading = new Map(run.sections.map((s) => [s.heading, s.text]));
  const out = [run.preamble.trimEnd(), ''];
  for (const s of old.sections) {
    out.push((byHeading.get(s.heading) ?? s.text).trimEnd(), '');
    byHeading.delete(s.heading);
  }
  for (const text of byHeading.values()) out.push(text.trimEnd(), '');
  return out.join('\n');
}
