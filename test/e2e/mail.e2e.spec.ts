import { Client } from 'pg';
import { LogMailTransport, MailTransport } from '../../src/mail/mail-transport';
import { MailModule } from '../../src/mail/mail.module';
import { MailService } from '../../src/mail/mail.service';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';

/** Polls a condition that no event announces (the sink's held DATA, a job's state, a spied call). */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The queue's own record of each mail job: proves "exactly once" without waiting for a duplicate. */
async function mailJobs(t: TestApp): Promise<Map<string, { state: string; retries: number }>> {
  const client = new Client({ connectionString: t.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ to: string; state: string; retries: number }>(
      `SELECT data->>'to' AS to, state, retry_count AS retries FROM pgboss.job WHERE name = 'mail'`,
    );
    return new Map(rows.map((r) => [r.to, { state: r.state, retries: r.retries }]));
  } finally {
    await client.end();
  }
}

describe('Mail over SMTP, off the request path', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let mail: MailService;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ imports: [MailModule], env: { SMTP_URL: sink.url, MAIL_FROM: 'Bastion <no-reply@bastion.test>' } });
    mail = t.app.get(MailService);
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });
  beforeEach(() => sink.clear());

  it('delivers a verification mail with a token link under APP_URL', async () => {
    await mail.sendVerification('ada@example.com', 'verify-token-1');
    const received = await sink.waitFor((m) => m.to.includes('ada@example.com'));
    expect(received.subject).toBe('Verify your email address');
    expect(received.from).toBe('no-reply@bastion.test');
    expect(received.to).toEqual(['ada@example.com']);
    expect(received.text).toContain('http://localhost:3000/verify-email?token=verify-token-1');
    expect(received.html).toContain('href="http://localhost:3000/verify-email?token=verify-token-1"');
    expect(extractToken(received, '/verify-email')).toBe('verify-token-1');
  });

  it('resolves the enqueue while the SMTP delivery is still in progress', async () => {
    const release = sink.hold();
    try {
      await mail.sendPasswordReset('grace@example.com', 'reset-token-2');
      // The enqueue has returned; the worker is now blocked inside the SMTP transaction.
      expect(sink.messages).toHaveLength(0);
      await until(() => sink.held() === 1);
      expect(sink.messages).toHaveLength(0);
    } finally {
      release();
    }
    const received = await sink.waitFor((m) => m.to.includes('grace@example.com'));
    expect(received.subject).toBe('Reset your password');
    expect(extractToken(received, '/reset-password')).toBe('reset-token-2');
  });

  it('retries the one refused mail of a batch, and sends the others exactly once', async () => {
    const release = sink.hold();
    await mail.sendAccountExists('first@example.com');
    // While the worker is blocked on this mail, the next three queue up and are fetched as one batch.
    await until(() => sink.held() === 1);
    const batch = ['b1@example.com', 'b2@example.com', 'b3@example.com'];
    for (const to of batch) await mail.sendAccountExists(to);
    sink.rejectNextRecipients(1);
    release();

    await until(() => sink.messages.length === 4, 15_000);
    expect(sink.rejected).toHaveLength(1);
    const refused = sink.rejected[0];
    expect(batch).toContain(refused);
    expect(sink.messages.flatMap((m) => m.to).sort()).toEqual(['first@example.com', ...batch].sort());
    const received = sink.messages.find((m) => m.to.includes(refused))!;
    expect(received.subject).toBe('You already have an account');
    expect(received.text).not.toContain('token=');
    await until(async () => [...(await mailJobs(t)).values()].every((job) => job.state === 'completed'));
    const jobs = await mailJobs(t);
    for (const to of batch) expect(jobs.get(to)).toEqual({ state: 'completed', retries: to === refused ? 1 : 0 });
  });

  it('delivers a burst of mails, each exactly once', async () => {
    const recipients = Array.from({ length: 8 }, (_, i) => `user${i}@example.com`);
    await Promise.all(recipients.map((to) => mail.sendPasswordReset(to, `burst-${to}`)));
    await until(() => sink.messages.length >= recipients.length);
    expect(sink.messages.flatMap((m) => m.to).sort()).toEqual([...recipients].sort());
    for (const received of sink.messages) expect(extractToken(received, '/reset-password')).toBe(`burst-${received.to[0]}`);
    await until(async () => {
      const jobs = await mailJobs(t);
      return recipients.every((to) => jobs.get(to)?.state === 'completed');
    });
    const jobs = await mailJobs(t);
    expect(recipients.map((to) => jobs.get(to)?.retries)).toEqual(recipients.map(() => 0));
  });

  it('refuses to enqueue a mail without a recipient address', async () => {
    await expect(mail.enqueue({ to: 'not-an-address', subject: 's', text: 't' })).rejects.toThrow('not an address');
  });
});

describe('Mail without SMTP_URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ imports: [MailModule] });
  });
  afterAll(() => t?.close());

  it('hands queued mails to the log transport, which does not throw', async () => {
    const transport = t.app.get(MailTransport);
    expect(transport).toBeInstanceOf(LogMailTransport);
    const deliver = jest.spyOn(transport, 'deliver');
    await t.app.get(MailService).sendVerification('margaret@example.com', 'log-token-4');
    await until(() => deliver.mock.calls.length === 1);
    expect(deliver.mock.calls[0][0]).toMatchObject({ to: 'margaret@example.com', subject: 'Verify your email address' });
    await expect(deliver.mock.results[0].value).resolves.toBeUndefined();
  });
});
