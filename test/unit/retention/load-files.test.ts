// The CLI's file loader: JSON and YAML policies, inventories, and errors that name the file.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputFileError, loadInventoryFile, loadPolicyFile } from '../../../functions/retention/load.ts';
import { InventoryError, PolicyError } from '../../../functions/retention/errors.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/retention/${name}`, import.meta.url));

describe('loading policy and inventory files', () => {
  it.each([
    { file: 'policy.yaml', format: 'regman' },
    { file: 'ecr-lifecycle.json', format: 'ecr' },
    { file: 'gitlab-cleanup.json', format: 'gitlab' },
  ])('reads $file as a $format policy', async ({ file, format }) => {
    expect((await loadPolicyFile(fixture(file))).format).toBe(format);
  });

  it('reads the YAML policy with its preserved regex intact', async () => {
    const policy = await loadPolicyFile(fixture('policy.yaml'));
    expect(policy).toMatchObject({ keep: { tagRegex: ['^v\\d+\\.\\d+\\.\\d+$'], last: 1 }, delete: { olderThanDays: 60, untagged: true } });
  });

  it('reads and validates an inventory', async () => {
    const inventory = await loadInventoryFile(fixture('inventory.json'));
    expect(inventory.repository).toBe('shop/api');
    expect(inventory.images).toHaveLength(12);
  });

  it.each([
    { load: () => loadPolicyFile(fixture('missing.json')), type: InputFileError, message: /cannot read policy .*missing\.json: ENOENT/ },
    { load: () => loadPolicyFile(fixture('bad-syntax.yaml')), type: InputFileError, message: /policy .*bad-syntax\.yaml is not valid YAML/ },
    { load: () => loadPolicyFile(fixture('inventory.json')), type: PolicyError, message: /cannot tell the policy format/ },
    { load: () => loadPolicyFile(fixture('bad-ecr-lifecycle.json')), type: PolicyError, message: /invalid ecr retention policy in .*bad-ecr-lifecycle\.json/ },
    { load: () => loadInventoryFile(fixture('bad-inventory.json')), type: InventoryError, message: /invalid inventory in .*bad-inventory\.json: images\[0\]\.digest/ },
    { load: () => loadInventoryFile(fixture('retention-cli.ts')), type: InputFileError, message: /inventory .*retention-cli\.ts is not valid JSON/ },
  ])('fails with $type.name: $message', async ({ load, type, message }) => {
    const error = await load().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
  });
});
