import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { bearer, createUser, type CreatedUser, em, login, loginTokens, uniqueEmail } from '../support/auth-helpers';
import { settledMailRequests } from '../support/mail-requests';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';

const PROBLEM_JSON = /^application\/problem\+json/;
const RESET_SUBJECT = 'Reset your password';
const NEW_PASSWORD = 'a brand new recovery passphrase';

const forgot = (t: TestApp, email: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/password/forgot', payload: { email } });
const reset = (t: TestApp, token: string, newPassword: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/password/reset', payload: { token, newPassword } });
const whoami = (t: TestApp, accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) });
const refresh = (t: TestApp, refreshToken: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });

async function mailJobsTo(t: TestApp, to: string): Promise<string[]> {
  const rows: { subject: string }[] = await em(t).execute(
    `SELECT data->>'subject' AS subject FROM pgboss.job WHERE name = 'mail' AND data->>'to' = ?
     UNION ALL SELECT data->>'subject' FROM pgboss.archive WHERE name = 'mail' AND data->>'to' = ?`,
    [to, to],
  );
  return rows.map((r) => r.subject);
}

interface LockState {
  failed_login_count: number;
  lock_count: number;
  locked_until: Date | null;
}

async function lockState(t: TestApp, userId: string): Promise<LockState> {
  const rows: LockState[] = await em(t).execute('SELECT failed_login_count, lock_count, locked_until FROM users WHERE id = ?', [userId]);
  return rows[0];
}

function expectBadLink(res: LightMyRequestResponse): void {
  expect(res.statusCode).toBe(400);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.json()).toMatchObject({ type: 'about:blank', status: 400 });
}

describe('Password recovery (forgot / reset)', () => {
  let sink: SmtpSink;
  let t: TestApp;

  async function resetToken(email: string): Promise<string> {
    const res = await forgot(t, email);
    expect(res.statusCode).toBe(202);
    return extractToken(await sink.next(email, RESET_SUBJECT), '/reset-password');
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url } });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('6.3.8: forgot answers the same 202 for a known and an unknown email; only the known one gets mail', async () => {
    const user = await createUser(t);
    const unknown = uniqueEmail('ghost');
    const known = await forgot(t, ` ${user.email.toUpperCase()} `);
    const ghost = await forgot(t, unknown);
    for (const res of [known, ghost]) {
      expect(res.statusCode).toBe(202);
      expect(Object.keys(res.json())).toEqual(['message']);
    }
    expect(ghost.body).toBe(known.body);

    // The same work on the request path whatever the address: one queued request each, which the
    // worker then looks up (an unknown address cost one SELECT, a known one a transaction and a mail).
    expect(await settledMailRequests(t, user.email)).toEqual(['password-reset']);
    expect(await settledMailRequests(t, unknown)).toEqual(['password-reset']);
    const mail = await sink.next(user.email, RESET_SUBJECT);
    expect(mail.text).toMatch(/http:\/\/localhost:3000\/reset-password\?token=\S+/);
    expect(await mailJobsTo(t, user.email)).toEqual([RESET_SUBJECT]);
    expect(await mailJobsTo(t, unknown)).toEqual([]);
    const [{ n }] = await em(t).execute('SELECT count(*)::int AS n FROM users WHERE email = ?', [unknown]);
    expect(n).toBe(0);
  });

  it('sends no reset mail to a disabled account, with the same 202', async () => {
    const disabled = await createUser(t, { status: 'disabled' });
    const res = await forgot(t, disabled.email);
    expect(res.statusCode).toBe(202);
    expect(await settledMailRequests(t, disabled.email)).toEqual(['password-reset']);
    expect(await mailJobsTo(t, disabled.email)).toEqual([]);
  });

  it('refuses a malformed forgot-password body with 400 problem+json', async () => {
    for (const payload of [{ email: 'nope' }, { email: 'a@example.com', extra: true }, {}]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password/forgot', payload });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.json().type).toBe('urn:bastion:problem:validation');
    }
  });

  it('6.2.x: a weak new password is 400 naming newPassword, changes nothing, and the link still works', async () => {
    const user = await createUser(t);
    const token = await resetToken(user.email);
    for (const weak of ['too short', 'qwerty123456', `x ${user.email.split('@')[0]} y`, 'p'.repeat(129)]) {
      const res = await reset(t, token, weak);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ type: 'urn:bastion:problem:validation' });
      expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['newPassword']));
    }
    expect((await login(t, user.email, user.password)).statusCode).toBe(200);
    expect((await reset(t, token, NEW_PASSWORD)).statusCode).toBe(204);
    expect((await login(t, user.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('7.4.3 / 6.1.1: reset sets the password, ends every session, clears the lockout; the link is single use', async () => {
    const user = await createUser(t);
    const first = await loginTokens(t, user);
    const second = await loginTokens(t, user);
    expect((await whoami(t, first.accessToken)).statusCode).toBe(200);

    // LOCKOUT_THRESHOLD (5) wrong passwords lock the account: now even the right one is refused.
    for (let i = 0; i < 5; i++) expect((await login(t, user.email, `wrong passphrase ${i}!`)).statusCode).toBe(401);
    expect((await lockState(t, user.id)).locked_until).not.toBeNull();
    const whileLocked = await login(t, user.email, user.password);
    expect(whileLocked.statusCode).toBe(401);
    expect(whileLocked.json().title).toBe('Invalid credentials');

    const token = await resetToken(user.email);
    const res = await reset(t, token, NEW_PASSWORD);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    expect(await lockState(t, user.id)).toEqual({ failed_login_count: 0, lock_count: 0, locked_until: null });
    for (const tokens of [first, second]) {
      const refused = await whoami(t, tokens.accessToken);
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
      expect((await refresh(t, tokens.refreshToken)).statusCode).toBe(401);
    }
    const [{ live }] = await em(t).execute('SELECT count(*)::int AS live FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [user.id]);
    expect(live).toBe(0);

    expect((await login(t, user.email, user.password)).statusCode).toBe(401);
    const fresh = await login(t, user.email, NEW_PASSWORD);
    expect(fresh.statusCode).toBe(200);
    expect((await whoami(t, fresh.json().accessToken)).statusCode).toBe(200);

    expectBadLink(await reset(t, token, 'yet another fresh passphrase'));
    expect((await login(t, user.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('a link used by two requests at once sets exactly one password', async () => {
    const user = await createUser(t);
    const token = await resetToken(user.email);
    const candidates = ['first racing passphrase', 'second racing passphrase'];
    const answers = await Promise.all(candidates.map((password) => reset(t, token, password)));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([204, 400]);
    const winner = candidates[answers.findIndex((r) => r.statusCode === 204)];
    const loser = candidates.find((c) => c !== winner)!;
    expect((await login(t, user.email, winner)).statusCode).toBe(200);
    expect((await login(t, user.email, loser)).statusCode).toBe(401);
  });

  it('7.4.3: a password change makes every outstanding reset link unusable', async () => {
    const user = await createUser(t);
    const token = await resetToken(user.email);
    const { accessToken } = await loginTokens(t, user);
    const change = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: bearer(accessToken),
      payload: { currentPassword: user.password, newPassword: NEW_PASSWORD },
    });
    expect(change.statusCode).toBe(204);
    // The link mailed before the change must not undo it.
    expectBadLink(await reset(t, token, 'an attacker chosen passphrase'));
    expect((await login(t, user.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('7.4.3: a reset makes every other outstanding reset link of the account unusable too', async () => {
    const user = await createUser(t);
    const token = await resetToken(user.email);
    // A second live link minted by another path (an admin's set-password mail, a request racing
    // this reset): written directly, since asking again through the API kills the earlier link.
    const other = randomBytes(32).toString('base64url');
    await em(t).execute(
      `INSERT INTO email_tokens (id, user_id, purpose, token_hash, expires_at) VALUES (gen_random_uuid(), ?, 'reset_password', ?, now() + interval '30 minutes')`,
      [user.id, createHash('sha256').update(other).digest('hex')],
    );
    expect((await reset(t, token, NEW_PASSWORD)).statusCode).toBe(204);
    expectBadLink(await reset(t, other, 'an attacker chosen passphrase'));
    expect((await login(t, user.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('refuses an expired link with 400 and leaves the password alone', async () => {
    const user = await createUser(t);
    const token = await resetToken(user.email);
    await em(t).execute(
      `UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = ? AND purpose = 'reset_password' AND used_at IS NULL`,
      [user.id],
    );
    expectBadLink(await reset(t, token, NEW_PASSWORD));
    expect((await login(t, user.email, user.password)).statusCode).toBe(200);
    expect((await login(t, user.email, NEW_PASSWORD)).statusCode).toBe(401);
  });

  it('a link lives 30 minutes, and asking again kills the earlier link', async () => {
    const user = await createUser(t);
    const older = await resetToken(user.email);
    const [{ ttl }] = await em(t).execute(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM email_tokens WHERE user_id = ? AND purpose = 'reset_password' AND used_at IS NULL`,
      [user.id],
    );
    expect(ttl).toBe(30 * 60);
    const newer = await resetToken(user.email);
    expect(newer).not.toBe(older);
    expectBadLink(await reset(t, older, NEW_PASSWORD));
    expect((await reset(t, newer, NEW_PASSWORD)).statusCode).toBe(204);
  });

  it('refuses garbage tokens, and a reset link cannot verify an email (nor a verification link reset a password)', async () => {
    expectBadLink(await reset(t, 'garbage', NEW_PASSWORD));
    const user = await createUser(t);
    const token = await resetToken(user.email);
    expectBadLink(await t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token } }));

    const pending = uniqueEmail('pending');
    const registered = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: pending, password: 'pending account passphrase', displayName: 'P' } });
    expect(registered.statusCode).toBe(202);
    const mail = await sink.waitFor((m) => m.to.includes(pending) && m.subject === 'Verify your email address');
    expectBadLink(await reset(t, extractToken(mail, '/verify-email'), NEW_PASSWORD));

    expect((await reset(t, token, NEW_PASSWORD)).statusCode).toBe(204);
    for (const payload of [{ token }, { newPassword: NEW_PASSWORD }, { token, newPassword: 'x'.repeat(10_000) }, { token: 7, newPassword: NEW_PASSWORD }]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password/reset', payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().type).toBe('urn:bastion:problem:validation');
    }
  });

  it('a reset through the mailbox also verifies a pending account', async () => {
    const pending: CreatedUser = await createUser(t, { status: 'pending', emailVerified: false });
    const token = await resetToken(pending.email);
    expect((await reset(t, token, NEW_PASSWORD)).statusCode).toBe(204);
    const [row] = await em(t).execute('SELECT status, email_verified FROM users WHERE id = ?', [pending.id]);
    expect(row).toEqual({ status: 'active', email_verified: true });
    expect((await login(t, pending.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('16.3.1 / 16.3.2: audits auth.password.reset without any password, token or hash', async () => {
    const user = await createUser(t);
    const token = await resetToken(user.email);
    expect((await reset(t, token, NEW_PASSWORD)).statusCode).toBe(204);
    const events: { outcome: string; actor_id: string; target_type: string; details: Record<string, unknown> }[] = await em(t).execute(
      `SELECT outcome, actor_id, target_type, details FROM audit_events WHERE type = 'auth.password.reset' AND target_id = ?`,
      [user.id],
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'success', actor_id: user.id, target_type: 'User' });
    const [{ hash }] = await em(t).execute('SELECT password_hash AS hash FROM users WHERE id = ?', [user.id]);
    const all: { details: Record<string, unknown> }[] = await em(t).execute('SELECT details FROM audit_events WHERE target_id = ?', [user.id]);
    for (const { details } of all) {
      const text = JSON.stringify(details);
      for (const secret of [NEW_PASSWORD, user.password, token, hash, '$argon2']) expect(text).not.toContain(secret);
    }
  });
});
