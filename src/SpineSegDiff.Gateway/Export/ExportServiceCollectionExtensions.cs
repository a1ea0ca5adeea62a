using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SpineSegDiff.Gateway.Export;

/// <summary>Registers the exporter in a host: options from section "Export" validated at start, queue, metrics, dispatcher.</summary>
public static class ExportServiceCollectionExtensions
{
    public static IServiceCollection AddExport(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ExportOptions>().Bind(configuration.GetSection(ExportOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExportOptions>, ExportOptionsValidator>();
        services.AddSingleton(sp => new ExportQueue(
            sp.GetRequiredService<IOptions<ExportOptions>>().Value,
            sp.GetRequiredService<ILogger<ExportQueue>>(),
            sp.GetService<TimeProvider>()));
        services.AddSingleton(sp => new ExportMetrics(sp.GetRequiredService<ExportQueue>(), sp.GetService<IMeterFactory>()));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ExportOptions>>().Value;
            var time = sp.GetService<TimeProvider>();
            return new ExportDispatcher(
                sp.GetRequiredService<ExportQueue>(),
                ExportSenders.Create(options, sp.GetRequiredService<ILoggerFactory>(), time),
                options,
                sp.GetRequiredService<ExportMetrics>(),
                sp.GetRequiredService<ILogger<ExportDispatcher>>(),
                time);
        });
        services.AddHostedService(sp => sp.GetRequiredService<ExportDispatcher>());
        return services;
    }

    private sealed class ExportOptionsValidator : IValidateOptions<ExportOptions>
    {
        public ValidateOptionsResult Validate(string? name, ExportOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
