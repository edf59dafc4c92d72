import { Body, Controller, HttpCode, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../common/decorators/public.decorator';
import { AuthThrottled } from '../../common/throttling/app-throttler.guard';
import { SignedIn } from '../../policies/check-policy.decorator';
import { SignInService } from '../login/sign-in.service';
import { MfaManagementService } from '../mfa/mfa-management.service';
import type { VerifiedSecondStep } from '../mfa/second-factor.service';
import type { TotpEnrolment } from '../mfa/totp.service';
import { CurrentPrincipal } from '../principal/current-principal.decorator';
import type { Principal } from '../principal/principal';
import { CookieSessionView, SignInModeQuery, TokenPairView } from './auth.dto';
import { MfaVerifyGuard } from './mfa-verify.guard';
import { MfaVerifyDto, RecoveryCodesView, TotpCodeDto, TotpDisableDto, TotpEnrolmentView, TotpSetupDto } from './mfa.dto';
import { sendSignIn } from './session-cookie';

// A wrong current credential on a signed-in route is never a 401 (that means "session gone").
const WRONG_PASSWORD = 'A wrong password: 400 urn:bastion:problem:invalid-password';
const WRONG_CODE = 'A wrong code: 400 urn:bastion:problem:invalid-code';

@ApiTags('mfa')
@ApiExtraModels(TokenPairView, CookieSessionView)
@AuthThrottled()
@Controller('api/v1/auth/mfa')
export class MfaController {
  constructor(
    private readonly mfa: MfaManagementService,
    private readonly signIn: SignInService,
  ) {}

  @Public()
  @UseGuards(MfaVerifyGuard)
  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Second step of a sign-in: mfaToken + a TOTP code or a recovery code' })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(TokenPairView) }, { $ref: getSchemaPath(CookieSessionView) }] } })
  async verify(
    @Req() request: FastifyRequest & { user: VerifiedSecondStep },
    @Body() _body: MfaVerifyDto,
    @Query() query: SignInModeQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return sendSignIn(reply, await this.signIn.complete(request.user.userId, request.user.amr, query.mode ?? 'bearer', { auditType: 'auth.mfa.verified' }));
  }

  @Post('totp/setup')
  @SignedIn()
  @HttpCode(200)
  @ApiOkResponse({ type: TotpEnrolmentView, description: 'A pending secret' })
  @ApiBadRequestResponse({ description: WRONG_PASSWORD })
  @ApiConflictResponse({ description: 'TOTP is already enabled' })
  setup(@CurrentPrincipal() principal: Principal, @Body() body: TotpSetupDto): Promise<TotpEnrolment> {
    return this.mfa.setup(principal, body.password);
  }

  @Post('totp/enable')
  @SignedIn()
  @HttpCode(200)
  @ApiOkResponse({ type: RecoveryCodesView })
  @ApiBadRequestResponse({ description: WRONG_CODE })
  @ApiConflictResponse({ description: 'Already enabled, or no pending setup' })
  async enable(@CurrentPrincipal() principal: Principal, @Body() body: TotpCodeDto): Promise<RecoveryCodesView> {
    return { recoveryCodes: await this.mfa.enable(principal, body.code) };
  }

  @Post('totp/disable')
  @SignedIn()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'TOTP and recovery codes removed; other sessions ended' })
  @ApiBadRequestResponse({ description: `${WRONG_PASSWORD}; ${WRONG_CODE}` })
  disable(@CurrentPrincipal() principal: Principal, @Body() body: TotpDisableDto): Promise<void> {
    return this.mfa.disable(principal, body.password, body.code);
  }

  @Post('recovery-codes')
  @SignedIn()
  @HttpCode(200)
  @ApiOkResponse({ type: RecoveryCodesView, description: 'A new set; the old one stops working' })
  @ApiBadRequestResponse({ description: WRONG_CODE })
  async regenerate(@CurrentPrincipal() principal: Principal, @Body() body: TotpCodeDto): Promise<RecoveryCodesView> {
    return { recoveryCodes: await this.mfa.regenerateRecoveryCodes(principal, body.code) };
  }
}
