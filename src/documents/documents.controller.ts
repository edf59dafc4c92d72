import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, IsUUID, Length, Max, MaxLength, Min } from 'class-validator';
import { MayBeAbsent } from '../common/http/may-be-absent';
import { UuidPipe } from '../common/http/uuid.pipe';
import { ListQuery, type Page } from '../common/pagination/pagination';
import { Auth, type AuthContext } from '../policies/auth-context';
import { CheckPolicy } from '../policies/check-policy.decorator';
import { Classification, DocumentStatus } from './document.entity';
import { DocumentsService, type DocumentView } from './documents.service';

const BODY_MAX = 100_000;
/** `version` and the next one (version + 1) must fit the PostgreSQL integer column: beyond is bad input, not a 500. */
const VERSION_MAX = 2_147_483_646;

class DocumentListQueryDto extends ListQuery {
  @ApiPropertyOptional({ enum: DocumentStatus })
  @MayBeAbsent()
  @IsIn(Object.values(DocumentStatus))
  status?: DocumentStatus;

  @ApiPropertyOptional({ description: 'Search in titles' })
  @MayBeAbsent()
  @IsString()
  @MaxLength(200)
  q?: string;
}

class CreateDocumentDto {
  @ApiProperty({ minLength: 1, maxLength: 200 }) @IsString() @Length(1, 200) title!: string;
  @ApiProperty({ maxLength: BODY_MAX }) @IsString() @MaxLength(BODY_MAX) body!: string;
  @ApiPropertyOptional({ enum: Classification, default: Classification.Internal }) @MayBeAbsent() @IsIn(Object.values(Classification)) classification?: Classification;
  @ApiPropertyOptional({ format: 'uuid', description: "Defaults to the caller's department" }) @MayBeAbsent() @IsUUID() departmentId?: string;
}

class UpdateDocumentDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 }) @MayBeAbsent() @IsString() @Length(1, 200) title?: string;
  @ApiPropertyOptional({ maxLength: BODY_MAX }) @MayBeAbsent() @IsString() @MaxLength(BODY_MAX) body?: string;
  @ApiPropertyOptional({ enum: Classification }) @MayBeAbsent() @IsIn(Object.values(Classification)) classification?: Classification;
  @ApiProperty({ description: 'The version this change is based on; a stale one is 409', minimum: 1, maximum: VERSION_MAX }) @IsInt() @Min(1) @Max(VERSION_MAX) version!: number;
}

class DocumentResponse {
  @ApiProperty() id!: string;
  @ApiProperty() title!: string;
  @ApiProperty() body!: string;
  @ApiProperty({ enum: DocumentStatus }) status!: DocumentStatus;
  @ApiProperty({ enum: Classification }) classification!: Classification;
  @ApiProperty() departmentId!: string;
  @ApiProperty() ownerId!: string;
  @ApiProperty() version!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

class DocumentPage {
  @ApiProperty({ type: [DocumentResponse] }) items!: DocumentResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

@ApiTags('documents')
@Controller('api/v1/documents')
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @Get()
  @CheckPolicy('read', 'Document')
  @ApiOkResponse({ type: DocumentPage, description: 'Only what the caller may read, filtered in SQL' })
  list(@Auth() auth: AuthContext, @Query() query: DocumentListQueryDto): Promise<Page<Partial<DocumentView>>> {
    return this.documents.list(auth, query);
  }

  @Post()
  @CheckPolicy('create', 'Document')
  @ApiCreatedResponse({ type: DocumentResponse })
  create(@Auth() auth: AuthContext, @Body() body: CreateDocumentDto): Promise<Partial<DocumentView>> {
    return this.documents.create(auth, body);
  }

  @Get(':id')
  @CheckPolicy('read', 'Document')
  @ApiOkResponse({ type: DocumentResponse })
  get(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<Partial<DocumentView>> {
    return this.documents.get(auth, id);
  }

  @Patch(':id')
  @CheckPolicy('update', 'Document')
  @ApiOkResponse({ type: DocumentResponse })
  @ApiConflictResponse({ description: 'Stale version (urn:bastion:problem:version-conflict)' })
  update(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string, @Body() body: UpdateDocumentDto): Promise<Partial<DocumentView>> {
    const { version, ...changes } = body;
    return this.documents.update(auth, id, changes, version);
  }

  @Post(':id/publish')
  @HttpCode(200)
  @CheckPolicy('publish', 'Document')
  @ApiOkResponse({ type: DocumentResponse })
  publish(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<Partial<DocumentView>> {
    return this.documents.publish(auth, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @CheckPolicy('delete', 'Document')
  @ApiNoContentResponse()
  remove(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.documents.remove(auth, id);
  }
}
