using System.Diagnostics;

namespace SpineSegDiff.Telemetry;

/// <summary>Small helpers shared by the services' instrumentation.</summary>
public static class ActivityExtensions
{
    /// <summary>
    /// Records an audit event on <paramref name="activity"/> (a span event named audit.{name}); a no-op when nobody
    /// listens, so instrumented code never checks for a listener itself.
    /// </summary>
    public static void Audit(this Activity? activity, string name, params ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (activity is null)
        {
            return;
        }
        var collection = new ActivityTagsCollection();
        foreach (var tag in tags)
        {
            collection[tag.Key] = tag.Value;
        }
        activity.AddEvent(new ActivityEvent(TelemetryNames.AuditPrefix + name, tags: collection));
    }

    /// <summary>Marks a span failed with the exception's type (its message may quote data, so only the type).</summary>
    public static void Failed(this Activity? activity, string description) => activity?.SetStatus(ActivityStatusCode.Error, description);

    /// <summary>
    /// A finished child span with explicit start and end: for stages measured inside the pipeline (StageTimings),
    /// which are laid end to end from <paramref name="start"/>, since the pipeline itself knows nothing of tracing.
    /// </summary>
    public static DateTimeOffset RecordSpan(this ActivitySource source, string name, DateTimeOffset start, TimeSpan duration, ActivityContext parent,
        params ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // A span started from an explicit parent context has no parent object, so stopping it would clear the
        // ambient span instead of restoring it: the caller's current span is put back by hand.
        var previous = Activity.Current;
        try
        {
            using var activity = source.StartActivity(name, ActivityKind.Internal, parent, startTime: start);
            if (activity is not null)
            {
                foreach (var tag in tags)
                {
                    activity.SetTag(tag.Key, tag.Value);
                }
                activity.SetEndTime((start + duration).UtcDateTime);
            }
        }
        finally
        {
            Activity.Current = previous;
        }
        return start + duration;
    }
}
