# One image for every part: `graft webhook|agent|console|inject|certs|webhook-configuration`.
# Builds with Docker anywhere; scripts/image.sh builds it with buildah without any registry.
FROM node:26-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# A registry reached through a TLS-intercepting proxy: pass its CA as secret `ca`
# (`--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt`); it never enters a layer.
RUN --mount=type=secret,id=ca,required=false \
  if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
  npm ci --no-audit --no-fund
COPY . .
# The CLI bundled into bin/graft.js and its chunks (scripts/bundle.mjs): a start-up loads a few
# files, not the hundreds of modules of dist/ and node_modules (docs/benchmarks.md).
RUN npm run build && npm run bundle && npm prune --omit=dev

# Distroless: node and its libraries, no shell, no package manager.
FROM gcr.io/distroless/nodejs26-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bundle/bin ./bin
# 65532 is distroless' nonroot user; the injected agent runs as the same uid.
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/graft.js"]
