# Minimal image of the DICOM node (the operations issue extends it: CUDA variant, workers, health checks).
# Base images are build arguments so each site points them at the registry it trusts, e.g.
#   docker build --build-arg DOTNET_SDK_IMAGE=<registry>/dotnet/sdk:10.0 \
#                --build-arg DOTNET_RUNTIME_IMAGE=<registry>/dotnet/runtime:10.0 -t spineseg-node .
ARG DOTNET_SDK_IMAGE
ARG DOTNET_RUNTIME_IMAGE

FROM ${DOTNET_SDK_IMAGE} AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/SpineSegDiff.Cli/SpineSegDiff.Cli.csproj -c Release -o /app --nologo

FROM ${DOTNET_RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app .
# The store is a volume: instances must outlive the container.
VOLUME ["/var/lib/spineseg"]
ENV SPINESEG_Storage__RootDirectory=/var/lib/spineseg/storage
EXPOSE 11112
USER 10001
ENTRYPOINT ["dotnet", "spineseg.dll", "serve"]
