import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { SignedIn } from '../../policies/check-policy.decorator';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { CurrentPrincipal } from '../principal/current-principal.decorator';
import type { Principal } from '../principal/principal';
import { UserSessionsService } from '../sessions/user-sessions.service';
import { SessionView } from './auth.dto';

@ApiTags('auth')
@SignedIn()
@Controller('api/v1/auth/sessions')
export class SessionsController {
  constructor(private readonly userSessions: UserSessionsService) {}

  @Get()
  @ApiOkResponse({ type: [SessionView] })
  list(@CurrentPrincipal() principal: Principal): Promise<SessionView[]> {
    return this.userSessions.list(principal.userId, principal.sessionId);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: "Session ended; another user's session is 404" })
  end(@CurrentPrincipal() principal: Principal, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.userSessions.end(principal.userId, principal.userId, id);
  }
}
