import type { FastifyReply } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from './problem-details';
import type { ProblemResult } from './to-problem';

/** Writes a problem+json response through Fastify (the filter and Fastify's own handlers). */
export function sendProblem(reply: FastifyReply, result: ProblemResult): void {
  if (reply.sent) return;
  if (result.headers) reply.headers(result.headers);
  reply.status(result.problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(result.problem);
}
