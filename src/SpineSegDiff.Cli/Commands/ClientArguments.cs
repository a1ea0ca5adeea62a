using System.CommandLine;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Cli.Commands;

/// <summary>The peer options every SCU command takes, in one place so they read the same everywhere.</summary>
internal sealed class ClientArguments
{
    public Option<string> Host { get; } = new("--host") { Description = "Host name or address of the peer.", Required = true };
    public Option<int> Port { get; } = new("--port") { Description = "TCP port of the peer.", Required = true };
    public Option<string> CalledAet { get; } = new("--called-aet") { Description = "AE title of the peer.", Required = true };
    public Option<string> CallingAet { get; } = new("--calling-aet") { Description = "Our AE title.", DefaultValueFactory = _ => "SPINESEG" };
    public Option<int> TimeoutSeconds { get; } = new("--timeout") { Description = "Connect and response timeout in seconds.", DefaultValueFactory = _ => 30 };

    public void AddTo(Command command)
    {
        command.Options.Add(Host);
        command.Options.Add(Port);
        command.Options.Add(CalledAet);
        command.Options.Add(CallingAet);
        command.Options.Add(TimeoutSeconds);
    }

    /// <summary>Builds validated client options; returns the validation errors instead when there are any.</summary>
    public DicomClientOptions Bind(ParseResult parse, out IReadOnlyList<string> errors)
    {
        var timeout = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(TimeoutSeconds)));
        var options = new DicomClientOptions
        {
            Host = parse.GetValue(Host)!,
            Port = parse.GetValue(Port),
            CalledAeTitle = parse.GetValue(CalledAet)!,
            CallingAeTitle = parse.GetValue(CallingAet)!,
            ConnectTimeout = timeout,
            ArtimTimeout = timeout,
            DimseTimeout = timeout,
        };
        errors = options.Validate();
        return options;
    }
}
