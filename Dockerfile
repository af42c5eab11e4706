FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev
COPY . .
# Placeholders for the build only, set on these commands and kept nowhere in the image: the
# real values come from the environment at run time. No .env is read (.dockerignore keeps it out).
RUN export VIGIE_ENV_FILE= SECRET_KEY=build-only DEBUG=false DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    VIGIE_ENCRYPTION_KEYS=YnVpbGQtb25seS1ub3QtYS1zZWNyZXQta2V5LTAxMjM= \
    && python manage.py compilemessages --ignore /opt/venv \
    && python manage.py collectstatic --no-input
RUN useradd --system --home /app vigie && mkdir -p /app/var && chown vigie /app/var
USER vigie
EXPOSE 8000
CMD ["gunicorn", "vigie.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
