import type { EntityManager } from '@mikro-orm/postgresql';
import { type AdapterPayload, lookupable, type OidcAdapter } from '../pg-adapter';
import { Client } from './client.entity';
import { clientMetadata } from './client-metadata';

/** The provider's `Client` model: read-only, from the clients the admin API manages. */
export class ClientStore implements OidcAdapter {
  constructor(private readonly em: EntityManager) {}

  async find(clientId: string): Promise<AdapterPayload | undefined> {
    if (!lookupable(clientId)) return undefined;
    const client = await this.em.fork().findOne(Client, { clientId });
    return client ? clientMetadata(client) : undefined;
  }

  // Clients change only through the admin API (no dynamic registration).
  async upsert(): Promise<void> {}
  async findByUid(): Promise<undefined> {}
  async findByUserCode(): Promise<undefined> {}
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}
