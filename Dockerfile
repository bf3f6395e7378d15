# Production image: the bot only. PostgreSQL runs as its own service (docker-compose.yml),
# so the embedded server is never started here (MARQUEE_DATABASE_URL is required).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY adapters ./adapters
COPY core ./core
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 marquee
# The migrations are package data of the installed wheel (core/schema/).
COPY --from=build /install /usr/local
ENV MARQUEE_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
RUN mkdir -p /data && chown marquee:marquee /data
USER marquee
WORKDIR /home/marquee
VOLUME ["/data"]
EXPOSE 8787
ENTRYPOINT ["marquee"]
CMD ["run"]
