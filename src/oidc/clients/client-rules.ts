import type { FieldError } from '../../common/problem/problem-details';
import type { Client } from './client.entity';

/** Metadata names of oidc-provider's validation messages → the API's field names. */
const FIELDS: Record<string, string> = {
  redirect_uris: 'redirectUris',
  post_logout_redirect_uris: 'postLogoutRedirectUris',
  grant_types: 'grantTypes',
  response_types: 'grantTypes',
  scope: 'scopes',
  backchannel_logout_uri: 'backchannelLogoutUri',
  client_name: 'name',
};

/** Rules across fields that a DTO cannot state, and resources that must be registered APIs. */
export function clientRuleErrors(client: Pick<Client, 'grantTypes' | 'redirectUris' | 'resources'>, knownAudiences: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  if (client.grantTypes.includes('authorization_code') && !client.redirectUris.length) {
    errors.push({ field: 'redirectUris', message: 'the authorization_code grant needs at least one redirect URI' });
  }
  if (client.grantTypes.includes('refresh_token') && !client.grantTypes.includes('authorization_code')) {
    errors.push({ field: 'grantTypes', message: 'refresh_token needs authorization_code' });
  }
  const unknown = client.resources.filter((r) => !knownAudiences.has(r));
  if (unknown.length) errors.push({ field: 'resources', message: `not a registered resource server audience: ${unknown.join(', ')}` });
  return errors;
}

/** The field an oidc-provider metadata error is about (its description starts with the metadata name). */
export function fieldOfProviderError(description: string): FieldError {
  const name = Object.keys(FIELDS).find((key) => description.startsWith(key));
  return { field: name ? FIELDS[name] : 'client', message: description };
}
