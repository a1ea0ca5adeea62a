using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// An OTLP/HTTP collector for tests (ASP.NET Core on loopback): accepts POST /v1/traces, /v1/metrics and /v1/logs
/// with application/x-protobuf, keeps every payload's bytes (the PHI checks search them) and decodes the spans with a
/// minimal protobuf reader (no protobuf package: only the fields the tests look at).
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Signal, byte[] Body)> _payloads = new();

    private OtlpReceiver(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The base address for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/{signal}).</summary>
    public string Endpoint { get; private set; } = string.Empty;

    public static async Task<OtlpReceiver> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            var input = request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(request.Body, CompressionMode.Decompress)
                : request.Body;
            await input.CopyToAsync(body, request.HttpContext.RequestAborted);
            receiver._payloads.Enqueue((signal, body.ToArray()));
            // An empty Export*ServiceResponse: full success.
            return Microsoft.AspNetCore.Http.Results.Bytes(Array.Empty<byte>(), "application/x-protobuf");
        });
        await app.StartAsync(cancellationToken);
        receiver.Endpoint = app.Urls.First();
        return receiver;
    }

    public IReadOnlyList<(string Signal, byte[] Body)> Payloads => _payloads.ToList();

    /// <summary>Whether any payload of any signal contains <paramref name="text"/> as UTF-8 (protobuf strings are raw UTF-8).</summary>
    public bool AnyPayloadContains(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return _payloads.Any(p => p.Body.AsSpan().IndexOf(needle) >= 0);
    }

    /// <summary>Every span received so far, with its service name.</summary>
    public IReadOnlyList<OtlpSpan> Spans()
    {
        var spans = new List<OtlpSpan>();
        foreach (var (signal, body) in _payloads)
        {
            if (signal != "traces")
            {
                continue;
            }
            foreach (var resourceSpans in Proto.Fields(body).Where(f => f.Number == 1))
            {
                var service = "";
                foreach (var field in Proto.Fields(resourceSpans.Bytes))
                {
                    if (field.Number == 1)
                    {
                        service = Proto.Attributes(field.Bytes, 1).GetValueOrDefault("service.name") as string ?? "";
                    }
                }
                foreach (var scopeSpans in Proto.Fields(resourceSpans.Bytes).Where(f => f.Number == 2))
                {
                    foreach (var span in Proto.Fields(scopeSpans.Bytes).Where(f => f.Number == 2))
                    {
                        spans.Add(OtlpSpan.Parse(service, span.Bytes));
                    }
                }
            }
        }
        return spans;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record OtlpEvent(string Name, IReadOnlyDictionary<string, object?> Attributes);

internal sealed record OtlpSpan(
    string Service, string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyDictionary<string, object?> Attributes, IReadOnlyList<OtlpEvent> Events)
{
    public static OtlpSpan Parse(string service, ReadOnlyMemory<byte> span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var events = new List<OtlpEvent>();
        foreach (var field in Proto.Fields(span))
        {
            switch (field.Number)
            {
                case 1: traceId = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 2: spanId = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 4: parent = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 5: name = Encoding.UTF8.GetString(field.Bytes.Span); break;
                case 11:
                    var eventName = Proto.Fields(field.Bytes).Where(f => f.Number == 2).Select(f => Encoding.UTF8.GetString(f.Bytes.Span)).FirstOrDefault() ?? "";
                    events.Add(new OtlpEvent(eventName, Proto.Attributes(field.Bytes, 3)));
                    break;
            }
        }
        return new OtlpSpan(service, traceId, spanId, parent, name, Proto.Attributes(span, 9), events);
    }

    public string? Tag(string key) => Attributes.GetValueOrDefault(key)?.ToString();
}

/// <summary>The protobuf wire format, as far as OTLP needs it here.</summary>
internal static class Proto
{
    public readonly record struct Field(int Number, int WireType, ulong Varint, ReadOnlyMemory<byte> Bytes);

    public static IEnumerable<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message.Span, ref position);
            var number = (int)(key >> 3);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    yield return new Field(number, wireType, ReadVarint(message.Span, ref position), default);
                    break;
                case 1:
                    yield return new Field(number, wireType, BitConverter.ToUInt64(message.Span.Slice(position, 8)), message.Slice(position, 8));
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message.Span, ref position);
                    yield return new Field(number, wireType, 0, message.Slice(position, length));
                    position += length;
                    break;
                case 5:
                    yield return new Field(number, wireType, BitConverter.ToUInt32(message.Span.Slice(position, 4)), message.Slice(position, 4));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wireType}.");
            }
        }
    }

    /// <summary>The KeyValue list (field <paramref name="fieldNumber"/>) of a message: strings, bools, ints, doubles.</summary>
    public static Dictionary<string, object?> Attributes(ReadOnlyMemory<byte> message, int fieldNumber)
    {
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var keyValue in Fields(message).Where(f => f.Number == fieldNumber && f.WireType == 2))
        {
            string? key = null;
            object? value = null;
            foreach (var part in Fields(keyValue.Bytes))
            {
                if (part.Number == 1)
                {
                    key = Encoding.UTF8.GetString(part.Bytes.Span);
                }
                else if (part.Number == 2)
                {
                    foreach (var any in Fields(part.Bytes))
                    {
                        value = any.Number switch
                        {
                            1 => Encoding.UTF8.GetString(any.Bytes.Span),
                            2 => any.Varint != 0,
                            3 => (long)any.Varint,
                            4 => BitConverter.Int64BitsToDouble((long)any.Varint),
                            _ => value,
                        };
                    }
                }
            }
            if (key is not null)
            {
                attributes[key] = value;
            }
        }
        return attributes;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = span[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw new InvalidDataException("Malformed varint.");
    }
}
