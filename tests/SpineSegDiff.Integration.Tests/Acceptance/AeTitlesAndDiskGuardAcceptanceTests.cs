using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Dicom.Tests.Part10;
using SpineSegDiff.Integration.Tests.Network;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>
/// dcmtk echoscu / storescu against our node configured with two AE titles, each with its own callers and SOP classes,
/// and against the free-disk guard: what a hospital's PACS would see.
/// </summary>
public sealed class AeTitlesAndDiskGuardAcceptanceTests(ITestOutputHelper output) : IDisposable
{
    private const int TestTimeout = 120_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private readonly TempDirectory _temp = new("spineseg-acceptance-aetitles");

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = TestTimeout)]
    public async Task Both_ae_titles_accept_a_study_and_each_stored_instance_records_the_title_it_came_to()
    {
        using var cts = new CancellationTokenSource(Bound);
        var files = WriteSeries("a", 3);
        var filesForFix = WriteSeries("b", 2);
        await using var node = await Node.StartAsync(_temp, output, minimumFreeMegabytes: 0);

        var toMain = await Tools.StorescuAsync(node.Port, "SEGNODE", files, callingAeTitle: "PACS", extraArguments: ["-v"], cancellationToken: cts.Token);
        var toFix = await Tools.StorescuAsync(node.Port, "SEGFIX", filesForFix, callingAeTitle: "READING1", extraArguments: ["-v"], cancellationToken: cts.Token);

        toMain.ExitCode.Should().Be(0, toMain.ToString());
        toFix.ExitCode.Should().Be(0, toFix.ToString());
        PeerLog.Count(toMain.Output, "Received Store Response (Success)").Should().Be(3, toMain.ToString());
        PeerLog.Count(toFix.Output, "Received Store Response (Success)").Should().Be(2, toFix.ToString());
        node.Stored.Select(s => s.Context.CalledAeTitle.Trim()).Should().BeEquivalentTo(["SEGNODE", "SEGNODE", "SEGNODE", "SEGFIX", "SEGFIX"]);
        node.Stored.Where(s => s.Context.CalledAeTitle.Trim() == "SEGFIX").Should().OnlyContain(s => s.Context.CallingAeTitle.Trim() == "READING1");
        node.Store.EnumerateInstanceFiles().Should().HaveCount(5);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task An_unknown_called_ae_title_is_rejected_permanently()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await Node.StartAsync(_temp, output, minimumFreeMegabytes: 0);

        var known = await Tools.EchoscuAsync(node.Port, "SEGNODE", callingAeTitle: "PACS", cancellationToken: cts.Token);
        var unknown = await Tools.EchoscuAsync(node.Port, "NOTSEGNODE", callingAeTitle: "PACS", cancellationToken: cts.Token);
        output.WriteLine(known.ToString());
        output.WriteLine(unknown.ToString());

        known.ExitCode.Should().Be(0, known.ToString());
        unknown.ExitCode.Should().NotBe(0);
        unknown.Output.Should().Contain("Result: Rejected Permanent, Source: Service User").And.Contain("Reason: Called AE Title Not Recognized");
        node.Server.ActiveAssociations.Should().Be(0);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_calling_ae_title_outside_a_titles_allow_list_is_rejected_while_the_other_title_accepts_it()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await Node.StartAsync(_temp, output, minimumFreeMegabytes: 0);

        var refused = await Tools.EchoscuAsync(node.Port, "SEGFIX", callingAeTitle: "PACS", cancellationToken: cts.Token);
        var allowedThere = await Tools.EchoscuAsync(node.Port, "SEGNODE", callingAeTitle: "PACS", cancellationToken: cts.Token);
        var allowedHere = await Tools.EchoscuAsync(node.Port, "SEGFIX", callingAeTitle: "READING1", cancellationToken: cts.Token);
        output.WriteLine(refused.ToString());

        refused.ExitCode.Should().NotBe(0);
        refused.Output.Should().Contain("Result: Rejected Permanent, Source: Service User").And.Contain("Reason: Calling AE Title Not Recognized");
        allowedThere.ExitCode.Should().Be(0, "SEGNODE allows any caller: " + allowedThere);
        allowedHere.ExitCode.Should().Be(0, allowedHere.ToString());
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_titles_own_sop_classes_apply_to_it_only()
    {
        using var cts = new CancellationTokenSource(Bound);
        var files = WriteSeries("c", 1);
        await using var node = await Node.StartAsync(_temp, output, minimumFreeMegabytes: 0);

        // ECHOONLY accepts Verification only: storescu finds no presentation context for MR and stores nothing there.
        var refused = await Tools.StorescuAsync(node.Port, "ECHOONLY", files, callingAeTitle: "PACS", cancellationToken: cts.Token);
        var accepted = await Tools.StorescuAsync(node.Port, "SEGNODE", files, callingAeTitle: "PACS", cancellationToken: cts.Token);
        output.WriteLine(refused.ToString());

        refused.ExitCode.Should().NotBe(0);
        accepted.ExitCode.Should().Be(0, accepted.ToString());
        node.Stored.Should().ContainSingle().Which.Context.CalledAeTitle.Trim().Should().Be("SEGNODE");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task With_less_free_disk_than_the_minimum_storescu_gets_a_transient_rejection_and_nothing_is_stored()
    {
        using var cts = new CancellationTokenSource(Bound);
        var files = WriteSeries("d", 2);
        // A petabyte: more than any test machine has free, measured by the real probe on the store's file system.
        await using var node = await Node.StartAsync(_temp, output, minimumFreeMegabytes: 1_000_000_000);

        var result = await Tools.StorescuAsync(node.Port, "SEGNODE", files, callingAeTitle: "PACS", extraArguments: ["-v"], cancellationToken: cts.Token);
        output.WriteLine(result.ToString());

        result.ExitCode.Should().NotBe(0);
        result.Output.Should().Contain("Result: Rejected Transient, Source: Service Provider (Presentation Related)")
            .And.Contain("Reason: Temporary Congestion");
        node.Stored.Should().BeEmpty();
        node.Store.EnumerateInstanceFiles().Should().BeEmpty();
        node.Log.Should().Contain(l => l.Contains("[1027]", StringComparison.Ordinal) && l.Contains("below the minimum of 1000000000 MB", StringComparison.Ordinal));

        // Our own SCU sees the same answer, and knows to retry later.
        var echo = new EchoScu(new DicomClientOptions { CallingAeTitle = "PACS", CalledAeTitle = "SEGNODE", Host = Tools.Loopback, Port = node.Port }, new TestOutputLoggerFactory(output));
        var rejected = (await FluentActions.Awaiting(() => echo.EchoAsync(cts.Token)).Should().ThrowAsync<DicomAssociationRejectedException>()).Which;
        rejected.IsTransient.Should().BeTrue();
        rejected.Reject.Should().Be(AssociationNegotiator.TemporaryCongestion);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task With_the_guard_at_a_reachable_minimum_the_same_store_is_accepted()
    {
        // The control for the test above: the same node and client, only the threshold differs.
        using var cts = new CancellationTokenSource(Bound);
        var files = WriteSeries("e", 2);
        await using var node = await Node.StartAsync(_temp, output, minimumFreeMegabytes: 1);

        var result = await Tools.StorescuAsync(node.Port, "SEGNODE", files, callingAeTitle: "PACS", cancellationToken: cts.Token);

        result.ExitCode.Should().Be(0, result.ToString());
        node.Stored.Should().HaveCount(2);
    }

    /// <summary>Small MR instances of one new series (our writer; UIDs fresh per call).</summary>
    private IReadOnlyList<string> WriteSeries(string name, int count)
    {
        var directory = _temp.Combine("series-" + name);
        Directory.CreateDirectory(directory);
        var study = DicomUids.Generate();
        var series = DicomUids.Generate();
        var paths = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var dataset = TestDatasets.MrImage(rows: 16, columns: 16);
            dataset.SetString(DicomTags.StudyInstanceUID, study);
            dataset.SetString(DicomTags.SeriesInstanceUID, series);
            dataset.SetString(DicomTags.SOPInstanceUID, DicomUids.Generate());
            dataset.SetIntegerString(DicomTags.InstanceNumber, i + 1);
            var path = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{i:D3}.dcm"));
            DicomFile.Create(dataset, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>
    /// Our server over an InstanceStore with three AE titles: SEGNODE (any caller), SEGFIX (only READING1) and
    /// ECHOONLY (Verification only).
    /// </summary>
    private sealed class Node : IStoredInstanceObserver, IAsyncDisposable
    {
        private readonly ConcurrentQueue<StoredInstance> _stored = new();
        private readonly ConcurrentQueue<string> _log = new();

        private Node()
        {
        }

        public InstanceStore Store { get; private set; } = null!;

        public DicomServer Server { get; private set; } = null!;

        public int Port => Server.LocalEndPoint.Port;

        public IReadOnlyList<StoredInstance> Stored => [.. _stored];

        public IReadOnlyList<string> Log => [.. _log];

        public static async Task<Node> StartAsync(TempDirectory temp, ITestOutputHelper output, long minimumFreeMegabytes)
        {
            var node = new Node();
            var loggers = new RecordingLoggerFactory(new TestOutputLoggerFactory(output, LogLevel.Information), node._log);
            node.Store = new InstanceStore(
                new InstanceStoreOptions { RootDirectory = temp.Combine("store-" + Guid.NewGuid().ToString("N")), FlushToDisk = false, MinimumFreeDiskMegabytes = minimumFreeMegabytes },
                loggers.CreateLogger<InstanceStore>(), node);
            node.Server = new DicomServer(TestServers.Options(o => o.AeTitles =
            [
                new CalledAeTitleOptions { AeTitle = "SEGNODE" },
                new CalledAeTitleOptions { AeTitle = "SEGFIX", AllowedCallingAeTitles = ["READING1"] },
                new CalledAeTitleOptions { AeTitle = "ECHOONLY", AcceptedSopClasses = [DicomUids.Verification] },
            ]), node.Store, loggers);
            await node.Server.StartAsync(CancellationToken.None);
            return node;
        }

        public void OnStored(StoredInstance instance) => _stored.Enqueue(instance);

        public async ValueTask DisposeAsync() => await Server.DisposeAsync();
    }

    /// <summary>Passes log lines on and keeps "[event id] message" of each, to assert on the disk guard's line.</summary>
    private sealed class RecordingLoggerFactory(ILoggerFactory inner, ConcurrentQueue<string> lines) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName), lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ILogger inner, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lines.Enqueue($"[{eventId.Id}] {formatter(state, exception)}");
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
