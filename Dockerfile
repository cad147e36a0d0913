FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/estatedesk estatedesk

WORKDIR /tmp/src
COPY pyproject.toml ./
COPY estatedesk ./estatedesk
COPY services ./services
RUN pip install . && cd / && rm -rf /tmp/src

# Run from a directory without the source tree, so the installed package is what runs;
# faust keeps its per-app data directory here, hence writable by the service user.
WORKDIR /var/lib/estatedesk
USER 10001:10001

EXPOSE 8001 8002 8003 8004
CMD ["python", "-m", "services.intake"]
