using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Gateway.Jobs;
using SpineSegDiff.Gateway.Status;
using SpineSegDiff.Gateway.Tests.Support;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Gateway.Tests.Status;

public sealed class StatusOptionsTests
{
    [Fact]
    public void The_defaults_serve_on_the_loopback_port_8080()
    {
        var options = new StatusOptions();
        options.Validate().Should().BeEmpty();
        options.IsServed.Should().BeTrue();
        options.BindAddress.Should().Be("127.0.0.1");
        options.Port.Should().Be(8080);
    }

    [Theory]
    [InlineData("localhost", 8080, 50, "Status:BindAddress")]
    [InlineData("", 8080, 50, "Status:BindAddress")]
    [InlineData("127.0.0.1", -1, 50, "Status:Port")]
    [InlineData("127.0.0.1", 65536, 50, "Status:Port")]
    [InlineData("::1", 8080, 0, "Status:RecentStudies")]
    [InlineData("0.0.0.0", 8080, 1001, "Status:RecentStudies")]
    public void Invalid_settings_are_named(string bindAddress, int port, int recent, string key)
    {
        var errors = new StatusOptions { BindAddress = bindAddress, Port = port, RecentStudies = recent }.Validate();
        errors.Should().ContainSingle().Which.Should().StartWith(key);
    }

    [Fact]
    public void Port_0_or_Enabled_false_turn_the_listener_off()
    {
        new StatusOptions { Port = 0 }.Validate().Should().BeEmpty();
        new StatusOptions { Port = 0 }.IsServed.Should().BeFalse();
        new StatusOptions { Enabled = false }.IsServed.Should().BeFalse();
    }
}

public sealed class StudyIdsTests
{
    [Fact]
    public void Our_folder_form_of_a_guid_is_accepted()
    {
        var id = Guid.NewGuid();
        StudyIds.TryParse(StudyIds.Format(id), out var parsed).Should().BeTrue();
        parsed.Should().Be(id);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("00000000000000000000000000000000")]
    [InlineData("0123456789ABCDEF0123456789abcdef")]
    [InlineData("01234567-89ab-cdef-0123-456789abcdef")]
    [InlineData("{0123456789abcdef0123456789abcdef}")]
    [InlineData("0123456789abcdef0123456789abcde")]
    [InlineData("0123456789abcdef0123456789abcdef0")]
    [InlineData("0123456789abcdef0123456789abcdef\n")]
    [InlineData("..")]
    [InlineData("../../etc/passwd")]
    [InlineData("0123456789abcdef0123456789abcd/f")]
    [InlineData("1.2.840.113619.2.55.3.604688119.969.1268071029.320")]
    public void Anything_else_is_refused(string? text)
    {
        StudyIds.TryParse(text, out var parsed).Should().BeFalse();
        parsed.Should().Be(Guid.Empty);
    }

    [Theory]
    [InlineData("overlay.png", true)]
    [InlineData("uncertainty.png", true)]
    [InlineData("summary.json", false)]
    [InlineData("Overlay.png", false)]
    [InlineData("../overlay.png", false)]
    [InlineData(null, false)]
    public void Only_the_two_preview_pictures_are_served(string? name, bool served) => StudyIds.IsPreviewName(name).Should().Be(served);
}

/// <summary>The snapshot over a real journal, results folder and export queue, and the page rendered from it.</summary>
public sealed class StatusReaderTests : IDisposable
{
    private const string PatientName = "DOE^JANE";
    private const string StudyUid = "1.2.826.0.1.3680043.8.498.111";

    private readonly TempDirectory _temp = new("spineseg-status");
    private readonly JobJournal _journal;
    private readonly ExportQueue _queue;

    public StatusReaderTests()
    {
        _journal = new JobJournal(_temp.Combine("store"), NullLogger<JobJournal>.Instance);
        _queue = new ExportQueue(ExportTestOptions.Create(_temp.Combine("store", "exports"), ExportTestOptions.Folder("archive", _temp.Combine("archive"))),
            NullLogger<ExportQueue>.Instance);
    }

    public void Dispose()
    {
        _queue.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Each_study_gets_its_state_timings_models_and_previews_and_the_page_shows_no_patient_data()
    {
        var segmenting = Job();
        var exported = Job();
        var exporting = Job();
        var parked = Job();
        var failed = Job();
        await _journal.RecordAsync(segmenting, CancellationToken.None);
        await _journal.RecordAsync(failed, CancellationToken.None);
        await _journal.RecordFailureAsync(new SegmentationFailed(failed.CorrelationId, StudyUid, StudyUid + ".1", "UnsupportedSeries", "pixel data is cut short", DateTimeOffset.UtcNow), CancellationToken.None);
        _journal.Complete(failed.CorrelationId);
        foreach (var job in new[] { exported, exporting, parked })
        {
            WriteResults(job.CorrelationId);
        }
        var file = _temp.Combine("result.dcm");
        await File.WriteAllBytesAsync(file, [1, 2, 3]);
        await _queue.EnqueueAsync("archive", exporting.CorrelationId.ToString(), [file], CancellationToken.None);
        var toPark = await _queue.EnqueueAsync("archive", parked.CorrelationId.ToString(), [file], CancellationToken.None);
        await _queue.ParkAsync(toPark.Id, ExportFailure.Permanent("C-STORE status 0xA900"), 1, CancellationToken.None);

        var snapshot = new StatusReader(_temp.Combine("store"), _journal, _queue, assembler: null).Read(50);

        var states = snapshot.Studies.ToDictionary(s => s.Id, s => s.State);
        states.Should().BeEquivalentTo(new Dictionary<Guid, StudyState>
        {
            [segmenting.CorrelationId] = StudyState.Segmenting,
            [exported.CorrelationId] = StudyState.Exported,
            [exporting.CorrelationId] = StudyState.Exporting,
            [parked.CorrelationId] = StudyState.Parked,
            [failed.CorrelationId] = StudyState.Failed,
        });
        var done = snapshot.Studies.Single(s => s.Id == exported.CorrelationId);
        done.StageSeconds.Should().Equal(new List<KeyValuePair<string, double>> { KeyValuePair.Create("presegmentation", 2.5), KeyValuePair.Create("denoiser", 6.25) }, "the denoiser step count is not a time");
        done.ModelVersions.Should().ContainKey("spinesegdiff").WhoseValue.Should().Be("1.2.0");
        done.Previews.Should().Equal("overlay.png", "uncertainty.png");
        snapshot.Studies.Single(s => s.Id == failed.CorrelationId).Detail.Should().Be("UnsupportedSeries: pixel data is cut short");
        snapshot.Studies.Single(s => s.Id == failed.CorrelationId).Rule.Should().Be("sag-t2", "taken from the journal before the job was completed");
        snapshot.Queues.Should().Be(new QueueDepths(0, 1, 1, 1));
        snapshot.Parked.Should().ContainSingle().Which.StudyId.Should().Be(parked.CorrelationId);

        var html = StatusPage.Render(snapshot, "tok123", "SEGNODE");
        html.Should().Contain($"data-study=\"{StudyIds.Format(exported.CorrelationId)}\" data-state=\"exported\"");
        html.Should().Contain($"src=\"/previews/{StudyIds.Format(exported.CorrelationId)}/overlay.png\"");
        html.Should().Contain($"action=\"/exports/{toPark.Id}/retry\"").And.Contain("name=\"token\" value=\"tok123\"");
        html.Should().NotContain(PatientName).And.NotContain(StudyUid, "the page names studies by our correlation ids only");
        html.Should().NotContain("<script", "the page runs no scripts");
    }

    [Fact]
    public async Task Text_from_files_is_html_encoded()
    {
        var failed = Job();
        await _journal.RecordAsync(failed, CancellationToken.None);
        await _journal.RecordFailureAsync(new SegmentationFailed(failed.CorrelationId, StudyUid, StudyUid, "UnsupportedSeries", "<img src=x onerror=alert(1)>", DateTimeOffset.UtcNow), CancellationToken.None);

        var html = StatusPage.Render(new StatusReader(_temp.Combine("store"), _journal, _queue, assembler: null).Read(50), "t", "<b>");

        html.Should().NotContain("<img src=x").And.Contain("&lt;img src=x onerror=alert(1)&gt;").And.NotContain("<b>");
    }

    [Fact]
    public void Folders_that_are_not_ours_and_unfinished_results_are_skipped()
    {
        Directory.CreateDirectory(_temp.Combine("store", "results", "1.2.3.4"));
        Directory.CreateDirectory(_temp.Combine("store", "results", Guid.NewGuid().ToString("N")));

        new StatusReader(_temp.Combine("store"), _journal, _queue, assembler: null).Read(50).Studies.Should().BeEmpty();
    }

    private static SegmentationRequested Job() => new(
        Guid.NewGuid(), StudyUid, StudyUid + ".1", ["instances/a.dcm"], "sag-t2", "fast", ["archive"], "PACS", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

    private void WriteResults(Guid id)
    {
        var directory = _temp.Combine("store", "results", id.ToString("N"));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "summary.json"), """
            {"source":{"sopInstanceUid":"1.2.3"},"profile":{"name":"fast"},"models":{"spinesegdiff":"1.2.0","presegmentation":"1.0.0"},
             "timingsSeconds":{"presegmentation":2.5,"denoiser":6.25,"denoiserSteps":3,"total":8.75}}
            """);
        File.WriteAllBytes(Path.Combine(directory, "overlay.png"), [0x89, 0x50]);
        File.WriteAllBytes(Path.Combine(directory, "uncertainty.png"), [0x89, 0x50]);
    }
}
