// emitChunks: a report written in pieces reaches stdout or --out as the same text emit writes in one piece.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitChunks } from '../../../bin/commands/report-output.ts';
import { jsonChunks } from '../../../functions/reports/json-chunks.ts';

/** Big enough to cross the 64 KiB batch several times. */
const report = { kind: 'regman.compliance-report', promotions: Array.from({ length: 3000 }, (_, i) => ({ executionId: `exec-${i}`, records: [{ seq: i, hash: 'ab'.repeat(32) }] })), securityEvents: [] };

describe('emitChunks', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes the JSON to --out exactly as JSON.stringify(report, null, 2)', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'regman-chunks-'));
    const out = join(dir, 'report.json');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      // Act
      await emitChunks(jsonChunks(report), out);

      // Assess
      expect(readFileSync(out, 'utf8')).toBe(JSON.stringify(report, null, 2));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes to stdout in several batches, ending with a newline', async () => {
    // Prepare
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((text: string | Uint8Array) => (written.push(String(text)), true));

    // Act
    await emitChunks(jsonChunks(report), undefined);

    // Assess
    expect(written.length).toBeGreaterThan(2);
    expect(written.join('')).toBe(`${JSON.stringify(report, null, 2)}\n`);
  });
});
