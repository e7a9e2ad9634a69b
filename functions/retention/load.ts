// The one I/O module of retention: reads policy and inventory files for the CLI and names the file in every error.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { RetentionError } from './errors.ts';
import { parseInventory } from './inventory.ts';
import { parsePolicy, type ParsePolicyOptions } from './policy.ts';
import type { Inventory, RetentionPolicy } from './types.ts';

/** A file that cannot be read or parsed as JSON/YAML. */
export class InputFileError extends RetentionError {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'INPUT_FILE', options);
    this.name = 'InputFileError';
  }
}

async function readDocument(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputFileError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file, { cause: err });
  }
  const yaml = /\.ya?ml$/i.test(file);
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new InputFileError(`${what} ${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`, file, { cause: err });
  }
}

/** Reads a policy file (`.json`, `.yaml`, `.yml`) in any accepted format. */
export async function loadPolicyFile(file: string, options: Omit<ParsePolicyOptions, 'source'> = {}): Promise<RetentionPolicy> {
  return parsePolicy(await readDocument(file, 'policy'), { ...options, source: file });
}

/** Reads and validates an inventory JSON file. */
export async function loadInventoryFile(file: string): Promise<Inventory> {
  return parseInventory(await readDocument(file, 'inventory'), file);
}
