// The usage report's terminal text (aligned columns within 100 characters, human sizes, counts with separators, lag units, long names cut in the middle), and --format md / json unchanged.
import { describe, expect, it } from 'vitest';
import { renderUsage } from '../../../bin/commands/report-usage.ts';
import type { UsageReport } from '../../../functions/reports/usage/model.ts';
import { count, duration, usageMarkdown, usageText } from '../../../functions/reports/usage/render.ts';

const MiB = 2 ** 20;
const d = (n: number): string => `sha256:${String(n).padStart(4, '0').repeat(16)}`;
const LONG = 'platform-team/payments/settlement-service-with-a-very-long-repository-name-for-reports';
const lag = (p50Ms: number | null, p95Ms: number | null, maxMs: number | null, n = 1) => ({ count: p50Ms === null ? 0 : n, p50Ms, p95Ms, maxMs });

/** Two registries (hub counts no pulls), a long repository name, a repository with seven pushed images, two targets (one failing), one environment, two kinds of dead letters. */
const REPORT: UsageReport = {
  since: '2026-03-01T00:00:00.000Z',
  until: '2026-03-04T00:00:00.000Z',
  records: 12_345,
  storage: [
    { registry: 'ecr-main', repository: LONG, bytes: 900, series: [{ day: '2026-03-01', bytes: 0 }, { day: '2026-03-02', bytes: 900 }, { day: '2026-03-03', bytes: 900 }] },
    { registry: 'ecr-main', repository: 'team/app', bytes: Math.round(12.3 * MiB), series: [{ day: '2026-03-01', bytes: 20 * MiB }, { day: '2026-03-02', bytes: 15 * MiB }, { day: '2026-03-03', bytes: Math.round(12.3 * MiB) }] },
    { registry: 'hub', repository: 'acme/app', bytes: 3 * 2 ** 30, series: [{ day: '2026-03-01', bytes: 3 * 2 ** 30 }, { day: '2026-03-02', bytes: 3 * 2 ** 30 }, { day: '2026-03-03', bytes: 3 * 2 ** 30 }] },
  ],
  pushes: [
    // Seven images: the text lists the five most pushed and sums the other two.
    { registry: 'ecr-main', repository: 'team/app', pushes: 1_212, images: [[1, ['v1', 'latest'], 1_200], [2, [], 4], [4, ['v0.9'], 3], [5, [], 2], [6, [], 1], [7, [], 1], [8, [], 1]].map(([n, tags, pushes]) => ({ digest: d(n as number), tags: tags as string[], pushes: pushes as number })) },
    { registry: 'ecr-main', repository: LONG, pushes: 2, images: [{ digest: d(3), tags: ['v2'], pushes: 2 }] },
  ],
  pulls: [
    { registry: 'ecr-main', repository: 'team/app', pulls: 1_234_567, unpulled: 1, images: [] },
    { registry: 'ecr-main', repository: LONG, pulls: 0, unpulled: 1, images: [] },
    { registry: 'hub', repository: 'acme/app', pulls: null, unpulled: 0, images: [] },
  ],
  mostPulled: [{ registry: 'ecr-main', repository: 'team/app', digest: d(1), tags: ['v1', 'latest'], pulls: 1_234_567, lastPulledAt: null }],
  replication: [
    { target: 'gar-eu', copies: 1_500, bytes: Math.round(1.5 * 2 ** 40), failures: 0, lag: lag(850, 2_000, 4_000, 1_500) },
    { target: 'hub', copies: 3, bytes: 900, failures: 2, lag: lag(90_000, 7_200_000, 7_200_000, 3), lastFailure: { time: '2026-03-02T10:01:30.000Z', repository: LONG, errorCode: 'UNREACHABLE' } },
  ],
  promotions: [{ environment: 'prod', runs: 3, promoted: 1, rejected: 1, failed: 0, inProgress: 1, leadTime: lag(20 * 60_000, 20 * 60_000, 20 * 60_000), pushToPromoted: lag(null, null, null) }],
  deadLetters: { backlog: 3, oldest: '2026-03-01T00:00:00.000Z', byError: { TIMEOUT: 1, REPLICATION_FAILED: 2 } },
  pullsUnknown: ['hub'],
};

describe('usage report text', () => {
  it('prints aligned columns within 100 characters: sizes in binary units, counts with separators, lag units, long names cut in the middle', () => {
    // Act
    const text = usageText(REPORT);

    // Assess: the whole text, so alignment (right-aligned numbers end under their header) is checked too.
    expect(text).toBe(
      [
        'Usage report 2026-03-01T00:00:00.000Z .. 2026-03-04T00:00:00.000Z: 12,345 audit records',
        '  1,214 pushes, 1,234,567 pulls (not counted by hub), 1,503 copies (2 failed), 3 waiting in the DLQ',
        '',
        'Storage per repository (now; at the end of 2026-03-01 and of 2026-03-03)',
        '  REGISTRY  REPOSITORY                                         NOW  2026-03-01  2026-03-03    CHANGE',
        '  ecr-main  platform-team/payments…tory-name-for-reports     900 B         0 B       900 B    +900 B',
        '  ecr-main  team/app                                      12.3 MiB    20.0 MiB    12.3 MiB  -7.7 MiB',
        '  hub       acme/app                                       3.0 GiB     3.0 GiB     3.0 GiB       0 B',
        '',
        'Pushes per repository and image (push events in the audit log): 1,214',
        '  REGISTRY  REPOSITORY                                PUSHES  IMAGE         TAGS        IMAGE PUSHES',
        '  ecr-main  team/app                                   1,212  000100010001  v1, latest         1,200',
        '                                                              000200020002                         4',
        '                                                              000400040004  v0.9                   3',
        '                                                              000500050005                         2',
        '                                                              000600060006                         1',
        '                                                              2 more                               2',
        '  ecr-main  platform-team/paymen…ry-name-for-reports       2  000300030003  v2                     2',
        '',
        'Pulls per repository (not counted by hub)',
        '  REGISTRY  REPOSITORY                                                      PULLS  IMAGES NOT PULLED',
        '  ecr-main  team/app                                                    1,234,567                  1',
        '  ecr-main  platform-team/payments/settle…-repository-name-for-reports          0                  1',
        '  hub       acme/app                                                      unknown                  -',
        '',
        'Most pulled images',
        '  REGISTRY  REPOSITORY  DIGEST        TAGS            PULLS',
        '  ecr-main  team/app    000100010001  v1, latest  1,234,567',
        '',
        'Replication per target (lag: push event → replicated)',
        '  TARGET  COPIES    MOVED  FAILURES  LAG P50  LAG P95  LAG MAX',
        '  gar-eu   1,500  1.5 TiB         0   850 ms    2.0 s    4.0 s',
        '  hub          3    900 B         2  1.5 min    2.0 h    2.0 h',
        '',
        'Last failure per target',
        '  hub     2026-03-02T10:01:30.000Z  UNREACHABLE  platform-team/payments/se…pository-name-for-reports',
        '',
        'Promotions per environment (lead: request → promoted; push: push event → promoted)',
        '  ENVIRONMENT  RUNS  PROMOTED  REJECTED  FAILED  ONGOING  LEAD P50  LEAD P95  PUSH P50  PUSH P95',
        '  prod            3         1         1       0        1  20.0 min  20.0 min         -         -',
        '',
        'Dead letters waiting: 3 (oldest 2026-03-01T00:00:00.000Z)',
        '  ERROR               DEAD LETTERS',
        '  REPLICATION_FAILED             2',
        '  TIMEOUT                        1',
      ].join('\n'),
    );
    expect(text.split('\n').every((l) => l.length <= 100)).toBe(true);
    expect(text).not.toContain('|');
  });

  it('says what it could not read: no dead-letter file, no registry counting pulls, empty sections', () => {
    const text = usageText({ ...REPORT, storage: [], pushes: [], mostPulled: [], replication: [], promotions: [], pulls: [REPORT.pulls[2]!], deadLetters: null });
    expect(text.split('\n').slice(1, 4)).toEqual(['  0 pushes, pulls unknown, 0 copies (0 failed)', '', 'Storage per repository']);
    expect(text).toContain('Most pulled images\n  none\n');
    expect(text).toContain('  hub       acme/app    unknown                  -');
    expect(text).not.toContain('Last failure per target');
    expect(text.endsWith('Dead letters: not read (no dead-letter file; on AWS the DLQ depth alarm watches the queue)')).toBe(true);
  });

  it.each([
    [0, '0'], [999, '999'], [1_000, '1,000'], [1_234_567, '1,234,567'],
  ])('count(%d) = %s', (n, expected) => {
    expect(count(n)).toBe(expected);
  });

  it.each([
    [null, '-'], [850, '850 ms'], [4_000, '4.0 s'], [90_000, '1.5 min'], [7_200_000, '2.0 h'], [3 * 86_400_000, '3.0 d'],
  ])('duration(%s) = %s', (v, expected) => {
    expect(duration(v)).toBe(expected);
  });

  it('keeps --format md Markdown and --format json the model, whole', () => {
    expect(renderUsage(REPORT, 'text')).toBe(usageText(REPORT));
    const md = renderUsage(REPORT, 'md');
    expect(md).toBe(usageMarkdown(REPORT));
    expect(md).toContain('| registry | repository | now | first day | last day |');
    expect(md).toContain(`| ecr-main | ${LONG} | 900 B | 0 B | 900 B |`);
    expect(md).toContain('| hub | acme/app | unknown | - |');
    expect(md).toContain('| gar-eu | 1500 | 1.5 TiB | 0 | 850 ms | 2.0 s | 4.0 s | - |');
    expect(JSON.parse(renderUsage(REPORT, 'json'))).toEqual(REPORT);
  });
});
