# syntax=docker/dockerfile:1
#
# Paperworks container image.
#
#   docker build \
#     --build-arg GIT_SHA="$(git rev-parse HEAD)" \
#     --build-arg BUILD_TIME="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
#     -t paperworks .
#
#   docker run -p 8000:8000 paperworks            # embedded SQLite in the /data volume
#   docker run paperworks db upgrade              # any other subcommand of `paperworks`
#
# Needs BuildKit (the default builder since Docker 23) for the cache and bind mounts.

############################################################################################
# builder: turn the project and its pinned dependencies into wheels under /wheels
############################################################################################
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src

# Only what the wheel is built from. There is no .git here (and no git binary): the build hook
# (hatch_build.py) then stamps a null commit; the GIT_SHA build arg below fills that in at run time.
COPY pyproject.toml constraints.txt README.md hatch_build.py ./
COPY src ./src

# -c constraints.txt: the same pinned versions as `make install`. Every pinned runtime dependency
# ships a manylinux wheel for CPython 3.11 (checked on x86_64), so nothing is compiled here either.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --constraint constraints.txt --wheel-dir /wheels .

############################################################################################
# runtime: the wheels installed into a clean slim image, run as an unprivileged user
############################################################################################
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PAPERWORKS_DATA_DIR=/data \
    PAPERWORKS_HOST=0.0.0.0

# Fixed uid/gid so volume ownership and runAsUser-style policies are predictable.
RUN groupadd --system --gid 10001 paperworks \
 && useradd --system --uid 10001 --gid paperworks --create-home --home-dir /home/paperworks \
        --shell /usr/sbin/nologin paperworks \
 && mkdir -p /data \
 && chown paperworks:paperworks /data \
 && chmod 0750 /data

# Install from the builder's wheels only (--no-index: no registry, no source builds). The wheels
# are bind-mounted, so they never end up in an image layer. pip precompiles the bytecode here,
# since PYTHONDONTWRITEBYTECODE (and a read-only site-packages for uid 10001) stop it at run time.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels \
        --disable-pip-version-check --root-user-action=ignore \
        /wheels/paperworks-*.whl

# Embedded SQLite database, generated secret, Prometheus multiprocess samples, files.
# Declared after the chown above so a fresh volume starts out owned by paperworks.
VOLUME ["/data"]

WORKDIR /home/paperworks
USER 10001:10001

EXPOSE 8000

# No curl in the slim image: python's urllib, which raises (so exits non-zero) on any non-2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PAPERWORKS_PORT', '8000') + '/health', timeout=4)"]

# Last, so a new commit does not invalidate the layers above. Empty values are ignored at run
# time (paperworks.build_info falls back to what the build hook stamped into the wheel).
ARG GIT_SHA=""
ARG BUILD_TIME=""
ENV PAPERWORKS_GIT_SHA=${GIT_SHA} \
    PAPERWORKS_BUILD_TIME=${BUILD_TIME}
LABEL org.opencontainers.image.title="paperworks" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.created="${BUILD_TIME}"

ENTRYPOINT ["paperworks"]
CMD ["serve"]
