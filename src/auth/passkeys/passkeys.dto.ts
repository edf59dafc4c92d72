import { ApiProperty } from '@nestjs/swagger';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { Transform } from 'class-transformer';
import { IsObject, IsString, Length } from 'class-validator';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class PasskeyNameDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Work laptop' })
  @Transform(trimmed)
  @IsString()
  @Length(1, 100)
  name!: string;
}

export class PasskeyRegistrationDto extends PasskeyNameDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The RegistrationResponseJSON of navigator.credentials.create() (PublicKeyCredential.toJSON())' })
  @IsObject()
  response!: RegistrationResponseJSON;
}

export class PasskeyAuthenticationDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The AuthenticationResponseJSON of navigator.credentials.get() (PublicKeyCredential.toJSON())' })
  @IsObject()
  response!: AuthenticationResponseJSON;
}

export class PasskeyView {
  @ApiProperty({ description: 'The credential ID, base64url' })
  id!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({ enum: ['singleDevice', 'multiDevice'] })
  deviceType!: string;
  @ApiProperty({ description: 'Synced (backed up) by its provider' })
  backedUp!: boolean;
  @ApiProperty({ type: [String] })
  transports!: string[];
  @ApiProperty()
  createdAt!: Date;
  @ApiProperty({ nullable: true, type: Date })
  lastUsedAt!: Date | null;
}
