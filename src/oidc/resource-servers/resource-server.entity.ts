import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

/** An API that accepts Bastion's OIDC access tokens: its audience and the scopes it understands. */
@Entity({ tableName: 'resource_servers' })
export class ResourceServer {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'accessTokenTtl';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 100 })
  name!: string;

  /** The resource indicator (RFC 8707) and the `aud` of its tokens: an absolute URI. */
  @Property({ type: 'string', length: 255, unique: true })
  audience!: string;

  @Property({ type: 'json' })
  scopes!: string[];

  /** Seconds; null means the default. */
  @Property({ type: 'integer', nullable: true })
  accessTokenTtl?: number | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
