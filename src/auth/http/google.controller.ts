import { Body, Controller, Get, HttpCode, Inject, Optional, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IsString, Length } from 'class-validator';
import { Public } from '../../common/decorators/public.decorator';
import { AuthThrottled } from '../../common/throttling/app-throttler.guard';
import { GoogleCallbackGuard, type GoogleCallbackRequest } from '../google/google-callback.guard';
import { GoogleSignInService } from '../google/google-sign-in.service';
import { GoogleStrategy } from '../google/google.strategy';
import { CookieSessionView, SignInModeQuery, TokenPairView } from './auth.dto';
import { MfaRequiredView } from './mfa.dto';
import { sendSignIn } from './session-cookie';

class ExchangeDto {
  @ApiProperty({ description: 'The one-time code from OAUTH_SUCCESS_REDIRECT' })
  @IsString()
  @Length(1, 256)
  code!: string;
}

const LOGIN_BODY = { oneOf: [{ $ref: getSchemaPath(TokenPairView) }, { $ref: getSchemaPath(CookieSessionView) }, { $ref: getSchemaPath(MfaRequiredView) }] };

@ApiTags('google')
@ApiExtraModels(TokenPairView, CookieSessionView, MfaRequiredView)
@Public()
@AuthThrottled()
@Controller('api/v1/auth')
export class GoogleController {
  constructor(
    private readonly google: GoogleSignInService,
    @Optional() @Inject(GoogleStrategy) private readonly strategy?: GoogleStrategy | null,
  ) {}

  @Get('google')
  @ApiOperation({ summary: 'Start Google sign-in (state + PKCE S256); 404 when not configured' })
  @ApiFoundResponse({ description: 'Redirect to Google' })
  async start(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const url = await this.google.start(this.strategy ?? null, request, reply);
    reply.redirect(url, 302);
  }

  @Get('google/callback')
  @UseGuards(GoogleCallbackGuard)
  @ApiOperation({ summary: 'Google redirects here; answers the login body, or 302 to OAUTH_SUCCESS_REDIRECT with a one-time code' })
  @ApiOkResponse({ schema: LOGIN_BODY })
  @ApiFoundResponse({ description: 'To OAUTH_SUCCESS_REDIRECT?code= or OAUTH_FAILURE_REDIRECT?error=' })
  async callback(@Req() request: GoogleCallbackRequest, @Res() reply: FastifyReply): Promise<void> {
    this.strategy?.binding.clear(reply);
    const result = await this.google.finish(request.user!);
    if (result.redirect) return void reply.redirect(result.redirect, 302);
    reply.status(200).send(result.body);
  }

  @Post('oauth/exchange')
  @HttpCode(200)
  @ApiOperation({ summary: 'Turn the one-time code into the login body (60 s, single use)' })
  @ApiOkResponse({ schema: LOGIN_BODY })
  async exchange(@Body() body: ExchangeDto, @Query() query: SignInModeQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    return sendSignIn(reply, await this.google.exchange(body.code, query.mode ?? 'bearer'));
  }
}
