# Wharf's own image: every service runs from it (see docker-compose.yml); the default command is
# the API server. Built from a node:20 base that has no npm (test/images/build.sh makes one from
# the host's node), so it takes the node_modules installed on the host (`npm ci` first) instead of
# running npm ci, and drops the devDependencies in a throwaway stage.
#
#   docker build -t wharf:dev .
#   docker run --rm wharf:dev node --version
#   docker run --rm -e REDIS_URL=redis://... -e WHARF_API_HOST=0.0.0.0 -p 8080:8080 wharf:dev
#   NODE_IMAGE=node:20-slim also works on a machine that can pull
ARG NODE_IMAGE=node:20

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY node_modules ./node_modules
# Same result as `npm prune --omit=dev`: remove every package the lockfile marks dev-only
# (typescript, ava, most @types ...), then the .bin links left pointing at them and empty scopes.
RUN node -e " \
  const fs = require('fs'), path = require('path'); \
  const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8')); \
  let n = 0; \
  for (const [p, meta] of Object.entries(lock.packages || {})) \
    if (p.startsWith('node_modules/') && meta.dev) { fs.rmSync(p, { recursive: true, force: true }); n++; } \
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { \
    const f = path.join(d, e.name); \
    if (e.isSymbolicLink()) { if (!fs.existsSync(f)) fs.unlinkSync(f); } \
    else if (e.isDirectory()) walk(f); } }; \
  walk('node_modules'); \
  for (const d of fs.readdirSync('node_modules')) \
    if (d.startsWith('@') && fs.readdirSync('node_modules/' + d).length === 0) fs.rmdirSync('node_modules/' + d); \
  if (!fs.existsSync('node_modules/tsx')) throw new Error('node_modules/tsx missing: run npm ci before docker build'); \
  console.log('removed ' + n + ' dev-only packages'); \
  "

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    WHARF_API_HOST=0.0.0.0 \
    WHARF_API_PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY shared ./shared
COPY services ./services
LABEL org.opencontainers.image.title="wharf" \
      org.opencontainers.image.description="Wharf control plane services (api, scheduler, controller-manager, node-agent)"
EXPOSE 8080
# The base image's docker-entrypoint.sh runs a command that names a program as it is: every
# command here starts with `node`. (No `ENTRYPOINT []`: the classic builder never caches it, so
# each build made a new image and `up --build` recreated every container.)
CMD ["node", "--import", "tsx", "services/api/main.ts"]
