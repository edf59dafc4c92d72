import type { LightMyRequestResponse } from 'fastify';

/**
 * The one set of RFC 9457 problem+json assertions for the e2e specs (API.md "Errors"): every
 * refusal is a problem with the right status, content type and `type`, a title and a detail,
 * and nothing internal in it.
 */

export const PROBLEM_JSON = /^application\/problem\+json/;
export const VALIDATION_PROBLEM = 'urn:bastion:problem:validation';

/**
 * What a problem body must never show: stack frames, SQL, the test secrets. `DELETE /` is not SQL
 * but the detail of an unrouted request ("Cannot DELETE /api/v1/audit-events").
 */
const LEAK = /stack|at \w+ \(|\bat .+\.(ts|js):\d+|SELECT|INSERT|UPDATE |DELETE (?!\/)|bastion-test-secret/;

/**
 * `res` is a problem: `status` (the body is in the failure message), application/problem+json,
 * a body `{ type, status, title, detail }` with `title` and `detail` strings, no stack trace,
 * SQL or secret in it, and no Location header. Returns the parsed body.
 */
export function expectProblem(res: LightMyRequestResponse, status: number, type = 'about:blank'): Record<string, unknown> {
  expect({ status: res.statusCode, body: res.body }).toMatchObject({ status });
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ type, status, title: expect.any(String), detail: expect.any(String) });
  expect(res.body).not.toMatch(LEAK);
  expect(res.headers.location).toBeUndefined();
  return body;
}

/**
 * `res` is a 400 validation problem (everything `expectProblem` checks, with `type`
 * urn:bastion:problem:validation) with an `errors` array; given a `field`, one of its entries is
 * exactly `{ field, message }` with a string message. Returns the parsed body.
 */
export function expectValidation(res: LightMyRequestResponse, field?: string): Record<string, unknown> {
  const body = expectProblem(res, 400, VALIDATION_PROBLEM);
  expect(body.errors).toEqual(expect.any(Array));
  if (field !== undefined) expect(body.errors).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
  return body;
}

/**
 * `res` is the 400 of a wrong current password or code on a signed-in route
 * (urn:bastion:problem:invalid-password / invalid-code — never a 401, which a front end reads as
 * "session gone"), naming the body's `field`. Returns the parsed body.
 */
export function expectWrongCredential(res: LightMyRequestResponse, kind: 'password' | 'code', field: string): Record<string, unknown> {
  const body = expectProblem(res, 400, `urn:bastion:problem:invalid-${kind}`);
  expect(body.errors).toEqual([{ field, message: expect.any(String) }]);
  return body;
}
