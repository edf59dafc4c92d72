import { bearer, createUser, loginTokens } from './auth-helpers';
import type { TestApp } from './test-app';

export const API_AUDIENCE = 'https://api.example.test';

export interface RegisteredClient {
  id: string;
  clientId: string;
  clientSecret: string;
  [field: string]: unknown;
}

/** An admin's bearer headers (the clients API needs `Client` permissions: built-in admin). */
export async function adminHeaders(t: TestApp): Promise<Record<string, string>> {
  const admin = await createUser(t, { roles: ['admin'] });
  return bearer((await loginTokens(t, admin)).accessToken);
}

export async function registerClient(t: TestApp, headers: Record<string, string>, body: Record<string, unknown>): Promise<RegisteredClient> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers, payload: { name: 'App', ...body } });
  if (res.statusCode !== 201) throw new Error(`client registration failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

export async function registerResourceServer(t: TestApp, headers: Record<string, string>, body: Record<string, unknown> = {}): Promise<{ id: string; audience: string }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/resource-servers', headers, payload: { name: 'Reports API', audience: API_AUDIENCE, scopes: ['reports:read', 'reports:write'], ...body } });
  if (res.statusCode !== 201) throw new Error(`resource server registration failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

export const basicAuth = (clientId: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

/** A client_credentials token request through the app (form body, client_secret_basic). */
export function clientCredentials(t: TestApp, clientId: string, secret: string, form: Record<string, string>) {
  return t.app.inject({
    method: 'POST',
    url: '/oidc/token',
    headers: { ...basicAuth(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
  });
}
