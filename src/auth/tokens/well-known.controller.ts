import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/decorators/public.decorator';
import { AppConfig } from '../../config/app-config';
import { ACCESS_TOKEN_CLAIMS } from './access-token.service';
import type { PublishedJwk } from './jwk';
import { SigningKeys } from './signing-keys';

// Keys change only on a rolling restart, and a rotation keeps the previous key published, so
// verifiers may cache for a few minutes without ever missing the key of a live token.
const CACHE_FIVE_MINUTES = 'public, max-age=300';

/** Discovery for the internal apps that verify our access tokens themselves. */
@ApiTags('operations')
@Public()
@Controller('.well-known')
export class WellKnownController {
  private readonly discovery: Record<string, unknown>;

  constructor(
    private readonly keys: SigningKeys,
    @Inject(AppConfig) config: AppConfig,
  ) {
    this.discovery = Object.freeze({
      issuer: config.jwt.issuer,
      jwks_uri: `${config.appUrl}/.well-known/jwks.json`,
      token_endpoint: `${config.appUrl}/api/v1/auth/refresh`,
      id_token_signing_alg_values_supported: keys.algorithms(),
      response_types_supported: [],
      subject_types_supported: ['public'],
      claims_supported: [...ACCESS_TOKEN_CLAIMS],
    });
  }

  @Get('jwks.json')
  @Header('Cache-Control', CACHE_FIVE_MINUTES)
  @ApiOkResponse({
    description: 'JWK Set (RFC 7517) of the current and previous public signing keys: public members, kid (RFC 7638 thumbprint), alg, use',
    schema: { type: 'object', properties: { keys: { type: 'array', items: { type: 'object' } } }, required: ['keys'] },
  })
  jwks(): { keys: PublishedJwk[] } {
    return this.keys.jwks();
  }

  @Get('openid-configuration')
  @Header('Cache-Control', CACHE_FIVE_MINUTES)
  @ApiOkResponse({
    description: 'Discovery document: issuer, jwks_uri, signing algorithms and the claims access tokens carry',
    schema: { type: 'object', properties: { issuer: { type: 'string' }, jwks_uri: { type: 'string' } }, required: ['issuer', 'jwks_uri'] },
  })
  openidConfiguration(): Record<string, unknown> {
    return this.discovery;
  }
}
