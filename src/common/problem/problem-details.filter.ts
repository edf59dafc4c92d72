import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problem-response';
import { toProblem } from './to-problem';

/**
 * Database errors carry their SQL with the bound values inlined (hashes, tokens): only their
 * class and SQLSTATE are logged.
 */
function loggable(exception: unknown): unknown {
  const err = exception as { name?: string; code?: string; sqlState?: string; sql?: string; stack?: string };
  if (err && typeof err === 'object' && ('sql' in err || 'sqlState' in err || err.name?.endsWith('Exception'))) {
    return { type: err.name, code: err.code ?? err.sqlState, stack: err.stack?.split('\n').slice(1, 6).join('\n') };
  }
  return exception;
}

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
      this.logger.error({ err: loggable(exception), requestId: request.id }, 'Unhandled error');
    }
    sendProblem(reply, result);
  }
}
