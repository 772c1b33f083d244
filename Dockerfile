# Minimal image: the offline bot with the seed documents. The index lives in /data.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY bot ./bot
COPY cli ./cli
COPY config ./config
COPY retrieval ./retrieval
RUN pip install --no-cache-dir -c requirements.lock . \
    && useradd --create-home briefbot \
    && mkdir /data && chown briefbot /data
COPY seeds ./seeds
COPY prompts ./prompts

USER briefbot
ENV BRIEFBOT_DATA_DIR=/data \
    BRIEFBOT_SOURCES_DIR=/app/seeds
VOLUME ["/data"]
ENTRYPOINT ["briefbot"]
CMD ["run"]
