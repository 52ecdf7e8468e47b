# syntax=docker/dockerfile:1
# MMED Serve gateway image (service.app:app on :8000). Build from the repository root:
#   docker build -t mmed-gateway:0.1.0 .
# What it holds and why TensorFlow is in it: README.md § Deployment and docs/deploy.md.

# Pinned base: exact CPython patch release on Debian 13. Releases pin the digest too:
#   --build-arg PYTHON_IMAGE=python:3.11.15-slim-trixie@sha256:<digest>
ARG PYTHON_IMAGE=python:3.11.15-slim-trixie

# ---- build: resolve the project's pins into a self-contained virtualenv ------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /build
COPY pyproject.toml docker/image_requirements.py ./
COPY requirements.lock ./
# The pins come from pyproject.toml only; image_requirements.py swaps tensorflow==X for
# tensorflow-cpu==X (same version, no CUDA kernels: TF Serving owns the GPU) and puts
# tensorflow-serving-api in a --no-deps set (it names the `tensorflow` distribution).
# requirements.lock (make lock) holds every indirect dependency at the version CI tested.
# Every dependency ships manylinux wheels (--only-binary): no compiler is needed, even here.
# tensorflow/include holds C++ headers for building custom ops (~290 MB), unused at run time.
RUN python image_requirements.py pyproject.toml /build/req \
    && python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --only-binary=:all: \
        -c /build/requirements.lock -r /build/req/requirements.txt \
    && python -m pip --python /opt/venv/bin/python install --only-binary=:all: \
        -c /build/requirements.lock --no-deps -r /build/req/requirements-no-deps.txt \
    && rm -rf /opt/venv/lib/python3.11/site-packages/tensorflow/include

# ---- runtime ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="mmed-gateway" \
      org.opencontainers.image.description="MMED Serve HTTP gateway (FastAPI) for embedded TensorFlow or TF Serving" \
      org.opencontainers.image.licenses="Apache-2.0"

# No package managers for Python in the final image (the venv was built without pip), and an
# unprivileged user with a fixed UID so Kubernetes can check runAsNonRoot.
RUN python -m pip uninstall --yes --quiet pip setuptools wheel \
    && groupadd --system --gid 10001 mmed \
    && useradd --system --uid 10001 --gid mmed --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mmed

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY model_artifact/ model_artifact/
COPY service/ service/
# Byte-compile while the filesystem is writable: the container runs read-only.
RUN /opt/venv/bin/python -m compileall -q model_artifact service

# HOME=/tmp: TensorFlow/Keras caches land on the writable /tmp volume, not the read-only root.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TF_CPP_MIN_LOG_LEVEL=1 \
    MMED_MODEL_REPOSITORY=/models

USER 10001:10001
EXPOSE 8000
# /healthz is liveness (process up); readiness (/readyz) is for the orchestrator to probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["uvicorn", "service.app:app", "--host", "0.0.0.0", "--port", "8000", \
     "--timeout-graceful-shutdown", "30", "--no-server-header"]
