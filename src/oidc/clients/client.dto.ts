import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsString, Length } from 'class-validator';
import { MayBeAbsent, MayBeAbsentOrNull } from '../../common/http/may-be-absent';
import { AccessTokenTtl, IsAbsoluteUri, IsRedirectUri, ScopeList, trimmed } from './field-rules';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

/** Fields of a client; all optional on PATCH (UpdateClientDto), defaults on POST (see ClientsService). */
export class UpdateClientDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @MayBeAbsent()
  @Transform(trimmed)
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ type: [String], description: 'Exact match; https, or http on loopback only' })
  @MayBeAbsent()
  @IsArray()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsRedirectUri({ each: true })
  redirectUris?: string[];

  @ApiPropertyOptional({ type: [String] })
  @MayBeAbsent()
  @IsArray()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsRedirectUri({ each: true })
  postLogoutRedirectUris?: string[];

  @ApiPropertyOptional({ type: [String], enum: GRANT_TYPES, description: 'Default authorization_code, refresh_token' })
  @MayBeAbsent()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(GRANT_TYPES, { each: true })
  grantTypes?: (typeof GRANT_TYPES)[number][];

  @ApiPropertyOptional({ type: [String], description: 'Scopes it may request (OIDC scopes and those of its resource servers); default openid, profile, email' })
  @ScopeList()
  scopes?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Audiences of the registered resource servers it may ask tokens for' })
  @MayBeAbsent()
  @IsArray()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsAbsoluteUri({ each: true })
  resources?: string[];

  @ApiPropertyOptional({ description: 'A Bastion app: no consent page, refresh tokens without offline_access' })
  @MayBeAbsent()
  @IsBoolean()
  firstParty?: boolean;

  @ApiPropertyOptional({ nullable: true, type: String })
  @MayBeAbsentOrNull()
  @IsRedirectUri()
  backchannelLogoutUri?: string | null;

  @AccessTokenTtl()
  accessTokenTtl?: number | null;
}

export class CreateClientDto extends UpdateClientDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @Transform(trimmed)
  @IsString()
  @Length(1, 100)
  declare name: string;
}

export class ClientResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The OAuth client_id' }) clientId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [String] }) redirectUris!: string[];
  @ApiProperty({ type: [String] }) postLogoutRedirectUris!: string[];
  @ApiProperty({ type: [String] }) grantTypes!: string[];
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty({ type: [String] }) resources!: string[];
  @ApiProperty() firstParty!: boolean;
  @ApiProperty({ nullable: true, type: String }) backchannelLogoutUri!: string | null;
  @ApiProperty({ nullable: true, type: Number }) accessTokenTtl!: number | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class ClientWithSecretResponse extends ClientResponse {
  @ApiProperty({ description: 'Shown once: only its Argon2id hash is stored' }) clientSecret!: string;
}

export class ClientPage {
  @ApiProperty({ type: [ClientResponse] }) items!: ClientResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
