# The node's image: `spineseg serve`, as gateway, worker or both (the command chooses). Multi-stage: the build stage
# runs scripts/build-node.sh (CI runs the same script outside docker, since images cannot be pulled there), the runtime
# stage holds the published program, the models and the libtorch runtime.
#
# Base images are build arguments, so each site points them at the registry it trusts. Both must be Debian 12
# ("bookworm") based, like the .NET 10 images are, for Debian's libtorch:
#   docker build --build-arg DOTNET_SDK_IMAGE=<registry>/dotnet/sdk:10.0-bookworm-slim \
#                --build-arg DOTNET_RUNTIME_IMAGE=<registry>/dotnet/aspnet:10.0-bookworm-slim -t spineseg-node .
#
# GPU: an official CUDA libtorch instead of Debian's CPU one. Put the libtorch zip for your CUDA version (from the
# PyTorch site or your mirror) next to this file as libtorch.zip and use an NVIDIA CUDA runtime base with .NET added:
#   docker build --build-arg TORCH=official --build-arg DOTNET_RUNTIME_IMAGE=<registry>/<cuda-runtime-with-aspnet-10> ...
# and run the workers with `--gpus all` (compose: deploy.resources.reservations.devices) and Worker__Device=Cuda.
ARG DOTNET_SDK_IMAGE
ARG DOTNET_RUNTIME_IMAGE
ARG TORCH=debian

FROM ${DOTNET_SDK_IMAGE} AS build
ARG TORCH
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ unzip $([ "$TORCH" = debian ] && echo libtorch-dev) \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN if [ "$TORCH" = official ]; then unzip -q libtorch.zip -d /opt && export LIBTORCH_PREFIX=/opt/libtorch; fi \
 && bash scripts/build-node.sh /app

FROM ${DOTNET_RUNTIME_IMAGE}
ARG TORCH
# libtorch's runtime (the official build's libraries come with the program when TORCH=official); curl for health checks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl $([ "$TORCH" = debian ] && echo libtorch1.13) \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /app
COPY --from=build /opt /opt
WORKDIR /app
RUN mkdir -p /var/lib/spineseg && chown 10001 /var/lib/spineseg
# Instances, results, the export queue and the job journal: they must outlive the container (docs/operations.md).
VOLUME ["/var/lib/spineseg"]
ENV SPINESEG_Storage__RootDirectory=/var/lib/spineseg/storage \
    SPINESEG_Dicom__BindAddress=0.0.0.0 \
    LD_LIBRARY_PATH=/opt/libtorch/lib
EXPOSE 11112
USER 10001
ENTRYPOINT ["dotnet", "/app/spineseg.dll"]
CMD ["serve"]
