import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { createUser, em } from '../support/auth-helpers';
import { adminHeaders, registerClient, type RegisteredClient } from '../support/oidc-helpers';
import { authorizationRequest, browserGet, browserPost, CookieJar, cookieSignIn, exchange, follow, ISSUER, relyingParty } from '../support/oidc-rp';
import { createTestApp, type TestApp } from '../support/test-app';

const CALLBACK = 'https://wiki.example.test/callback';
const AFTER_LOGOUT = 'https://wiki.example.test/signed-out';

/** A relying party's back-channel logout endpoint: resolves with the first logout token it receives. */
function backchannelReceiver(): { server: Server; received: Promise<string> } {
  let resolve!: (token: string) => void;
  const received = new Promise<string>((r) => (resolve = r));
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      resolve(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  });
  return { server, received };
}

describe('OIDC logout: RP-initiated (ends the Bastion session too) and back-channel', () => {
  let t: TestApp;
  let wiki: RegisteredClient;
  let rp: client.Configuration;
  let receiver: ReturnType<typeof backchannelReceiver>;
  beforeAll(async () => {
    receiver = backchannelReceiver();
    await new Promise<void>((r) => receiver.server.listen(0, '127.0.0.1', r));
    const port = (receiver.server.address() as AddressInfo).port;
    t = await createTestApp({ env: { OIDC_BACKCHANNEL_ALLOWED_HOSTS: '127.0.0.1' } });
    const admin = await adminHeaders(t);
    wiki = await registerClient(t, admin, {
      redirectUris: [CALLBACK],
      postLogoutRedirectUris: [AFTER_LOGOUT],
      firstParty: true,
      backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout`,
    });
    rp = await relyingParty(t, wiki.clientId, wiki.clientSecret);
  });
  afterAll(async () => {
    await t.close();
    receiver.server.close();
  });

  it('the confirmed logout redirects to the registered post-logout URI with state, ends the Bastion session and the refresh tokens, and notifies the client on its back channel', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    const request = await authorizationRequest(rp, CALLBACK);
    const landing = await follow(t, jar, request.url);
    const tokens = await exchange(rp, request, (landing as { url: URL }).url);
    const sid = tokens.claims()!.sid;
    expect(sid).toEqual(expect.any(String));

    const endUrl = client.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: AFTER_LOGOUT, state: 'bye' });
    const page = await browserGet(t, jar, `${endUrl.pathname}${endUrl.search}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toMatch(/<script/i);
    expect(String(page.headers['content-security-policy'])).toMatch(/form-action 'self' https:\/\/wiki\.example\.test(;|$)/);
    const xsrf = page.body.match(/name="xsrf" value="([^"]+)"/)![1];
    const confirm = await browserPost(t, jar, '/oidc/session/end/confirm', { xsrf, logout: 'yes' });
    expect(confirm.statusCode).toBe(303);
    expect(confirm.headers.location).toBe(`${AFTER_LOGOUT}?state=bye`);
    expect(String(confirm.headers['set-cookie'])).toMatch(/__Host-sid=;/);

    const logoutToken = decodeJwt(await receiver.received);
    expect(logoutToken).toMatchObject({ iss: ISSUER, aud: wiki.clientId, sub: user.id, sid });
    expect(logoutToken.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });

    const sessions = await em(t).execute(`SELECT revoked_reason FROM sessions WHERE user_id = ?`, [user.id]);
    expect(sessions).toEqual([{ revoked_reason: 'oidc_logout' }]);
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The browser is signed out of Bastion too: the next authorization asks for a sign-in.
    const again = await authorizationRequest(rp, CALLBACK);
    expect((await follow(t, jar, again.url)).kind).toBe('login');
  });

  it('"Stay signed in" keeps the Bastion session', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    const request = await authorizationRequest(rp, CALLBACK);
    const tokens = await exchange(rp, request, ((await follow(t, jar, request.url)) as { url: URL }).url);
    const endUrl = client.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! });
    const page = await browserGet(t, jar, `${endUrl.pathname}${endUrl.search}`);
    const xsrf = page.body.match(/name="xsrf" value="([^"]+)"/)![1];
    expect((await browserPost(t, jar, '/oidc/session/end/confirm', { xsrf })).statusCode).toBe(303);
    const sessions = await em(t).execute(`SELECT revoked_at FROM sessions WHERE user_id = ?`, [user.id]);
    expect(sessions).toEqual([{ revoked_at: null }]);
  });
});
