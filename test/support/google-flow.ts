import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LightMyRequestResponse } from 'fastify';
import { createHash } from 'node:crypto';
import type { GoogleIdp, IdpClaims } from './google-idp';
import type { TestApp } from './test-app';

export const GOOGLE_START = '/api/v1/auth/google';
export const GOOGLE_CALLBACK = '/api/v1/auth/google/callback';
export const OAUTH_EXCHANGE = '/api/v1/auth/oauth/exchange';

/** What `GET /auth/google` handed the browser. */
export interface StartedFlow {
  res: LightMyRequestResponse;
  location: URL;
  state: string;
  challenge: string;
  /** `bastion_oauth=<value>`, as the browser sends it back. */
  cookie: string;
  /** The full Set-Cookie header of the binding cookie (attributes included). */
  setCookie: string;
}

export const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

function setCookies(res: LightMyRequestResponse): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
}

export function setCookieNamed(res: LightMyRequestResponse, name: string): string | undefined {
  return setCookies(res).find((c) => c.startsWith(`${name}=`));
}

export async function startFlow(app: NestFastifyApplication, query = ''): Promise<StartedFlow> {
  const res = await app.inject({ method: 'GET', url: `${GOOGLE_START}${query}` });
  if (res.statusCode !== 302) throw new Error(`start answered ${res.statusCode}: ${res.body}`);
  const location = new URL(res.headers.location as string);
  const setCookie = setCookieNamed(res, 'bastion_oauth');
  if (!setCookie) throw new Error('start set no bastion_oauth cookie');
  return {
    res,
    location,
    state: location.searchParams.get('state')!,
    challenge: location.searchParams.get('code_challenge')!,
    cookie: setCookie.split(';')[0],
    setCookie,
  };
}

/** The browser at the identity provider: its /authorize answers a redirect to our callback with code + state. */
export async function authorize(flow: StartedFlow): Promise<URL> {
  const res = await fetch(flow.location, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}`);
  return new URL(res.headers.get('location')!);
}

export function callback(app: NestFastifyApplication, search: string, cookie?: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: `${GOOGLE_CALLBACK}${search}`, headers: cookie ? { cookie } : {} });
}

/**
 * One whole browser round trip: start on `start`, Google says `claims`, the callback lands on
 * `finish` (another instance, if given) with the browser's cookie.
 */
export async function signInWithGoogle(
  idp: GoogleIdp,
  start: TestApp,
  claims: IdpClaims,
  options: { finish?: TestApp; extraQuery?: string } = {},
): Promise<{ flow: StartedFlow; back: URL; res: LightMyRequestResponse }> {
  const flow = await startFlow(start.app);
  const back = await authorize(flow);
  idp.claims = claims;
  const res = await callback((options.finish ?? start).app, `${back.search}${options.extraQuery ?? ''}`, flow.cookie);
  return { flow, back, res };
}
