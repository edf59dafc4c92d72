import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiExtraModels, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/decorators/public.decorator';
import { AuthThrottled } from '../../common/throttling/app-throttler.guard';
import { SignedIn } from '../../policies/check-policy.decorator';
import { CookieSessionView, SignInModeQuery, TokenPairView } from '../http/auth.dto';
import { sendSignIn } from '../http/session-cookie';
import { CurrentPrincipal } from '../principal/current-principal.decorator';
import type { Principal } from '../principal/principal';
import { PasskeyIdPipe } from './passkey-id.pipe';
import { PasskeyRegistrationService } from './passkey-registration.service';
import { PasskeySignInService } from './passkey-sign-in.service';
import { PasskeyAuthenticationDto, PasskeyNameDto, PasskeyRegistrationDto, PasskeyView } from './passkeys.dto';

const OPTIONS = { description: 'WebAuthn options JSON (for navigator.credentials / @simplewebauthn/browser); the challenge is valid 5 minutes, once' };

/** Passkeys: passwordless sign-in (public, a credential route) and managing one's own passkeys. */
@ApiTags('passkeys')
@ApiExtraModels(TokenPairView, CookieSessionView)
@Controller('api/v1/auth/passkeys')
export class PasskeysController {
  constructor(
    private readonly registration: PasskeyRegistrationService,
    private readonly signIn: PasskeySignInService,
  ) {}

  @Public()
  @AuthThrottled()
  @Post('options')
  @HttpCode(200)
  @ApiOperation({ summary: 'Start a passwordless sign-in: options for a discoverable passkey' })
  @ApiOkResponse(OPTIONS)
  options() {
    return this.signIn.options();
  }

  @Public()
  @AuthThrottled()
  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Finish a passwordless sign-in (amr ["hwk","user"]: counts as MFA)' })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(TokenPairView) }, { $ref: getSchemaPath(CookieSessionView) }] } })
  @ApiUnauthorizedResponse({ description: 'Any refusal (unknown passkey, stale challenge, no user verification, counter regression, account unavailable)' })
  async verify(@Body() body: PasskeyAuthenticationDto, @Query() query: SignInModeQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    return sendSignIn(reply, await this.signIn.verify(body.response, query.mode ?? 'bearer'));
  }

  @Post('registration/options')
  @SignedIn()
  @AuthThrottled()
  @HttpCode(200)
  @ApiOperation({ summary: 'Start adding a passkey (needs a sign-in less than 5 minutes old)' })
  @ApiOkResponse(OPTIONS)
  @ApiForbiddenResponse({ description: 'The sign-in is older than 5 minutes' })
  registrationOptions(@CurrentPrincipal() principal: Principal) {
    return this.registration.options(principal);
  }

  @Post('registration/verify')
  @SignedIn()
  @AuthThrottled()
  @HttpCode(201)
  @ApiOperation({ summary: 'Finish adding a passkey; audited and mailed to the person' })
  @ApiOkResponse({ type: PasskeyView })
  @ApiBadRequestResponse({ description: 'Malformed or unverifiable response, or a used or expired challenge' })
  @ApiForbiddenResponse({ description: 'The sign-in is older than 5 minutes' })
  registrationVerify(@CurrentPrincipal() principal: Principal, @Body() body: PasskeyRegistrationDto): Promise<PasskeyView> {
    return this.registration.verify(principal, body.response, body.name);
  }

  @Get()
  @SignedIn()
  @ApiOperation({ summary: 'My passkeys' })
  @ApiOkResponse({ type: [PasskeyView] })
  list(@CurrentPrincipal() principal: Principal): Promise<PasskeyView[]> {
    return this.registration.list(principal);
  }

  @Patch(':id')
  @SignedIn()
  @ApiOperation({ summary: 'Rename one of my passkeys' })
  @ApiOkResponse({ type: PasskeyView })
  @ApiBadRequestResponse({ description: 'Not a base64url credential ID' })
  @ApiNotFoundResponse({ description: 'Not one of my passkeys' })
  rename(@CurrentPrincipal() principal: Principal, @Param('id', PasskeyIdPipe) id: string, @Body() body: PasskeyNameDto): Promise<PasskeyView> {
    return this.registration.rename(principal, id, body.name);
  }

  @Delete(':id')
  @SignedIn()
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove one of my passkeys; audited and mailed to the person' })
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ description: 'Not a base64url credential ID' })
  @ApiNotFoundResponse({ description: 'Not one of my passkeys' })
  remove(@CurrentPrincipal() principal: Principal, @Param('id', PasskeyIdPipe) id: string): Promise<void> {
    return this.registration.remove(principal, id);
  }
}
