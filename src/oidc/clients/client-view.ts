import type { Client } from './client.entity';

export interface ClientView {
  id: string;
  clientId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  scopes: string[];
  resources: string[];
  firstParty: boolean;
  backchannelLogoutUri: string | null;
  accessTokenTtl: number | null;
  createdAt: string;
  updatedAt: string;
}

/** A client as the API shows it: never its secret or the secret's hash. */
export const toClientView = (c: Client): ClientView => ({
  id: c.id,
  clientId: c.clientId,
  name: c.name,
  redirectUris: c.redirectUris,
  postLogoutRedirectUris: c.postLogoutRedirectUris,
  grantTypes: c.grantTypes,
  scopes: c.scopes,
  resources: c.resources,
  firstParty: c.firstParty,
  backchannelLogoutUri: c.backchannelLogoutUri ?? null,
  accessTokenTtl: c.accessTokenTtl ?? null,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});
