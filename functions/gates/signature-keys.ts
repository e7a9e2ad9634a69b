// Loads the signature gate's configured public keys: inline PEM or a Secrets Manager secret, checked to be ECDSA P-256.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { SignatureKeyConfig } from '../config/types.ts';
import type { SecretResolver } from '../registries/secrets.ts';
import { GateError } from './errors.ts';

export interface PublicKeyMaterial {
  readonly id: string;
  readonly pem: string;
}

/** The key's display id: its configured id, else where it comes from (never the key itself, though it is public). */
export function keyId(key: SignatureKeyConfig, index: number): string {
  return key.id ?? key.secretName ?? key.secretArn ?? `keys[${index}]`;
}

/** Resolves every configured key to PEM text (Secrets Manager references through the resolver). */
export async function resolveSignatureKeys(keys: readonly SignatureKeyConfig[], secrets?: SecretResolver): Promise<PublicKeyMaterial[]> {
  return Promise.all(
    keys.map(async (k, i) => {
      if (k.pem !== undefined) return { id: keyId(k, i), pem: k.pem };
      if (secrets === undefined) throw new GateError(`signature key ${keyId(k, i)} is a Secrets Manager reference but no secrets resolver was given`, { code: 'CONFIG_INVALID' });
      const ref = k.secretArn !== undefined ? { secretArn: k.secretArn } : { secretName: k.secretName! };
      return { id: keyId(k, i), pem: (await secrets.getSecret(ref)).trim() };
    }),
  );
}

/** Parses a PEM public key and checks it is ECDSA P-256, as cosign generates (`cosign generate-key-pair`). */
export function ecdsaP256Key(material: PublicKeyMaterial): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(material.pem);
  } catch (err) {
    throw new GateError(`signature key ${material.id} is not a PEM public key: ${(err as Error).message}`, { code: 'KEY_INVALID', cause: err });
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || (curve !== 'prime256v1' && curve !== 'P-256')) {
    throw new GateError(`signature key ${material.id} is ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''}, not ECDSA P-256: use a cosign key pair`, {
      code: 'KEY_INVALID',
    });
  }
  return key;
}
