# SupportFlow API / job worker image. Build: docker build -t supportflow .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 SUPPORT_DATA_DIR=/data
WORKDIR /srv/supportflow
# CPU build of torch first, so sentence-transformers does not pull a multi-GB CUDA build.
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu || \
    pip install --no-cache-dir "torch==2.13.0"
COPY pyproject.toml README.md ./
COPY app ./app
COPY agents ./agents
COPY graphs ./graphs
COPY knowledge ./knowledge
RUN pip install --no-cache-dir . && useradd --create-home supportflow && mkdir -p /data && chown supportflow /data
USER supportflow
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD python -c \
  "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz').status != 200)"
CMD ["python", "-m", "app", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
