// A minimal internal web app that signs its users in through Bastion (OpenID Connect, code flow
// with PKCE). Node 20+, one dependency: `npm i openid-client`. Run:
//   BASTION_ISSUER=https://bastion.example.com/oidc CLIENT_ID=… CLIENT_SECRET=… \
//   APP_URL=http://localhost:4000 node server.mjs
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';

const { BASTION_ISSUER, CLIENT_ID, CLIENT_SECRET, APP_URL = 'http://localhost:4000' } = process.env;
const PORT = Number(new URL(APP_URL).port || 80);
const CALLBACK = `${APP_URL}/callback`;

// Discovery: the issuer URL is the only Bastion setting the app needs.
const config = await oidc.discovery(new URL(BASTION_ISSUER), CLIENT_ID, undefined, oidc.ClientSecretBasic(CLIENT_SECRET), {
  // Only for a Bastion on http://localhost during development.
  execute: BASTION_ISSUER.startsWith('http://') ? [oidc.allowInsecureRequests] : [],
});

// The app's own sessions, in memory for the example (use a real session store in production).
const sessions = new Map();

function sessionOf(req) {
  const id = /(?:^|;\s*)app_sid=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
  return id ? { id, data: sessions.get(id) ?? {} } : { id: undefined, data: {} };
}

function startSession(res, data) {
  const id = randomBytes(32).toString('base64url');
  sessions.set(id, data);
  res.setHeader('set-cookie', `app_sid=${id}; Path=/; HttpOnly; SameSite=Lax${APP_URL.startsWith('https') ? '; Secure' : ''}`);
  return id;
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

createServer(async (req, res) => {
  const url = new URL(req.url, APP_URL);
  const session = sessionOf(req);
  try {
    if (url.pathname === '/login') {
      const pkce = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      startSession(res, { pkce, state, nonce });
      const to = oidc.buildAuthorizationUrl(config, {
        redirect_uri: CALLBACK,
        scope: 'openid email profile roles',
        code_challenge: await oidc.calculatePKCECodeChallenge(pkce),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      res.writeHead(302, { location: to.href }).end();
      return;
    }
    if (url.pathname === '/callback') {
      const { pkce, state, nonce } = session.data;
      const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: pkce, expectedState: state, expectedNonce: nonce });
      sessions.delete(session.id);
      startSession(res, { user: tokens.claims(), idToken: tokens.id_token });
      res.writeHead(302, { location: '/' }).end();
      return;
    }
    if (url.pathname === '/logout' && session.data.idToken) {
      sessions.delete(session.id);
      const to = oidc.buildEndSessionUrl(config, { id_token_hint: session.data.idToken, post_logout_redirect_uri: `${APP_URL}/` });
      res.writeHead(302, { location: to.href }).end();
      return;
    }
    const user = session.data.user;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      user
        ? `<p>Signed in as ${escape(user.name)} (${escape(user.email)}), roles ${escape((user.roles ?? []).join(', '))}, amr ${escape(user.amr?.join('+'))}.</p><p><a href="/logout">Sign out</a></p>`
        : '<p><a href="/login">Sign in with Bastion</a></p>',
    );
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`Sign-in failed: ${err.error ?? err.message}`);
  }
}).listen(PORT, () => console.log(`listening on ${APP_URL}`));
