# syntax=docker/dockerfile:1

# ---- build: install all dependencies, compile TypeScript, then drop the dev dependencies ----
FROM node:22-bookworm-slim AS build
WORKDIR /app
# No install-time telemetry (swagger-ui-dist pulls in @scarf/scarf).
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig*.json nest-cli.json .swcrc ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
# Emits dist/src/main.js and dist/migrations/*.js (run at start unless MIGRATE_ON_START=false).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production dependencies and compiled output only, as a non-root user ----
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
# The same heap cap as `npm run start:prod`: V8 otherwise grows an idle-collected heap to ~3× the
# live set under load (README, Performance: peak RSS).
ENV NODE_OPTIONS=--max-old-space-size=256
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The hosted pages' templates and stylesheets (read at start, cached).
COPY views ./views
COPY assets ./assets
# The code stays root-owned (read-only for the app); only DATA_DIR (.data) is writable.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
# The slim image has no curl: probe the liveness endpoint with node itself.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('node:http').get('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).setTimeout(4000, () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
