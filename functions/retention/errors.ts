// Typed errors of the retention module: bad policies and bad inventories name the path and the bad value.
import { RetentionError, formatIssue, type InputIssue } from '../retention-policy/errors.ts';

export { RetentionError, PolicyError, formatIssue, formatPath, fromZodIssues, type InputIssue } from '../retention-policy/errors.ts';

/** An inventory that does not match the documented shape. */
export class InventoryError extends RetentionError {
  constructor(
    readonly issues: readonly InputIssue[],
    readonly source?: string,
  ) {
    super(`invalid inventory${source ? ` in ${source}` : ''}: ${issues.map(formatIssue).join('; ')}`, 'INVENTORY_INVALID');
    this.name = 'InventoryError';
  }
}
