using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Gateway.Jobs;
using SpineSegDiff.Gateway.Outcomes;
using SpineSegDiff.Gateway.Retention;
using SpineSegDiff.Gateway.Routing;
using SpineSegDiff.Gateway.Status;
using SpineSegDiff.Gateway.Telemetry;
using SpineSegDiff.Segmentation.Inference;
using SpineSegDiff.Telemetry;
using SpineSegDiff.Worker;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>
/// Composes the node in a host: the gateway (Storage SCP, instance store, series assembly, routing, export) and the
/// segmentation worker, on the in-memory bus in one process or on RabbitMQ as separate processes. Every options
/// section is validated at start, so a bad configuration stops the node with one clear line per problem.
/// </summary>
internal static class NodeHost
{
    /// <summary>
    /// Time for a stopping worker, after its grace period, to see the cancellation (the pipeline checks it between
    /// diffusion steps, well under a second apart), hand the job back and close its broker connection.
    /// </summary>
    private static readonly TimeSpan HandBackTime = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A host builder with the node's configuration sources, in order: appsettings.json beside the program, the
    /// optional <paramref name="configFile"/>, SPINESEG_ environment variables, then <paramref name="overrides"/>
    /// (command-line options); console logging one line per event; the node's services for <paramref name="role"/>.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string? configFile, IDictionary<string, string?> overrides, NodeRole role, LogLevel minimumLevel = LogLevel.Information)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        if (configFile is not null)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }
        builder.Configuration.AddEnvironmentVariables("SPINESEG_");
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(minimumLevel);
        // Start-up failures are reported by the commands as one clear line each; the host's own stack-trace dump only confuses.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        // The health check service logs every failing check at every probe; the status service logs readiness changes
        // once each (events 3602, 3605) and the probe's answer names the failing check.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None);
        AddNode(builder, role);
        return builder;
    }

    public static void AddNode(HostApplicationBuilder builder, NodeRole role)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        var gateway = role is NodeRole.All or NodeRole.Gateway;
        var worker = role is NodeRole.All or NodeRole.Worker;

        var busOptions = configuration.GetSection("Bus").Get<BusOptions>() ?? new BusOptions();
        services.AddOptions<BusOptions>().Bind(configuration.GetSection("Bus")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BusOptions>>(new SelfValidatingOptions<BusOptions>(o => o.Validate(role)));
        Validated<InstanceStoreOptions>(services, configuration, "Storage", o => o.Validate());
        NodeTelemetry.AddTelemetry(builder, role);

        if (gateway)
        {
            var dicomSection = configuration.GetSection("Dicom");
            services.AddOptions<DicomServerOptions>().Bind(dicomSection).PostConfigure(o => ReplaceListsFromConfiguration(o, dicomSection)).ValidateOnStart();
            // The rule names are checked against the routing section as configured, not IOptions<RoutingOptions>: that
            // would throw here when the rules themselves are invalid and hide this section's own problems.
            services.AddSingleton<IValidateOptions<DicomServerOptions>>(new SelfValidatingOptions<DicomServerOptions>(o =>
                [.. o.Validate(), .. ShorthandConflicts(dicomSection),
                 .. CalledAeRules.Validate(o, configuration.GetSection("Gateway:Routing").Get<RoutingOptions>() ?? new RoutingOptions())]));
            Validated<SeriesAssemblyOptions>(services, configuration, "Gateway:Assembly", o => o.Validate());
            services.AddOptions<RoutingOptions>().Bind(configuration.GetSection("Gateway:Routing")).ValidateOnStart();
            services.AddSingleton<IValidateOptions<RoutingOptions>>(sp => new SelfValidatingOptions<RoutingOptions>(o => o.Validate(
                InferenceProfile.Selectable.Select(p => p.Name).ToList(),
                sp.GetRequiredService<IOptions<ExportOptions>>().Value.Destinations.Select(d => d.Name).ToList())));

            services.AddSingleton(sp => new SeriesAssembler(sp.GetRequiredService<IOptions<SeriesAssemblyOptions>>().Value, sp.GetService<TimeProvider>(),
                sp.GetRequiredService<IOptions<TelemetryOptions>>().Value));
            Validated<RetentionOptions>(services, configuration, RetentionOptions.SectionName, o => o.Validate());
            services.AddSingleton(sp => new InstanceStore(
                sp.GetRequiredService<IOptions<InstanceStoreOptions>>().Value, sp.GetRequiredService<ILogger<InstanceStore>>(), sp.GetRequiredService<SeriesAssembler>(),
                sp.GetService<IFreeSpaceProbe>()));
            services.AddSingleton(sp => new SeriesRouter(
                sp.GetRequiredService<IOptions<RoutingOptions>>().Value, new CalledAeRules(sp.GetRequiredService<IOptions<DicomServerOptions>>().Value.ResolvedAeTitles())));
            services.AddSingleton(sp => new JobJournal(sp.GetRequiredService<IOptions<InstanceStoreOptions>>().Value.RootDirectory, sp.GetRequiredService<ILogger<JobJournal>>()));
            // Assembly before the SCP: it starts before the first instance can arrive and stops after the last one is stored.
            services.AddHostedService(sp => new SeriesAssemblyService(
                sp.GetRequiredService<SeriesAssembler>(), sp.GetRequiredService<SeriesRouter>(), sp.GetRequiredService<IOptions<SeriesAssemblyOptions>>().Value,
                sp.GetRequiredService<InstanceStore>(), sp.GetRequiredService<IPublishEndpoint>(), sp.GetRequiredService<JobJournal>(),
                resumeUnansweredJobs: busOptions.IsInMemory, sp.GetRequiredService<ILogger<SeriesAssemblyService>>(), sp.GetService<TimeProvider>(),
                sp.GetRequiredService<GatewayTelemetry>()));
            services.AddHostedService<DicomNodeService>();
            services.AddExport(configuration);
            services.AddHostedService(sp => new RetentionService(
                sp.GetRequiredService<InstanceStore>(), sp.GetRequiredService<SeriesAssembler>(), sp.GetRequiredService<ExportQueue>(),
                sp.GetRequiredService<IOptions<RetentionOptions>>().Value, sp.GetRequiredService<ILogger<RetentionService>>(), sp.GetService<TimeProvider>()));
            // Status page and health endpoints: part of the gateway, whose journal and export queue the page shows.
            Validated<StatusOptions>(services, configuration, StatusOptions.SectionName, o => o.Validate());
            services.AddHealthChecks()
                .AddCheck<StoreWritableHealthCheck>(StoreWritableHealthCheck.Name)
                .AddCheck<FreeDiskHealthCheck>(FreeDiskHealthCheck.Name);
            services.AddSingleton(sp => new StatusReader(
                sp.GetRequiredService<IOptions<InstanceStoreOptions>>().Value.RootDirectory, sp.GetRequiredService<JobJournal>(), sp.GetRequiredService<ExportQueue>(),
                sp.GetRequiredService<SeriesAssembler>(), sp.GetService<TimeProvider>()));
            services.AddHostedService<StatusWebService>();
            // The export queue lives in the store unless configured elsewhere, so --storage moves all the node's state.
            if (!configuration.GetSection("Export:QueueDirectory").Exists())
            {
                services.PostConfigure<ExportOptions>(o => o.QueueDirectory = Path.Combine(
                    configuration.GetSection("Storage").Get<InstanceStoreOptions>()?.RootDirectory ?? new InstanceStoreOptions().RootDirectory, "exports"));
            }
        }
        if (worker)
        {
            Validated<WorkerOptions>(services, configuration, "Worker", o => o.Validate());
            services.AddSingleton(sp => sp.GetRequiredService<IOptions<WorkerOptions>>().Value);
            services.AddSingleton(sp => new LoadedModels(sp.GetRequiredService<WorkerOptions>()));
            services.AddSingleton(sp => new ResultStore(sp.GetRequiredService<IOptions<InstanceStoreOptions>>().Value.RootDirectory));

            // On stop the bus waits for jobs in progress; after the grace period it cancels their token, the pipeline
            // stops at its next step and the job is handed back: unacknowledged to the broker's queue on RabbitMQ, or
            // left open in the gateway's job journal on the in-memory bus, which publishes it again at the next start
            // (see SegmentationJobConsumer, JobJournal). The host must allow that much time before it abandons the
            // stop: disposing the models under a running network call would crash the process.
            var grace = configuration.GetSection("Worker").Get<WorkerOptions>()?.StopGracePeriod ?? TimeSpan.Zero;
            services.Configure<MassTransitHostOptions>(o => o.ConsumerStopTimeout = grace);
            services.Configure<HostOptions>(o => o.ShutdownTimeout = grace + HandBackTime);
        }

        services.AddMassTransit(bus =>
        {
            if (gateway)
            {
                bus.AddConsumer<ResultExportConsumer>();
                bus.AddConsumer<SegmentationFailedConsumer>();
                bus.AddConsumer<SegmentationFaultConsumer>();
            }
            if (worker)
            {
                bus.AddConsumer<SegmentationJobConsumer, SegmentationJobConsumerDefinition>();
            }
            if (busOptions.IsInMemory)
            {
                bus.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
            }
            else
            {
                bus.UsingRabbitMq((context, cfg) =>
                {
                    var rabbit = busOptions.RabbitMq;
                    cfg.Host(rabbit.Host, (ushort)rabbit.Port, rabbit.VirtualHost, h =>
                    {
                        h.Username(rabbit.Username);
                        h.Password(rabbit.Password);
                    });
                    if (gateway)
                    {
                        // Jobs go to an exchange; only a bound queue keeps them. The workers bind the job queue when
                        // they connect, so a gateway that publishes before any worker ever has would drop the job.
                        // Declaring the same durable queue and binding from the gateway keeps it waiting instead.
                        var jobExchange = cfg.MessageTopology.GetMessageTopology<SegmentationRequested>().EntityName;
                        cfg.Publish<SegmentationRequested>(p => p.BindQueue(jobExchange, SegmentationJobConsumerDefinition.QueueName));
                    }
                    cfg.ConfigureEndpoints(context);
                });
            }
        });
    }

    private static void Validated<TOptions>(IServiceCollection services, IConfiguration configuration, string section, Func<TOptions, IEnumerable<string>> validate)
        where TOptions : class
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>>(new SelfValidatingOptions<TOptions>(validate));
    }

    /// <summary>
    /// "Dicom:AeTitle" (or --aet) is the one-entry shorthand of "Dicom:AeTitles"; given both, one would be silently
    /// ignored, so the node refuses to start instead. (appsettings.json leaves AeTitle unset for this reason: the
    /// shorthand's default, SEGNODE, is in the code.)
    /// </summary>
    private static IEnumerable<string> ShorthandConflicts(IConfigurationSection dicom)
    {
        if (dicom[nameof(DicomServerOptions.AeTitle)] is not null && dicom.GetSection(nameof(DicomServerOptions.AeTitles)).GetChildren().Any())
        {
            yield return "Dicom:AeTitle (or --aet) and Dicom:AeTitles are both set: AeTitle is the one-entry shorthand; list every AE title in Dicom:AeTitles.";
        }
    }

    /// <summary>
    /// The configuration binder appends configured list items to a list's initial values, so a configured list of
    /// SOP classes would silently keep every default. A list given in configuration replaces the default instead.
    /// </summary>
    private static void ReplaceListsFromConfiguration(DicomServerOptions options, IConfigurationSection section)
    {
        if (section.GetSection(nameof(DicomServerOptions.AcceptedSopClasses)).Exists())
        {
            options.AcceptedSopClasses = section.GetSection(nameof(DicomServerOptions.AcceptedSopClasses)).Get<List<string>>() ?? [];
        }
        if (section.GetSection(nameof(DicomServerOptions.AcceptedTransferSyntaxes)).Exists())
        {
            options.AcceptedTransferSyntaxes = section.GetSection(nameof(DicomServerOptions.AcceptedTransferSyntaxes)).Get<List<DicomTransferSyntax>>() ?? [];
        }
    }
}
