import { verify as argon2Verify, verifySync as argon2VerifySync } from '@node-rs/argon2';
import { decodeJwt } from 'jose';
import { createDecipheriv, randomUUID } from 'node:crypto';
import { bearer, createUser, type CreatedUser, em, login, loginTokens } from '../support/auth-helpers';
import { seedTotp } from '../support/mfa-helpers';
import { expectProblem, expectValidation, expectWrongCredential, PROBLEM_JSON } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';
import { base32Decode, steadyStep, totp, wrongCode } from '../support/totp';

const SETUP = '/api/v1/auth/mfa/totp/setup';
const ENABLE = '/api/v1/auth/mfa/totp/enable';
const DISABLE = '/api/v1/auth/mfa/totp/disable';
const RECOVERY_CODES = '/api/v1/auth/mfa/recovery-codes';
const VERIFY = '/api/v1/auth/mfa/verify';

/** AES-256-GCM as secret-box.ts documents it (iv.tag.ciphertext, base64url; the user id as AAD), from node:crypto alone. */
function decryptSecret(ciphertext: string, key: Buffer, userId: string): string {
  const [iv, tag, body] = ciphertext.split('.').map((p) => Buffer.from(p, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(userId));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

interface Session {
  accessToken: string;
  refreshToken: string;
}

interface Enrolled extends CreatedUser {
  secret: string;
  recoveryCodes: string[];
  session: Session;
}

describe('TOTP enrolment and management (ASVS 6.3.3, 6.5.2, 6.5.3, 7.4.3, 7.5.1)', () => {
  let t: TestApp;
  let admin: Session;

  const post = (url: string, token: string | undefined, payload: unknown) =>
    t.app.inject({ method: 'POST', url, headers: token ? bearer(token) : {}, payload: payload as string });
  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const whoami = (token: string) => get('/api/v1/auth/whoami', token);
  const factorRows = async (userId: string): Promise<{ status: string; secret_ciphertext: string; key_id: string; enabled_at: Date | null }[]> =>
    em(t).execute('SELECT status, secret_ciphertext, key_id, enabled_at FROM totp_factors WHERE user_id = ?', [userId]);
  const codeHashes = async (userId: string): Promise<string[]> => {
    const rows: { code_hash: string }[] = await em(t).execute('SELECT code_hash FROM recovery_codes WHERE user_id = ? ORDER BY code_hash', [userId]);
    return rows.map((r) => r.code_hash);
  };
  const auditOf = async (userId: string, type: string): Promise<{ actor_id: string | null; outcome: string; details: Record<string, unknown> }[]> =>
    em(t).execute('SELECT actor_id, outcome, details FROM audit_events WHERE target_id = ? AND type = ? ORDER BY at', [userId, type]);

  async function signedIn(user?: CreatedUser): Promise<CreatedUser & { session: Session }> {
    const u = user ?? (await createUser(t));
    return { ...u, session: await loginTokens(t, u) };
  }

  /** Enrols through the API, enabling with the current step's code. */
  async function enrolled(): Promise<Enrolled> {
    const user = await signedIn();
    const setup = await post(SETUP, user.session.accessToken, { password: user.password });
    expect(setup.statusCode).toBe(200);
    const { secret } = setup.json();
    await steadyStep();
    const enable = await post(ENABLE, user.session.accessToken, { code: totp(secret) });
    expect(enable.statusCode).toBe(200);
    return { ...user, secret, recoveryCodes: enable.json().recoveryCodes };
  }

  /**
   * A signed-in user (password session) whose TOTP is then enabled straight in the database, as
   * if enrolled a while ago — for tests about managing a factor rather than enrolling one (an API
   * setup renders a QR PNG, ~1 s under Jest). The app's SecretBox and RecoveryCodes write the rows.
   */
  async function seededEnrolment(): Promise<Enrolled> {
    const user = await signedIn();
    const { secret, recoveryCodes } = await seedTotp(t, user.id);
    return { ...user, secret, recoveryCodes };
  }

  /** A full sign-in of an enrolled user with a recovery code (uses no TOTP step). */
  async function signInWithRecoveryCode(user: CreatedUser, recoveryCode: string): Promise<Session> {
    const first = await login(t, user.email, user.password);
    expect(first.json()).toMatchObject({ mfaRequired: true });
    const res = await post(VERIFY, undefined, { mfaToken: first.json().mfaToken, recoveryCode });
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  beforeAll(async () => {
    t = await createTestApp();
    admin = await loginTokens(t, await createUser(t, { roles: ['admin'] }));
  });
  afterAll(() => t?.close());

  describe('setup', () => {
    it('7.5.1: setup re-authenticates — no session → 401, no password → 400, a wrong password → 400 invalid-password (never 401) and nothing is stored', async () => {
      const user = await signedIn();
      const anonymous = await post(SETUP, undefined, { password: user.password });
      expectProblem(anonymous, 401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      expectValidation(await post(SETUP, user.session.accessToken, {}), 'password');
      const wrong = await post(SETUP, user.session.accessToken, { password: 'this is not my password' });
      expectWrongCredential(wrong, 'password', 'password');
      expect(wrong.body).not.toMatch(/secret|otpauth/i);
      expect(await factorRows(user.id)).toEqual([]);
    });

    it('6.3.3: setup answers a ≥160-bit base32 secret, an otpauth URI (issuer Bastion, account = email) and a QR PNG; it stays pending until enabled', async () => {
      const user = await signedIn();
      const res = await post(SETUP, user.session.accessToken, { password: user.password });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['otpauthUri', 'qrCodeDataUrl', 'secret']);

      expect(body.secret).toMatch(/^[A-Z2-7]+=*$/);
      expect(base32Decode(body.secret).length * 8).toBeGreaterThanOrEqual(160);

      const uri = new URL(body.otpauthUri);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.host).toBe('totp');
      expect(decodeURIComponent(uri.pathname.slice(1))).toBe(`Bastion:${user.email}`);
      expect(uri.searchParams.get('secret')).toBe(body.secret);
      expect(uri.searchParams.get('issuer')).toBe('Bastion');
      // RFC 6238 defaults as the API promises: SHA-1, 6 digits, 30 s (absent means the default).
      expect(uri.searchParams.get('algorithm') ?? 'SHA1').toBe('SHA1');
      expect(uri.searchParams.get('digits') ?? '6').toBe('6');
      expect(uri.searchParams.get('period') ?? '30').toBe('30');

      const [, png] = /^data:image\/png;base64,([A-Za-z0-9+/]+=*)$/.exec(body.qrCodeDataUrl) ?? [];
      expect(png).toBeDefined();
      const size = pngSize(Buffer.from(png, 'base64'));
      expect(size.width).toBe(size.height);
      expect(size.width).toBeGreaterThanOrEqual(100);

      // Pending: not yet a factor — /users/me says so and the password alone still signs in.
      expect((await get('/api/v1/users/me', user.session.accessToken)).json()).toMatchObject({ mfaEnabled: false });
      const pwdOnly = await login(t, user.email, user.password);
      expect(pwdOnly.statusCode).toBe(200);
      expect(pwdOnly.json()).toHaveProperty('accessToken');
      const [row] = await factorRows(user.id);
      expect(row).toMatchObject({ status: 'pending', enabled_at: null });
    });

    it('6.3.3/6.5.x: the secret is stored only AES-256-GCM encrypted under MFA_ENCRYPTION_KEY, bound to the user — the column never holds it in clear', async () => {
      const user = await signedIn();
      const { secret } = (await post(SETUP, user.session.accessToken, { password: user.password })).json();
      const [row] = await factorRows(user.id);
      const raw = base32Decode(secret);
      for (const form of [secret, secret.toLowerCase(), raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')]) {
        expect(row.secret_ciphertext).not.toContain(form);
      }
      const [{ dump }] = await em(t).execute(`SELECT row_to_json(f)::text AS dump FROM totp_factors f WHERE user_id = ?`, [user.id]);
      expect(dump).not.toContain(secret);
      // Decrypting with the key and the user id (AES-256-GCM, node:crypto alone) gives the secret back …
      expect(decryptSecret(row.secret_ciphertext, t.config.mfa.encryptionKey!, user.id)).toBe(secret);
      // … and the GCM tag binds it to this user: copied to another user's row it would not decrypt.
      expect(() => decryptSecret(row.secret_ciphertext, t.config.mfa.encryptionKey!, randomUUID())).toThrow();
    });
  });

  describe('enable', () => {
    it('6.5.2/6.5.3: a valid code enables TOTP and returns 10 recovery codes once (≥ 50 bits each), stored only as Argon2id hashes', async () => {
      const user = await signedIn();
      const { secret } = (await post(SETUP, user.session.accessToken, { password: user.password })).json();
      await steadyStep();
      const wrong = await post(ENABLE, user.session.accessToken, { code: wrongCode(secret) });
      expectWrongCredential(wrong, 'code', 'code');
      expect((await factorRows(user.id))[0].status).toBe('pending');

      const res = await post(ENABLE, user.session.accessToken, { code: totp(secret) });
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json())).toEqual(['recoveryCodes']);
      const codes: string[] = res.json().recoveryCodes;
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      const symbols = new Set(codes.join('').replace(/-/g, ''));
      for (const code of codes) {
        // An identifier group, then 12 secret symbols from an alphabet of at most 32: ≤ 5 bits
        // each, and the alphabet in use really is that large.
        expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
        expect(code.replace(/-/g, '').slice(4).length * Math.log2(32)).toBeGreaterThanOrEqual(50);
      }
      expect(symbols.size).toBeGreaterThan(20);
      expect(symbols.size).toBeLessThanOrEqual(32);

      const hashes = await codeHashes(user.id);
      expect(hashes).toHaveLength(10);
      for (const hash of hashes) {
        expect(hash).toMatch(/^\$argon2id\$/);
        for (const code of codes) expect(hash).not.toContain(code);
      }
      expect(new Set(hashes.map((h) => h.split('$')[4])).size).toBe(10); // every hash has its own salt
      // Each stored hash is the hash of exactly one of the codes handed out.
      const matched = await Promise.all(hashes.map(async (h) => (await Promise.all(codes.map((c) => argon2Verify(h, c)))).filter(Boolean).length));
      expect(matched).toEqual(Array(10).fill(1));

      const [row] = await factorRows(user.id);
      expect(row.status).toBe('active');
      expect(row.enabled_at).not.toBeNull();
      expect(row.secret_ciphertext).not.toContain(secret);
      expect((await get('/api/v1/users/me', user.session.accessToken)).json()).toMatchObject({ id: user.id, mfaEnabled: true });
      expect(JSON.stringify((await get('/api/v1/users/me', user.session.accessToken)).json())).not.toContain(codes[0]);
    });

    it('6.3.3: enabling twice → 409 and the code set is unchanged; setup while enabled → 409; enable without a setup → 409', async () => {
      const user = await enrolled();
      const before = await codeHashes(user.id);
      const twice = await post(ENABLE, user.session.accessToken, { code: totp(user.secret, 1) });
      expectProblem(twice, 409);
      expect(twice.body).not.toContain('recoveryCodes');
      expect(await codeHashes(user.id)).toEqual(before);
      expectProblem(await post(SETUP, user.session.accessToken, { password: user.password }), 409);
      expect(await factorRows(user.id)).toHaveLength(1);
      expect(decryptSecret((await factorRows(user.id))[0].secret_ciphertext, t.config.mfa.encryptionKey!, user.id)).toBe(user.secret);

      const fresh = await signedIn();
      expectProblem(await post(ENABLE, fresh.session.accessToken, { code: '123456' }), 409);
    });

    it('6.5.5: enable accepts the previous step (clock drift) but not two steps away; a new setup replaces the pending secret (fresh IV)', async () => {
      const user = await signedIn();
      const first = (await post(SETUP, user.session.accessToken, { password: user.password })).json().secret;
      const [firstRow] = await factorRows(user.id);
      const second = (await post(SETUP, user.session.accessToken, { password: user.password })).json().secret;
      expect(second).not.toBe(first);
      const [secondRow] = await factorRows(user.id);
      // A fresh IV per encryption, and the row now holds the new secret.
      expect(secondRow.secret_ciphertext.split('.')[0]).not.toBe(firstRow.secret_ciphertext.split('.')[0]);
      expect(decryptSecret(secondRow.secret_ciphertext, t.config.mfa.encryptionKey!, user.id)).toBe(second);
      await steadyStep(4);
      expectWrongCredential(await post(ENABLE, user.session.accessToken, { code: totp(first) }), 'code', 'code');
      expectWrongCredential(await post(ENABLE, user.session.accessToken, { code: totp(second, 2) }), 'code', 'code');
      expectWrongCredential(await post(ENABLE, user.session.accessToken, { code: totp(second, -2) }), 'code', 'code');
      expect((await post(ENABLE, user.session.accessToken, { code: totp(second, -1) })).statusCode).toBe(200);
      expect(await factorRows(user.id)).toEqual([expect.objectContaining({ status: 'active' })]);
    });

    it('6.3.3/6.5.3: concurrent enrolment — four enables racing leave exactly one active factor and one valid set of 10 codes', async () => {
      const user = await signedIn();
      const { secret } = (await post(SETUP, user.session.accessToken, { password: user.password })).json();
      await steadyStep(4);
      const results = await Promise.all([-1, 0, 0, 1].map((step) => post(ENABLE, user.session.accessToken, { code: totp(secret, step) })));
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 409, 409, 409]);
      const winner: string[] = results.find((r) => r.statusCode === 200)!.json().recoveryCodes;
      expect(await factorRows(user.id)).toEqual([expect.objectContaining({ status: 'active' })]);
      const hashes = await codeHashes(user.id);
      expect(hashes).toHaveLength(10);
      for (const hash of hashes) expect((await Promise.all(winner.map((c) => argon2Verify(hash, c)))).filter(Boolean)).toHaveLength(1);
      // The set handed out is the set that works.
      await signInWithRecoveryCode(user, winner[9]);
      expect(await auditOf(user.id, 'auth.mfa.enabled')).toHaveLength(1);
    });

    it('7.4.3: enabling ends the user’s other sessions (bearer and cookie), keeps the current one, and is audited auth.mfa.enabled', async () => {
      const user = await signedIn();
      const other = await loginTokens(t, user);
      const cookieLogin = await login(t, user.email, user.password, 'cookie');
      const cookie = /__Host-sid=([^;]+)/.exec(String(cookieLogin.headers['set-cookie']))![1];
      const bystander = await signedIn();
      const { secret } = (await post(SETUP, user.session.accessToken, { password: user.password })).json();
      // Setup alone changes nothing yet.
      expect((await whoami(other.accessToken)).statusCode).toBe(200);
      await steadyStep();
      expect((await post(ENABLE, user.session.accessToken, { code: totp(secret) })).statusCode).toBe(200);

      expect((await whoami(user.session.accessToken)).statusCode).toBe(200);
      expectProblem(await whoami(other.accessToken), 401);
      expectProblem(await post('/api/v1/auth/refresh', undefined, { refreshToken: other.refreshToken }), 401);
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: { cookie: `__Host-sid=${cookie}` } }), 401);
      expect((await whoami(bystander.session.accessToken)).statusCode).toBe(200);
      const [{ n }] = await em(t).execute('SELECT count(*)::int AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [user.id]);
      expect(n).toBe(1);

      const audit = await auditOf(user.id, 'auth.mfa.enabled');
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor_id: user.id, outcome: 'success' });
      expect(JSON.stringify(audit)).not.toContain(secret);
    });
  });

  describe('disable', () => {
    it('7.5.1/7.4.3: disable needs the password and a code; it removes factor and codes, ends other sessions and is audited auth.mfa.disabled', async () => {
      const user = await enrolled();
      const other = await signInWithRecoveryCode(user, user.recoveryCodes[0]);
      const token = user.session.accessToken;
      await steadyStep();
      const code = totp(user.secret, 1);

      expectValidation(await post(DISABLE, token, { code }), 'password');
      expectValidation(await post(DISABLE, token, { password: user.password }), 'code');
      expectWrongCredential(await post(DISABLE, token, { password: 'not the password, sorry', code }), 'password', 'password');
      expectWrongCredential(await post(DISABLE, token, { password: user.password, code: wrongCode(user.secret) }), 'code', 'code');
      // An already used recovery code is refused like a wrong one, naming the body's field.
      const used = await post(DISABLE, token, { password: user.password, code: user.recoveryCodes[0] });
      expectWrongCredential(used, 'code', 'code');
      expect(used.json().errors.map((e: { field: string }) => e.field)).toEqual(['code']);
      expect(await factorRows(user.id)).toEqual([expect.objectContaining({ status: 'active' })]);
      expect((await whoami(other.accessToken)).statusCode).toBe(200);
      const failures = await auditOf(user.id, 'auth.mfa.failed');
      expect(failures.map((f) => f.details.method)).toEqual(['totp', 'recovery_code']);

      const res = await post(DISABLE, token, { password: user.password, code });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect(await factorRows(user.id)).toEqual([]);
      expect(await codeHashes(user.id)).toEqual([]);
      expect((await whoami(token)).statusCode).toBe(200);
      expectProblem(await whoami(other.accessToken), 401);
      expect((await get('/api/v1/users/me', token)).json()).toMatchObject({ mfaEnabled: false });
      const pwdOnly = await login(t, user.email, user.password);
      expect(pwdOnly.json()).toHaveProperty('accessToken');
      expect(await auditOf(user.id, 'auth.mfa.disabled')).toEqual([expect.objectContaining({ actor_id: user.id, outcome: 'success' })]);

      expectProblem(await post(DISABLE, token, { password: user.password, code: totp(user.secret, 1) }), 409);
    });

    it('7.5.1: disable accepts an unused recovery code instead of a TOTP code', async () => {
      const user = await seededEnrolment();
      const res = await post(DISABLE, user.session.accessToken, { password: user.password, code: user.recoveryCodes[5] });
      expect(res.statusCode).toBe(204);
      expect(await factorRows(user.id)).toEqual([]);
      expect((await get('/api/v1/users/me', user.session.accessToken)).json()).toMatchObject({ mfaEnabled: false });
    });
  });

  describe('recovery codes', () => {
    it('6.5.1: POST /mfa/recovery-codes with a valid TOTP code issues a new set of 10; the old set stops working', async () => {
      const user = await seededEnrolment();
      const token = user.session.accessToken;
      const before = await codeHashes(user.id);
      await steadyStep();
      expectWrongCredential(await post(RECOVERY_CODES, token, { code: wrongCode(user.secret) }), 'code', 'code');
      expectValidation(await post(RECOVERY_CODES, token, { code: user.recoveryCodes[0] }), 'code');
      expect(await codeHashes(user.id)).toEqual(before);

      const res = await post(RECOVERY_CODES, token, { code: totp(user.secret, 1) });
      expect(res.statusCode).toBe(200);
      const fresh: string[] = res.json().recoveryCodes;
      expect(fresh).toHaveLength(10);
      expect(fresh.filter((c) => user.recoveryCodes.includes(c))).toEqual([]);
      const after = await codeHashes(user.id);
      expect(after).toHaveLength(10);
      expect(after.filter((h) => before.includes(h))).toEqual([]);

      const first = await login(t, user.email, user.password);
      expectProblem(await post(VERIFY, undefined, { mfaToken: first.json().mfaToken, recoveryCode: user.recoveryCodes[1] }), 401);
      await signInWithRecoveryCode(user, fresh[1]);
      // The TOTP step used to regenerate is spent like any other.
      expectWrongCredential(await post(RECOVERY_CODES, token, { code: totp(user.secret, 1) }), 'code', 'code');

      const notEnrolled = await signedIn();
      expectProblem(await post(RECOVERY_CODES, notEnrolled.session.accessToken, { code: '123456' }), 409);
    });

    it('6.5.1: two regenerations racing (each with its own valid step) leave exactly one set of 10 — the other set is dead', async () => {
      const user = await seededEnrolment();
      const before = await codeHashes(user.id);
      await steadyStep();
      const results = await Promise.all([0, 1].map((step) => post(RECOVERY_CODES, user.session.accessToken, { code: totp(user.secret, step) })));
      const sets: string[][] = results.filter((r) => r.statusCode === 200).map((r) => r.json().recoveryCodes);
      expect(sets.length).toBeGreaterThanOrEqual(1);
      const hashes = await codeHashes(user.id);
      expect(hashes).toHaveLength(10);
      expect(hashes.filter((h) => before.includes(h))).toEqual([]);
      // Every stored hash belongs to one and the same returned set.
      const owners = await Promise.all(hashes.map(async (h) => sets.findIndex((set) => set.some((c) => argon2VerifySync(h, c)))));
      expect(new Set(owners).size).toBe(1);
      expect(owners[0]).toBeGreaterThanOrEqual(0);
    });
  });

  describe('admin reset and views', () => {
    it('6.3.3: /users/me and the admin user views show mfaEnabled', async () => {
      const user = await seededEnrolment();
      const plain = await createUser(t);
      expect((await get('/api/v1/users/me', user.session.accessToken)).json()).toMatchObject({ mfaEnabled: true });
      expect((await get(`/api/v1/users/${user.id}`, admin.accessToken)).json()).toMatchObject({ id: user.id, mfaEnabled: true });
      expect((await get(`/api/v1/users/${plain.id}`, admin.accessToken)).json()).toMatchObject({ id: plain.id, mfaEnabled: false });
      const list = await get(`/api/v1/users?q=${encodeURIComponent(user.email)}`, admin.accessToken);
      expect(list.json().items).toEqual([expect.objectContaining({ id: user.id, mfaEnabled: true })]);
      for (const view of [list.json().items[0], (await get(`/api/v1/users/${user.id}`, admin.accessToken)).json()]) {
        expect(JSON.stringify(view)).not.toMatch(/secret|hash|recovery/i);
      }
    });

    it('6.3.3/7.4.2: POST /users/:id/mfa/reset (admin) removes TOTP and recovery codes, ends the user’s sessions and is audited auth.mfa.reset', async () => {
      const user = await seededEnrolment();
      const viewer = await signedIn();
      expectProblem(await post(`/api/v1/users/${user.id}/mfa/reset`, viewer.session.accessToken, {}), 403);
      expectProblem(await post(`/api/v1/users/${user.id}/mfa/reset`, undefined, {}), 401);
      const malformed = await post('/api/v1/users/not-a-uuid/mfa/reset', admin.accessToken, {});
      expect(malformed.statusCode).toBe(400);
      expect(malformed.headers['content-type']).toMatch(PROBLEM_JSON);
      expectProblem(await post('/api/v1/users/0b9c4d8e-2f7a-4c1e-9d3b-5a6f7e8d9c0b/mfa/reset', admin.accessToken, {}), 404);
      expect(await factorRows(user.id)).toHaveLength(1);

      const res = await post(`/api/v1/users/${user.id}/mfa/reset`, admin.accessToken, {});
      expect(res.statusCode).toBe(204);
      expect(await factorRows(user.id)).toEqual([]);
      expect(await codeHashes(user.id)).toEqual([]);
      expectProblem(await whoami(user.session.accessToken), 401);
      expect((await get(`/api/v1/users/${user.id}`, admin.accessToken)).json()).toMatchObject({ mfaEnabled: false });
      const audit = await auditOf(user.id, 'auth.mfa.reset');
      expect(audit).toHaveLength(1);
      expect(audit[0].actor_id).toBe(decodeJwt(admin.accessToken).sub);
      // Lost phone, back in with the password alone; the old codes are gone for good.
      const back = await login(t, user.email, user.password);
      expect(back.json()).toHaveProperty('accessToken');
      expect((await get('/api/v1/users/me', back.json().accessToken)).json()).toMatchObject({ mfaEnabled: false });
    });
  });

  describe('bad input is 400 problem+json, never 500', () => {
    let user: CreatedUser & { session: Session };
    beforeAll(async () => {
      user = await signedIn();
    });
    const long = 'x'.repeat(100_000);
    const cases: { route: string; url: string; body: unknown; field: string }[] = [
      { route: 'setup', url: SETUP, body: { password: 12345678901234 }, field: 'password' },
      { route: 'setup', url: SETUP, body: { password: null }, field: 'password' },
      { route: 'setup', url: SETUP, body: { password: ['a'] }, field: 'password' },
      { route: 'setup', url: SETUP, body: { password: long }, field: 'password' },
      { route: 'setup', url: SETUP, body: { password: 'x', secret: 'JBSWY3DPEHPK3PXP' }, field: 'secret' },
      { route: 'enable', url: ENABLE, body: { code: 123456 }, field: 'code' },
      { route: 'enable', url: ENABLE, body: { code: '12345' }, field: 'code' },
      { route: 'enable', url: ENABLE, body: { code: '123 456' }, field: 'code' },
      { route: 'enable', url: ENABLE, body: { code: ' 123456' }, field: 'code' },
      { route: 'enable', url: ENABLE, body: { code: long }, field: 'code' },
      { route: 'enable', url: ENABLE, body: { code: 'ABCD-EFGH-JKMN' }, field: 'code' },
      { route: 'enable', url: ENABLE, body: {}, field: 'code' },
      { route: 'disable', url: DISABLE, body: { password: 'x', code: 123456 }, field: 'code' },
      { route: 'disable', url: DISABLE, body: { password: 'x', code: '123456 ' }, field: 'code' },
      { route: 'disable', url: DISABLE, body: { password: 'x', code: 'ABCD_EFGH_JKMN' }, field: 'code' },
      { route: 'disable', url: DISABLE, body: { password: 'x', code: 'ABCD-EFGH' }, field: 'code' },
      { route: 'disable', url: DISABLE, body: { password: 'x', code: long }, field: 'code' },
      { route: 'disable', url: DISABLE, body: { password: 42, code: '123456' }, field: 'password' },
      { route: 'recovery-codes', url: RECOVERY_CODES, body: { code: 123456 }, field: 'code' },
      { route: 'recovery-codes', url: RECOVERY_CODES, body: { code: '' }, field: 'code' },
      { route: 'recovery-codes', url: RECOVERY_CODES, body: { code: long }, field: 'code' },
      { route: 'recovery-codes', url: RECOVERY_CODES, body: { codes: ['123456'] }, field: 'codes' },
    ];
    const labelled = cases.map((c) => ({ ...c, label: JSON.stringify(c.body).replace(/(x{8})x+/, '$1…').slice(0, 60) }));
    it.each(labelled)('2.2.1: $route with $label → 400 naming $field', async ({ url, body, field }) => {
      expectValidation(await post(url, user.session.accessToken, body), field);
    });

    it.each([SETUP, ENABLE, DISABLE, RECOVERY_CODES])('2.2.1/8.2.1: %s without credentials → 401, and with a non-object body → 400', async (url) => {
      expectProblem(await post(url, undefined, { code: '123456', password: 'x' }), 401);
      for (const raw of ['[]', '"123456"', 'null']) {
        const res = await t.app.inject({ method: 'POST', url, headers: { ...bearer(user.session.accessToken), 'content-type': 'application/json' }, payload: raw });
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      }
    });
  });
});

