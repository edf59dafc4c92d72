import type { ClientInstance, Configuration, KoaContextWithOIDC, TokenLike } from 'oidc-provider';
import { interactionPolicy } from 'oidc-provider';
import type { AppConfig } from '../config/app-config';
import type { SigningKeys } from '../auth/tokens/signing-keys';
import { guardedFetch } from './backchannel-fetch';
import { originOf, widenFormAction } from './form-action';
import type { OidcAccounts } from './oidc-accounts';
import { errorPage, loggedOutPage, logoutPage } from './pages/provider-pages';
import type { ResourceIndicators } from './resource-indicators';

export const OIDC_MOUNT = '/oidc';
export const ACR_SINGLE_FACTOR = 'urn:bastion:acr:sfa';
export const ACR_MFA = 'urn:bastion:acr:mfa';

/**
 * Claims by scope; `roles` is Bastion's own (roles and department). How the user signed in (amr,
 * acr, auth_time) comes with `openid`: internal apps decide on it without asking for it.
 */
const OIDC_CLAIMS = {
  sid: null,
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  email: ['email', 'email_verified'],
  profile: ['name'],
  roles: ['roles', 'department'],
};

export interface ProviderDependencies {
  config: AppConfig;
  keys: SigningKeys;
  accounts: OidcAccounts;
  resources: ResourceIndicators;
  adapter: (model: string) => unknown;
}

/** The OpenID Connect scopes the provider knows; a client's other scopes are its APIs' (resource servers'). */
export const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile', 'roles'];

const firstParty = (client: ClientInstance) => client.metadata().first_party === true;

/**
 * Every interaction goes through Bastion's own sign-in check (the interaction route reads the
 * `__Host-sid` session), so a provider session never outlives, or stands in for, a Bastion one.
 * The check passes only on the resumption of an interaction that just signed someone in.
 */
function interactionPolicyWithBastionSession() {
  const { Check, base } = interactionPolicy;
  const policy = base();
  policy.get('login').checks.add(new Check('bastion_session', 'Bastion checks its own session', (ctx) => (ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT)), 0);
  return policy;
}

function html(ctx: KoaContextWithOIDC, body: string): void {
  ctx.type = 'html';
  ctx.body = body;
}

/** The oidc-provider configuration: its defaults, except where Bastion decides otherwise (each commented). */
export function providerConfiguration(deps: ProviderDependencies): Configuration {
  const { config, keys, accounts, resources } = deps;
  const current = keys.current;
  // A resource server's tokens live as ResourceIndicators decided; otherwise the client's TTL or ACCESS_TOKEN_TTL.
  const accessTokenTtl = (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }, client?: ClientInstance) =>
    token.resourceServer?.accessTokenTTL ?? (client?.metadata().access_token_ttl as number | undefined) ?? config.jwt.accessTokenTtl;
  return {
    adapter: deps.adapter,
    // The same key as Bastion's API tokens: one JWKS (/.well-known/jwks.json, also served at /oidc/jwks) covers both.
    jwks: { keys: [{ ...current.privateKey.export({ format: 'jwk' }), kid: current.kid, alg: current.alg, use: 'sig' }] },
    enabledJWA: { idTokenSigningAlgValues: keys.algorithms(), requestObjectSigningAlgValues: keys.algorithms() },
    clientDefaults: { grant_types: ['authorization_code'], id_token_signed_response_alg: current.alg, response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    extraClientMetadata: { properties: ['first_party', 'allowed_resources', 'allowed_scopes', 'access_token_ttl'] },
    responseTypes: ['code'],
    cookies: { keys: [config.oidc.cookieSecret], long: { signed: true }, short: { signed: true } },
    claims: OIDC_CLAIMS,
    scopes: OIDC_SCOPES,
    acrValues: [ACR_SINGLE_FACTOR, ACR_MFA],
    // Override 1 of 3: ID tokens carry the claims of the granted scopes, not only `sub` (internal apps expect them).
    conformIdTokenClaims: false,
    // Override 2 of 3: every client's refresh token rotates on use (a replayed one is refused).
    rotateRefreshToken: true,
    // Override 3 of 3: a first-party client gets a refresh token without `offline_access`/`prompt=consent`
    // (nobody is asked to consent to Bastion's own apps); others need `offline_access`, as the spec says.
    issueRefreshToken: async (_ctx: unknown, client: ClientInstance, code: { scopes: Set<string> }) =>
      client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || firstParty(client)),
    pkce: { required: () => true },
    findAccount: (_ctx: unknown, sub: string, token?: TokenLike) => accounts.find(sub, token),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${OIDC_MOUNT}/interaction/${interaction.uid}`, policy: interactionPolicyWithBastionSession() },
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      ClientCredentials: accessTokenTtl,
      IdToken: 3600,
      Interaction: 600,
      Grant: config.sessions.refreshTokenTtl,
      Session: config.sessions.refreshTokenTtl,
      RefreshToken: config.sessions.refreshTokenTtl,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          // The confirmation form's answer redirects to the client: form-action must allow its origin.
          const csp = ctx.res.getHeader('content-security-policy');
          if (typeof csp === 'string') ctx.set('content-security-policy', widenFormAction(csp, originOf(ctx.oidc.params?.post_logout_redirect_uri)));
          html(ctx, logoutPage(form, ctx.oidc.client?.metadata().client_name as string | undefined));
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => html(ctx, loggedOutPage()),
      },
      resourceIndicators: {
        enabled: true,
        // No resource: an opaque token for userinfo. The resource of the authorization request is the token's audience.
        defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string, client: ClientInstance) => resources.infoFor(resource, client),
      },
    },
    renderError: async (ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) => html(ctx, errorPage(out.error, out.error_description)),
    fetch: guardedFetch(config.oidc.backchannelAllowedHosts),
  };
}
