# The Dataflow worker image: Beam's Python SDK image at the pinned version, the project and every
# native part, installed by the same script as `make setup` (scripts/setup.sh --system).
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/llamadata:0.1.0 .
#   python -m pipeline.run --runner=DataflowRunner --sdk_container_image=<that tag> --sdk_location=container …
ARG BEAM_VERSION=2.77.0

# Builder: compilers, boost headers, the KenLM binaries (lmplz, build_binary), the Python deps.
FROM apache/beam_python3.11_sdk:${BEAM_VERSION} AS builder
WORKDIR /opt/llamadata
COPY requirements.txt constraints.txt pyproject.toml ./
COPY scripts/ scripts/
COPY common/ common/
COPY dedup/ dedup/
COPY filters/ filters/
COPY pipeline/ pipeline/
COPY tokenizer/ tokenizer/
COPY train_hooks/ train_hooks/
RUN bash scripts/setup.sh --system \
 && mkdir -p /opt/kenlm-libs \
 && cp -L $(ldd "$(dirname "$(command -v python3)")/lmplz" | awk '/boost/ {print $3}') /opt/kenlm-libs/

# Runtime: the SDK image with the installed site-packages, the KenLM binaries and their boost libs.
FROM apache/beam_python3.11_sdk:${BEAM_VERSION}
COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
COPY --from=builder /usr/local/bin/lmplz /usr/local/bin/build_binary /usr/local/bin/
COPY --from=builder /opt/kenlm-libs/ /usr/local/lib/
COPY --from=builder /opt/llamadata /opt/llamadata
RUN ldconfig && build_binary --help 2>&1 | grep -q Usage
ENV PYTHONPATH=/opt/llamadata
# Models named "auto" in the recipe are looked up here before their URL (see filters/models.py).
ENV LLAMADATA_MODELS=/opt/llamadata/models
ENTRYPOINT ["/opt/apache/beam/boot"]
