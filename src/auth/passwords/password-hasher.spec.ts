import { hash as argon2Hash, parseOptions } from '@node-rs/argon2';
import { Test } from '@nestjs/testing';
import { loadConfig } from '../../config/app-config';
import { ConfigModule } from '../../config/config.module';
import { PasswordHasher } from './password-hasher';
import { PasswordsModule } from './passwords.module';

// The smallest parameters the config accepts, so the suite stays fast.
const fastConfig = () => loadConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' });
const phcParams = (phc: string) => phc.split('$')[3];

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher(fastConfig());

  it('hashes with Argon2id and the configured parameters, as a PHC string', async () => {
    const phc = await hasher.hash('a long enough passphrase');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  });

  it('uses the OWASP defaults (m=19456 KiB, t=2, p=1) when nothing is configured', async () => {
    const phc = await new PasswordHasher(loadConfig({})).hash('a long enough passphrase');
    expect(phcParams(phc)).toBe('m=19456,t=2,p=1');
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hasher.hash('same password'), hasher.hash('same password')]);
    expect(a).not.toBe(b);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const phc = await hasher.hash('tangerine owl at midnight');
    await expect(hasher.verify(phc, 'tangerine owl at midnight')).resolves.toBe(true);
    await expect(hasher.verify(phc, 'tangerine owl at midnight ')).resolves.toBe(false);
  });

  it.each(['', 'not a hash', '$argon2id$v=19$m=abc', '$2b$10$abcdefghijklmnopqrstuuvwxyz012345678901234567890123'])(
    'answers false (never throws) for the malformed stored hash %j',
    async (stored) => {
      await expect(hasher.verify(stored, 'whatever password')).resolves.toBe(false);
    },
  );

  it('normalises passwords with NFKC: full-width and ASCII forms are the same secret', async () => {
    const fullWidth = 'ｐａｓｓｗｏｒｄ　ｗｉｔｈ　ｗｉｄｅ　ｆｏｒｍｓ';
    const ascii = 'password with wide forms';
    await expect(hasher.verify(await hasher.hash(fullWidth), ascii)).resolves.toBe(true);
    await expect(hasher.verify(await hasher.hash(ascii), fullWidth)).resolves.toBe(true);
  });

  describe('needsRehash', () => {
    it('is false for a hash made with the configured parameters', async () => {
      expect(hasher.needsRehash(await hasher.hash('current parameters'))).toBe(false);
    });

    it('is true once the configured memory or time cost exceeds the stored one', async () => {
      const weak = await hasher.hash('older parameters');
      const moreMemory = new PasswordHasher(loadConfig({ ARGON2_MEMORY_KIB: '16384', ARGON2_ITERATIONS: '1' }));
      const moreTime = new PasswordHasher(loadConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '2' }));
      const moreLanes = new PasswordHasher(loadConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1', ARGON2_PARALLELISM: '2' }));
      expect([moreMemory, moreTime, moreLanes].map((h) => h.needsRehash(weak))).toEqual([true, true, true]);
    });

    it('is false for a hash stronger than configured (no downgrade on login)', async () => {
      const strong = await new PasswordHasher(loadConfig({ ARGON2_MEMORY_KIB: '16384', ARGON2_ITERATIONS: '2' })).hash('x');
      expect(hasher.needsRehash(strong)).toBe(false);
    });

    it('is true for another algorithm (Argon2i) or an unparsable hash', async () => {
      const argon2i = await argon2Hash('x', { algorithm: 1, memoryCost: 8192, timeCost: 1, parallelism: 1 });
      expect(argon2i).toMatch(/^\$argon2i\$/);
      expect(hasher.needsRehash(argon2i)).toBe(true);
      expect(hasher.needsRehash('$2b$10$abcdefghijklmnopqrstuuvwxyz012345678901234567890123')).toBe(true);
    });
  });

  describe('unknown-email logins (ASVS 6.3.8)', () => {
    it('ASVS 6.3.8: verifies against a dummy Argon2id hash made with the configured parameters', async () => {
      const config = loadConfig({ ARGON2_MEMORY_KIB: '9216', ARGON2_ITERATIONS: '2', ARGON2_PARALLELISM: '2' });
      const dummy = parseOptions(await new PasswordHasher(config).dummyHash());
      expect(dummy).toMatchObject({ algorithm: 2, memoryCost: 9216, timeCost: 2, parallelism: 2 });
    });

    it('ASVS 6.3.8: always answers false, whatever the password', async () => {
      await expect(hasher.verifyAgainstDummy('any password at all')).resolves.toBe(false);
      await expect(hasher.verifyAgainstDummy('')).resolves.toBe(false);
    });

    it('makes the dummy hash once and reuses it', async () => {
      const fresh = new PasswordHasher(fastConfig());
      const [first, second] = await Promise.all([fresh.dummyHash(), fresh.dummyHash()]);
      expect(second).toBe(first);
      expect(await fresh.dummyHash()).toBe(first);
    });
  });

  it('is provided by PasswordsModule with the injected AppConfig', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(fastConfig()), PasswordsModule],
    }).compile();
    const phc = await moduleRef.get(PasswordHasher).hash('wired through Nest');
    expect(phcParams(phc)).toBe('m=8192,t=1,p=1');
  });
});
