import { OIDC_SCOPES } from '../provider-configuration';
import type { Client } from './client.entity';

/**
 * A registered client as oidc-provider reads it. `client_secret` carries the Argon2id hash:
 * the provider never compares it itself (see compareClientSecret in OidcProvider), and symmetric
 * (HS*) algorithms are disabled, so the hash is never used as a key.
 */
export function clientMetadata(client: Client): Record<string, unknown> {
  return {
    client_id: client.clientId,
    client_name: client.name,
    client_secret: client.secretHash ?? undefined,
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    // `scope` restricts the OIDC scopes (never left empty: the provider reads empty as "any");
    // API scopes are checked per resource server (ResourceIndicators).
    scope: client.scopes.filter((s) => OIDC_SCOPES.includes(s)).join(' ') || 'openid',
    allowed_scopes: client.scopes,
    backchannel_logout_uri: client.backchannelLogoutUri ?? undefined,
    backchannel_logout_session_required: client.backchannelLogoutUri ? true : undefined,
    first_party: client.firstParty,
    allowed_resources: client.resources,
    access_token_ttl: client.accessTokenTtl ?? undefined,
  };
}
