using System.Globalization;
using System.Text.Json.Nodes;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// deploy/: images cannot be pulled on the build machine, so the compose file is checked against the node instead:
/// its wiring (commands, ports, volumes, the PACS's view of the node and the node's view of the PACS) is parsed and
/// compared with deploy/node.json and the node's own configuration keys, and a gateway and a worker are started with
/// deploy/node.json on a real RabbitMQ, so every value in it is one the node validates and accepts.
/// </summary>
public sealed class DeploymentTests(ITestOutputHelper output)
{
    private const string ConfigInContainer = "/etc/spineseg/node.json";
    private const string StoreVolumeTarget = "/var/lib/spineseg";

    private static string Deploy(params string[] parts) => Path.Combine([FixtureGenerator.RepositoryRoot(), "deploy", .. parts]);

    [Fact(Timeout = 60_000)]
    public async Task The_compose_file_wires_PACS_gateway_workers_broker_and_telemetry_as_the_node_configuration_says()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var compose = await ReadComposeAsync(cts.Token);
        var node = NodeScenario.ReadConfiguration(Deploy("node.json"));
        var orthanc = NodeScenario.ReadConfiguration(Deploy("orthanc", "orthanc.json"));
        var services = compose["services"]!.AsObject();
        services.Select(s => s.Key).Should().BeEquivalentTo(["rabbitmq", "orthanc", "gateway", "worker", "otel-collector", "jaeger"]);

        var gateway = services["gateway"]!;
        var worker = services["worker"]!;
        Strings(gateway["command"]).Should().Equal("serve", "--role", "gateway", "--config", ConfigInContainer);
        Strings(worker["command"]).Should().Equal("serve", "--role", "worker", "--config", ConfigInContainer);
        foreach (var service in new[] { gateway, worker })
        {
            var volumes = Strings(service["volumes"]);
            volumes.Should().Contain($"store:{StoreVolumeTarget}", "gateway and workers share one store: messages carry store-relative paths");
            volumes.Should().Contain($"./node.json:{ConfigInContainer}:ro");
            service["environment"]!["OTEL_EXPORTER_OTLP_ENDPOINT"]!.GetValue<string>().Should().Be("http://otel-collector:4318");
            service["depends_on"]!["rabbitmq"]!["condition"]!.GetValue<string>().Should().Be("service_healthy");
        }
        node["Storage"]!["RootDirectory"]!.GetValue<string>().Should().StartWith(StoreVolumeTarget + "/", "the store lives on the volume");
        worker["ports"].Should().BeNull("workers only talk to the broker and the store");
        worker["deploy"]!["replicas"]!.GetValue<int>().Should().BeGreaterThan(1);

        // The gateway publishes the DICOM port the node listens on, and the PACS sends there, to the node's AE title.
        var dicomPort = node["Dicom"]!["Port"]!.GetValue<int>();
        var nodeTitle = node["Dicom"]!["AeTitles"]![0]!;
        var statusPort = node["Status"]!["Port"]!.GetValue<int>();
        Strings(gateway["ports"]).Should().Equal([$"{dicomPort}:{dicomPort}", $"127.0.0.1:{statusPort}:{statusPort}"], "the status page has no login: host loopback only");
        var modality = orthanc["DicomModalities"]!["SEGNODE"]!.AsArray();
        modality[0]!.GetValue<string>().Should().Be(nodeTitle["AeTitle"]!.GetValue<string>());
        modality[1]!.GetValue<string>().Should().Be("gateway");
        modality[2]!.GetValue<int>().Should().Be(dicomPort);
        Strings(nodeTitle["AllowedCallingAeTitles"]).Should().Contain(orthanc["DicomAet"]!.GetValue<string>(), "the node accepts the PACS");
        Strings(gateway["healthcheck"]!["test"]).Should().Equal("CMD", "curl", "-fsS", $"http://127.0.0.1:{statusPort}/health/ready");

        // The node sends results to the PACS's DICOM port and AE title, and reaches the broker by its service name.
        var pacs = node["Export"]!["Destinations"]!.AsArray().Single(d => d!["Name"]!.GetValue<string>() == "hospital-pacs")!;
        pacs["Host"]!.GetValue<string>().Should().Be("orthanc");
        pacs["Port"]!.GetValue<int>().Should().Be(orthanc["DicomPort"]!.GetValue<int>());
        pacs["CalledAeTitle"]!.GetValue<string>().Should().Be(orthanc["DicomAet"]!.GetValue<string>());
        Strings(services["orthanc"]!["ports"]).Should().Contain($"{orthanc["DicomPort"]}:{orthanc["DicomPort"]}");
        node["Bus"]!["Transport"]!.GetValue<string>().Should().Be("RabbitMq");
        node["Bus"]!["RabbitMq"]!["Host"]!.GetValue<string>().Should().Be("rabbitmq");
        Strings(services["orthanc"]!["volumes"]).Should().Contain("./orthanc/route-to-node.lua:/etc/orthanc/route-to-node.lua:ro");
        Strings(orthanc["LuaScripts"]).Should().Equal("/etc/orthanc/route-to-node.lua");
        (await File.ReadAllTextAsync(Deploy("orthanc", "route-to-node.lua"), cts.Token)).Should().Contain("SendToModality(seriesId, 'SEGNODE')");

        // Every file a service mounts from deploy/ exists.
        foreach (var (name, service) in services)
        {
            foreach (var volume in Strings(service!["volumes"]).Where(v => v.StartsWith("./", StringComparison.Ordinal)))
            {
                File.Exists(Deploy(volume[2..volume.IndexOf(':', StringComparison.Ordinal)])).Should().BeTrue($"{name} mounts {volume}");
            }
        }
        // The image the compose file builds runs the script CI runs, and the program the commands name.
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(FixtureGenerator.RepositoryRoot(), "Dockerfile"), cts.Token);
        dockerfile.Should().Contain("bash scripts/build-node.sh /app").And.Contain("ENTRYPOINT [\"dotnet\", \"/app/spineseg.dll\"]")
            .And.Contain("curl", "the health check runs curl in the image");
    }

    [Fact]
    public void Every_key_of_the_deployment_configuration_is_one_the_node_documents()
    {
        var known = Keys(NodeScenario.ReadConfiguration(Path.Combine(FixtureGenerator.RepositoryRoot(), "src", "SpineSegDiff.Cli", "appsettings.json")))
            .Concat(Keys(NodeScenario.ReadConfiguration(NodeScenario.ExampleConfigurationPath)))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        // The binder ignores a key it does not know: a typo would silently leave the default in place.
        Keys(NodeScenario.ReadConfiguration(Deploy("node.json"))).Where(k => !known.Contains(k)).Should().BeEmpty("every key in deploy/node.json is in appsettings.json or config/node.example.json");
    }

    [Fact(Timeout = 240_000)]
    public async Task A_gateway_and_a_worker_start_with_the_deployment_configuration_on_RabbitMQ_and_stop_cleanly()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var temp = new TempDirectory("spineseg-deploy-config");
        await using var broker = await RabbitMqBroker.StartAsync(cancellationToken: cts.Token);
        // Only what differs between a container and this test: where the broker, the store and the port are.
        var environment = new Dictionary<string, string>
        {
            ["SPINESEG_Bus__RabbitMq__Host"] = broker.Host,
            ["SPINESEG_Bus__RabbitMq__Port"] = broker.AmqpPort.ToString(CultureInfo.InvariantCulture),
            ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback,
        };
        var store = temp.Combine("store");
        await using var gateway = CliProcess.Start(["serve", "--role", "gateway", "--config", Deploy("node.json"), "--storage", store, "--port", CliProcess.Port(FreePort.Get())], environment);
        await using var worker = CliProcess.Start(["serve", "--role", "worker", "--config", Deploy("node.json"), "--storage", store], environment);
        foreach (var process in new[] { gateway, worker })
        {
            while (!process.HasExited && !process.StandardOutput.Contains("Ready.", StringComparison.Ordinal))
            {
                await Task.Delay(100, cts.Token);
            }
            output.WriteLine(process.CombinedOutput);
            process.HasExited.Should().BeFalse("deploy/node.json is a valid configuration: " + process.CombinedOutput);
        }
        foreach (var process in new[] { worker, gateway })
        {
            var kill = await ExternalProcess.RunAsync(Tools.Find("kill"), ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), cts.Token);
            kill.ExitCode.Should().Be(0);
            await process.WaitForExitAsync(cts.Token);
            process.ExitCode.Should().Be(0, process.CombinedOutput);
        }
    }

    private static async Task<JsonObject> ReadComposeAsync(CancellationToken cancellationToken)
    {
        // PyYAML (Debian's python3-yaml) as the independent reader: the same parser family docker compose's files are written for.
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : Tools.Find("python3");
        var read = await ExternalProcess.RunAsync(
            python, ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", Deploy("docker-compose.yml")], TimeSpan.FromSeconds(30), cancellationToken);
        read.ExitCode.Should().Be(0, read.ToString());
        return JsonNode.Parse(read.StandardOutput)!.AsObject();
    }

    private static List<string> Strings(JsonNode? node) => node?.AsArray().Select(n => n!.ToString()).ToList() ?? [];

    /// <summary>Configuration keys as the binder sees them, with array positions left out (Dicom:AeTitles:AeTitle).</summary>
    private static IEnumerable<string> Keys(JsonNode? node, string prefix = "")
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    var path = prefix.Length == 0 ? key : prefix + ":" + key;
                    var children = Keys(value, path).ToList();
                    if (children.Count == 0)
                    {
                        yield return path;
                    }
                    foreach (var child in children)
                    {
                        yield return child;
                    }
                }
                break;
            case JsonArray array:
                foreach (var child in array.SelectMany(item => Keys(item, prefix)))
                {
                    yield return child;
                }
                break;
        }
    }
}
