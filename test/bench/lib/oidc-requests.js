'use strict';
// The OpenID Connect scenarios: client_credentials token issuance, and a full authorization-code
// round trip for a browser that is already signed in to Bastion (authorize → interaction → resume →
// token).
const { Buffer } = require('node:buffer');
const { createHash, randomBytes } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { URL, URLSearchParams } = require('node:url');
const { summarize } = require('./load');

const CALLBACK = 'https://bench-app.example.com/callback';
const AUDIENCE = 'https://bench-api.example.com';
const VERIFIER = randomBytes(32).toString('base64url');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

async function post(baseUrl, path, token, body) {
  const res = await globalThis.fetch(`${baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Registers an API, a service client and a first-party web client; signs a user in (cookie mode). */
async function setupOidc(baseUrl, adminToken, user) {
  await post(baseUrl, '/api/v1/resource-servers', adminToken, { name: 'Bench API', audience: AUDIENCE, scopes: ['bench:read'] });
  const service = await post(baseUrl, '/api/v1/clients', adminToken, { name: 'Bench service', grantTypes: ['client_credentials'], scopes: ['bench:read'], resources: [AUDIENCE] });
  const web = await post(baseUrl, '/api/v1/clients', adminToken, { name: 'Bench web app', redirectUris: [CALLBACK], firstParty: true, grantTypes: ['authorization_code'] });
  const res = await globalThis.fetch(`${baseUrl}/api/v1/auth/login?mode=cookie`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  const sid = res.headers.getSetCookie().find((c) => c.startsWith('__Host-sid='));
  if (!sid) throw new Error(`cookie sign-in failed: ${res.status}`);
  const basic = (c) => `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;
  return { service: { authorization: basic(service) }, web: { clientId: web.clientId, authorization: basic(web) }, sessionCookie: sid.split(';')[0] };
}

/** One fixed token request: client_credentials for the bench API. */
function clientCredentialsRequest(setup) {
  return {
    path: '/oidc/token',
    method: 'POST',
    headers: { authorization: setup.service.authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: AUDIENCE, scope: 'bench:read' }).toString(),
  };
}

/**
 * Round trips of a browser already signed in to Bastion, `connections` at a time for `seconds`:
 * authorize → interaction (the session check) → resume → code exchange at the token endpoint. Each
 * round trip is timed as a whole. (autocannon cannot carry a redirect's Location and cookies from
 * one request to the next, so this is a plain fetch loop.)
 */
async function authorizationCodeRoundTrips({ baseUrl, setup, seconds, connections }) {
  const query = new URLSearchParams({ client_id: setup.web.clientId, response_type: 'code', redirect_uri: CALLBACK, scope: 'openid', code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 'bench' });
  const times = [];
  const statuses = {};
  let failures = 0;
  const get = async (url, cookies) => {
    const res = await globalThis.fetch(new URL(url, baseUrl), { redirect: 'manual', headers: { cookie: [setup.sessionCookie, ...cookies].join('; ') } });
    await res.arrayBuffer();
    cookies.push(...res.headers.getSetCookie().map((c) => c.split(';')[0]));
    return res;
  };
  const once = async () => {
    const cookies = [];
    let res = await get(`/oidc/auth?${query}`, cookies);
    for (let hop = 0; hop < 2 && res.status === 303; hop++) res = await get(res.headers.get('location'), cookies);
    const code = res.status === 303 ? new URL(res.headers.get('location')).searchParams.get('code') : null;
    if (!code) return res.status;
    const token = await globalThis.fetch(`${baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { authorization: setup.web.authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: VERIFIER }).toString(),
    });
    await token.arrayBuffer();
    return token.status;
  };
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const status = await once().catch(() => 'error');
        statuses[status] = (statuses[status] || 0) + 1;
        if (status === 200) times.push(performance.now() - t0);
        else failures++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { connections, seconds: Math.round(elapsed * 100) / 100, requests: times.length + failures, rps: Math.round((times.length / elapsed) * 10) / 10, ...summarize(times), statuses, non2xx: failures, socketErrors: 0 };
}

module.exports = { authorizationCodeRoundTrips, clientCredentialsRequest, setupOidc };
