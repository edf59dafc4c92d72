import { connect } from 'node:net';
import type { SeenResponse } from './oracle';

export interface RawExchange {
  /** Every response read from the connection, in order (pipelined requests give several). */
  responses: SeenResponse[];
  /** Bytes after the last complete response (a response that is not HTTP at all). */
  trailing: string;
}

/** Splits what a server wrote on one connection into HTTP/1.1 responses. */
export function parseResponses(raw: Buffer): RawExchange {
  const responses: SeenResponse[] = [];
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (!rest.subarray(0, 5).equals(Buffer.from('HTTP/')) || end < 0) break;
    const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = rest.subarray(end + 4, end + 4 + length);
    responses.push({ statusCode: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') });
    rest = rest.subarray(end + 4 + length);
  }
  return { responses, trailing: rest.toString('latin1') };
}

/**
 * Writes `payload` on a fresh connection and collects what comes back, until the server closes,
 * or a response is complete and nothing more arrives for `idleMs`, or `timeoutMs` (a server
 * still waiting for a promised body must not hang the test). The client never half-closes: Node
 * aborts a request whose client sent FIN before the answer was ready.
 */
export function rawExchange(url: string, payload: Buffer | string, timeoutMs = 3000, idleMs = 100): Promise<RawExchange & { timedOut: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let timedOut = false;
    let idle: NodeJS.Timeout | undefined;
    const socket = connect(Number(port), hostname, () => socket.write(payload));
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      clearTimeout(idle);
      if (parseResponses(Buffer.concat(chunks)).responses.length) idle = setTimeout(() => socket.destroy(), idleMs);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(idle);
      resolve({ ...parseResponses(Buffer.concat(chunks)), timedOut });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The server may reset a connection it refused (after answering): what was read counts.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
      clearTimeout(timer);
      reject(err);
    });
  });
}
