import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/decorators/public.decorator';
import { AuthThrottled } from '../../common/throttling/app-throttler.guard';
import { EmailChangeService } from '../email-change/email-change.service';
import { PasswordResetService } from '../recovery/password-reset.service';
import { REGISTRATION_ACCEPTED, RegistrationService } from '../registration/registration.service';
import { EmailDto, LinkTokenDto, MessageView, RegisterDto, ResetPasswordDto } from './auth.dto';

const ACCEPTED = { message: 'If the address belongs to an account, a message is on its way' };

/** Registration, email verification and password recovery: public, rate limited, no enumeration. */
@ApiTags('auth')
@Public()
@AuthThrottled()
@Controller('api/v1/auth')
export class AccountController {
  constructor(
    private readonly registration: RegistrationService,
    private readonly recovery: PasswordResetService,
    private readonly emailChange: EmailChangeService,
  ) {}

  @Post('register')
  @HttpCode(202)
  @ApiOperation({ summary: 'Register; the answer is the same whether or not the email exists' })
  @ApiAcceptedResponse({ type: MessageView })
  async register(@Body() body: RegisterDto): Promise<MessageView> {
    await this.registration.register(body);
    return { message: REGISTRATION_ACCEPTED };
  }

  @Post('verify-email')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Email verified; a bad, used or expired token is 400' })
  verifyEmail(@Body() body: LinkTokenDto): Promise<void> {
    return this.registration.verifyEmail(body.token);
  }

  @Post('confirm-email')
  @HttpCode(204)
  @ApiNoContentResponse({ description: "The account's email is now the new address; its sessions ended; the old address notified. A bad, used or expired token is 400" })
  async confirmEmail(@Body() body: LinkTokenDto): Promise<void> {
    await this.emailChange.confirm(body.token);
  }

  @Post('resend-verification')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: MessageView })
  async resendVerification(@Body() body: EmailDto): Promise<MessageView> {
    await this.registration.resendVerification(body.email);
    return ACCEPTED;
  }

  @Post('password/forgot')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: MessageView })
  async forgotPassword(@Body() body: EmailDto): Promise<MessageView> {
    await this.recovery.requestReset(body.email);
    return ACCEPTED;
  }

  @Post('password/reset')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Password set, every session ended, lockout cleared' })
  resetPassword(@Body() body: ResetPasswordDto): Promise<void> {
    return this.recovery.reset(body.token, body.newPassword);
  }
}
