import { loadConfig } from '../../config/app-config';
import { COMMON_PASSWORDS, PASSWORD_MAX_LENGTH, PasswordPolicy, normalizePassword } from './password-policy';

// Not in the dictionary and free of any email used below, so only length decides.
const ofLength = (n: number) => 'Vq7#kP2m'.repeat(20).slice(0, n);
const policy = new PasswordPolicy(loadConfig({}));

describe('PasswordPolicy', () => {
  describe('length', () => {
    it('ASVS 6.2.1: refuses 11 characters under the default minimum of 12', async () => {
      await expect(policy.check(ofLength(11), {})).resolves.toEqual(['Password must be at least 12 characters long.']);
    });

    it('ASVS 6.2.1: accepts exactly 12 characters', async () => {
      await expect(policy.check(ofLength(12), {})).resolves.toEqual([]);
    });

    it('ASVS 6.2.9: accepts 128 characters and refuses 129', async () => {
      expect(PASSWORD_MAX_LENGTH).toBe(128);
      await expect(policy.check(ofLength(128), {})).resolves.toEqual([]);
      await expect(policy.check(ofLength(129), {})).resolves.toEqual(['Password must be at most 128 characters long.']);
    });

    it('follows a configured minimum', async () => {
      const lenient = new PasswordPolicy(loadConfig({ PASSWORD_MIN_LENGTH: '8' }));
      await expect(lenient.check(ofLength(8), {})).resolves.toEqual([]);
      await expect(lenient.check(ofLength(7), {})).resolves.toEqual(['Password must be at least 8 characters long.']);
    });

    it('counts Unicode code points: an emoji is one character', async () => {
      const lock = '🔒'; // two UTF-16 units
      expect((await policy.check(lock.repeat(11), {})).join()).toMatch(/at least 12/);
      await expect(policy.check(lock.repeat(12), {})).resolves.toEqual([]);
      await expect(policy.check(lock.repeat(128), {})).resolves.toEqual([]);
    });

    it('counts after NFKC normalisation', async () => {
      // "ﬃ" is one code point that NFKC expands to "ffi": four of them are twelve characters.
      expect(normalizePassword('ﬃ'.repeat(4))).toBe('ffi'.repeat(4));
      await expect(policy.check('ﬃ'.repeat(4), {})).resolves.toEqual([]);
    });
  });

  it('ASVS 6.2.5: has no composition rules (lower-case words and spaces are fine)', async () => {
    await expect(policy.check('correct horse battery staple', {})).resolves.toEqual([]);
    await expect(policy.check('κρυφός κωδικός πρόσβασης', {})).resolves.toEqual([]);
  });

  describe('common passwords', () => {
    it('ASVS 6.2.4: the offline dictionary holds far more than 3000 entries', () => {
      expect(COMMON_PASSWORDS.size).toBeGreaterThan(3000);
    });

    it('ASVS 6.2.4: refuses common passwords, case-insensitively', async () => {
      expect(COMMON_PASSWORDS.has('1qaz2wsx3edc')).toBe(true);
      const tooCommon = ['Password is too common; choose a less predictable one.'];
      await expect(policy.check('1qaz2wsx3edc', {})).resolves.toEqual(tooCommon);
      await expect(policy.check('1QAZ2WSX3EDC', {})).resolves.toEqual(tooCommon);
      const lenient = new PasswordPolicy(loadConfig({ PASSWORD_MIN_LENGTH: '8' }));
      await expect(lenient.check('password1', {})).resolves.toEqual(tooCommon);
    });

    it('refuses a full-width spelling of a common password (NFKC first)', async () => {
      await expect(policy.check('１ｑａｚ２ｗｓｘ３ｅｄｃ', {})).resolves.toHaveLength(1);
    });
  });

  describe('email local part', () => {
    const containsEmail = ['Password must not contain your email address.'];

    it('refuses a password containing the local part, case-insensitively', async () => {
      const context = { email: 'Jane.Doe@example.com' };
      await expect(policy.check('my secret is jane.doe!', context)).resolves.toEqual(containsEmail);
      await expect(policy.check('JANE.DOE rules forever', context)).resolves.toEqual(containsEmail);
      await expect(policy.check('an unrelated passphrase', context)).resolves.toEqual([]);
    });

    it('ignores local parts shorter than 3 characters', async () => {
      await expect(policy.check('jo walks the dog at dawn', { email: 'jo@example.com' })).resolves.toEqual([]);
    });

    it('reports every problem at once', async () => {
      await expect(policy.check('zbobq', { email: 'bob@example.com' })).resolves.toEqual([
        'Password must be at least 12 characters long.',
        'Password must not contain your email address.',
      ]);
    });
  });
});
