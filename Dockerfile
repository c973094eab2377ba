# The engine's image: `migrate`, `api` and `worker` are this image with another command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install --no-cache-dir "uv>=0.5" \
    && useradd --system --create-home --uid 10001 --user-group shopstar

WORKDIR /app

# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

# Every top-level module (cli, worker, relay, the outboxes, flow_contract, temporal_payloads, ...).
COPY alembic.ini *.py ./
COPY api/ api/
COPY workflows/ workflows/
COPY activities/ activities/
COPY services/ services/
COPY models/ models/
COPY integrations/ integrations/
COPY devstack/ devstack/
COPY migrations/ migrations/
# The project's own bytecode too (UV_COMPILE_BYTECODE covers the dependencies only): with
# PYTHONDONTWRITEBYTECODE and no .pyc, the worker's sandbox would compile a workflow's module
# from source at every run it creates or replays.
RUN uv sync --frozen --no-dev && python -m compileall -q -x '/\.venv/' /app

ENV PATH=/app/.venv/bin:$PATH \
    SHOPSTAR_ENVIRONMENT=production
USER shopstar
EXPOSE 8000
CMD ["shopstar-marketing", "api", "--host", "0.0.0.0", "--port", "8000"]
