import { em } from './auth-helpers';
import type { TestApp } from './test-app';

/**
 * The kinds of the mail requests (forgot-password, resend-verification) enqueued for `email`, once
 * the queue's worker has finished every one of them — so a test can then assert which mails the
 * worker did (not) enqueue. Waits on the jobs' state, not on a fixed time.
 */
export async function settledMailRequests(t: TestApp, email: string, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows: { kind: string; state: string }[] = await em(t).execute(
      `SELECT data->>'kind' AS kind, state FROM pgboss.job WHERE name = 'mail-request' AND data->>'email' = ?
       UNION ALL SELECT data->>'kind', state FROM pgboss.archive WHERE name = 'mail-request' AND data->>'email' = ?`,
      [email, email],
    );
    if (rows.length && rows.every((r) => r.state === 'completed')) return rows.map((r) => r.kind).sort();
    if (Date.now() > deadline) throw new Error(`mail requests for ${email} not settled: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
