/**
 * `npm run keys:generate`: prints a fresh RS256 signing key for JWT_PRIVATE_KEY, its public key and
 * kid, and how to rotate. Output goes to stdout only (nothing is written to disk), so the operator
 * decides where the private key lives.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { jwkThumbprint } from '../src/auth/tokens/jwk';
import { generateSigningKeyPem } from '../src/config/development-secrets';

const privateKeyPem = generateSigningKeyPem();
const publicKey = createPublicKey(createPrivateKey(privateKeyPem));
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

process.stdout.write(
  [
    `# kid: ${jwkThumbprint(publicKey)} (alg RS256)`,
    '# JWT_PRIVATE_KEY (PKCS#8):',
    privateKeyPem.trim(),
    '# Public key (SPKI):',
    publicKeyPem.trim(),
    '# Rotation: move the public key of the key being replaced into JWT_PREVIOUS_PUBLIC_KEYS, set',
    '# JWT_PRIVATE_KEY to the key above, then restart instances one by one. Drop the old public key',
    '# from JWT_PREVIOUS_PUBLIC_KEYS once ACCESS_TOKEN_TTL has passed (no token it signed is still live).',
    '',
  ].join('\n'),
);
