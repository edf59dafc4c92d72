import { createUser, em, login, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import { settledMailRequests } from '../support/mail-requests';
import { expectValidation, PROBLEM_JSON } from '../support/problem-assertions';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';

const VERIFY_SUBJECT = 'Verify your email address';
const EXISTS_SUBJECT = 'You already have an account';

interface UserRow {
  id: string;
  status: string;
  email_verified: boolean;
  display_name: string;
  password_hash: string | null;
  updated_at: Date;
  roles: string[];
}

async function userRow(t: TestApp, email: string): Promise<UserRow | undefined> {
  const rows: UserRow[] = await em(t).execute(
    `SELECT u.id, u.status, u.email_verified, u.display_name, u.password_hash, u.updated_at,
            array_remove(array_agg(r.name ORDER BY r.name), NULL) AS roles
       FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN roles r ON r.id = ur.role_id
      WHERE u.email = ? GROUP BY u.id`,
    [email],
  );
  return rows[0];
}

async function userCount(t: TestApp): Promise<number> {
  const [row] = await em(t).execute('SELECT count(*)::int AS n FROM users');
  return row.n;
}

/** Mail jobs queued for an address: enqueued on the request path, so final once the response is in. */
async function mailJobsTo(t: TestApp, to: string): Promise<string[]> {
  const rows: { subject: string }[] = await em(t).execute(
    `SELECT data->>'subject' AS subject FROM pgboss.job WHERE name = 'mail' AND data->>'to' = ?
     UNION ALL SELECT data->>'subject' FROM pgboss.archive WHERE name = 'mail' AND data->>'to' = ?`,
    [to, to],
  );
  return rows.map((r) => r.subject);
}

async function auditEvents(t: TestApp, type: string, targetId: string): Promise<{ outcome: string; actor_id: string | null; details: Record<string, unknown> }[]> {
  return em(t).execute('SELECT outcome, actor_id, details FROM audit_events WHERE type = ? AND target_id = ? ORDER BY at', [type, targetId]);
}

function register(t: TestApp, payload: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: payload as string, headers });
}

const verify = (t: TestApp, token: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token } });
const resend = (t: TestApp, email: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/resend-verification', payload: { email } });

describe('Registration and email verification (open, verification required)', () => {
  let sink: SmtpSink;
  let t: TestApp;
  async function registerAndGetToken(email: string, password = STRONG_PASSWORD, displayName = 'Ada Lovelace'): Promise<string> {
    const res = await register(t, { email, password, displayName });
    expect(res.statusCode).toBe(202);
    return extractToken(await sink.next(email, VERIFY_SUBJECT), '/verify-email');
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url } });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('6.3.8: answers a new, a pending and an active email with the identical 202', async () => {
    const active = await createUser(t);
    const pending = uniqueEmail('pending');
    await registerAndGetToken(pending);
    const answers = [];
    for (const email of [uniqueEmail('fresh'), pending, active.email]) {
      answers.push(await register(t, { email, password: 'a different long passphrase', displayName: 'Someone' }));
    }
    for (const res of answers) {
      expect(res.statusCode).toBe(202);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
    expect(new Set(answers.map((r) => r.body)).size).toBe(1);
    expect(Object.keys(answers[0].json())).toEqual(['message']);
    expect(typeof answers[0].json().message).toBe('string');
  });

  it('creates a pending viewer, mails a token= link, and verifying it activates the account', async () => {
    const email = uniqueEmail('ada');
    const before = await userCount(t);
    const res = await register(t, { email: `  ${email.toUpperCase()} `, password: STRONG_PASSWORD, displayName: '  Ada Lovelace ' });
    expect(res.statusCode).toBe(202);
    expect(await userCount(t)).toBe(before + 1);

    const created = await userRow(t, email);
    expect(created).toMatchObject({ status: 'pending', email_verified: false, display_name: 'Ada Lovelace', roles: ['viewer'] });
    expect(created!.password_hash).toMatch(/^\$argon2id\$/);

    const mail = await sink.next(email, VERIFY_SUBJECT);
    expect(mail.to).toEqual([email]);
    expect(mail.text).toMatch(/http:\/\/localhost:3000\/verify-email\?token=[^\s]+/);
    const token = extractToken(mail, '/verify-email');
    expect(token.length).toBeGreaterThanOrEqual(43);

    const pendingLogin = await login(t, email, STRONG_PASSWORD);
    expect(pendingLogin.statusCode).toBe(403);
    expect(pendingLogin.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(pendingLogin.json()).toMatchObject({ type: 'urn:bastion:problem:email-not-verified', status: 403 });
    // A wrong password on the pending account stays the generic 401: "unverified" is only revealed to the owner.
    const wrong = await login(t, email, 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().type).toBe('about:blank');

    const verified = await verify(t, token);
    expect(verified.statusCode).toBe(204);
    expect(verified.body).toBe('');
    expect(await userRow(t, email)).toMatchObject({ status: 'active', email_verified: true });
    const signedIn = await login(t, email, STRONG_PASSWORD);
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json()).toMatchObject({ tokenType: 'Bearer' });

    const reused = await verify(t, token);
    expect(reused.statusCode).toBe(400);
    expect(reused.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(reused.json()).toMatchObject({ type: 'about:blank', status: 400 });
  });

  it('refuses a garbage, an empty and a non-string verification token with 400 problem+json', async () => {
    for (const token of ['garbage-token', 'x'.repeat(256)]) {
      const res = await verify(t, token);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.json()).toMatchObject({ type: 'about:blank', status: 400 });
    }
    for (const token of ['', 42, null, 'x'.repeat(257)]) expectValidation(await verify(t, token), 'token');
  });

  it('pre-hijacking: re-registering a pending email replaces the squatter password and kills the earlier link', async () => {
    const email = uniqueEmail('victim');
    const squatterPassword = 'squatter chose this passphrase';
    const ownerPassword = 'the real owner picks this one';
    const squatterToken = await registerAndGetToken(email, squatterPassword, 'Squatter');
    const firstRow = await userRow(t, email);

    const ownerToken = await registerAndGetToken(email, ownerPassword, 'Real Owner');
    expect(ownerToken).not.toBe(squatterToken);
    const secondRow = await userRow(t, email);
    expect(secondRow).toMatchObject({ id: firstRow!.id, status: 'pending', display_name: 'Real Owner', roles: ['viewer'] });
    expect(secondRow!.password_hash).not.toBe(firstRow!.password_hash);
    const [{ n }] = await em(t).execute('SELECT count(*)::int AS n FROM users WHERE email = ?', [email]);
    expect(n).toBe(1);

    expect((await verify(t, squatterToken)).statusCode).toBe(400);
    expect((await userRow(t, email))!.status).toBe('pending');
    expect((await verify(t, ownerToken)).statusCode).toBe(204);

    expect((await login(t, email, squatterPassword)).statusCode).toBe(401);
    expect((await login(t, email, ownerPassword)).statusCode).toBe(200);
  });

  it('concurrent re-registrations of one pending email all answer 202 and leave one account', async () => {
    const email = uniqueEmail('race');
    await registerAndGetToken(email);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => register(t, { email, password: `concurrent passphrase number ${i}`, displayName: `Racer ${i}` })),
    );
    expect(answers.map((r) => r.statusCode)).toEqual(answers.map(() => 202));
    const [{ n }] = await em(t).execute('SELECT count(*)::int AS n FROM users WHERE email = ?', [email]);
    expect(n).toBe(1);
    expect((await userRow(t, email))!.status).toBe('pending');
  });

  it('6.3.8: registering an active email mails an "account exists" notice and changes nothing', async () => {
    const owner = await createUser(t);
    const before = await userRow(t, owner.email);
    const res = await register(t, { email: owner.email, password: 'an intruder passphrase here', displayName: 'Intruder' });
    expect(res.statusCode).toBe(202);

    const notice = await sink.next(owner.email, EXISTS_SUBJECT);
    expect(notice.text).not.toContain('token=');
    expect(notice.text).toContain('http://localhost:3000/forgot-password');
    expect(await mailJobsTo(t, owner.email)).toEqual([EXISTS_SUBJECT]);

    expect(await userRow(t, owner.email)).toEqual(before);
    expect((await login(t, owner.email, owner.password)).statusCode).toBe(200);
    expect((await login(t, owner.email, 'an intruder passphrase here')).statusCode).toBe(401);

    const [event] = await auditEvents(t, 'auth.register', owner.id);
    expect(event).toMatchObject({ outcome: 'failure', actor_id: null, details: { email: owner.email, result: 'exists' } });
  });

  describe('6.2.x password policy on registration', () => {
    const rejected: [string, (local: string) => string][] = [
      ['6.2.1: shorter than 12 characters', () => 'short pw 11'],
      ['6.2.4: a common password', () => 'qwerty123456'],
      ['6.2.4: a common password in other case', () => 'QWERTY123456'],
      ['the email local part', (local) => `my ${local} passphrase`],
      ['6.2.9: 129 characters', () => 'long passphrase '.repeat(8) + 'x'],
    ];
    it.each(rejected)('refuses %s with 400 naming password, and creates no user', async (_name, password) => {
      const email = uniqueEmail('policy');
      const res = await register(t, { email, password: password(email.split('@')[0]), displayName: 'Policy' });
      expectValidation(res, 'password');
      expect(res.json().errors.every((e: { field: string }) => e.field === 'password')).toBe(true);
      expect(await userRow(t, email)).toBeUndefined();
      expect(await mailJobsTo(t, email)).toEqual([]);
    });

    it('6.2.1 / 6.2.5 / 6.2.9: accepts 12 and 128 characters, any Unicode, with no composition rules', async () => {
      for (const password of ['abcdefghijkm', 'zebra lantern orchard violin'.padEnd(128, ' x'), 'пароль-ключ-дверь-окно', '🦄🌈🦄 rainbow unicorn']) {
        const email = uniqueEmail('accepted');
        const res = await register(t, { email, password, displayName: 'Accepted' });
        expect(res.statusCode).toBe(202);
        expect((await userRow(t, email))?.status).toBe('pending');
      }
    });

    it('6.2.9: refuses a 10 000-character password in input validation, before any hashing, and creates no user', async () => {
      const email = uniqueEmail('huge');
      const res = await register(t, { email, password: 'x'.repeat(10_000), displayName: 'Huge' });
      expectValidation(res, 'password');
      // The DTO bound (512) answered, so neither the policy nor Argon2 ran on the input.
      expect(res.json().errors).toEqual([{ field: 'password', message: expect.stringContaining('512') }]);
      expect(res.body).not.toContain('xxxxxxxxxx');
      expect(await userRow(t, email)).toBeUndefined();
      const [{ n }] = await em(t).execute(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'auth.register' AND details->>'email' = ?`, [email]);
      expect(n).toBe(0);
    });
  });

  describe('bad input is 400 problem+json and creates nothing', () => {
    const email = 'bad.input@example.com';
    const valid = { email, password: STRONG_PASSWORD, displayName: 'Bad Input' };
    const cases: [string, unknown, string | undefined][] = [
      ['email of the wrong type', { ...valid, email: 12345 }, 'email'],
      ['password of the wrong type', { ...valid, password: 123456789012345 }, 'password'],
      ['displayName of the wrong type', { ...valid, displayName: ['Bad'] }, 'displayName'],
      ['an unknown field', { ...valid, role: 'admin' }, 'role'],
      ['a status field', { ...valid, status: 'active' }, 'status'],
      ['an invalid email', { ...valid, email: 'not-an-email' }, 'email'],
      ['an over-long email', { ...valid, email: `${'a'.repeat(250)}@example.com` }, 'email'],
      ['a missing password', { email, displayName: 'Bad Input' }, 'password'],
      ['a missing email', { password: STRONG_PASSWORD, displayName: 'Bad Input' }, 'email'],
      ['a missing displayName', { email, password: STRONG_PASSWORD }, 'displayName'],
      ['a blank displayName', { ...valid, displayName: '   ' }, 'displayName'],
      ['an over-long displayName', { ...valid, displayName: 'd'.repeat(101) }, 'displayName'],
      ['an empty object', {}, undefined],
    ];
    it.each(cases)('%s', async (_name, payload, field) => {
      const before = await userCount(t);
      expectValidation(await register(t, payload), field);
      expect(await userCount(t)).toBe(before);
      expect(await userRow(t, email)).toBeUndefined();
    });

    it.each([['an array', '[]'], ['a string', '"hello"'], ['null', 'null'], ['a number', '42']])('a JSON body that is %s', async (_name, raw) => {
      const before = await userCount(t);
      const res = await register(t, raw, { 'content-type': 'application/json' });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(await userCount(t)).toBe(before);
    });

    it('malformed JSON and a non-JSON content type', async () => {
      const before = await userCount(t);
      for (const [raw, type] of [['{"email":', 'application/json'], [`email=${email}`, 'application/x-www-form-urlencoded']]) {
        const res = await register(t, raw, { 'content-type': type });
        expect([400, 415]).toContain(res.statusCode);
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(res.body).not.toMatch(/at .+\.(ts|js):\d+/);
      }
      expect(await userCount(t)).toBe(before);
    });
  });

  describe('resend-verification', () => {
    it('6.3.8: always 202 with one body; only a pending account gets a new link, and the old link then fails', async () => {
      const active = await createUser(t);
      const unknown = uniqueEmail('nobody');
      const pending = uniqueEmail('resend');
      const firstToken = await registerAndGetToken(pending);

      const answers = [await resend(t, unknown), await resend(t, active.email), await resend(t, pending)];
      expect(answers.map((r) => r.statusCode)).toEqual([202, 202, 202]);
      expect(new Set(answers.map((r) => r.body)).size).toBe(1);

      // One queued request each, whatever the address (the worker looks the account up).
      for (const email of [unknown, active.email, pending]) expect(await settledMailRequests(t, email)).toEqual(['verification-resend']);
      const secondToken = extractToken(await sink.next(pending, VERIFY_SUBJECT), '/verify-email');
      expect(secondToken).not.toBe(firstToken);
      expect(await mailJobsTo(t, pending)).toEqual([VERIFY_SUBJECT, VERIFY_SUBJECT]);
      expect(await mailJobsTo(t, unknown)).toEqual([]);
      expect(await mailJobsTo(t, active.email)).toEqual([]);
      expect(await userRow(t, unknown)).toBeUndefined();

      expect((await verify(t, firstToken)).statusCode).toBe(400);
      expect((await verify(t, secondToken)).statusCode).toBe(204);
      expect(await userRow(t, pending)).toMatchObject({ status: 'active', email_verified: true });

      // Once verified there is nothing to resend.
      expect((await resend(t, pending)).statusCode).toBe(202);
      expect(await settledMailRequests(t, pending)).toEqual(['verification-resend', 'verification-resend']);
      expect(await mailJobsTo(t, pending)).toHaveLength(2);
    });

    it('refuses a malformed email with 400 naming email', async () => {
      expectValidation(await t.app.inject({ method: 'POST', url: '/api/v1/auth/resend-verification', payload: { email: 'nope' } }), 'email');
      expectValidation(await t.app.inject({ method: 'POST', url: '/api/v1/auth/resend-verification', payload: { email: 'a@example.com', extra: 1 } }), 'extra');
    });
  });

  it('16.3.1 / 16.3.2: audits auth.register and auth.email_verified without any password, token or hash', async () => {
    const email = uniqueEmail('audited');
    const password = 'audited passphrase value';
    const token = await registerAndGetToken(email, password, 'Audited');
    expect((await verify(t, token)).statusCode).toBe(204);
    const user = (await userRow(t, email))!;

    const [registered] = await auditEvents(t, 'auth.register', user.id);
    expect(registered).toMatchObject({ outcome: 'success', actor_id: user.id, details: { email, result: 'created' } });
    const [verified] = await auditEvents(t, 'auth.email_verified', user.id);
    expect(verified).toMatchObject({ outcome: 'success', actor_id: user.id });

    const rows: { type: string; details: Record<string, unknown> }[] = await em(t).execute(
      'SELECT type, details FROM audit_events WHERE target_id = ? OR actor_id = ?',
      [user.id, user.id],
    );
    expect(rows.map((r) => r.type).sort()).toEqual(['auth.email_verified', 'auth.register']);
    for (const { details } of rows) {
      const text = JSON.stringify(details);
      expect(text).not.toContain(password);
      expect(text).not.toContain(token);
      expect(text).not.toContain(user.password_hash!);
      expect(text).not.toContain('$argon2');
      expect(Object.keys(details).filter((k) => /password|token|hash|secret/i.test(k))).toEqual([]);
    }
  });
});

describe('Registration closed', () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url, AUTH_REGISTRATION: 'closed' } });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('AUTH_REGISTRATION=closed: 403 problem+json, no user and no mail', async () => {
    const email = uniqueEmail('closed');
    const res = await register(t, { email, password: STRONG_PASSWORD, displayName: 'Closed' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json()).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 });
    expect(await userRow(t, email)).toBeUndefined();
    expect(await mailJobsTo(t, email)).toEqual([]);
  });
});

describe('Registration without email verification', () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url, EMAIL_VERIFICATION_REQUIRED: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('EMAIL_VERIFICATION_REQUIRED=false: the account is active at once (its email still unverified: not proof of the mailbox), no link is mailed', async () => {
    const email = uniqueEmail('instant');
    const res = await register(t, { email, password: STRONG_PASSWORD, displayName: 'Instant' });
    expect(res.statusCode).toBe(202);
    expect(await userRow(t, email)).toMatchObject({ status: 'active', email_verified: false, roles: ['viewer'] });
    expect((await login(t, email, STRONG_PASSWORD)).statusCode).toBe(200);
    expect(await mailJobsTo(t, email)).toEqual([]);

    // Now active, so a second registration cannot take it over.
    const again = await register(t, { email, password: 'takeover attempt passphrase', displayName: 'Taker' });
    expect(again.statusCode).toBe(202);
    expect((await login(t, email, 'takeover attempt passphrase')).statusCode).toBe(401);
    expect((await login(t, email, STRONG_PASSWORD)).statusCode).toBe(200);
    await sink.waitFor((m) => m.to.includes(email) && m.subject === EXISTS_SUBJECT);
  });
});
