import { HttpException } from '@nestjs/common';
import { DOMAIN_ERRORS, DomainError } from './domain-error';
import { problem, ProblemType, type ProblemDetails } from './problem-details';

export interface ProblemResult {
  problem: ProblemDetails;
  headers?: Record<string, string>;
  /** Unexpected: log it (with the request id) but never send its message. */
  unexpected: boolean;
}

// PostgreSQL / driver codes meaning "the database is unreachable", not "your input is wrong".
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300']);
// "Transaction query already complete": knex's answer to the next statement of a transaction
// that a lost connection has already ended (the cluster suite kills connections mid-transaction).
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect|Knex: Timeout acquiring a connection|Transaction query already complete/i;

/** Maps anything thrown while handling a request to the one problem+json shape. */
export function toProblem(error: unknown, instance?: string): ProblemResult {
  const at = instance ? { instance } : {};
  if (error instanceof DomainError) {
    const spec = DOMAIN_ERRORS[error.code];
    return {
      problem: { type: spec.type, title: spec.title, status: spec.status, detail: error.detail, ...at, ...(error.errors ? { errors: error.errors } : {}) },
      headers: error.headers,
      unexpected: false,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    const message = typeof body === 'string' ? body : (body as { message?: unknown }).message;
    const detail = typeof message === 'string' ? message : error.message;
    const type = status === 429 ? ProblemType.rateLimited : ProblemType.blank;
    if (status >= 500) return { problem: problem(status, 'The service could not complete the request', { ...at, type }), unexpected: status === 500 };
    return { problem: problem(status, detail, { ...at, type }), unexpected: false };
  }
  // Fastify's own errors (bad JSON, body too large) reach here as HttpExceptions: Nest maps them.
  const err = error as { code?: unknown; message?: unknown; name?: unknown } | null;
  if (err && typeof err === 'object') {
    if (isUnavailable(err)) {
      return { problem: problem(503, 'A backing service is temporarily unavailable; retry shortly', at), headers: { 'retry-after': '1' }, unexpected: false };
    }
  }
  return { problem: problem(500, 'An unexpected error occurred', at), unexpected: true };
}

function isUnavailable(err: { code?: unknown; message?: unknown; name?: unknown }): boolean {
  if (typeof err.code === 'string' && UNAVAILABLE_CODES.has(err.code)) return true;
  if (err.name === 'ConnectionException') return true;
  return typeof err.message === 'string' && UNAVAILABLE_MESSAGES.test(err.message);
}
