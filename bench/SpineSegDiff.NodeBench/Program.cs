using System.CommandLine;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.NodeBench;

// spineseg-nodebench: study latency per profile and transport, and throughput with 1 and 2 workers, through real
// processes (Orthanc as the PACS, spineseg serve, RabbitMQ). See docs/benchmarks.md.
var profiles = new Option<string[]>("--profiles") { Description = "Inference profiles to time.", DefaultValueFactory = _ => ["fast", "paper"], AllowMultipleArgumentsPerToken = true };
var repeats = new Option<int>("--repeats") { Description = "Measured studies per profile and transport (after one warm-up study).", DefaultValueFactory = _ => 3 };
var studies = new Option<int>("--studies") { Description = "Studies sent at once for the throughput runs (0 skips them).", DefaultValueFactory = _ => 10 };
var transports = new Option<string[]>("--transports") { Description = "embedded and/or rabbitmq.", DefaultValueFactory = _ => ["embedded", "rabbitmq"], AllowMultipleArgumentsPerToken = true };
var throughputProfile = new Option<string>("--throughput-profile") { Description = "Profile of the throughput runs.", DefaultValueFactory = _ => "fast" };
var root = new RootCommand("Node benchmark: latency from the last instance stored to the last result acknowledged by Orthanc; throughput with 1 and 2 workers.")
{
    profiles, repeats, studies, transports, throughputProfile,
};
root.SetAction(async (parse, cancellationToken) =>
{
    var settings = new NodeBenchSettings(
        parse.GetValue(profiles)!, parse.GetValue(repeats), parse.GetValue(studies), parse.GetValue(transports)!, parse.GetValue(throughputProfile)!);
    if (settings.Validate() is { } error)
    {
        await Console.Error.WriteLineAsync(error);
        return 2;
    }
    using var temp = new TempDirectory("spineseg-nodebench");
    await new NodeBenchmark(settings, temp.Path).RunAsync(cancellationToken);
    return 0;
});
return await root.Parse(args).InvokeAsync();
