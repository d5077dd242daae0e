# The image of the Kubernetes host: one image, two roles. k8s/ runs it as
# `node --import tsx src/node/main.ts controller` and `... invoker`; the
# invoker starts workerd children from the npm workerd package.
#   docker build -t edgewhisk .     (or: gcloud builds submit --tag IMAGE .)
FROM node:22-slim

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
# `npm ci` runs the prepare script, which bundles the packages actions may
# require (src/runtime/isolate/*.bundle.js).
COPY scripts ./scripts
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY migrations ./migrations
COPY src ./src
# The web console (GET /console) and Swagger UI's files, built from their npm
# packages into dist/assets; npm ci's prepare skipped it before src/ was here.
RUN node scripts/build-console.mjs
# The Pyodide files and memory snapshot Python actions boot from (needs src/).
RUN node scripts/build-python.mjs

USER node
EXPOSE 3000 8080 9090
CMD ["node", "--import", "tsx", "src/node/main.ts", "controller"]
