# One image for all five Guichet services; the service is chosen at run time:
#   docker run guichet:latest services.ingest        (compose: command, k8s: args)
# With no argument the container prints the list of services and exits.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv

RUN pip install --no-cache-dir uv==0.13.8

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache

COPY shared/ ./shared/
COPY services/ ./services/

# Usage text for a container started without a service module (stdlib only).
RUN printf '%s\n' \
      'import sys' \
      'print("usage: docker run IMAGE services.<name>   (python -m services.<name>)", file=sys.stderr)' \
      'print("services: ingest, tickets, notify, search, web", file=sys.stderr)' \
      'sys.exit(64)' \
      > /app/guichet_usage.py \
 && python -m compileall -q /app/shared /app/services /app/guichet_usage.py

# Non-root user with a fixed numeric id (Kubernetes runAsNonRoot checks the number).
# The ingest spool directory exists in the image so a fresh named volume inherits its owner.
RUN groupadd --system --gid 10001 guichet \
 && useradd --system --uid 10001 --gid guichet --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin guichet \
 && install -d -o guichet -g guichet -m 0750 /var/lib/guichet /var/lib/guichet/spool

ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONPATH=/app \
    GUICHET_HTTP_HOST=0.0.0.0 \
    GUICHET_INGEST_SMTP_HOST=0.0.0.0 \
    GUICHET_INGEST_SPOOL_DIR=/var/lib/guichet/spool

USER 10001:10001

EXPOSE 2525 8000 8101 8102 8103 8104

ENTRYPOINT ["python", "-m"]
CMD ["guichet_usage"]
