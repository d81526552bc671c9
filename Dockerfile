# migfhir in a container: Node 24 runs the TypeScript sources directly (type stripping), so the
# image is the checkout with its production dependencies. Multi-stage: the build stage has npm
# and the compiler toolchain better-sqlite3 falls back to when no prebuilt binary fits; the
# runtime stage has neither, runs as the unprivileged `node` user and keeps its data in a volume.
#   docker build -t migfhir .
#   docker run -p 8080:8080 -v migfhir-data:/var/lib/migfhir -e MIGFHIR_BASE_URL=https://fhir.example.org/fhir migfhir
# (authorization is on: register clients with `docker run … migfhir node src/cli/main.ts clients add …`;
# see README "Security". For a development server add `--dev-open-access` after `serve`.)
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# production dependencies only; `prepare` builds the R4 definition tables the server loads
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf test docs .ci .tap
# the terminology index is otherwise built at first use, into a folder the runtime user cannot write
RUN node -e "import('./src/terminology/package-index.ts').then((m) => m.packageIndex())"

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    MIGFHIR_HOST=0.0.0.0 \
    MIGFHIR_PORT=8080 \
    MIGFHIR_DATA_DIR=/var/lib/migfhir
RUN mkdir -p /var/lib/migfhir && chown node:node /var/lib/migfhir
WORKDIR /app
# the code belongs to root and is read-only for the server's user
COPY --from=build /app /app
USER node
VOLUME ["/var/lib/migfhir"]
EXPOSE 8080 2575
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["serve"]
