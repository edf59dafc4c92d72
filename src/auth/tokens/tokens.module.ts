import { Module } from '@nestjs/common';
import { AccessTokenService } from './access-token.service';
import { SigningKeys } from './signing-keys';
import { WellKnownController } from './well-known.controller';

/** Signing keys, access-token issuing and the public discovery routes (JWKS, openid-configuration). */
@Module({
  controllers: [WellKnownController],
  providers: [SigningKeys, AccessTokenService],
  exports: [SigningKeys, AccessTokenService],
})
export class TokensModule {}
