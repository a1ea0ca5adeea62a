namespace SpineSegDiff.Cli.Hosting;

/// <summary>The message bus (section "Bus"): in-memory inside one process (the embedded default) or RabbitMQ.</summary>
public sealed class BusOptions
{
    public const string InMemoryTransport = "InMemory";
    public const string RabbitMqTransport = "RabbitMq";

    public string Transport { get; set; } = InMemoryTransport;

    public RabbitMqOptions RabbitMq { get; set; } = new();

    public IReadOnlyList<string> Validate(NodeRole role)
    {
        var errors = new List<string>();
        if (!string.Equals(Transport, InMemoryTransport, StringComparison.OrdinalIgnoreCase) && !string.Equals(Transport, RabbitMqTransport, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Bus:Transport must be {InMemoryTransport} or {RabbitMqTransport} (got '{Transport}').");
        }
        else if (role != NodeRole.All && IsInMemory)
        {
            errors.Add($"--role {role.ToString().ToLowerInvariant()} runs part of the node in this process: the other part can only be reached through RabbitMQ (Bus:Transport = {RabbitMqTransport}).");
        }
        if (!IsInMemory)
        {
            if (string.IsNullOrWhiteSpace(RabbitMq.Host))
            {
                errors.Add("Bus:RabbitMq:Host is required.");
            }
            if (RabbitMq.Port is < 1 or > 65535)
            {
                errors.Add($"Bus:RabbitMq:Port must be 1-65535 (got {RabbitMq.Port}).");
            }
        }
        return errors;
    }

    public bool IsInMemory => string.Equals(Transport, InMemoryTransport, StringComparison.OrdinalIgnoreCase);
}

public sealed class RabbitMqOptions
{
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 5672;

    public string VirtualHost { get; set; } = "/";

    public string Username { get; set; } = "guest";

    public string Password { get; set; } = "guest";
}

/// <summary>Which services this process runs.</summary>
public enum NodeRole
{
    /// <summary>Gateway (SCP, assembly, routing, export) and worker together.</summary>
    All,

    /// <summary>SCP, series assembly, routing and export; jobs go to workers over RabbitMQ.</summary>
    Gateway,

    /// <summary>Segmentation jobs only.</summary>
    Worker,
}
