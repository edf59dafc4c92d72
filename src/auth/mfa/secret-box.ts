import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppConfig } from '../../config/app-config';

export interface Sealed {
  keyId: string;
  ciphertext: string;
}

const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 16);

/**
 * AES-256-GCM for TOTP secrets at rest: a random 96-bit IV per secret, the key's id stored beside
 * the ciphertext so MFA_ENCRYPTION_KEY can be rotated (MFA_PREVIOUS_ENCRYPTION_KEYS still decrypt
 * until `npm run mfa:reencrypt` has moved every secret to the current key).
 */
@Injectable()
export class SecretBox {
  private readonly current: { id: string; key: Buffer };
  private readonly keys = new Map<string, Buffer>();

  constructor(@Inject(AppConfig) config: AppConfig) {
    const key = config.mfa.encryptionKey;
    if (!key) throw new Error('MFA_ENCRYPTION_KEY: is not configured');
    this.current = { id: keyIdOf(key), key };
    for (const k of [key, ...config.mfa.previousEncryptionKeys]) this.keys.set(keyIdOf(k), k);
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plaintext: string, userId: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    // The user id is bound as associated data: a ciphertext copied to another user's row fails.
    cipher.setAAD(Buffer.from(userId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
    return { keyId: this.current.id, ciphertext: sealed };
  }

  open(sealed: Sealed, userId: string): string {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new Error(`MFA secret encrypted with unknown key ${sealed.keyId}; add it to MFA_PREVIOUS_ENCRYPTION_KEYS`);
    const [iv, tag, body] = sealed.ciphertext.split('.').map((p) => Buffer.from(p, 'base64url'));
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(userId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}
