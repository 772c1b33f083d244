# syntax=docker/dockerfile:1
# briefbot: the Telegram bot (or, with -it and no token, the console chat) over the documents
# in the /sources volume; the index and all state live in the /data volume.
#
# The base is an argument so that machines without a registry can build on a local image
# (`make image-test` builds one from Debian's packages); anything with Python >= 3.11.5 works.
ARG BASE_IMAGE=python:3.12-slim

# --- dependencies: their own layer, rebuilt only when the runtime lock changes ---------------
FROM ${BASE_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
# The runtime venv gets no pip of its own (17 MB); a throwaway tools venv installs into it.
RUN python3 -m venv /opt/tools && python3 -m venv --without-pip /opt/venv
COPY requirements.lock /tmp/requirements.lock
# --no-deps: the lock is the complete runtime set; it leaves out what chromadb declares but
# the bot never imports (docker/locks.py IMAGE_EXCLUDED: kubernetes, onnxruntime, uvicorn).
RUN /opt/tools/bin/pip --python /opt/venv/bin/python install --no-deps -r /tmp/requirements.lock

# --- runtime ----------------------------------------------------------------------------
FROM ${BASE_IMAGE}
# A fixed uid, so a bind-mounted folder can be chowned to it: `chown -R 10001 DIR`.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/briefbot briefbot \
    && mkdir -p /data /sources \
    && chown briefbot:briefbot /data /sources
COPY --from=deps /opt/venv /opt/venv

WORKDIR /app
# Only the code, prompts and seeds: never .env or the local index (see .dockerignore too).
COPY bot ./bot
COPY cli ./cli
COPY config ./config
COPY retrieval ./retrieval
COPY prompts ./prompts
COPY seeds ./seeds
COPY docker/entrypoint docker/briefbot ./docker/
# Compiled now: /app is read-only to the bot's user, so it could not cache bytecode itself.
RUN /opt/venv/bin/python -m compileall -q bot cli config retrieval \
    && ln -s /app/docker/briefbot /usr/local/bin/briefbot

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BRIEFBOT_DATA_DIR=/data \
    BRIEFBOT_SOURCES_DIR=/sources \
    BRIEFBOT_PROMPTS_DIR=/app/prompts \
    BRIEFBOT_WEBHOOK_LISTEN=0.0.0.0 \
    BRIEFBOT_WEBHOOK_PORT=8443

USER briefbot
# Uploads, /remove and /reload change /sources (seeded from /app/seeds when empty); the index,
# votes, subscriptions and audit log are in /data. Both survive a recreated container.
VOLUME ["/data", "/sources"]
# Webhook mode only (BRIEFBOT_WEBHOOK_URL); long polling needs no port.
EXPOSE 8443
# Healthy once an index is loaded and the bot serves from it: GET /healthz in webhook mode,
# else the readiness marker the bot keeps in /data (bot/health.py). The first start builds the
# index, which takes minutes on a small machine: hence the long start period.
HEALTHCHECK --interval=30s --timeout=10s --start-period=10m --retries=3 \
    CMD ["python", "-m", "bot.health"]
ENTRYPOINT ["/app/docker/entrypoint"]
CMD ["run"]
