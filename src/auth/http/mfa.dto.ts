import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, Matches, ValidateIf } from 'class-validator';
import { MayBeAbsent } from '../../common/http/may-be-absent';
import { RECOVERY_CODE_SHAPE } from '../mfa/recovery-codes';
import { PASSWORD_INPUT_MAX } from './auth.dto';

const SIX_DIGITS = /^\d{6}$/;


export class MfaVerifyDto {
  @ApiProperty({ description: 'From the login answer' })
  @IsString()
  @Length(1, 256)
  mfaToken!: string;

  @ApiPropertyOptional({ description: 'A 6-digit TOTP code', example: '123456' })
  // One of the two is required; whichever is present (null included) must be valid.
  @ValidateIf((o: MfaVerifyDto) => o.code !== undefined || o.recoveryCode === undefined)
  @IsString()
  @Matches(SIX_DIGITS, { message: 'must be 6 digits' })
  code?: string;

  @ApiPropertyOptional({ description: 'A recovery code instead of a TOTP code', example: 'A1B2-CDEF-GH3J-KMN4' })
  @ValidateIf((o: MfaVerifyDto) => o.recoveryCode !== undefined || o.code === undefined)
  @IsString()
  @Matches(RECOVERY_CODE_SHAPE, { message: 'must look like XXXX-XXXX-XXXX-XXXX' })
  recoveryCode?: string;
}

export class TotpSetupDto {
  @ApiPropertyOptional({ description: 'Re-authentication (accounts without a password need a sign-in under 5 minutes old)' })
  @MayBeAbsent()
  @IsString()
  @Length(1, PASSWORD_INPUT_MAX)
  password?: string;
}

export class TotpCodeDto {
  @ApiProperty({ example: '123456' })
  @IsString()
  @Matches(SIX_DIGITS, { message: 'must be 6 digits' })
  code!: string;
}

export class TotpDisableDto {
  @ApiPropertyOptional()
  @MayBeAbsent()
  @IsString()
  @Length(1, PASSWORD_INPUT_MAX)
  password?: string;

  @ApiProperty({ description: 'A TOTP code or a recovery code' })
  @IsString()
  @Matches(new RegExp(`${SIX_DIGITS.source}|${RECOVERY_CODE_SHAPE.source}`), { message: 'must be a 6-digit code or a recovery code' })
  code!: string;
}

export class RecoveryCodesView {
  @ApiProperty({ type: [String], description: 'Shown once; store them safely' })
  recoveryCodes!: string[];
}

export class TotpEnrolmentView {
  @ApiProperty() secret!: string;
  @ApiProperty() otpauthUri!: string;
  @ApiProperty() qrCodeDataUrl!: string;
}

export class MfaRequiredView {
  @ApiProperty({ enum: [true] }) mfaRequired!: true;
  @ApiProperty() mfaToken!: string;
  @ApiProperty({ type: [String], example: ['totp', 'recovery_code'] }) methods!: string[];
}
