import type { LightMyRequestResponse } from 'fastify';
import * as client from 'openid-client';
import { login, type CreatedUser } from './auth-helpers';
import type { TestApp } from './test-app';

/** The issuer of the test apps (APP_URL http://localhost:3000). */
export const ISSUER = 'http://localhost:3000/oidc';

/**
 * openid-client's fetch, answered by the app in process (app.inject): the relying party talks HTTP
 * to the real routes, hooks and provider without a listening socket.
 */
export function injectFetch(t: TestApp): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const target = new URL(url);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const res = await t.app.inject({
      method: (init.method ?? 'GET') as 'GET',
      url: `${target.pathname}${target.search}`,
      headers: { ...headers, host: target.host },
      payload: init.body === undefined || init.body === null ? undefined : String(init.body),
    });
    const out = new Headers();
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    return new Response([204, 304].includes(res.statusCode) ? null : res.rawPayload, { status: res.statusCode, headers: out });
  };
}

/** A relying party configured from the issuer URL only (discovery), authenticating with client_secret_basic. */
export async function relyingParty(t: TestApp, clientId: string, clientSecret: string): Promise<client.Configuration> {
  const fetch = injectFetch(t);
  const config = await client.discovery(new URL(ISSUER), clientId, undefined, client.ClientSecretBasic(clientSecret), {
    execute: [client.allowInsecureRequests],
    [client.customFetch]: fetch,
  });
  config[client.customFetch] = fetch;
  return config;
}

/** A browser's cookies, by name (paths ignored: every request is to the one test origin). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  absorb(res: LightMyRequestResponse): void {
    const raw = res.headers['set-cookie'];
    for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      const [pair, ...attributes] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const expired = attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  without(...names: string[]): string {
    return [...this.cookies].filter(([n]) => !names.includes(n)).map(([n, v]) => `${n}=${v}`).join('; ');
  }

  header(): string {
    return this.without();
  }
}

export async function browserGet(t: TestApp, jar: CookieJar, url: string, options: { withoutSession?: boolean } = {}): Promise<LightMyRequestResponse> {
  const target = new URL(url, 'http://localhost:3000');
  const res = await t.app.inject({ method: 'GET', url: `${target.pathname}${target.search}`, headers: { host: target.host, cookie: options.withoutSession ? jar.without('__Host-sid') : jar.header() } });
  jar.absorb(res);
  return res;
}

export async function browserPost(t: TestApp, jar: CookieJar, url: string, form: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const res = await t.app.inject({
    method: 'POST',
    url,
    headers: { host: 'localhost:3000', cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  });
  jar.absorb(res);
  return res;
}

/** Signs in through the API in cookie mode: the jar gets `__Host-sid`, as the hosted pages would set it. */
export async function cookieSignIn(t: TestApp, jar: CookieJar, user: CreatedUser): Promise<void> {
  const res = await login(t, user.email, user.password, 'cookie');
  if (res.statusCode !== 200 || res.json().mfaRequired) throw new Error(`cookie sign-in did not finish: ${res.statusCode} ${res.body}`);
  jar.absorb(res);
}

export type Landing =
  | { kind: 'callback'; url: URL }
  | { kind: 'login'; location: string }
  | { kind: 'page'; res: LightMyRequestResponse; url: string };

/**
 * Follows redirects within Bastion like a browser, including the interaction's same-origin
 * continue page, until it leaves for the client (the callback), is sent to /login, or stops on a
 * page (consent, an error).
 */
export async function follow(t: TestApp, jar: CookieJar, start: string | URL): Promise<Landing> {
  let url = String(start);
  for (let hops = 0; hops < 10; hops++) {
    const res = await browserGet(t, jar, url);
    const location = res.headers.location as string | undefined;
    if (res.statusCode === 200 && /http-equiv="refresh"/.test(res.body)) {
      url = new URL(res.body.match(/content="0;url=([^"]+)"/)![1].replace(/&amp;/g, '&'), 'http://localhost:3000').toString();
      continue;
    }
    if (!location || res.statusCode < 300 || res.statusCode >= 400) return { kind: 'page', res, url };
    const next = new URL(location, 'http://localhost:3000');
    if (next.pathname === '/login') return { kind: 'login', location };
    if (next.origin !== 'http://localhost:3000') return { kind: 'callback', url: next };
    url = next.toString();
  }
  throw new Error('too many redirects');
}

export interface AuthorizationRequest {
  url: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
}

/** An authorization request with PKCE S256, state and nonce, as an internal app would build it. */
export async function authorizationRequest(config: client.Configuration, redirectUri: string, parameters: Record<string, string> = {}): Promise<AuthorizationRequest> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...parameters,
  });
  return { url, codeVerifier, state, nonce };
}

/** The code exchange with every check openid-client makes (state, nonce, PKCE, iss). */
export function exchange(config: client.Configuration, request: AuthorizationRequest, callback: URL) {
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true });
}
