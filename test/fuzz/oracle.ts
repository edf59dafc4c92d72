import { Client } from 'pg';

/** What a response must never be, whatever was sent: the contract's rules for bad input. */

export interface SeenResponse {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

const PROBLEM = /^application\/problem\+json\b/i;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Traces of internals: stack frames, source paths, driver/SQL errors, key material, hashes. */
const LEAKS: [string, RegExp][] = [
  ['stack frame', /\bat [\w$.<>[\] ]+ \(?[^\s()]+:\d+:\d+\)?/],
  ['source path', /(?:\/work\/|\/home\/|\/usr\/|\/opt\/|node_modules|[\w-]+\.(?:ts|js):\d+)/],
  // MikroORM quotes identifiers: `select "u0".* from "users"`, `update "users" set`.
  ['SQL statement', /\b(?:select\s[\s\S]{0,300}?\sfrom|insert\s+into|update|delete\s+from)\s+"\w+"/i],
  ['PostgreSQL error', /syntax error at or near|violates (?:not-null|foreign key|unique|check) constraint|duplicate key value|relation "[^"]+" does not exist|column "[^"]+" (?:of relation|does not exist)|invalid input syntax for type|value too long for type|out of range for type|invalid byte sequence|unsupported Unicode escape|SQLSTATE|date\/time field value out of range/i],
  ['driver error', /DriverException|QueryFailedError|ConstraintViolationException|ValidationError: |TypeError|RangeError|ReferenceError|SyntaxError: |MikroORM|knex|Cannot read propert/i],
  ['key material', /-----BEGIN|PRIVATE KEY/],
  ['password hash', /\$argon2(?:id|i|d)\$/],
];

export function leaksIn(text: string): string[] {
  return LEAKS.filter(([, re]) => re.test(text)).map(([name]) => name);
}

export interface CheckOptions {
  /** A protected route: its 401 must carry `WWW-Authenticate`. */
  protectedRoute?: boolean;
  /** The request id the caller sent, if any. */
  sentRequestId?: string;
}

/** Every violation of the error contract in one response (empty when it is fine). */
export function violationsOf(res: SeenResponse, options: CheckOptions = {}): string[] {
  const out: string[] = [];
  const status = res.statusCode;
  if (status >= 500) out.push(`status ${status}`);
  const requestId = res.headers['x-request-id'];
  if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) out.push('no valid X-Request-Id');
  else if (options.sentRequestId !== undefined && REQUEST_ID.test(options.sentRequestId) && requestId !== options.sentRequestId) out.push('X-Request-Id not echoed');
  if (status < 400) return out;
  const contentType = String(res.headers['content-type'] ?? '');
  if (!PROBLEM.test(contentType)) out.push(`error ${status} with content-type "${contentType}"`);
  let problem: Record<string, unknown> | undefined;
  try {
    problem = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    out.push(`error ${status} body is not JSON`);
  }
  if (problem) {
    if (typeof problem.type !== 'string' || typeof problem.title !== 'string' || typeof problem.detail !== 'string') out.push(`error ${status} lacks type/title/detail`);
    if (problem.status !== status) out.push(`problem.status ${String(problem.status)} ≠ ${status}`);
    if (status === 429 && problem.type !== 'urn:bastion:problem:rate-limited') out.push('429 without the rate-limited type');
    // `instance` echoes the request path (the caller's own bytes); everything else is ours.
    const { instance: _instance, ...ours } = problem;
    for (const leak of leaksIn(JSON.stringify(ours))) out.push(`leaks ${leak}`);
  }
  if (status === 401 && options.protectedRoute && !res.headers['www-authenticate']) out.push('401 without WWW-Authenticate');
  for (const header of ['x-powered-by', 'server']) if (res.headers[header]) out.push(`discloses ${header}`);
  return out;
}

/**
 * Tables that bad or unauthenticated input must leave alone, and why others are left out:
 * - audit_events: every refusal is audited (`auth.login.failed`, `access.denied`) — by design.
 * - mfa_challenges, oauth_states, oauth_exchange_codes, email_tokens: a public route may
 *   legitimately start a flow (forgot-password for a real address mails a link; Google start
 *   stores state) without authenticating anyone.
 * - users is counted, not summed: failed logins update its lockout counters and a signed-in
 *   viewer may rename itself.
 * - sessions and refresh_tokens: counted only while no one is signed in (phase "anonymous"): the
 *   signed-in phase ends sessions on purpose (logout) and signs in again.
 * Row *contents* are compared (md5 of the ordered rows) where no request of a phase may change
 * them: roles, user_roles, departments, documents, and the credentials tables.
 */
export const COUNTED_ALWAYS = ['users', 'roles', 'user_roles', 'departments', 'documents', 'totp_factors', 'recovery_codes', 'external_identities'];
export const SUMMED_ALWAYS = ['roles', 'user_roles', 'departments', 'documents', 'totp_factors', 'recovery_codes', 'external_identities'];
export const ANONYMOUS_ONLY = ['sessions', 'refresh_tokens'];

export async function snapshot(databaseUrl: string, tables: { counted: string[]; summed: string[] }): Promise<Record<string, string>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const out: Record<string, string> = {};
    for (const table of tables.counted) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
      out[`${table} rows`] = rows[0].n;
    }
    for (const table of tables.summed) {
      const { rows } = await client.query<{ sum: string | null }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS sum FROM "${table}" t`);
      out[`${table} md5`] = rows[0].sum ?? 'empty';
    }
    return out;
  } finally {
    await client.end();
  }
}

/** What must never change about an account that only strangers touch: address, state, password. */
export async function accountFingerprint(databaseUrl: string, userId: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ sum: string }>(`SELECT md5(email || status || email_verified || coalesce(password_hash, '')) AS sum FROM users WHERE id = $1`, [userId]);
    return rows[0].sum;
  } finally {
    await client.end();
  }
}
