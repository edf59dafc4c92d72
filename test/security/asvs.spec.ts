/**
 * Security regression suite mapped to OWASP ASVS 5.0 (../shared/SECURITY.md; issue 7 item 4).
 * Every test name starts with the requirement id; docs/security.md maps each id to these tests and
 * to the detailed e2e tests. Everything goes through HTTP against the real app (createTestApp).
 */
import type { LightMyRequestResponse } from 'fastify';
import { createHash, createHmac, createPrivateKey, createPublicKey, randomBytes, randomUUID, sign } from 'node:crypto';
import { bearer, createUser, type CreatedUser, em, login, loginTokens, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { seedTotp } from '../support/mfa-helpers';
import { createTestApp, type TestApp } from '../support/test-app';
import { steadyStep, totp } from '../support/totp';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Json = Record<string, unknown>;
interface Pair {
  accessToken: string;
  refreshToken: string;
}

const b64 = (value: Json) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string): Json => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
const headerOf = (token: string): Json => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
const sidOf = (token: string) => claimsOf(token).sid as string;
const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
describe('OWASP ASVS 5.0 security regressions', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let admin: CreatedUser;
  let adminToken: string;
  let deptA: string;
  let deptB: string;

  const call = (method: Method, url: string, token?: string, payload?: unknown): Promise<LightMyRequestResponse> =>
    t.app.inject({ method, url, headers: token ? bearer(token) : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  const whoami = (token: string) => call('GET', '/api/v1/auth/whoami', token);
  const refresh = (refreshToken: string) => call('POST', '/api/v1/auth/refresh', undefined, { refreshToken });
  const count = async (sql: string, params: unknown[] = []): Promise<number> => (await em(t).execute(`SELECT count(*)::int AS n FROM ${sql}`, params))[0].n;
  const signIn = async (options: Parameters<typeof createUser>[1] = {}) => {
    const user = await createUser(t, options);
    return { user, ...(await loginTokens(t, user)) };
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url } });
    admin = await createUser(t, { roles: ['admin'] });
    adminToken = (await loginTokens(t, admin)).accessToken;
    const a = await call('POST', '/api/v1/departments', adminToken, { name: `ASVS A ${randomUUID()}` });
    const b = await call('POST', '/api/v1/departments', adminToken, { name: `ASVS B ${randomUUID()}` });
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    deptA = a.json().id;
    deptB = b.json().id;
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  describe('V6.2 passwords', () => {
    const register = (password: string) =>
      call('POST', '/api/v1/auth/register', undefined, { email: uniqueEmail('asvs-pw'), password, displayName: 'Password Probe' });

    it('ASVS 6.2.1 / 6.2.9: 11 characters refused, 12 and 128 accepted, 129 refused', async () => {
      expect((await register('plum kettle')).statusCode).toBe(400); // 11
      expect((await register('plum kettle!')).statusCode).toBe(202); // 12
      expect((await register('violet harbour '.repeat(9).slice(0, 128))).statusCode).toBe(202);
      expect((await register('violet harbour '.repeat(9).slice(0, 129))).statusCode).toBe(400);
    });

    it('ASVS 6.2.5: no composition rules — lower-case letters and spaces only is accepted', async () => {
      expect((await register('quiet orange lantern walks')).statusCode).toBe(202);
    });

    it('ASVS 6.2.4: common passwords from the offline list are refused (case-insensitively), naming the field, creating nobody', async () => {
      const before = await count('users');
      for (const weak of ['password1234', 'PASSWORD1234', 'qwertyuiop123']) {
        const res = await register(weak);
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toMatch(/problem\+json/);
        expect(JSON.stringify(res.json())).toContain('password');
      }
      expect(await count('users')).toBe(before);
    });
  });

  describe('V6.1 / V6.3 brute force, enumeration, MFA', () => {
    it('ASVS 6.1.1 / 6.3.1: 5 failures lock the account (right password then refused with the same 401); the lock is temporary and an admin unlock ends it', async () => {
      const user = await createUser(t);
      for (let i = 0; i < 5; i++) expect((await login(t, user.email, 'not the password at all')).statusCode).toBe(401);
      const locked = await login(t, user.email, user.password);
      expect(locked.statusCode).toBe(401);
      expect(await count("audit_events WHERE type = 'auth.lockout' AND target_id = ?", [user.id])).toBe(1);
      const [row] = await em(t).execute('SELECT locked_until FROM users WHERE id = ?', [user.id]);
      expect(new Date(row.locked_until).getTime()).toBeGreaterThan(Date.now());
      expect(new Date(row.locked_until).getTime()).toBeLessThan(Date.now() + 24 * 3600 * 1000);
      expect((await call('POST', `/api/v1/users/${user.id}/unlock`, adminToken)).statusCode).toBe(204);
      expect((await login(t, user.email, user.password)).statusCode).toBe(200);
    });

    it('ASVS 6.3.8: login — unknown email and wrong password get the identical status, headers and body', async () => {
      const user = await createUser(t);
      const unknown = await login(t, uniqueEmail('nobody'), 'whatever password 1');
      const wrong = await login(t, user.email, 'whatever password 1');
      expect(unknown.statusCode).toBe(401);
      expect(wrong.statusCode).toBe(401);
      expect(unknown.headers['www-authenticate']).toEqual(wrong.headers['www-authenticate']);
      expect(unknown.headers['content-type']).toEqual(wrong.headers['content-type']);
      expect(unknown.json()).toEqual(wrong.json());
    });

    it('ASVS 6.3.8: register, forgot-password and resend-verification answer a known and an unknown email identically', async () => {
      const user = await createUser(t);
      const fresh = uniqueEmail('fresh');
      const pairs: [string, Json, Json][] = [
        ['/api/v1/auth/register', { email: user.email, password: STRONG_PASSWORD, displayName: 'X' }, { email: fresh, password: STRONG_PASSWORD, displayName: 'X' }],
        ['/api/v1/auth/password/forgot', { email: user.email }, { email: uniqueEmail('nobody') }],
        ['/api/v1/auth/resend-verification', { email: user.email }, { email: uniqueEmail('nobody') }],
      ];
      for (const [url, known, unknown] of pairs) {
        const a = await call('POST', url, undefined, known);
        const b = await call('POST', url, undefined, unknown);
        expect([url, a.statusCode]).toEqual([url, 202]);
        expect([url, b.statusCode]).toEqual([url, 202]);
        expect(a.body).toEqual(b.body);
      }
    });

    it('ASVS 6.3.3: MFA is available — after TOTP enrolment the password alone yields {mfaRequired, mfaToken} and no tokens', async () => {
      const enrolled = await seededTotp();
      const first = await login(t, enrolled.email, enrolled.password);
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ mfaRequired: true, mfaToken: expect.any(String) });
      expect(first.json()).not.toHaveProperty('accessToken');
      expect(first.json()).not.toHaveProperty('refreshToken');
    });

    it('ASVS 6.3.3: MFA is enforceable per role — a role with requireMfa gives a password-only session 403', async () => {
      const role = await call('POST', '/api/v1/roles', adminToken, {
        name: `asvs-auditor-${randomBytes(3).toString('hex')}`,
        description: 'reads audit, needs MFA',
        permissions: [{ action: 'read', subject: 'AuditEvent' }],
        requireMfa: true,
      });
      expect(role.statusCode).toBe(201);
      const { accessToken } = await signIn({ roles: [role.json().name] });
      const res = await call('GET', '/api/v1/audit-events', accessToken);
      expect(res.statusCode).toBe(403);
      expect(res.body).toMatch(/mfa/i);
    });
  });

  /** A user whose TOTP factor is active (written by the app's own SecretBox / RecoveryCodes), last used long ago. */
  async function seededTotp(): Promise<CreatedUser & { secret: string; recoveryCodes: string[] }> {
    const user = await createUser(t);
    const { secret, recoveryCodes } = await seedTotp(t, user.id);
    return { ...user, secret, recoveryCodes };
  }
  /** Password step then /mfa/verify with a TOTP code or a recovery code. */
  async function secondFactor(user: CreatedUser, proof: { code: string } | { recoveryCode: string }) {
    const first = await login(t, user.email, user.password);
    expect(first.json()).toMatchObject({ mfaRequired: true });
    return call('POST', '/api/v1/auth/mfa/verify', undefined, { mfaToken: first.json().mfaToken, ...proof });
  }

  describe('V6.4 / V6.5 recovery and one-time passwords', () => {
    it('ASVS 6.5.5 (deviation: ±1 step for clock drift) / 6.5.1: previous step accepted, two steps away refused, each step only once, never an older step after a newer one', async () => {
      const user = await seededTotp();
      await steadyStep(8);
      expect((await secondFactor(user, { code: totp(user.secret, -2) })).statusCode).toBe(401);
      expect((await secondFactor(user, { code: totp(user.secret, -1) })).statusCode).toBe(200);
      expect((await secondFactor(user, { code: totp(user.secret, -1) })).statusCode).toBe(401); // replay
      expect((await secondFactor(user, { code: totp(user.secret, 0) })).statusCode).toBe(200);
      expect((await secondFactor(user, { code: totp(user.secret, 0) })).statusCode).toBe(401); // replay
      expect((await secondFactor(user, { code: totp(user.secret, 1) })).statusCode).toBe(200); // next step (drift)
      expect((await secondFactor(user, { code: totp(user.secret, 2) })).statusCode).toBe(401);
    });

    it('ASVS 6.5.1: a recovery code signs in once; its second use is 401', async () => {
      const user = await seededTotp();
      const [code] = user.recoveryCodes;
      const ok = await secondFactor(user, { recoveryCode: code });
      expect(ok.statusCode).toBe(200);
      expect(claimsOf(ok.json().accessToken).amr).toContain('otp');
      expect((await secondFactor(user, { recoveryCode: code })).statusCode).toBe(401);
      expect((await secondFactor(user, { recoveryCode: user.recoveryCodes[1] })).statusCode).toBe(200);
    });

    it('ASVS 7.5.1 / 6.5.2 / 6.5.3: enrolment re-authenticates; recovery codes are distinct CSPRNG codes stored only as salted Argon2id hashes', async () => {
      const { user, accessToken } = await signIn();
      const noPassword = await call('POST', '/api/v1/auth/mfa/totp/setup', accessToken, {});
      expect([400, 401, 403]).toContain(noPassword.statusCode);
      const wrong = await call('POST', '/api/v1/auth/mfa/totp/setup', accessToken, { password: 'not my password at all' });
      // Never 401 on a signed-in route: that would read as "session gone".
      expect({ status: wrong.statusCode, type: wrong.json().type }).toEqual({ status: 400, type: 'urn:bastion:problem:invalid-password' });
      const setup = await call('POST', '/api/v1/auth/mfa/totp/setup', accessToken, { password: user.password });
      expect(setup.statusCode).toBe(200);
      await steadyStep(5);
      const enable = await call('POST', '/api/v1/auth/mfa/totp/enable', accessToken, { code: totp(setup.json().secret) });
      expect(enable.statusCode).toBe(200);
      const codes: string[] = enable.json().recoveryCodes;
      expect(codes.length).toBeGreaterThanOrEqual(8);
      expect(new Set(codes).size).toBe(codes.length);
      for (const c of codes) expect(c).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      // Each code's identifier group is distinct within the set: a use checks one hash.
      expect(new Set(codes.map((c) => c.slice(0, 4))).size).toBe(codes.length);
      const rows: { code_hash: string }[] = await em(t).execute('SELECT code_hash FROM recovery_codes WHERE user_id = ?', [user.id]);
      expect(rows).toHaveLength(codes.length);
      const salts = new Set<string>();
      for (const { code_hash } of rows) {
        expect(code_hash).toMatch(/^\$argon2id\$/);
        for (const c of codes) expect(code_hash).not.toContain(c);
        salts.add(code_hash.split('$')[4]);
      }
      expect(salts.size).toBe(rows.length);
    });

    it('ASVS 6.4.3: a password reset never bypasses MFA — the next login with the new password still asks for the second factor', async () => {
      const user = await seededTotp();
      expect((await call('POST', '/api/v1/auth/password/forgot', undefined, { email: user.email })).statusCode).toBe(202);
      const mail = await sink.waitFor((m) => m.to.includes(user.email));
      const token = decodeURIComponent(/[?&]token=([^&\s]+)/.exec(mail.text)![1]);
      const newPassword = 'a brand new reset passphrase';
      expect((await call('POST', '/api/v1/auth/password/reset', undefined, { token, newPassword })).statusCode).toBe(204);
      const res = await login(t, user.email, newPassword);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ mfaRequired: true });
      expect(res.json()).not.toHaveProperty('accessToken');
    });
  });

  describe('V7 sessions', () => {
    it('ASVS 7.2.4: every authentication mints a new session id, jti and refresh token', async () => {
      const user = await createUser(t);
      const a = await loginTokens(t, user);
      const b = await loginTokens(t, user);
      expect(sidOf(a.accessToken)).not.toBe(sidOf(b.accessToken));
      expect(claimsOf(a.accessToken).jti).not.toBe(claimsOf(b.accessToken).jti);
      expect(a.refreshToken).not.toBe(b.refreshToken);
    });

    it('ASVS 7.4.1: after logout the access token (a self-contained JWT) and the refresh token are refused at once', async () => {
      const { accessToken, refreshToken } = await signIn();
      expect((await whoami(accessToken)).statusCode).toBe(200);
      expect((await call('POST', '/api/v1/auth/logout', accessToken)).statusCode).toBe(204);
      expect((await whoami(accessToken)).statusCode).toBe(401);
      expect((await refresh(refreshToken)).statusCode).toBe(401);
    });

    it('ASVS 7.4.2: disabling or deleting an account ends all its sessions at once', async () => {
      for (const change of [{ method: 'PATCH' as const, payload: { status: 'disabled' } }, { method: 'DELETE' as const, payload: undefined }]) {
        const { user, accessToken, refreshToken } = await signIn();
        const second = await loginTokens(t, user);
        const res = await call(change.method, `/api/v1/users/${user.id}`, adminToken, change.payload);
        expect(res.statusCode).toBeLessThan(300);
        for (const token of [accessToken, second.accessToken]) expect((await whoami(token)).statusCode).toBe(401);
        expect((await refresh(refreshToken)).statusCode).toBe(401);
        const again = await login(t, user.email, user.password);
        expect([401, 403]).toContain(again.statusCode);
        expect(again.json()).not.toHaveProperty('accessToken');
      }
    });

    it('ASVS 7.4.3: a password change ends the user’s other sessions and keeps the current one', async () => {
      const { user, accessToken } = await signIn();
      const other = await loginTokens(t, user);
      const res = await call('POST', '/api/v1/users/me/password', accessToken, { currentPassword: user.password, newPassword: 'another long passphrase here' });
      expect(res.statusCode).toBe(204);
      expect((await whoami(other.accessToken)).statusCode).toBe(401);
      expect((await refresh(other.refreshToken)).statusCode).toBe(401);
      expect((await whoami(accessToken)).statusCode).toBe(200);
    });

    it('ASVS 7.5.2: a user lists only their own sessions and can end one of them', async () => {
      const { user, accessToken } = await signIn();
      const other = await loginTokens(t, user);
      await signIn(); // someone else's session must not show up
      const list = await call('GET', '/api/v1/auth/sessions', accessToken);
      expect(list.statusCode).toBe(200);
      const ids = (list.json() as { id: string }[]).map((s) => s.id).sort();
      expect(ids).toEqual([sidOf(accessToken), sidOf(other.accessToken)].sort());
      expect((await call('DELETE', `/api/v1/auth/sessions/${sidOf(other.accessToken)}`, accessToken)).statusCode).toBe(204);
      expect((await whoami(other.accessToken)).statusCode).toBe(401);
      expect((await whoami(accessToken)).statusCode).toBe(200);
    });
  });

  describe('V8 authorization', () => {
    it('ASVS 8.2.1: function level — a viewer is refused every admin function (403) and the refusal is decided on the server', async () => {
      const { accessToken } = await signIn({ departmentId: deptA });
      for (const [method, url, payload] of [
        ['GET', '/api/v1/users', undefined],
        ['POST', '/api/v1/users', { email: uniqueEmail('x'), displayName: 'X', password: STRONG_PASSWORD }],
        ['GET', '/api/v1/roles', undefined],
        ['POST', '/api/v1/departments', { name: 'nope' }],
        ['GET', '/api/v1/audit-events', undefined],
        ['POST', '/api/v1/documents', { title: 'x', body: 'y' }],
      ] as [Method, string, unknown][]) {
        expect([method, url, (await call(method, url, accessToken, payload)).statusCode]).toEqual([method, url, 403]);
      }
    });

    it('ASVS 8.2.3: field level — a user cannot set their own roles, status, department or email through PATCH /users/me', async () => {
      const { user, accessToken } = await signIn({ departmentId: deptA });
      for (const payload of [{ roles: ['admin'] }, { status: 'active', displayName: 'x' }, { departmentId: deptB }, { email: uniqueEmail('me') }]) {
        expect((await call('PATCH', '/api/v1/users/me', accessToken, payload)).statusCode).toBe(400);
      }
      expect((await whoami(accessToken)).json()).toMatchObject({ roles: ['viewer'], departmentId: deptA });
      const me = await call('GET', '/api/v1/users/me', accessToken);
      expect(me.json()).toMatchObject({ id: user.id, email: user.email });
      expect(me.body).not.toMatch(/argon2|password|hash/i);
    });

    it('ASVS 8.3.2: role changes take effect on the next request, without a new sign-in', async () => {
      const { user, accessToken } = await signIn({ roles: ['admin'] });
      expect((await call('GET', '/api/v1/users', accessToken)).statusCode).toBe(200);
      expect((await call('PATCH', `/api/v1/users/${user.id}`, adminToken, { roles: ['viewer'] })).statusCode).toBe(200);
      expect((await call('GET', '/api/v1/users', accessToken)).statusCode).toBe(403);
    });

    it('ASVS 8.4.1: department boundary — a manager of A sees only A in lists and gets 404 for B’s document and user', async () => {
      const { accessToken } = await signIn({ roles: ['manager'], departmentId: deptA });
      const docB = await call('POST', '/api/v1/documents', adminToken, { title: 'B only', body: 'secret B', departmentId: deptB });
      const docA = await call('POST', '/api/v1/documents', adminToken, { title: 'A only', body: 'A', departmentId: deptA });
      const userB = await createUser(t, { departmentId: deptB });
      const docs = await call('GET', '/api/v1/documents?limit=100', accessToken);
      expect(docs.statusCode).toBe(200);
      for (const d of docs.json().items as { departmentId: string }[]) expect(d.departmentId).toBe(deptA);
      expect((docs.json().items as { id: string }[]).map((d) => d.id)).toContain(docA.json().id);
      const users = await call('GET', '/api/v1/users?limit=100', accessToken);
      expect(users.statusCode).toBe(200);
      for (const u of users.json().items as { departmentId: string }[]) expect(u.departmentId).toBe(deptA);
      expect((await call('GET', `/api/v1/documents/${docB.json().id}`, accessToken)).statusCode).toBe(404);
      expect((await call('GET', `/api/v1/users/${userB.id}`, accessToken)).statusCode).toBe(404);
    });

    describe('ASVS 8.2.2: IDOR/BOLA on every {id}/{sid} route of the OpenAPI document', () => {
      interface Fixtures {
        victim: CreatedUser;
        victimSid: string;
        victimToken: string;
        roleId: string;
        docId: string;
        clientId: string;
        resourceServerId: string;
        passkeyId: string;
      }
      let fx: Fixtures;
      let idRoutes: { method: Method; path: string }[];

      beforeAll(async () => {
        const doc = await t.app.inject({ method: 'GET', url: '/docs-json' });
        expect(doc.statusCode).toBe(200);
        const paths = doc.json().paths as Record<string, Record<string, unknown>>;
        idRoutes = Object.entries(paths)
          .filter(([path]) => /\{(id|sid)\}/.test(path))
          .flatMap(([path, ops]) => Object.keys(ops).filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m)).map((m) => ({ method: m.toUpperCase() as Method, path })));
        // Fixtures of another user and another department, made through the admin API.
        const victimRes = await call('POST', '/api/v1/users', adminToken, { email: uniqueEmail('victim'), displayName: 'Victim', password: STRONG_PASSWORD, roles: ['viewer'], departmentId: deptB });
        expect(victimRes.statusCode).toBe(201);
        const victim = { id: victimRes.json().id as string, email: victimRes.json().email as string, password: STRONG_PASSWORD };
        const victimPair = await loginTokens(t, victim);
        const role = await call('POST', '/api/v1/roles', adminToken, { name: `asvs-idor-${randomBytes(3).toString('hex')}`, description: 'fixture', permissions: [{ action: 'read', subject: 'Department' }] });
        expect(role.statusCode).toBe(201);
        const created = await call('POST', '/api/v1/documents', adminToken, { title: 'Dept B plan', body: 'B body', departmentId: deptB });
        expect(created.statusCode).toBe(201);
        expect((await call('POST', `/api/v1/documents/${created.json().id}/publish`, adminToken)).statusCode).toBe(200);
        const server = await call('POST', '/api/v1/resource-servers', adminToken, { name: 'IDOR API', audience: 'https://idor.example.test', scopes: ['idor:read'] });
        expect(server.statusCode).toBe(201);
        const client = await call('POST', '/api/v1/clients', adminToken, { name: 'IDOR app', redirectUris: ['https://idor.example.test/cb'], resources: ['https://idor.example.test'] });
        expect(client.statusCode).toBe(201);
        // The victim's passkey, stored as registration would store it (its signature is never checked here).
        const passkeyId = randomBytes(16).toString('base64url');
        await em(t).execute(
          `INSERT INTO passkey_credentials (id, user_id, public_key, device_type, backed_up, aaguid, name) VALUES (?, ?, '\\x00', 'singleDevice', false, '', 'Victim key')`,
          [passkeyId, victim.id],
        );
        fx = {
          victim,
          victimSid: sidOf(victimPair.accessToken),
          victimToken: victimPair.accessToken,
          roleId: role.json().id,
          docId: created.json().id,
          clientId: client.json().id,
          resourceServerId: server.json().id,
          passkeyId,
        };
      });

      const urlFor = (path: string): string => {
        let id: string;
        if (path.startsWith('/api/v1/users/')) id = fx.victim.id;
        else if (path.startsWith('/api/v1/auth/sessions/')) id = fx.victimSid;
        else if (path.startsWith('/api/v1/roles/')) id = fx.roleId;
        else if (path.startsWith('/api/v1/departments/')) id = deptB;
        else if (path.startsWith('/api/v1/documents/')) id = fx.docId;
        else if (path.startsWith('/api/v1/clients/')) id = fx.clientId;
        else if (path.startsWith('/api/v1/resource-servers/')) id = fx.resourceServerId;
        else if (path.startsWith('/api/v1/auth/passkeys/')) id = fx.passkeyId;
        else throw new Error(`no IDOR fixture for ${path}: add one`);
        return path.replace('{id}', id).replace('{sid}', fx.victimSid);
      };
      const bodyFor = (method: Method, path: string): unknown => {
        if (method !== 'PATCH') return undefined;
        if (path.startsWith('/api/v1/users/')) return { displayName: 'Hijacked' };
        if (path.startsWith('/api/v1/roles/')) return { description: 'hijacked' };
        if (path.startsWith('/api/v1/departments/')) return { name: 'Hijacked' };
        if (path.startsWith('/api/v1/documents/')) return { title: 'hijacked', version: 2 };
        if (path.startsWith('/api/v1/clients/') || path.startsWith('/api/v1/resource-servers/') || path.startsWith('/api/v1/auth/passkeys/')) return { name: 'Hijacked' };
        return {};
      };
      const fingerprint = async (): Promise<string[]> => {
        const one = async (sql: string, params: unknown[]) => JSON.stringify(await em(t).execute(sql, params));
        return [
          await one('SELECT md5(u::text) FROM users u WHERE id = ?', [fx.victim.id]),
          await one('SELECT role_id FROM user_roles WHERE user_id = ? ORDER BY role_id', [fx.victim.id]),
          await one('SELECT md5(r::text) FROM roles r WHERE id = ?', [fx.roleId]),
          await one('SELECT md5(d::text) FROM departments d WHERE id = ?', [deptB]),
          await one('SELECT md5(d::text), version FROM documents d WHERE id = ?', [fx.docId]),
          await one('SELECT revoked_at FROM sessions WHERE id = ?', [fx.victimSid]),
          await one('SELECT md5(c::text) FROM oidc_clients c WHERE id = ?', [fx.clientId]),
          await one('SELECT md5(r::text) FROM resource_servers r WHERE id = ?', [fx.resourceServerId]),
          await one('SELECT md5(p::text) FROM passkey_credentials p WHERE id = ?', [fx.passkeyId]),
          await one(`SELECT (SELECT count(*) FROM users) u, (SELECT count(*) FROM roles) r, (SELECT count(*) FROM departments) d,
                            (SELECT count(*) FROM documents) doc, (SELECT count(*) FROM sessions WHERE revoked_at IS NULL) s`, []),
        ];
      };

      it('ASVS 8.2.2: the OpenAPI document lists the expected {id} routes (users, sessions, roles, departments, documents)', () => {
        const keys = idRoutes.map((r) => `${r.method} ${r.path}`);
        expect(keys.length).toBeGreaterThanOrEqual(18);
        for (const must of [
          'GET /api/v1/users/{id}',
          'DELETE /api/v1/users/{id}/sessions/{sid}',
          'DELETE /api/v1/auth/sessions/{id}',
          'PATCH /api/v1/roles/{id}',
          'DELETE /api/v1/departments/{id}',
          'POST /api/v1/documents/{id}/publish',
        ]) {
          expect(keys).toContain(must);
        }
      });

      it.each([
        ['a viewer', ['viewer']],
        ['a manager', ['manager']],
        ['an editor', ['editor']],
      ])('ASVS 8.2.2 / 8.4.1: %s of department A gets 403/404 on every {id} route with another user’s / department’s record, and nothing changes', async (_name, roles) => {
        const { accessToken } = await signIn({ roles, departmentId: deptA });
        const before = await fingerprint();
        const answers: string[] = [];
        for (const { method, path } of idRoutes) {
          const res = await call(method, urlFor(path), accessToken, bodyFor(method, path));
          answers.push(`${method} ${path} → ${res.statusCode}`);
          expect([`${method} ${path}`, [403, 404].includes(res.statusCode)]).toEqual([`${method} ${path}`, true]);
          expect(res.body).not.toContain('Dept B plan');
          expect(res.body).not.toContain(fx.victim.email);
        }
        expect(answers).toHaveLength(idRoutes.length);
        expect(await fingerprint()).toEqual(before);
        expect((await whoami(fx.victimToken)).statusCode).toBe(200);
      });

      it('ASVS 8.2.2 (control): an admin reaches the same records — non-4xx on every {id} GET route and on unlock', async () => {
        const gets = idRoutes.filter((r) => r.method === 'GET');
        expect(gets.length).toBeGreaterThanOrEqual(5);
        for (const { method, path } of gets) {
          const res = await call(method, urlFor(path), adminToken);
          expect([`${method} ${path}`, res.statusCode]).toEqual([`${method} ${path}`, 200]);
        }
        expect((await call('POST', urlFor('/api/v1/users/{id}/unlock'), adminToken)).statusCode).toBe(204);
      });
    });
  });

  describe('V9 self-contained tokens', () => {
    let real: Pair;
    let kid: string;
    let forge: (over?: Json, header?: Json) => string;

    beforeAll(async () => {
      real = await loginTokens(t, await createUser(t));
      const key = createPrivateKey(t.config.jwt.privateKeyPem!);
      kid = headerOf(real.accessToken).kid as string;
      const base = claimsOf(real.accessToken);
      forge = (over = {}, header = {}) => {
        const now = Math.floor(Date.now() / 1000);
        const input = `${b64({ alg: 'RS256', typ: 'JWT', kid, ...header })}.${b64({ ...base, jti: randomUUID(), iat: now, nbf: now, exp: now + 300, ...over })}`;
        return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
      };
    });
    const status = async (token: string) => (await whoami(token)).statusCode;

    it('ASVS 9.1.1 (control): a token we sign with the real key and proper claims is accepted', async () => {
      expect(await status(forge())).toBe(200);
    });

    it('ASVS 9.1.2: alg "none" and HS256 keyed with the public key (algorithm confusion) are refused', async () => {
      const [h, p] = forge().split('.');
      const none = `${b64({ alg: 'none', typ: 'JWT', kid })}.${p}.`;
      expect(await status(none)).toBe(401);
      const publicPem = createPublicKey(createPrivateKey(t.config.jwt.privateKeyPem!)).export({ type: 'spki', format: 'pem' }).toString();
      const hsInput = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${p}`;
      expect(await status(`${hsInput}.${createHmac('sha256', publicPem).update(hsInput).digest('base64url')}`)).toBe(401);
      expect(await status(`${h}.${p}.${'A'.repeat(342)}`)).toBe(401); // bad signature
    });

    it('ASVS 9.2.1: exp in the past and nbf in the future are refused', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(await status(forge({ exp: now - 120, iat: now - 600, nbf: now - 600 }))).toBe(401);
      expect(await status(forge({ nbf: now + 600 }))).toBe(401);
    });

    it('ASVS 9.2.3: another audience or issuer is refused', async () => {
      expect(await status(forge({ aud: 'another-service' }))).toBe(401);
      expect(await status(forge({ iss: 'https://evil.example' }))).toBe(401);
    });
  });

  describe('V10 OAuth — refresh tokens', () => {
    it('ASVS 10.4.5: refresh rotates the token; a rotated token replayed after the grace window revokes the whole family', async () => {
      const { accessToken, refreshToken } = await signIn();
      const r1 = await refresh(refreshToken);
      expect(r1.statusCode).toBe(200);
      const next = r1.json() as Pair;
      expect(next.refreshToken).not.toBe(refreshToken);
      expect(sidOf(next.accessToken)).toBe(sidOf(accessToken));
      // Leave the 10 s grace window without waiting for it.
      await em(t).execute(`UPDATE refresh_tokens SET rotated_at = now() - interval '11 seconds' WHERE token_hash = ?`, [sha256(refreshToken)]);
      expect((await refresh(refreshToken)).statusCode).toBe(401);
      expect((await whoami(next.accessToken)).statusCode).toBe(401);
      expect((await refresh(next.refreshToken)).statusCode).toBe(401);
      expect(await count("audit_events WHERE type = 'auth.refresh.reuse_detected' AND target_id = ?", [sidOf(accessToken)])).toBe(1);
      const [row] = await em(t).execute('SELECT revoked_reason FROM sessions WHERE id = ?', [sidOf(accessToken)]);
      expect(row.revoked_reason).toBe('refresh_reuse');
    });
  });

  describe('V16 security logging', () => {
    it('ASVS 16.3.1: successful and failed sign-ins (known and unknown email) are audited, never with the password', async () => {
      const user = await createUser(t);
      const secret = `wrong-${randomBytes(8).toString('hex')}`;
      const since = new Date();
      await login(t, user.email, secret);
      await login(t, uniqueEmail('ghost'), secret);
      const ok = await loginTokens(t, user);
      const rows: { type: string; outcome: string; details: Json }[] = await em(t).execute(
        `SELECT * FROM audit_events WHERE at >= ? AND type IN ('auth.login.failed', 'auth.login.succeeded') ORDER BY at`,
        [since],
      );
      expect(rows.filter((r) => r.type === 'auth.login.failed').length).toBeGreaterThanOrEqual(2);
      expect(rows.some((r) => r.type === 'auth.login.succeeded')).toBe(true);
      const text = JSON.stringify(rows);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(user.password);
      expect(text).not.toContain(ok.accessToken);
      expect(text).not.toContain(ok.refreshToken);
      expect(text).not.toMatch(/\$argon2/);
    });

    it('ASVS 16.3.2: a denied authorization decision is audited as access.denied with the actor', async () => {
      const { user, accessToken } = await signIn({ departmentId: deptA });
      expect((await call('GET', '/api/v1/users', accessToken)).statusCode).toBe(403);
      expect(await count("audit_events WHERE type = 'access.denied' AND actor_id = ? AND outcome = 'denied'", [user.id])).toBeGreaterThanOrEqual(1);
    });

    it('ASVS 16.3.2 / 16.4.2: the audit log is append-only — UPDATE and DELETE on audit_events fail', async () => {
      const before = await count('audit_events');
      await expect(em(t).execute(`UPDATE audit_events SET type = 'tampered'`)).rejects.toThrow();
      await expect(em(t).execute('DELETE FROM audit_events')).rejects.toThrow();
      expect(await count('audit_events')).toBeGreaterThanOrEqual(before);
      expect(await count("audit_events WHERE type = 'tampered'")).toBe(0);
    });
  });

  /**
   * Last on purpose: a second Nest app in this process re-registers the global passport strategies
   * ('local', 'jwt', 'totp', …) with its own providers, so the first app's /mfa/verify would then run
   * the second app's TotpStrategy (other MFA_ENCRYPTION_KEY) — see docs/security.md, "Test notes".
   */
  describe('V6.3 timing (separate app with production-like Argon2 cost)', () => {
    it('ASVS 6.3.8: timing — median login time for an unknown email is within 0.5–2× that of a wrong password (Argon2 32 MiB, 2 passes)', async () => {
      const slow = await createTestApp({ env: { ARGON2_MEMORY_KIB: '32768', ARGON2_ITERATIONS: '2' } });
      try {
        const users = [];
        for (let i = 0; i < 5; i++) users.push(await createUser(slow));
        const time = async (email: string) => {
          const start = process.hrtime.bigint();
          const res = await login(slow, email, 'definitely not it 42');
          expect(res.statusCode).toBe(401);
          return Number(process.hrtime.bigint() - start) / 1e6;
        };
        await time(uniqueEmail('warm')); // warm-up
        const unknown: number[] = [];
        const wrong: number[] = [];
        // Interleaved, two wrong attempts per user: below the lockout threshold.
        for (let i = 0; i < 10; i++) {
          unknown.push(await time(uniqueEmail('ghost')));
          wrong.push(await time(users[i % users.length].email));
        }
        const ratio = median(unknown) / median(wrong);
        expect(ratio).toBeGreaterThan(0.5);
        expect(ratio).toBeLessThan(2);
      } finally {
        await slow.close();
      }
    });

  });
});
