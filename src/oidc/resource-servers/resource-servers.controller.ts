import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { ListQuery, type Page } from '../../common/pagination/pagination';
import { Auth, type AuthContext } from '../../policies/auth-context';
import { CheckPolicy } from '../../policies/check-policy.decorator';
import { CreateResourceServerDto, ResourceServerPage, ResourceServerResponse, UpdateResourceServerDto } from './resource-server.dto';
import { ResourceServersService, type ResourceServerView } from './resource-servers.service';

@ApiTags('oidc')
@Controller('api/v1/resource-servers')
export class ResourceServersController {
  constructor(private readonly servers: ResourceServersService) {}

  @Get()
  @CheckPolicy('read', 'ResourceServer')
  @ApiOkResponse({ type: ResourceServerPage })
  list(@Auth() auth: AuthContext, @Query() query: ListQuery): Promise<Page<Partial<ResourceServerView>>> {
    return this.servers.list(auth, query);
  }

  @Post()
  @CheckPolicy('create', 'ResourceServer')
  @ApiCreatedResponse({ type: ResourceServerResponse })
  create(@Auth() auth: AuthContext, @Body() body: CreateResourceServerDto): Promise<ResourceServerView> {
    return this.servers.create(auth, body);
  }

  @Get(':id')
  @CheckPolicy('read', 'ResourceServer')
  @ApiOkResponse({ type: ResourceServerResponse })
  get(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<Partial<ResourceServerView>> {
    return this.servers.get(auth, id);
  }

  @Patch(':id')
  @CheckPolicy('update', 'ResourceServer')
  @ApiOkResponse({ type: ResourceServerResponse })
  update(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string, @Body() body: UpdateResourceServerDto): Promise<ResourceServerView> {
    return this.servers.update(auth, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @CheckPolicy('delete', 'ResourceServer')
  @ApiNoContentResponse({ description: 'Deleted; 409 while a client still lists its audience' })
  remove(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.servers.remove(auth, id);
  }
}
