/** Names whose values are never written to a log line or an audit record. */
const SECRET_KEY = /password|passwd|token|secret|authorization|cookie|credential|api[-_]?key|hash|^(code|otp|recovery_?codes?|state)$/i;
const MAX_DEPTH = 6;

export const REDACTED = '[redacted]';

/**
 * The secret-named fields pino's `redact` removes from log objects: at the top level, and inside
 * the containers a request's secrets would come in (`{ body: { password } }`, `{ headers: { cookie } }`).
 * A path costs only when its first key is in the logged object; wildcard-first paths (`*.password`)
 * would walk every key of every line. Objects that can nest deeper — errors and audit details —
 * go through `redactSecrets` once, where they are logged or stored.
 */
const SECRET_FIELDS = [
  'password', 'newPassword', 'currentPassword', 'passwordHash', 'hash',
  'token', 'accessToken', 'refreshToken', 'idToken', 'csrfToken',
  'secret', 'clientSecret', 'totpSecret', 'authorization', 'cookie', '"set-cookie"', '"x-csrf-token"', 'credential', 'apiKey',
  'code', 'otp', 'recoveryCode', 'recoveryCodes', 'state',
];
const CONTAINERS = ['body', 'query', 'params', 'headers'];
export const REDACT_PATHS = SECRET_FIELDS.flatMap((field) => {
  const key = field.startsWith('"') ? `[${field}]` : `.${field}`;
  return [key.startsWith('.') ? field : key, ...CONTAINERS.map((container) => `${container}${key}`)];
});

/** A copy of `value` with every secret-named field replaced, at any depth (errors included). */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redactSecrets(inner, depth + 1);
  }
  return out as T;
}

/** A URL with the values of secret-looking query parameters (token=, code=, state=…) removed. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (SECRET_KEY.test(key)) params.set(key, REDACTED);
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}
