# One image for every part: `graft webhook|agent|console|inject|certs|webhook-configuration`.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
# 65532 is distroless' nonroot user; the injected agent runs as the same uid.
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/graft.js"]
