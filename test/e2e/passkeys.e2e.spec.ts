import { decodeJwt } from 'jose';
import { bearer, createUser, type CreatedUser, em, loginTokens } from '../support/auth-helpers';
import { assertion, authenticator, ORIGIN, passkeySignIn, registerPasskey } from '../support/passkey-helpers';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';

describe('Passkeys (WebAuthn): registration, management and passwordless sign-in', () => {
  let t: TestApp;
  let sink: SmtpSink;

  const failures = async (userId: string | null): Promise<string[]> =>
    ((await em(t).execute(`SELECT details FROM audit_events WHERE type = 'auth.login.failed' AND details->'amr' @> '["hwk"]' AND actor_id IS NOT DISTINCT FROM ? ORDER BY at`, [userId])) as { details: { reason: string } }[]).map((r) => r.details.reason);

  async function withPasskey(name = 'Laptop'): Promise<{ user: CreatedUser; token: string; device: ReturnType<typeof authenticator>; id: string }> {
    const user = await createUser(t);
    const token = (await loginTokens(t, user)).accessToken;
    const device = authenticator();
    const res = await registerPasskey(t, token, device, name);
    expect(res.statusCode).toBe(201);
    return { user, token, device, id: res.json().id };
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url } });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('registers passkeys (several, listed, renamed), audits and mails it; then signs in without a password as two factors', async () => {
    const { user, token, device, id } = await withPasskey('Laptop');
    const stored = await em(t).execute('SELECT user_id, counter, device_type, aaguid, name FROM passkey_credentials WHERE id = ?', [id]);
    expect(stored).toEqual([{ user_id: user.id, counter: '0', device_type: 'multiDevice', aaguid: expect.any(String), name: 'Laptop' }]);
    expect(await em(t).execute(`SELECT details FROM audit_events WHERE type = 'passkey.registered' AND actor_id = ?`, [user.id])).toEqual([{ details: { passkeyId: id, name: 'Laptop' } }]);
    expect((await sink.next(user.email, 'A passkey was added to your account')).text).toContain('"Laptop" was added');

    const second = await registerPasskey(t, token, authenticator(), 'Phone');
    expect(second.statusCode).toBe(201);
    const renamed = await t.app.inject({ method: 'PATCH', url: `/api/v1/auth/passkeys/${second.json().id}`, headers: bearer(token), payload: { name: '  Old phone ' } });
    expect(renamed.json()).toMatchObject({ id: second.json().id, name: 'Old phone' });
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/auth/passkeys', headers: bearer(token) });
    expect(list.json().map((p: { name: string }) => p.name)).toEqual(['Laptop', 'Old phone']);
    expect(list.body).not.toMatch(/publicKey|public_key/);

    const res = await passkeySignIn(t, await assertion(t, device));
    expect(res.statusCode).toBe(200);
    const claims = decodeJwt(res.json().accessToken);
    expect(claims).toMatchObject({ sub: user.id, amr: ['hwk', 'user'] });
    expect(res.json().refreshToken).toEqual(expect.any(String));
    const [row] = await em(t).execute('SELECT counter, last_used_at FROM passkey_credentials WHERE id = ?', [id]);
    expect(row).toEqual({ counter: '1', last_used_at: expect.any(String) });
    const events = await em(t).execute(`SELECT type, details FROM audit_events WHERE type IN ('auth.login.succeeded', 'auth.passkey.login') AND actor_id = ? AND details->'amr' @> '["hwk"]' ORDER BY type`, [user.id]);
    expect(events).toEqual([
      { type: 'auth.login.succeeded', details: expect.objectContaining({ amr: ['hwk', 'user'], mode: 'bearer' }) },
      { type: 'auth.passkey.login', details: expect.objectContaining({ amr: ['hwk', 'user'], mode: 'bearer' }) },
    ]);

    // Cookie mode, exactly as the password login: the cookie and the CSRF body.
    const cookie = await passkeySignIn(t, await assertion(t, device), 'cookie');
    expect(cookie.statusCode).toBe(200);
    expect(Object.keys(cookie.json()).sort()).toEqual(['csrfToken', 'expiresIn']);
    expect(cookie.headers['set-cookie']).toMatch(/^__Host-sid=/);
  });

  it('removes a passkey (audited, mailed); it no longer signs in', async () => {
    const { user, token, device, id } = await withPasskey('Key');
    await sink.next(user.email, 'A passkey was added to your account');
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${encodeURIComponent(id)}`, headers: bearer(token) });
    expect(removed.statusCode).toBe(204);
    expect(await em(t).execute(`SELECT details FROM audit_events WHERE type = 'passkey.removed' AND actor_id = ?`, [user.id])).toEqual([{ details: { passkeyId: id, name: 'Key' } }]);
    expect((await sink.next(user.email, 'A passkey was removed from your account')).text).toContain('"Key" was removed');
    // Unknown credential: the authenticator still holds it, Bastion does not.
    expect((await passkeySignIn(t, await assertion(t, device))).statusCode).toBe(401);
    expect(await failures(null)).toContain('unknown_credential');
  });

  it("another user's passkey: 404 to rename and delete, not in my list, not registrable again, not a sign-in for someone else", async () => {
    const alice = await withPasskey('Alice key');
    const bob = await withPasskey('Bob key');
    const url = `/api/v1/auth/passkeys/${alice.id}`;
    expect((await t.app.inject({ method: 'PATCH', url, headers: bearer(bob.token), payload: { name: 'mine' } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url, headers: bearer(bob.token) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'PATCH', url: '/api/v1/auth/passkeys/nope', headers: bearer(bob.token), payload: { name: 'x' } })).statusCode).toBe(404);
    const nul = await t.app.inject({ method: 'DELETE', url: '/api/v1/auth/passkeys/%00', headers: bearer(bob.token) });
    expect(nul.statusCode).toBe(400);
    expect(nul.json().errors).toEqual([{ field: 'id', message: 'must be a base64url credential ID' }]);
    const bobs = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/passkeys', headers: bearer(bob.token) })).json();
    expect(bobs.map((p: { id: string }) => p.id)).toEqual([bob.id]);
    expect((await em(t).execute('SELECT name FROM passkey_credentials WHERE id = ?', [alice.id]))[0].name).toBe('Alice key');
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/registration/options', headers: bearer(alice.token) });
    expect(again.json().excludeCredentials).toEqual([expect.objectContaining({ id: alice.id })]);

    // A credential ID already stored (here: for Bob) cannot be registered by Alice too.
    const response = authenticator().createJSON(ORIGIN, again.json());
    await em(t).execute(`INSERT INTO passkey_credentials (id, user_id, public_key, device_type, backed_up, aaguid, name) VALUES (?, ?, '\\x00', 'singleDevice', false, '', 'taken')`, [response.id, bob.user.id]);
    const taken = await t.app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/registration/verify', headers: bearer(alice.token), payload: { name: 'dup', response } });
    expect(taken.statusCode).toBe(409);
    expect((await em(t).execute('SELECT user_id FROM passkey_credentials WHERE id = ?', [response.id]))[0].user_id).toBe(bob.user.id);

    // A passkey whose stored owner is not the user its authenticator names is refused at sign-in.
    await em(t).execute('UPDATE passkey_credentials SET user_id = ? WHERE id = ?', [bob.user.id, alice.id]);
    expect((await passkeySignIn(t, await assertion(t, alice.device))).statusCode).toBe(401);
    expect(await failures(bob.user.id)).toEqual(['user_mismatch']);
  });

  it('refuses a wrong origin, a replayed challenge and malformed input', async () => {
    const { user, device } = await withPasskey();
    const wrongOrigin = await passkeySignIn(t, await assertion(t, device, 'http://evil.localhost:3000'));
    expect(wrongOrigin.statusCode).toBe(401);

    const response = await assertion(t, device);
    expect((await passkeySignIn(t, response)).statusCode).toBe(200);
    const replay = await passkeySignIn(t, response);
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ status: 401, title: 'Invalid credentials' });
    expect(await failures(user.id)).toEqual(['invalid_response']);
    expect(await failures(null)).toContain('challenge');

    const malformed = await passkeySignIn(t, { id: 'x', response: { clientDataJSON: 'not-json' } });
    expect(malformed.statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/verify', payload: { response: 'string' } })).statusCode).toBe(400);
    // A hostile credential ID in an otherwise live response is refused, never a database error.
    const hostile = await assertion(t, device);
    expect((await passkeySignIn(t, { ...hostile, id: 'a\u0000b' })).statusCode).toBe(400);
    expect((await passkeySignIn(t, { ...(await assertion(t, device)), id: "x'; --" })).statusCode).toBe(401);
  });

  it('refuses a signature counter that went backwards (a cloned authenticator) and audits it', async () => {
    const { user, device, id } = await withPasskey();
    expect((await passkeySignIn(t, await assertion(t, device))).statusCode).toBe(200);
    await em(t).execute('UPDATE passkey_credentials SET counter = 100 WHERE id = ?', [id]);
    const res = await passkeySignIn(t, await assertion(t, device));
    expect(res.statusCode).toBe(401);
    const [event] = await em(t).execute(`SELECT details FROM audit_events WHERE type = 'auth.login.failed' AND actor_id = ? ORDER BY at DESC LIMIT 1`, [user.id]);
    expect(event.details).toMatchObject({ reason: 'counter_regression', passkeyId: id });
    expect((await em(t).execute('SELECT counter FROM passkey_credentials WHERE id = ?', [id]))[0].counter).toBe('100');
  });

  it('refuses a passwordless sign-in without user verification', async () => {
    const { user, device } = await withPasskey();
    const noPin = authenticator(device.repository, { verified: false });
    const res = await passkeySignIn(t, await assertion(t, noPin));
    expect(res.statusCode).toBe(401);
    expect(await failures(user.id)).toEqual(['invalid_response']);
    // The same passkey with verification still works: the refusal was the missing UV alone.
    expect((await passkeySignIn(t, await assertion(t, device))).statusCode).toBe(200);
  });

  it('a passkey sign-in (hwk + user) satisfies a requireMfa role that a password sign-in does not', async () => {
    const admin = await createUser(t, { roles: ['admin'] });
    const adminToken = (await loginTokens(t, admin)).accessToken;
    const role = await t.app.inject({ method: 'POST', url: '/api/v1/roles', headers: bearer(adminToken), payload: { name: 'passkey-auditor', permissions: [{ action: 'read', subject: 'AuditEvent' }], requireMfa: true } });
    expect(role.statusCode).toBe(201);
    const user = await createUser(t, { roles: ['viewer', 'passkey-auditor'] });
    const pwd = (await loginTokens(t, user)).accessToken;
    const device = authenticator();
    expect((await registerPasskey(t, pwd, device)).statusCode).toBe(201);

    const refused = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: bearer(pwd) });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().type).toBe('urn:bastion:problem:mfa-required');
    const passkey = (await passkeySignIn(t, await assertion(t, device))).json().accessToken;
    const allowed = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: bearer(passkey) });
    expect(allowed.statusCode).toBe(200);
  });

  it('refuses a disabled account with the same 401', async () => {
    const { user, device } = await withPasskey();
    await em(t).execute(`UPDATE users SET status = 'disabled' WHERE id = ?`, [user.id]);
    expect((await passkeySignIn(t, await assertion(t, device))).statusCode).toBe(401);
    expect(await failures(user.id)).toEqual(['account_unavailable']);
  });

  it('adding a passkey needs a signed-in caller whose sign-in is less than 5 minutes old', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/registration/options' })).statusCode).toBe(401);
    const user = await createUser(t);
    const pair = await loginTokens(t, user);
    // A refresh keeps the session's sign-in time: move it back, then take a fresh access token.
    await em(t).execute(`UPDATE sessions SET auth_time = auth_time - interval '10 minutes' WHERE user_id = ?`, [user.id]);
    const refreshed = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } });
    expect(refreshed.statusCode).toBe(200);
    const stale = await t.app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/registration/options', headers: bearer(refreshed.json().accessToken) });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().detail).toMatch(/less than 5 minutes/);
  });
});
