import { DriverException } from '@mikro-orm/core';
import { toProblem } from './to-problem';

describe('toProblem: a backing service that is down is a 503 with Retry-After, anything else unexpected a 500', () => {
  const driverError = (message: string, code?: string) => new DriverException(Object.assign(new Error(message), code ? { code } : {}));

  it.each([
    ['a connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a backend terminated by an administrator (57P01)', driverError('terminating connection due to administrator command', '57P01')],
    ['a connection that ended mid-query', driverError('Connection terminated unexpectedly')],
    ['the next statement of a transaction whose connection died', driverError('Transaction query already complete, run with DEBUG=knex:tx for more info')],
    ['no pool connection in time', driverError('Knex: Timeout acquiring a connection. The pool is probably full.')],
  ])('%s → 503', (_, error) => {
    const result = toProblem(error, '/api/v1/auth/refresh');
    expect(result.problem).toMatchObject({ status: 503, instance: '/api/v1/auth/refresh' });
    expect(result.headers).toEqual({ 'retry-after': '1' });
    expect(result.unexpected).toBe(false);
    // The driver's message (SQL, addresses) never reaches the client.
    expect(JSON.stringify(result.problem)).not.toMatch(/knex|ECONNREFUSED|administrator|5432/i);
  });

  it.each([
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a constraint the code did not expect', driverError('duplicate key value violates unique constraint "users_email_unique"', '23505')],
  ])('%s → 500, logged as unexpected, message not sent', (_, error) => {
    const result = toProblem(error);
    expect(result.problem).toMatchObject({ status: 500, detail: 'An unexpected error occurred' });
    expect(result.unexpected).toBe(true);
  });
});
