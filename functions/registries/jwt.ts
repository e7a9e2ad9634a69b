// Reads a JWT's expiry without verifying it: we only schedule a refresh, the issuer checks the token.

/** `exp` of a JWT in epoch ms, or undefined when the token is not a JWT (ACR's refresh tokens may not be). */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
