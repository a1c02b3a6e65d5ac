# Atrium: the service with ffmpeg, libmagic and poppler, running as a non-root user.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ATRIUM_PATHS_DATA_DIR=/data \
    ATRIUM_SERVER_HOST=0.0.0.0 \
    ATRIUM_SERVER_PORT=8080

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg libmagic1 poppler-utils ca-certificates curl fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The code runs from /app (templates and static files are found beside it), so the
# project is installed in editable mode: pip installs only the pinned dependencies.
COPY pyproject.toml README.md config.yaml ./
COPY server ./server
COPY tenants ./tenants
COPY gallery ./gallery
COPY media ./media
COPY storage ./storage
COPY jobs ./jobs
COPY keys ./keys
COPY handlers ./handlers
COPY xmlcompat ./xmlcompat
COPY bench ./bench
COPY templates ./templates
COPY static ./static
# Compiled gettext catalogues (committed; docs/languages.md)
COPY locale ./locale
RUN pip install --no-cache-dir -e .

RUN useradd --system --create-home --uid 10001 atrium \
 && mkdir -p /data && chown atrium:atrium /data
USER atrium
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/_health || exit 1

CMD ["python", "-m", "server", "run"]
