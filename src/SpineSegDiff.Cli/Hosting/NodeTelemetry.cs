using System.Collections;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Jobs;
using SpineSegDiff.Gateway.Telemetry;
using SpineSegDiff.Telemetry;
using SpineSegDiff.Worker;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>
/// OpenTelemetry for the node: the services' own sources and meters (always created, cheap when nobody listens) and
/// the SDK with OTLP export, registered only when the standard OTEL_EXPORTER_OTLP_*ENDPOINT variables name a
/// collector, per signal. Nothing is exported otherwise. The protocol defaults to http/protobuf (the SDK's own
/// default is gRPC, which a plain HTTP collector port does not speak); OTEL_EXPORTER_OTLP_PROTOCOL overrides it.
/// </summary>
internal static class NodeTelemetry
{
    private const string Endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    private const string Protocol = "OTEL_EXPORTER_OTLP_PROTOCOL";

    public static void AddTelemetry(HostApplicationBuilder builder, NodeRole role)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelemetryOptions>>(new SelfValidatingOptions<TelemetryOptions>(o => o.Validate()));
        if (role is NodeRole.All or NodeRole.Gateway)
        {
            services.AddSingleton(sp => new GatewayTelemetry(sp.GetRequiredService<IOptions<TelemetryOptions>>().Value,
                () => sp.GetRequiredService<SeriesAssembler>().PendingCount, sp.GetRequiredService<IMeterFactory>(),
                () => sp.GetRequiredService<JobJournal>().OpenCount));
        }
        if (role is NodeRole.All or NodeRole.Worker)
        {
            services.AddSingleton(sp => new WorkerTelemetry(sp.GetRequiredService<IOptions<TelemetryOptions>>().Value, sp.GetRequiredService<IMeterFactory>()));
        }

        // The host reads only SPINESEG_ variables; the exporter reads its OTEL_* settings from IConfiguration, so
        // they are added under their own names.
        var otel = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Select(e => (Key: (string)e.Key, Value: e.Value as string))
            .Where(e => e.Key.StartsWith("OTEL_", StringComparison.Ordinal) && !string.IsNullOrEmpty(e.Value))
            .ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var traces = Configured(otel, "TRACES");
        var metrics = Configured(otel, "METRICS");
        var logs = Configured(otel, "LOGS");
        if (!traces && !metrics && !logs)
        {
            return;
        }
        otel.TryAdd(Protocol, "http/protobuf");
        configuration.AddInMemoryCollection(otel);

        var serviceName = otel.GetValueOrDefault("OTEL_SERVICE_NAME") ?? role switch
        {
            NodeRole.Gateway => "spineseg-gateway",
            NodeRole.Worker => "spineseg-worker",
            _ => "spineseg",
        };
        var telemetry = services.AddOpenTelemetry().ConfigureResource(r => r.AddService(serviceName, serviceVersion: typeof(NodeTelemetry).Assembly.GetName().Version?.ToString()));
        if (traces)
        {
            telemetry.WithTracing(t => t.AddSource([.. TelemetryNames.Sources]).AddOtlpExporter());
        }
        if (metrics)
        {
            telemetry.WithMetrics(m => m.AddMeter([.. TelemetryNames.Meters]).AddOtlpExporter());
        }
        if (logs)
        {
            // Log records carry the same event ids and parameters as the console lines (no PHI by the same rules),
            // with the trace and span id of the work they belong to.
            telemetry.WithLogging(l => l.AddOtlpExporter(), o =>
            {
                o.IncludeFormattedMessage = true;
                o.IncludeScopes = false;
            });
        }
    }

    /// <summary>A signal is exported when the general endpoint or the signal's own one is set.</summary>
    private static bool Configured(IReadOnlyDictionary<string, string?> otel, string signal) =>
        otel.ContainsKey(Endpoint) || otel.ContainsKey($"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT");
}
