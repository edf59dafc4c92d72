import { createHmac } from 'node:crypto';

/**
 * An RFC 6238 implementation independent of the server's (otplib), from node:crypto only, so
 * the tests check the server against the standard rather than against itself.
 */
export function base32Decode(input: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of input.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function hotp(key: Buffer, counter: number, digits = 6, algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return code.toString().padStart(digits, '0');
}

export function totpAt(key: Buffer, epochSeconds: number, digits = 6, algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1', period = 30): string {
  return hotp(key, Math.floor(epochSeconds / period), digits, algorithm);
}

/** The code of the current step shifted by `steps` (−1 previous, +1 next), for a base32 secret. */
export function totp(secretBase32: string, steps = 0, now = Date.now() / 1000): string {
  return totpAt(base32Decode(secretBase32), now + steps * 30);
}

/** Seconds left in the current 30 s step (tests avoid step boundaries when it matters). */
export function secondsLeftInStep(now = Date.now() / 1000): number {
  return 30 - (now % 30);
}

export function base32Encode(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
  return (bits.match(/.{1,5}/g) ?? []).map((chunk) => alphabet[parseInt(chunk.padEnd(5, '0'), 2)]).join('');
}

/** Waits out the current step when fewer than `seconds` remain, so a test does not straddle a boundary. */
export async function steadyStep(seconds = 3): Promise<void> {
  const left = secondsLeftInStep();
  if (left < seconds) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 150));
}

/** A well-formed code that matches none of the steps around now (so it is wrong even across a step boundary). */
export function wrongCode(secret: string): string {
  const near = new Set([-2, -1, 0, 1, 2].map((s) => totp(secret, s)));
  return ['000000', '111111', '222222', '333333', '444444', '555555', '666666'].find((c) => !near.has(c))!;
}
