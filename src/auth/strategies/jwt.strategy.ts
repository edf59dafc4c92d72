import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { decode } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Principal } from '../principal/principal';
import { PrincipalResolver } from '../principal/principal-resolver';
import { AccessTokenService } from '../tokens/access-token.service';
import { SigningKeys } from '../tokens/signing-keys';

interface AccessClaims {
  sub: string;
  sid: string;
  amr: string[];
  auth_time: number;
  exp: number;
  typ?: string;
}

/**
 * Bearer access tokens. Keys are crypto KeyObjects looked up by `kid` (a PEM string would be
 * re-parsed on every verification); the algorithm, issuer and audience are pinned.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: SigningKeys,
    tokens: AccessTokenService,
    private readonly principals: PrincipalResolver,
  ) {
    const pinned = tokens.verifyOptions();
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: pinned.algorithms,
      issuer: pinned.issuer,
      audience: pinned.audience,
      ignoreExpiration: false,
      // nbf = iat: a few seconds of tolerance absorbs clock differences between instances.
      jsonWebTokenOptions: { clockTolerance: 5 },
      secretOrKeyProvider: (_req: unknown, rawJwt: string, done: (err: Error | null, key?: string | Buffer) => void) => {
        const header = decode(rawJwt, { complete: true })?.header;
        const key = header?.kid ? keys.publicKeyFor(header.kid) : undefined;
        if (!key || key.alg !== header?.alg) return done(new Error('unknown signing key'));
        // jsonwebtoken takes a KeyObject; passport-jwt's typings only know strings and Buffers.
        done(null, key.key as unknown as Buffer);
      },
    });
  }

  async validate(claims: AccessClaims): Promise<Principal | false> {
    // Only access tokens authenticate requests: an MFA or other purpose token never does. jsonwebtoken
    // checks `exp` only when present, so a token without one (which would never expire) is refused here.
    if (claims.typ !== 'access' || typeof claims.sid !== 'string' || typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return false;
    const principal = await this.principals.resolve({
      userId: claims.sub,
      sessionId: claims.sid,
      amr: Array.isArray(claims.amr) ? claims.amr : [],
      authTime: claims.auth_time,
      expiresAt: new Date(claims.exp * 1000),
      via: 'bearer',
    });
    return principal ?? false;
  }
}
