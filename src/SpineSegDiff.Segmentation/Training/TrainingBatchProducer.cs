using System.Threading.Channels;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// Renders training slice number <paramref name="sampleSeed"/> into the given image and label buffers and returns
/// the SPIDER patient whose anatomy it shows.
/// </summary>
public delegate int TrainingSliceRenderer(long sampleSeed, Span<float> image, Span<byte> labels);

/// <summary>
/// Renders the batches of the coming steps on a background thread while the network trains on the current one.
/// Sample i of step s is rendered from seed hash(runSeed, s, i) alone, so a resumed run sees exactly the batches an
/// uninterrupted run would have, whatever the threading. A fixed pool of buffers bounds memory.
/// </summary>
public sealed class TrainingBatchProducer : IAsyncDisposable
{
    private readonly Channel<TrainingBatch> _ready;
    private readonly Channel<TrainingBatch> _free;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;

    public TrainingBatchProducer(TrainingSliceRenderer renderer, int runSeed, int firstStep, int lastStep, int batchSize, int height, int width, int prefetch = 2)
    {
        ArgumentNullException.ThrowIfNull(renderer);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefetch, 1);
        _ready = Channel.CreateBounded<TrainingBatch>(prefetch);
        _free = Channel.CreateUnbounded<TrainingBatch>();
        for (var i = 0; i < prefetch + 1; i++)
        {
            _free.Writer.TryWrite(new TrainingBatch(batchSize, height, width));
        }
        _worker = Task.Factory.StartNew(
            () => RenderAllAsync(renderer, runSeed, firstStep, lastStep, _stop.Token),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>The seed of one sample: a SplitMix64-style mix, so neighbouring steps get unrelated streams.</summary>
    public static long SampleSeed(int runSeed, int step, int index)
    {
        var z = unchecked(((ulong)(uint)runSeed << 32) ^ ((ulong)(uint)step * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)index * 0xBF58476D1CE4E5B9UL));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (long)((z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFFUL);
    }

    /// <summary>The next batch, in step order. Hand it back with <see cref="Return"/> when the step is done.</summary>
    public async ValueTask<TrainingBatch> NextAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex) when (ex.InnerException is not null)
        {
            throw new InvalidOperationException("Rendering training data failed: " + ex.InnerException.Message, ex.InnerException);
        }
    }

    public void Return(TrainingBatch batch) => _free.Writer.TryWrite(batch);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _worker.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected: we stopped it.
        }
        _stop.Dispose();
    }

    private async Task RenderAllAsync(TrainingSliceRenderer renderer, int runSeed, int firstStep, int lastStep, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            for (var step = firstStep; step < lastStep; step++)
            {
                var batch = await _free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                batch.Step = step;
                for (var i = 0; i < batch.BatchSize; i++)
                {
                    batch.Patients[i] = renderer(SampleSeed(runSeed, step, i), batch.Image(i), batch.LabelMap(i));
                }
                await _ready.Writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            _ready.Writer.TryComplete(failure);
        }
    }
}
