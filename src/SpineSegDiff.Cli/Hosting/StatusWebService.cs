using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Gateway.Status;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>
/// The gateway's HTTP listener (section "Status"): /health/live, /health/ready, the status page at /, its preview
/// pictures and the retry of parked exports. A small Kestrel application of its own, started and stopped by the node's
/// generic host like any other service, so the node keeps one host, one configuration and one start-up validation;
/// the application resolves what it shows from the node's services.
/// </summary>
internal sealed partial class StatusWebService(
    IOptions<StatusOptions> options,
    StatusReader reader,
    ExportQueue exports,
    HealthCheckService health,
    IOptions<DicomServerOptions> dicom,
    ILoggerFactory loggerFactory,
    ILogger<StatusWebService> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>
    /// A retry changes state, so a page of another site must not be able to post one through the operator's browser:
    /// the form carries this token, random per process and only ever sent inside our own page.
    /// </summary>
    private readonly string _formToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private WebApplication? _app;

    /// <summary>The last readiness answer, so a probe polled every few seconds logs changes, not every answer.</summary>
    private int _lastReady = -1;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.IsServed)
        {
            LogDisabled();
            return;
        }
        var address = IPAddress.Parse(settings.BindAddress);
        // The empty builder reads no configuration and no ASPNETCORE_ variables: the node's own sections decide.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddLogging();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 16 * 1024;
            k.Listen(address, settings.Port);
        });
        var app = builder.Build();
        app.MapGet("/health/live", (RequestDelegate)(context => WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject { ["status"] = "Healthy" })));
        app.MapGet("/health/ready", (RequestDelegate)ReadyAsync);
        app.MapGet("/", (RequestDelegate)PageAsync);
        app.MapGet("/previews/{id}/{name}", (RequestDelegate)PreviewAsync);
        app.MapPost("/exports/{itemId}/retry", (RequestDelegate)RetryAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            // Reported by serve as one "Configuration error:" line, like a DICOM port in use.
            throw new InvalidOperationException($"Status:Port {settings.Port} on {settings.BindAddress} cannot be used ({ex.Message}); choose another port, or 0 to turn the status page off.", ex);
        }
        _app = app;
        LogListening(new IPEndPoint(address, settings.Port).ToString());
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
        }
    }

    private async Task ReadyAsync(HttpContext context)
    {
        var report = await health.CheckHealthAsync(context.RequestAborted).ConfigureAwait(false);
        var checks = new JsonArray();
        var failing = new JsonArray();
        foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            checks.Add(new JsonObject { ["name"] = name, ["status"] = entry.Status.ToString(), ["description"] = entry.Description ?? entry.Exception?.Message });
            if (entry.Status != HealthStatus.Healthy)
            {
                failing.Add(name);
            }
        }
        // Degraded counts as not ready: a bus whose endpoints are still (re)connecting cannot take or hand out jobs.
        var ready = report.Status == HealthStatus.Healthy;
        if (Interlocked.Exchange(ref _lastReady, ready ? 1 : 0) != (ready ? 1 : 0))
        {
            if (ready)
            {
                LogReady();
            }
            else
            {
                LogNotReady(string.Join(", ", failing.Select(f => f!.GetValue<string>())));
            }
        }
        await WriteJsonAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
            new JsonObject { ["status"] = ready ? "Ready" : "NotReady", ["failing"] = failing, ["checks"] = checks }).ConfigureAwait(false);
    }

    private async Task PageAsync(HttpContext context)
    {
        var snapshot = reader.Read(options.Value.RecentStudies);
        var html = StatusPage.Render(snapshot, _formToken, string.Join(", ", dicom.Value.AllAeTitles()));
        SetPageHeaders(context.Response);
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html, Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task PreviewAsync(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string;
        var name = context.Request.RouteValues["name"] as string;
        if (!StudyIds.TryParse(id, out var study) || !StudyIds.IsPreviewName(name))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var path = Path.Combine(reader.ResultDirectory(study), name!);
        if (!File.Exists(path))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        context.Response.ContentType = "image/png";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        try
        {
            await context.Response.SendFileAsync(path, context.RequestAborted).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            // Retention removed the results between the check and the send.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }

    private async Task RetryAsync(HttpContext context)
    {
        var itemId = context.Request.RouteValues["itemId"] as string ?? "";
        if (!context.Request.HasFormContentType)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var token = form[StatusPage.TokenField].ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token), Encoding.ASCII.GetBytes(_formToken)))
        {
            LogRetryRefused();
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        // The queue refuses anything but one of its own ids, so the path value never reaches the file system unchecked.
        if (!await exports.RetryAsync(itemId, context.RequestAborted).ConfigureAwait(false))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        LogRetried(itemId);
        // Post/redirect/get: a reload of the page does not post the retry again.
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = "/";
    }

    private static void SetPageHeaders(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 3600, Level = LogLevel.Information, Message = "Status page and health endpoints on http://{EndPoint}/")]
    private partial void LogListening(string endPoint);

    [LoggerMessage(EventId = 3601, Level = LogLevel.Information, Message = "Status page and health endpoints are off (Status:Enabled false or Status:Port 0)")]
    private partial void LogDisabled();

    [LoggerMessage(EventId = 3602, Level = LogLevel.Warning, Message = "Readiness check failed: {Failing} (logged again when it changes)")]
    private partial void LogNotReady(string failing);

    [LoggerMessage(EventId = 3605, Level = LogLevel.Information, Message = "Readiness check passed")]
    private partial void LogReady();

    [LoggerMessage(EventId = 3603, Level = LogLevel.Information, Message = "Parked export item {ItemId} retried from the status page")]
    private partial void LogRetried(string itemId);

    [LoggerMessage(EventId = 3604, Level = LogLevel.Warning, Message = "A retry from the status page was refused: missing or wrong form token")]
    private partial void LogRetryRefused();
}
