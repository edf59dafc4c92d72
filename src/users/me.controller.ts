import { Body, Controller, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import { MayBeAbsent } from '../common/http/may-be-absent';
import { EMAIL_CHANGE_ACCEPTED, EmailChangeService } from '../auth/email-change/email-change.service';
import { MessageView, PASSWORD_INPUT_MAX } from '../auth/http/auth.dto';
import { CurrentPrincipal } from '../auth/principal/current-principal.decorator';
import type { Principal } from '../auth/principal/principal';
import { PasswordChangeService } from '../auth/recovery/password-change.service';
import { AuthThrottled } from '../common/throttling/app-throttler.guard';
import { SignedIn } from '../policies/check-policy.decorator';
import { UsersService } from './users.service';
import { UserView } from './user.view';

export class UpdateMeDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  displayName!: string;
}

export class ChangePasswordDto {
  @ApiPropertyOptional({ description: 'Omitted only by accounts without a password (Google sign-in)' })
  @MayBeAbsent()
  @IsString()
  @Length(1, PASSWORD_INPUT_MAX)
  currentPassword?: string;

  @ApiProperty({ maxLength: PASSWORD_INPUT_MAX })
  @IsString()
  @Length(1, PASSWORD_INPUT_MAX)
  newPassword!: string;
}

export class ChangeEmailDto {
  @ApiProperty({ example: 'ada@new.example.com', maxLength: 254 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  newEmail!: string;

  @ApiPropertyOptional({ description: 'Omitted only by accounts without a password (then a sign-in under 5 minutes old is needed)' })
  @MayBeAbsent()
  @IsString()
  @Length(1, PASSWORD_INPUT_MAX)
  currentPassword?: string;
}

@ApiTags('users')
@SignedIn()
@Controller('api/v1/users/me')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordChangeService,
    private readonly emailChange: EmailChangeService,
  ) {}

  @Get()
  @ApiOkResponse({ type: UserView })
  me(@CurrentPrincipal() principal: Principal): Promise<UserView> {
    return this.users.view(principal.userId);
  }

  @Patch()
  @ApiOkResponse({ type: UserView })
  update(@CurrentPrincipal() principal: Principal, @Body() body: UpdateMeDto): Promise<UserView> {
    return this.users.updateOwnProfile(principal.userId, body.displayName);
  }

  @Post('password')
  @AuthThrottled()
  @HttpCode(204)
  @ApiNoContentResponse({ description: "Password changed; the caller's other sessions and every outstanding reset link are ended" })
  @ApiBadRequestResponse({ description: 'A wrong currentPassword: urn:bastion:problem:invalid-password (never 401); a refused newPassword: urn:bastion:problem:validation' })
  changePassword(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordDto): Promise<void> {
    return this.passwords.change(principal, body.currentPassword, body.newPassword);
  }

  @Post('email')
  @AuthThrottled()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: MessageView, description: 'The same answer whether or not the address is free; the change happens when the mailed link is followed' })
  async changeEmail(@CurrentPrincipal() principal: Principal, @Body() body: ChangeEmailDto): Promise<MessageView> {
    await this.emailChange.request(principal, body.newEmail, body.currentPassword);
    return { message: EMAIL_CHANGE_ACCEPTED };
  }
}
