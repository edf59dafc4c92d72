import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length } from 'class-validator';
import { MayBeAbsent } from '../../common/http/may-be-absent';
import { AccessTokenTtl, IsAbsoluteUri, ScopeList, trimmed } from '../clients/field-rules';


/** PATCH: name, scopes and lifetime; the audience is the API's identity and never changes. */
export class UpdateResourceServerDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @MayBeAbsent()
  @Transform(trimmed)
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ type: [String] })
  @ScopeList()
  scopes?: string[];

  @AccessTokenTtl()
  accessTokenTtl?: number | null;
}

export class CreateResourceServerDto extends UpdateResourceServerDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @Transform(trimmed)
  @IsString()
  @Length(1, 100)
  declare name: string;

  @ApiProperty({ description: 'Absolute URI: the resource indicator clients send and the `aud` of its tokens' })
  @IsAbsoluteUri()
  audience!: string;
}

export class ResourceServerResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() audience!: string;
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty({ nullable: true, type: Number }) accessTokenTtl!: number | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class ResourceServerPage {
  @ApiProperty({ type: [ResourceServerResponse] }) items!: ResourceServerResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
