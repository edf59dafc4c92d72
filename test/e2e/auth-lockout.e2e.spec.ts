import { type CreatedUser, createUser, em, login, uniqueEmail } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

const WRONG = 'definitely not the password';
type Response = Awaited<ReturnType<typeof login>>;

interface LockState {
  failed_login_count: number;
  lock_count: number;
  locked_until: Date | null;
  /** Seconds from the database's now() to locked_until (negative once expired). */
  remaining: number | null;
}

async function lockState(t: TestApp, userId: string): Promise<LockState> {
  const [row] = await em(t).execute<LockState[]>(
    `SELECT failed_login_count, lock_count, locked_until, EXTRACT(EPOCH FROM locked_until - now())::float AS remaining FROM users WHERE id = ?`,
    [userId],
  );
  return row;
}

/** Ends a lock as the passing of time would (the test does not wait 15 minutes). */
async function expireLock(t: TestApp, userId: string): Promise<void> {
  await em(t).execute(`UPDATE users SET locked_until = now() - interval '1 second' WHERE id = ?`, [userId]);
}

async function failTimes(t: TestApp, email: string, times: number): Promise<Response[]> {
  const responses: Response[] = [];
  for (let i = 0; i < times; i++) {
    const res = await login(t, email, WRONG);
    expect(res.statusCode).toBe(401);
    responses.push(res);
  }
  return responses;
}

function lockouts(t: TestApp, userId: string): Promise<{ outcome: string; target_type: string; details: { lockedUntil: string; consecutiveLocks: number } }[]> {
  return em(t).execute(`SELECT outcome, target_type, details FROM audit_events WHERE type = 'auth.lockout' AND target_id = ? ORDER BY at, id`, [userId]);
}

async function failureReasons(t: TestApp, userId: string): Promise<string[]> {
  const rows = await em(t).execute<{ reason: string }[]>(
    `SELECT details->>'reason' AS reason FROM audit_events WHERE type = 'auth.login.failed' AND target_id = ? ORDER BY at, id`,
    [userId],
  );
  return rows.map((r) => r.reason);
}

/** Expects a lock of about `seconds` from now (a few seconds of slack for the test's own run time). */
function expectLockedFor(state: LockState, seconds: number): void {
  expect(state.remaining).not.toBeNull();
  expect(state.remaining!).toBeGreaterThan(seconds - 10);
  expect(state.remaining!).toBeLessThanOrEqual(seconds + 1);
}

describe('account lockout (ASVS 6.1.1 / 6.3.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('ASVS 6.3.1: five consecutive failures lock the account for LOCKOUT_DURATION (900 s) and audit auth.lockout', async () => {
    const user = await createUser(t);
    await failTimes(t, user.email, 4);
    expect(await lockState(t, user.id)).toMatchObject({ failed_login_count: 4, lock_count: 0, locked_until: null });
    expect(await lockouts(t, user.id)).toHaveLength(0);

    await failTimes(t, user.email, 1);
    const state = await lockState(t, user.id);
    expect(state).toMatchObject({ failed_login_count: 0, lock_count: 1 });
    expectLockedFor(state, 900);

    const events = await lockouts(t, user.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'denied', target_type: 'User', details: { consecutiveLocks: 1 } });
    expect(events[0].details.lockedUntil).toBe(new Date(state.locked_until!).toISOString());
    expect(await failureReasons(t, user.id)).toEqual(Array(5).fill('wrong_password'));
  });

  it('ASVS 6.3.1 / 6.3.8: during the lock the right password gets the same 401 as a wrong one, and failures do not extend the lock', async () => {
    const user = await createUser(t);
    const [wrong] = await failTimes(t, user.email, 5);
    const locked = await lockState(t, user.id);

    const right = await login(t, user.email, user.password);
    expect(right.statusCode).toBe(401);
    expect(right.body).toBe(wrong.body);
    expect(right.headers['content-type']).toBe(wrong.headers['content-type']);
    await failTimes(t, user.email, 7);

    expect(await lockState(t, user.id)).toMatchObject({ failed_login_count: 0, lock_count: 1, locked_until: locked.locked_until });
    expect(await lockouts(t, user.id)).toHaveLength(1);
    expect((await failureReasons(t, user.id)).slice(5)).toEqual(Array(8).fill('locked'));
    const [sessions] = await em(t).execute('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [user.id]);
    expect(sessions.n).toBe(0);
  });

  it('ASVS 6.3.1: a success before the threshold resets the consecutive-failure counter', async () => {
    const user = await createUser(t);
    await failTimes(t, user.email, 4);
    expect((await login(t, user.email, user.password)).statusCode).toBe(200);
    expect(await lockState(t, user.id)).toMatchObject({ failed_login_count: 0, lock_count: 0, locked_until: null });

    await failTimes(t, user.email, 4);
    expect(await lockState(t, user.id)).toMatchObject({ failed_login_count: 4, locked_until: null });
    await failTimes(t, user.email, 1);
    expectLockedFor(await lockState(t, user.id), 900);
  });

  it('ASVS 6.1.1: repeated locks double (900 → 1800 → 3600 s) and stop at LOCKOUT_MAX_DURATION; a lock always ends by itself', async () => {
    const user = await createUser(t);
    const expected = [900, 1800, 3600, 3600];
    for (const [i, seconds] of expected.entries()) {
      // After a lock ends, the count starts again from zero: four failures do not re-lock.
      await failTimes(t, user.email, 4);
      const before = await lockState(t, user.id);
      expect(before.failed_login_count).toBe(4);
      expect(before.locked_until === null || before.remaining! < 0).toBe(true);
      await failTimes(t, user.email, 1);
      const state = await lockState(t, user.id);
      expect(state.lock_count).toBe(i + 1);
      expectLockedFor(state, seconds);
      await expireLock(t, user.id);
    }
    expect((await lockouts(t, user.id)).map((e) => e.details.consecutiveLocks)).toEqual([1, 2, 3, 4]);

    // The lock is over: the right password works and forgets the history, so the next lock is short again.
    expect((await login(t, user.email, user.password)).statusCode).toBe(200);
    expect(await lockState(t, user.id)).toMatchObject({ failed_login_count: 0, lock_count: 0, locked_until: null });
    await failTimes(t, user.email, 5);
    expectLockedFor(await lockState(t, user.id), 900);
  });

  it('ASVS 6.3.1: 20 parallel failures against one account count exactly: one lock, one auth.lockout event', async () => {
    const user = await createUser(t);
    const responses = await Promise.all(Array.from({ length: 20 }, () => login(t, user.email, WRONG)));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(401));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);

    const state = await lockState(t, user.id);
    expect(state).toMatchObject({ failed_login_count: 0, lock_count: 1 });
    expectLockedFor(state, 900);
    expect(await lockouts(t, user.id)).toHaveLength(1);
    expect(await failureReasons(t, user.id)).toHaveLength(20);
  });

  it('ASVS 6.3.1: parallel failures below the threshold are all counted (no lost updates)', async () => {
    const user = await createUser(t);
    const responses = await Promise.all(Array.from({ length: 4 }, () => login(t, user.email, WRONG)));
    expect(responses.map((r) => r.statusCode)).toEqual([401, 401, 401, 401]);
    expect(await lockState(t, user.id)).toMatchObject({ failed_login_count: 4, lock_count: 0, locked_until: null });
    await failTimes(t, user.email, 1);
    expectLockedFor(await lockState(t, user.id), 900);
  });

  it('ASVS 6.3.8: failures against unknown emails create no user rows and are audited, without revealing anything', async () => {
    const [{ n: usersBefore }] = await em(t).execute('SELECT count(*)::int AS n FROM users');
    const known = await createUser(t);
    const [reference] = await failTimes(t, known.email, 1);
    const email = uniqueEmail('stuffing');
    const responses = await failTimes(t, email, 7);
    for (const res of responses) expect(res.body).toBe(reference.body);

    const [{ n: usersAfter }] = await em(t).execute('SELECT count(*)::int AS n FROM users');
    expect(usersAfter).toBe(usersBefore + 1);
    const [{ n: withEmail }] = await em(t).execute('SELECT count(*)::int AS n FROM users WHERE email = ?', [email]);
    expect(withEmail).toBe(0);

    const failed: { reason: string; target_id: string | null }[] = await em(t).execute(
      `SELECT details->>'reason' AS reason, target_id FROM audit_events WHERE type = 'auth.login.failed' AND details->>'email' = ?`,
      [email],
    );
    expect(failed).toEqual(Array(7).fill({ reason: 'unknown_email', target_id: null }));
    // Tracked like an account: the fifth consecutive failure is a lockout event (targetType Email).
    const locks: { target_type: string; failures: number }[] = await em(t).execute(
      `SELECT target_type, (details->>'failures')::int AS failures FROM audit_events WHERE type = 'auth.lockout' AND details->>'email' = ?`,
      [email],
    );
    expect(locks).toEqual([{ target_type: 'Email', failures: 5 }]);
  });

  describe('a second instance on the same database (lock state lives in PostgreSQL)', () => {
    let other: TestApp;
    beforeAll(async () => {
      other = await createTestApp({ database: t.database });
    });
    afterAll(() => other.close());

    it('ASVS 6.3.1: failures spread over two instances in parallel lock once, and both instances refuse the right password', async () => {
      const user: CreatedUser = await createUser(t);
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(i % 2 ? other : t, user.email, WRONG)));
      expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(401));
      const state = await lockState(t, user.id);
      expect(state).toMatchObject({ failed_login_count: 0, lock_count: 1 });
      expectLockedFor(state, 900);
      expect(await lockouts(t, user.id)).toHaveLength(1);
      for (const instance of [t, other]) expect((await login(instance, user.email, user.password)).statusCode).toBe(401);
    });
  });

  describe('a lock that lands while a password is being checked', () => {
    let slow: TestApp;
    beforeAll(async () => {
      // A costly hash (~0.5–1 s even on a fast, idle machine) gives a wide, reliable window between
      // reading the account and the verdict.
      slow = await createTestApp({ database: t.database, env: { ARGON2_MEMORY_KIB: '262144', ARGON2_ITERATIONS: '8' } });
    });
    afterAll(() => slow.close());

    it('ASVS 6.3.1: the right password does not sign in once parallel failures (on any instance) have locked the account', async () => {
      const user = await createUser(slow);
      // Warm the route up, so that the account is read well within the first 100 ms below.
      expect((await login(slow, user.email, user.password)).statusCode).toBe(200);
      const inFlight = login(slow, user.email, user.password);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // What the fifth of a burst of failures does elsewhere, while this request is hashing.
      await em(slow).execute(`UPDATE users SET locked_until = now() + interval '15 minutes', lock_count = 1 WHERE id = ?`, [user.id]);

      const res = await inFlight;
      expect(res.statusCode).toBe(401);
      const [sessions] = await em(slow).execute('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [user.id]);
      expect(sessions.n).toBe(1);
      expect(await failureReasons(slow, user.id)).toEqual(['locked']);
      expect((await lockState(slow, user.id)).lock_count).toBe(1);
    });
  });

  describe('LOCKOUT_THRESHOLD=2, LOCKOUT_DURATION=60, LOCKOUT_MAX_DURATION=100', () => {
    let small: TestApp;
    beforeAll(async () => {
      small = await createTestApp({ database: t.database, env: { LOCKOUT_THRESHOLD: '2', LOCKOUT_DURATION: '60', LOCKOUT_MAX_DURATION: '100' } });
    });
    afterAll(() => small.close());

    it('ASVS 6.1.1: the configured threshold, duration and cap apply', async () => {
      const user = await createUser(small);
      await failTimes(small, user.email, 1);
      expect(await lockState(small, user.id)).toMatchObject({ failed_login_count: 1, locked_until: null });
      await failTimes(small, user.email, 1);
      expectLockedFor(await lockState(small, user.id), 60);
      expect((await login(small, user.email, user.password)).statusCode).toBe(401);

      await expireLock(small, user.id);
      await failTimes(small, user.email, 2);
      // Doubling would give 120 s; LOCKOUT_MAX_DURATION caps it at 100 s.
      const capped = await lockState(small, user.id);
      expect(capped.lock_count).toBe(2);
      expectLockedFor(capped, 100);
      expect((await lockouts(small, user.id)).map((e) => e.details.consecutiveLocks)).toEqual([1, 2]);

      await expireLock(small, user.id);
      expect((await login(small, user.email, user.password)).statusCode).toBe(200);
    });
  });
});
