import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problem-response';
import { toProblem } from './to-problem';

/** The one exception filter: every error thrown in Nest's pipeline leaves as problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const result = toProblem(exception, request.url?.split('?')[0].slice(0, 512));
    if (result.unexpected) {
      this.logger.error({ err: exception, requestId: request.id }, 'Unhandled error');
    }
    sendProblem(reply, result);
  }
}
