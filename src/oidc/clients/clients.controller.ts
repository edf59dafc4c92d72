import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { ListQuery, type Page } from '../../common/pagination/pagination';
import { Auth, type AuthContext } from '../../policies/auth-context';
import { CheckPolicy } from '../../policies/check-policy.decorator';
import { ClientPage, ClientResponse, ClientWithSecretResponse, CreateClientDto, UpdateClientDto } from './client.dto';
import type { ClientView } from './client-view';
import { ClientsService } from './clients.service';

@ApiTags('oidc')
@Controller('api/v1/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Get()
  @CheckPolicy('read', 'Client')
  @ApiOkResponse({ type: ClientPage })
  list(@Auth() auth: AuthContext, @Query() query: ListQuery): Promise<Page<Partial<ClientView>>> {
    return this.clients.list(auth, query);
  }

  @Post()
  @CheckPolicy('create', 'Client')
  @ApiCreatedResponse({ type: ClientWithSecretResponse, description: 'The client, with its secret (shown this once)' })
  create(@Auth() auth: AuthContext, @Body() body: CreateClientDto): Promise<ClientView & { clientSecret: string }> {
    return this.clients.create(auth, body);
  }

  @Get(':id')
  @CheckPolicy('read', 'Client')
  @ApiOkResponse({ type: ClientResponse })
  get(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<Partial<ClientView>> {
    return this.clients.get(auth, id);
  }

  @Patch(':id')
  @CheckPolicy('update', 'Client')
  @ApiOkResponse({ type: ClientResponse })
  update(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string, @Body() body: UpdateClientDto): Promise<ClientView> {
    return this.clients.update(auth, id, body);
  }

  @Post(':id/secret')
  @HttpCode(200)
  @CheckPolicy('update', 'Client')
  @ApiOkResponse({ type: ClientWithSecretResponse, description: 'A new secret (shown this once); the previous one stops working' })
  rotateSecret(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<ClientView & { clientSecret: string }> {
    return this.clients.rotateSecret(auth, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @CheckPolicy('delete', 'Client')
  @ApiNoContentResponse({ description: 'Deleted, with every code, token and grant issued to it' })
  remove(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.clients.remove(auth, id);
  }
}
