# gridstream container image: one image for every role, the role chosen by the command.
#
#   docker build -t gridstream .                      # public base: node:24-bookworm-slim
#   docker run --rm -p 8080:8080 gridstream            # `gridstream start`: everything embedded, dashboard on :8080
#   docker run --rm -e GRIDSTREAM_METRICS_PORT=9464 gridstream gridstream run store
#                                                     # one role (with KAFKA_BROKERS, DATABASE_URL); the health
#                                                     # check needs the role's health port: GRIDSTREAM_METRICS_PORT
#
# The base image is a build argument: any image with Node.js 24 (and npm for the build stage) on PATH and a user
# `node` (uid 1000), as the official node images have. scripts/containers.sh builds one locally with debootstrap for
# machines without a registry (podman). See docs/DEPLOY.md.
ARG BASE_IMAGE=node:24-bookworm-slim

# ---- build: dependencies, the dashboard bundle, then only the production dependencies ----
FROM ${BASE_IMAGE} AS build
# A proxy's certificate authority for npm, when the build needs one: pass the path of a bundle mounted at build time
# (podman build -v /etc/ssl/certs:/etc/ssl/certs:ro --build-arg NODE_EXTRA_CA_CERTS=...). Nothing is copied in.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
COPY package.json package-lock.json ./
# devDependencies are needed to bundle the dashboard (esbuild, uplot). The `node` devDependency downloads a Node 24
# binary for npm scripts; it is gone after the prune, so the image runs on the base image's Node 24.
RUN npm ci --no-audit --no-fund --loglevel=warn
COPY . .
RUN npm run build:web \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=warn \
 && test ! -e node_modules/node \
 && rm -rf scripts web/src

# ---- runtime ----
FROM ${BASE_IMAGE}
ENV NODE_ENV=production \
    GRIDSTREAM_HOST=0.0.0.0 \
    GRIDSTREAM_DATA_DIR=/data \
    GRIDSTREAM_LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
COPY --from=build /app/data ./data
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/node_modules ./node_modules
# `gridstream` on PATH; the data directory of the embedded mode (PGlite, embedded log), writable by the user only.
# Not a VOLUME (distributed roles keep nothing there): mount one to keep embedded state, `-v gridstream:/data`.
RUN ln -s /app/bin/gridstream.js /usr/local/bin/gridstream \
 && mkdir -p /data && chown node:node /data && chmod 0700 /data \
 && node --version | grep -q '^v24\.'
USER node
# API and dashboard (api role, `start`), ingest gateway (ingest role). Worker roles serve /metrics and /readyz on
# GRIDSTREAM_METRICS_PORT when it is set (the compose stack uses 9464).
EXPOSE 8080 8081
# Node is PID 1 through `env`'s exec: gridstream installs its own SIGTERM/SIGINT handlers (graceful stop within
# GRIDSTREAM_SHUTDOWN_GRACE_MS, exit 0) and starts no child processes, so no init is needed (`--init` adds tini).
STOPSIGNAL SIGTERM
# Ready when the first of the API, metrics or ingest port that accepts a connection answers /readyz with 200.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "-e", "const e=process.env,h=[undefined,'0.0.0.0','::'].includes(e.GRIDSTREAM_HOST)?'127.0.0.1':e.GRIDSTREAM_HOST,say=(m)=>console.log(m);(async()=>{for(const p of [e.GRIDSTREAM_PORT||8080,e.GRIDSTREAM_METRICS_PORT,e.GRIDSTREAM_INGEST_PORT||8081]){if(!p)continue;let r;try{r=await fetch('http://'+h+':'+p+'/readyz',{signal:AbortSignal.timeout(4000)})}catch(x){if(x.cause&&x.cause.code==='ECONNREFUSED')continue;say(p+': '+((x.cause&&x.cause.code)||x.name));process.exit(1)}if(r.status!==200)say(p+': /readyz '+r.status+' '+(await r.text()).slice(0,2000));process.exit(r.status===200?0:1)}say('no port answers');process.exit(1)})()"]
CMD ["gridstream", "start"]
