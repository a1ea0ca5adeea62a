using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Gateway.Tests.Support;

namespace SpineSegDiff.Gateway.Tests;

public sealed class ExportOptionsTests
{
    private static ExportOptions Valid() =>
        ExportTestOptions.Create("/tmp/spineseg-export-queue", ExportTestOptions.Dicom("pacs", 11112), ExportTestOptions.Folder("local", "/tmp/spineseg-export-out"));

    [Fact]
    public void Defaults_with_a_dicom_and_a_folder_destination_are_valid()
    {
        new ExportOptions().Validate().Should().BeEmpty();
        Valid().Validate().Should().BeEmpty();
        var defaults = new ExportOptions();
        defaults.MaxPendingAge.Should().Be(TimeSpan.FromHours(24));
        defaults.QueueDirectory.Should().Be(Path.Combine("storage", "exports"));
    }

    [Fact]
    public void A_port_outside_the_range_names_its_key()
    {
        var options = Valid();
        options.Destinations[0].Port = 0;
        options.Validate().Should().ContainSingle().Which.Should().StartWith("Export:Destinations:0:Port must be 1-65535");
    }

    [Fact]
    public void A_dicom_destination_without_a_port_is_refused_rather_than_guessed()
    {
        var options = Valid();
        options.Destinations[0].Port = null;
        options.Validate().Should().ContainSingle().Which.Should().StartWith("Export:Destinations:0:Port is required for a Dicom destination");
        options.Destinations[0].Kind = "Folder";
        options.Destinations[0].Path = "/tmp/spineseg-export-out-2";
        options.Validate().Should().BeEmpty("a folder destination has no port");
    }

    [Fact]
    public void An_unknown_kind_is_reported_not_thrown()
    {
        var options = Valid();
        options.Destinations[1].Kind = "Smtp";
        options.Validate().Should().ContainSingle().Which.Should().Be("Export:Destinations:1:Kind 'Smtp' is unknown; use Dicom or Folder.");
        options.Destinations[1].Kind = "1";
        options.Validate().Should().ContainSingle().Which.Should().Contain("Kind '1' is unknown");
    }

    [Fact]
    public void Kind_is_case_insensitive()
    {
        var options = Valid();
        options.Destinations[0].Kind = "dicom";
        options.Destinations[1].Kind = "FOLDER";
        options.Validate().Should().BeEmpty();
        options.Destinations[1].ParsedKind.Should().Be(ExportDestinationKind.Folder);
    }

    [Fact]
    public void Duplicate_names_are_refused_case_insensitively()
    {
        var options = Valid();
        options.Destinations[1].Name = "PACS";
        options.Validate().Should().ContainSingle().Which.Should().Contain("Export:Destinations:1:Name 'PACS' is used by another destination");
    }

    [Fact]
    public void A_folder_destination_needs_a_path_outside_the_queue()
    {
        var options = Valid();
        options.Destinations[1].Path = null;
        options.Validate().Should().ContainSingle().Which.Should().StartWith("Export:Destinations:1:Path is missing");
        options.Destinations[1].Path = Path.Combine(options.QueueDirectory, "out");
        options.Validate().Should().ContainSingle().Which.Should().Contain("must not overlap the export queue directory");
    }

    [Fact]
    public void Dicom_destination_fields_are_checked()
    {
        var options = Valid();
        var d = options.Destinations[0];
        d.Host = " ";
        d.CalledAeTitle = "A_TITLE_THAT_IS_FAR_TOO_LONG";
        d.MaxPduLength = 100;
        d.DimseTimeout = TimeSpan.Zero;
        d.Name = "";
        var errors = options.Validate();
        errors.Should().Contain(e => e.StartsWith("Export:Destinations:0:Host is empty", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Export:Destinations:0:CalledAeTitle", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Export:Destinations:0:MaxPduLength must be 4096-16777216", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Export:Destinations:0:DimseTimeout", StringComparison.Ordinal));
        errors.Should().Contain("Export:Destinations:0:Name is empty.");
    }

    [Fact]
    public void Retry_and_circuit_breaker_bounds_are_checked()
    {
        var options = Valid();
        options.Retry.AttemptsPerRound = 0;
        options.Retry.MaxDelay = TimeSpan.Zero;
        options.Retry.BaseDelay = TimeSpan.FromSeconds(1);
        options.CircuitBreaker.FailureRatio = 0;
        options.CircuitBreaker.MinimumThroughput = 1;
        options.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(100);
        options.MaxPendingAge = TimeSpan.Zero;
        var errors = options.Validate();
        errors.Should().Contain(e => e.StartsWith("Export:Retry:AttemptsPerRound must be 1-100", StringComparison.Ordinal));
        errors.Should().Contain("Export:Retry:MaxDelay must not be shorter than BaseDelay.");
        errors.Should().Contain(e => e.StartsWith("Export:CircuitBreaker:FailureRatio", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Export:CircuitBreaker:MinimumThroughput must be at least 2", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Export:CircuitBreaker:BreakDuration", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Export:MaxPendingAge", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_with_a_bad_export_section_does_not_start()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Export:QueueDirectory"] = Path.Combine(Path.GetTempPath(), "spineseg-export-never-created"),
            ["Export:Destinations:0:Name"] = "pacs",
            ["Export:Destinations:0:Kind"] = "Dicom",
            ["Export:Destinations:0:Port"] = "0",
        }).Build();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddExport(configuration);
        using var host = builder.Build();
        var failure = await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>();
        failure.Which.Message.Should().Contain("Export:Destinations:0:Port must be 1-65535");
    }
}
