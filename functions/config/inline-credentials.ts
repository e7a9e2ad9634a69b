// Finds credentials written into the config (password, token, secret, auth keys; user:pass@ in URLs) and strips them.
import { quote } from './errors.ts';
import type { PathSegment } from './path.ts';
import { REDACTED, type RawIssue } from './zod-issues.ts';

/** Keys that hold a credential. `secretArn` and `secretName` are references, so only a trailing word counts. */
const CREDENTIAL_KEY = /(password|passwd|passphrase|pass|pwd|token|secret|auth|apikey|api_key|accesskey|access_key|privatekey|private_key)$/i;
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i;

const USE_A_REFERENCE =
  'a credentials reference instead: credentials: { secretArn: arn:aws:secretsmanager:… } or { secretName: … } (Secrets Manager), ' +
  '{ iamRole: … } (ECR), or { env: PREFIX } / { dockerConfig: true } for local use';

/**
 * Returns a copy of the document without inline credentials, and one issue for each. The values are
 * never echoed: an issue shows `<redacted>`.
 */
export function stripInlineCredentials(data: unknown): { data: unknown; issues: RawIssue[] } {
  const issues: RawIssue[] = [];
  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') {
      const m = URL_USERINFO.exec(value);
      if (!m) return value;
      issues.push({
        path,
        value: REDACTED,
        message: 'the URL holds credentials (user:password@); credentials never live in the config file',
        expected: `the URL without them, and ${USE_A_REFERENCE}`,
      });
      return value.replace(URL_USERINFO, '$1');
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        if (CREDENTIAL_KEY.test(key) && !isReference(key)) {
          issues.push({
            path: [...path, key],
            value: REDACTED,
            message: `inline credential ${quote(key)} is not allowed; credentials never live in the config file`,
            expected: USE_A_REFERENCE,
          });
          continue;
        }
        out[key] = walk(v, [...path, key]);
      }
      return out;
    }
    return value;
  };
  return { data: walk(data, []), issues };
}

function isReference(key: string): boolean {
  return key === 'secretArn' || key === 'secretName';
}
