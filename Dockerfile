# One image for every role of the service; the command picks the role:
#   docker run IMAGE worker        Celery worker (processing and crawls)
#   docker run IMAGE beat          the one beat scheduler
#   docker run IMAGE clusters list the admin CLI
# Configure with NEWSDEDUP_DATABASE_URL, NEWSDEDUP_REDIS_URL and NEWSDEDUP_SOURCES (mount your file).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 newsdedup
WORKDIR /app

COPY pyproject.toml README.md alembic.ini scrapy.cfg ./
COPY config ./config
COPY crawler ./crawler
COPY dedup ./dedup
COPY newsdedup ./newsdedup
COPY storage ./storage
COPY workers ./workers
RUN pip install . && mkdir -p /app/data && chown newsdedup /app/data

USER newsdedup
ENTRYPOINT ["newsdedup"]
CMD ["worker"]
