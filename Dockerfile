# One image for every role of the service; the command picks the role (ENTRYPOINT is `newsdedup`):
#   docker run IMAGE worker            Celery worker (processing and crawls)
#   docker run IMAGE beat              the beat scheduler (several may run: one holds the lock)
#   docker run IMAGE db upgrade        apply the schema migrations (a deploy step)
#   docker run IMAGE clusters list     the admin CLI
# Configure with NEWSDEDUP_DATABASE_URL, NEWSDEDUP_REDIS_URL and NEWSDEDUP_SOURCES (mount your file);
# docker-compose.yml runs the whole service. Build: `docker build -t newsdedup .`
# (`--build-arg EXTRAS=` leaves Flower out).

# --- builder: a wheel of the project, installed with its dependencies into a virtual environment ---
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/newsdedup
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config ./config
COPY crawler ./crawler
COPY dedup ./dedup
COPY newsdedup ./newsdedup
COPY storage ./storage
COPY workers ./workers
ARG EXTRAS=flower
RUN /opt/newsdedup/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/newsdedup/bin/pip install "$(ls /wheels/newsdedup-*.whl)${EXTRAS:+[$EXTRAS]}"

# --- final: the virtual environment only, run by an unprivileged user ---
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/newsdedup/bin:$PATH
RUN useradd --create-home --uid 10001 --user-group newsdedup \
    && mkdir -p /app/data \
    && chown newsdedup:newsdedup /app/data
COPY --from=builder /opt/newsdedup /opt/newsdedup
# `scrapy list` and `scrapy crawl SOURCE` find the project settings through scrapy.cfg in /app.
COPY scrapy.cfg /app/
WORKDIR /app
USER newsdedup

# The same check for every role: the database answers, and Redis too when NEWSDEDUP_REDIS_URL is set.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["newsdedup", "health"]
ENTRYPOINT ["newsdedup"]
CMD ["worker"]
