// The `pricing:` block of a registry: each bad value is an error naming the file, line and path; the older storagePricePerGbMonth still works.
import { describe, expect, it } from 'vitest';
import { formatConfigIssue, storagePriceOf, validateConfig } from '../../../functions/config/index.ts';

const FILE = 'config/registries.yaml';
const doc = (lines: string) => `registries:
  harbor:
    kind: oci
    url: http://127.0.0.1:5000
    public: true
${lines}`;
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('registries.*.pricing', () => {
  it.each([
    ['a negative storage price', '    pricing: { storagePerGbMonth: -0.1 }', '-0.1', 'registries.harbor.pricing.storagePerGbMonth', '-0.1 is too small (expected a price >= 0)'],
    ['a transfer price in quotes', '    pricing:\n      transferPerGb: { internet: "0.09" }', 'internet', 'registries.harbor.pricing.transferPerGb.internet', '"0.09" is a string (expected a price in USD per GB)'],
    ['a misspelt key', '    pricing: { includedGB: 10 }', 'includedGB', 'registries.harbor.pricing.includedGB', 'unknown field "includedGB", did you mean "includedGb"? (expected one of: storagePerGbMonth, includedGb, fixedPerMonth, fixedPerDay, transferPerGb)'],
    ['an unknown transfer relation', '    pricing:\n      transferPerGb: { egress: 0.09 }', 'egress', 'registries.harbor.pricing.transferPerGb.egress', 'unknown field "egress" (expected one of: sameRegion, crossRegion, internet)'],
    ['both fee forms', '    pricing: { fixedPerMonth: 20, fixedPerDay: 0.667 }', 'fixedPerDay', 'registries.harbor.pricing.fixedPerDay', 'sets both fixedPerMonth and fixedPerDay (expected one of fixedPerMonth or fixedPerDay (30 days a month))'],
    ['the older name disagreeing', '    storagePricePerGbMonth: 0.1\n    pricing: { storagePerGbMonth: 0.2 }', 'storagePerGbMonth: 0.2', 'registries.harbor.pricing.storagePerGbMonth', '0.2 disagrees with storagePricePerGbMonth 0.1 (its older name) (expected one storage price: keep pricing.storagePerGbMonth and remove storagePricePerGbMonth)'],
  ])('rejects %s at its line and path', (_case, lines, needle, path, text) => {
    // Prepare
    const yaml = doc(`${lines}\n`);
    // Act
    const { config, errors } = validateConfig(yaml, FILE);
    // Assess
    expect(config).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: FILE, path });
    expect(formatConfigIssue(errors[0]!)).toBe(`${FILE}:${lineOf(yaml, needle)} ${path}: ${text}`);
  });

  it.each([
    ['pricing.storagePerGbMonth', '    pricing: { storagePerGbMonth: 0.023 }', 0.023],
    ['storagePricePerGbMonth (older name)', '    storagePricePerGbMonth: 0.023', 0.023],
    ['both, agreeing', '    storagePricePerGbMonth: 0.023\n    pricing: { storagePerGbMonth: 0.023 }', 0.023],
    ['neither', '', undefined],
  ])('reads the storage price from %s', (_case, lines, price) => {
    const { config, errors } = validateConfig(doc(`${lines}\n`), FILE);
    expect(errors).toEqual([]);
    expect(storagePriceOf(config!.registries.harbor!)).toBe(price);
  });
});
