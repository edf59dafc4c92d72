import { EntityManager } from '@mikro-orm/postgresql';
import { PassportStrategy } from '@nestjs/passport';
import { type Profile, Strategy } from 'passport-google-oauth20';
import type { AppConfig } from '../../config/app-config';
import type { SecretBox } from '../mfa/secret-box';
import { BrowserBinding } from './browser-binding';
import { type GoogleClaims, GoogleAccountService } from './google-account.service';
import { PgStateStore } from './pg-state-store';

export const GOOGLE_SCOPE = ['openid', 'email', 'profile'];

export interface GoogleSignIn {
  userId: string;
}

/**
 * passport-google-oauth20 with state + PKCE (S256) kept in PostgreSQL, the userinfo call
 * authenticated by header (never `?access_token=`), and the account resolved by
 * GoogleAccountService. Only constructed when Google sign-in is configured.
 */
export class GoogleStrategy extends PassportStrategy(Strategy, 'google') {
  readonly binding: BrowserBinding;

  constructor(
    config: AppConfig,
    em: EntityManager,
    box: SecretBox,
    private readonly accounts: GoogleAccountService,
  ) {
    const google = config.google!;
    // Fail closed: never sign the state cookie with a key derived from nothing.
    if (!config.oauth.stateSecret) throw new Error('OAUTH_STATE_SECRET is not set (generated under DATA_DIR outside production)');
    const binding = new BrowserBinding(config.oauth.stateSecret);
    super({
      clientID: google.clientId,
      clientSecret: google.clientSecret,
      callbackURL: google.callbackUrl,
      authorizationURL: google.authorizationUrl,
      tokenURL: google.tokenUrl,
      userProfileURL: google.userInfoUrl,
      scope: GOOGLE_SCOPE,
      state: true,
      pkce: true,
      store: new PgStateStore(em, box, binding) as never,
    });
    this.binding = binding;
    (this as unknown as { _oauth2: { useAuthorizationHeaderforGET(use: boolean): void } })._oauth2.useAuthorizationHeaderforGET(true);
  }

  async validate(_accessToken: string, _refreshToken: string, profile: Profile): Promise<GoogleSignIn> {
    return { userId: await this.accounts.resolve((profile._json ?? {}) as GoogleClaims) };
  }
}
