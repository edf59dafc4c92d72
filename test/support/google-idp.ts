import { OAuth2Server } from 'oauth2-mock-server';

export interface IdpClaims {
  sub: string;
  email: string;
  email_verified?: boolean;
  name?: string;
  picture?: string;
  hd?: string;
}

export interface TokenRequestRecord {
  body: Record<string, string>;
  authorization?: string;
}

/**
 * A real local OpenID provider (oauth2-mock-server) shaped like Google. The mock checks nothing
 * by itself: the hooks record what our server sent (token request, userinfo headers/query) so
 * the tests can assert PKCE, client credentials and header-only access tokens.
 */
export class GoogleIdp {
  readonly server = new OAuth2Server();
  claims: IdpClaims = { sub: 'google-sub-1', email: 'someone@example.com', email_verified: true, name: 'Someone' };
  tokenRequests: TokenRequestRecord[] = [];
  userinfoRequests: { authorization?: string; url: string }[] = [];
  failToken = false;
  failUserinfo = false;

  async start(): Promise<void> {
    await this.server.issuer.keys.generate('RS256');
    await this.server.start(0, '127.0.0.1');
    this.server.service.on('beforeResponse', (response: { statusCode: number; body: unknown }, req: { body: Record<string, string>; headers: Record<string, string> }) => {
      this.tokenRequests.push({ body: { ...req.body }, authorization: req.headers.authorization });
      if (this.failToken) {
        response.statusCode = 400;
        response.body = { error: 'invalid_grant' };
      }
    });
    this.server.service.on('beforeUserinfo', (response: { statusCode: number; body: unknown }, req: { headers: Record<string, string>; url: string }) => {
      this.userinfoRequests.push({ authorization: req.headers.authorization, url: req.url });
      if (this.failUserinfo) {
        response.statusCode = 500;
        response.body = { error: 'server_error' };
        return;
      }
      response.body = { ...this.claims };
    });
  }

  get url(): string {
    return this.server.issuer.url!;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      GOOGLE_CLIENT_ID: 'bastion-test-client',
      GOOGLE_CLIENT_SECRET: 'bastion-test-secret',
      GOOGLE_CALLBACK_URL: 'http://localhost:3000/api/v1/auth/google/callback',
      GOOGLE_AUTHORIZATION_URL: `${this.url}/authorize`,
      GOOGLE_TOKEN_URL: `${this.url}/token`,
      GOOGLE_USERINFO_URL: `${this.url}/userinfo`,
      ...extra,
    };
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
