using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// A request whose dataset is arriving. For an accepted C-STORE the fragments stream into a sink transaction; for
/// anything we answer without storing (wrong SOP class, a failed sink, an unsupported command) they are drained so
/// the peer can finish sending and still get its answer. Disposing without <see cref="CompleteAsync"/> discards
/// the transaction (abort or release mid-dataset).
/// </summary>
internal sealed class IncomingMessage : IAsyncDisposable
{
    private readonly DimseCommand _request;
    private readonly ILogger _logger;
    private readonly long _associationId;
    private IStoreTransaction? _transaction;
    private StoreOutcome? _failure;

    private IncomingMessage(DimseCommand request, ILogger logger, long associationId, IStoreTransaction? transaction, StoreOutcome? failure, bool answered = true)
    {
        IsAnswered = answered;
        _request = request;
        _logger = logger;
        _associationId = associationId;
        _transaction = transaction;
        _failure = failure;
    }

    public DimseCommand Request => _request;

    public long BytesReceived { get; private set; }

    /// <summary>False for messages that get no response (C-CANCEL, a stray response): their dataset is only drained.</summary>
    public bool IsAnswered { get; }

    /// <summary>A C-STORE being written to the sink.</summary>
    public static IncomingMessage Storing(DimseCommand request, IStoreTransaction transaction, ILogger logger, long associationId) =>
        new(request, logger, associationId, transaction, null);

    /// <summary>A dataset to discard; <paramref name="answer"/> is the status sent once its last fragment arrived.</summary>
    public static IncomingMessage Draining(DimseCommand request, StoreOutcome answer, ILogger logger, long associationId) =>
        new(request, logger, associationId, null, answer);

    /// <summary>A dataset to discard without answering.</summary>
    public static IncomingMessage Discarding(DimseCommand request, ILogger logger, long associationId) =>
        new(request, logger, associationId, null, null, answered: false);

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> fragment, CancellationToken cancellationToken)
    {
        BytesReceived += fragment.Length;
        if (_transaction is null)
        {
            return;
        }
        try
        {
            await _transaction.WriteAsync(fragment, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The rest of the dataset is drained; the peer gets the failure once it has sent everything.
            await FailAsync(ex).ConfigureAwait(false);
        }
    }

    /// <summary>Commits (when storing) and returns the outcome to answer.</summary>
    public async ValueTask<StoreOutcome> CompleteAsync(CancellationToken cancellationToken)
    {
        if (_transaction is null)
        {
            return _failure ?? new StoreOutcome(DimseStatus.ProcessingFailure);
        }
        try
        {
            return await _transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            await FailAsync(ex).ConfigureAwait(false);
            return _failure!.Value;
        }
        finally
        {
            await DisposeTransactionAsync().ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => DisposeTransactionAsync();

    private async ValueTask FailAsync(Exception ex)
    {
        _failure = StoreStatus.FromException(ex);
        NetworkLog.StoreFailed(_logger, _associationId, _request.MessageId ?? 0, _failure.Value.Status, ex.GetType().Name, ex.Message);
        await DisposeTransactionAsync().ConfigureAwait(false);
    }

    private async ValueTask DisposeTransactionAsync()
    {
        var transaction = _transaction;
        _transaction = null;
        if (transaction is null)
        {
            return;
        }
        try
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            NetworkLog.TransactionDisposeFailed(_logger, _associationId, ex);
        }
    }
}
