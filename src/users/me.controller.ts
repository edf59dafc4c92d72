import { Body, Controller, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length } from 'class-validator';
import { MayBeAbsent } from '../common/http/may-be-absent';
import { PASSWORD_INPUT_MAX } from '../auth/http/auth.dto';
import { CurrentPrincipal } from '../auth/principal/current-principal.decorator';
import type { Principal } from '../auth/principal/principal';
import { PasswordChangeService } from '../auth/recovery/password-change.service';
import { AuthThrottled } from '../common/throttling/app-throttler.guard';
import { SignedIn } from '../policies/check-policy.decorator';
import { UsersService } from './users.service';
import { UserView } from './user.view';

class UpdateMeDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  displayName!: string;
}

class ChangePasswordDto {
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

@ApiTags('users')
@SignedIn()
@Controller('api/v1/users/me')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordChangeService,
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
}
