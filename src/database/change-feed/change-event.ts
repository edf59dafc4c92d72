/** What instances tell each other through PostgreSQL NOTIFY. */
export type ChangeEvent =
  | { type: 'sessions.revoked'; sessionIds: string[] }
  | { type: 'session.rotated'; sessionId: string }
  | { type: 'user.changed'; userId: string }
  | { type: 'policies.changed' };

export const CHANGE_CHANNEL = 'bastion_changes';

/** NOTIFY payloads are limited to 8000 bytes: long id lists are split. */
export function chunkEvent(event: ChangeEvent, size = 100): ChangeEvent[] {
  if (event.type !== 'sessions.revoked' || event.sessionIds.length <= size) return [event];
  const chunks: ChangeEvent[] = [];
  for (let i = 0; i < event.sessionIds.length; i += size) {
    chunks.push({ type: 'sessions.revoked', sessionIds: event.sessionIds.slice(i, i + size) });
  }
  return chunks;
}
