import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), i.e. where the mail was actually delivered. */
  to: string[];
  /** The address of the From header (MAIL_FROM without its display name). */
  from: string;
  subject: string;
  text: string;
  html?: string;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:PORT, ready for SMTP_URL. */
  url: string;
  messages: ReceivedMail[];
  /** RCPT TO attempts the sink refused (see rejectNextRecipients). */
  rejected: string[];
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** The next mail with this subject to this address that no earlier next() returned (then it is taken). */
  next(to: string, subject: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Answers the next `count` RCPT TO commands with a transient 451, as a relay under load does. */
  rejectNextRecipients(count: number): void;
  /** Holds every message's DATA phase open until the returned function is called. */
  hold(): () => void;
  /** Messages whose DATA arrived while held and is not answered yet. */
  held(): number;
  clear(): void;
  close(): Promise<void>;
}

/** A real SMTP server in the test process: what the mail worker sends arrives here, parsed. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const rejected: string[] = [];
  const waiters = new Set<() => void>();
  const taken = new Set<ReceivedMail>();
  let toReject = 0;
  let gate: Promise<void> | undefined;
  let heldCount = 0;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (toReject > 0) {
        toReject -= 1;
        rejected.push(address.address);
        return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (parsed) => {
          if (gate) {
            heldCount += 1;
            await gate;
            heldCount -= 1;
          }
          messages.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            from: parsed.from?.value[0]?.address ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: parsed.html || undefined,
          });
          for (const wake of waiters) wake();
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  const sink: SmtpSink = {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    rejected,
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (!found) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching mail within ${timeoutMs} ms (received: ${messages.map((m) => m.subject).join(', ') || 'none'})`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async next(to, subject, timeoutMs) {
      const mail = await sink.waitFor((m) => m.to.includes(to) && m.subject === subject && !taken.has(m), timeoutMs);
      taken.add(mail);
      return mail;
    },
    rejectNextRecipients(count) {
      toReject = count;
    },
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    held: () => heldCount,
    clear() {
      messages.length = 0;
      taken.clear();
      rejected.length = 0;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return sink;
}

/** The `token` query parameter of the first link in the mail's text whose path ends with `path`. */
export function extractToken(mail: ReceivedMail, path: string): string {
  for (const match of mail.text.matchAll(/https?:\/\/\S+/g)) {
    const url = new URL(match[0]);
    const token = url.searchParams.get('token');
    if (url.pathname.endsWith(path) && token) return token;
  }
  throw new Error(`no ${path} link with a token in mail "${mail.subject}"`);
}
