using MassTransit;

namespace SpineSegDiff.Worker;

/// <summary>
/// One job per slot: the broker hands this process only as many jobs as it runs (prefetch = concurrency), so other
/// workers on the same queue get the rest (competing consumers). Unexpected errors are retried a few times in
/// place (no delayed redelivery: the broker has no delayed-exchange plugin), then the job goes to the _error queue.
/// </summary>
public sealed class SegmentationJobConsumerDefinition : ConsumerDefinition<SegmentationJobConsumer>
{
    /// <summary>The workers' shared queue (competing consumers); its failed jobs go to segmentation-jobs_error.</summary>
    public const string QueueName = "segmentation-jobs";

    private readonly WorkerOptions _options;

    public SegmentationJobConsumerDefinition(WorkerOptions options)
    {
        _options = options;
        EndpointName = QueueName;
        ConcurrentMessageLimit = options.ConcurrentJobs;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SegmentationJobConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.ConcurrentJobs;
        endpointConfigurator.UseMessageRetry(r => r.Interval(_options.RetryLimit, TimeSpan.FromSeconds(5)));
    }
}
