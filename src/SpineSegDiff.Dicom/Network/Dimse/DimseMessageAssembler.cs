namespace SpineSegDiff.Dicom.Network;

/// <summary>What one incoming PDV completed.</summary>
internal enum AssemblerEventKind
{
    /// <summary>A command fragment that is not the last: nothing to act on yet.</summary>
    None,

    /// <summary>A command set is complete; <see cref="AssemblerEvent.Command"/> is set.</summary>
    Command,

    /// <summary>A dataset fragment; <see cref="AssemblerEvent.Data"/> is valid until the next PDU is read.</summary>
    Data,
}

internal readonly record struct AssemblerEvent(AssemblerEventKind Kind, byte ContextId, DimseCommand? Command, ReadOnlyMemory<byte> Data, bool IsLast)
{
    public static AssemblerEvent Nothing { get; } = new(AssemblerEventKind.None, 0, null, default, false);
}

/// <summary>
/// Reassembles DIMSE messages from PDVs (PS3.8 annex E, PS3.7 section 9.3). Command fragments are collected (they
/// are small and bounded); dataset fragments are handed straight through so a receiver can stream them to disk.
/// Protocol order is enforced: the context must be accepted, a message starts with its command, the dataset
/// belongs to the command's context, and messages are not interleaved. Violations throw
/// <see cref="DicomFormatException"/> (the association is then aborted).
/// </summary>
internal sealed class DimseMessageAssembler
{
    private enum State
    {
        Idle,
        InCommand,
        ExpectingData,
        InData,
    }

    private readonly Func<byte, bool> _isAcceptedContext;
    private readonly MemoryStream _command = new();
    private State _state = State.Idle;
    private byte _contextId;
    private long _commandOffset;

    public DimseMessageAssembler(Func<byte, bool> isAcceptedContext)
    {
        _isAcceptedContext = isAcceptedContext;
    }

    /// <summary>True between the first PDV of a message and the last fragment of its dataset (or command if none).</summary>
    public bool MessageInFlight => _state != State.Idle;

    /// <summary>Dataset bytes received for the current message.</summary>
    public long DataBytesReceived { get; private set; }

    public AssemblerEvent Accept(PresentationDataValue pdv)
    {
        ArgumentNullException.ThrowIfNull(pdv);
        if (!_isAcceptedContext(pdv.PresentationContextId))
        {
            throw new DicomFormatException($"PDV on presentation context {pdv.PresentationContextId}, which was not accepted", pdv.StreamOffset);
        }
        return pdv.IsCommand ? AcceptCommand(pdv) : AcceptData(pdv);
    }

    /// <summary>Forgets a partial message (after an abort or release the connection is finished anyway).</summary>
    public void Reset()
    {
        _state = State.Idle;
        _command.SetLength(0);
        DataBytesReceived = 0;
    }

    private AssemblerEvent AcceptCommand(PresentationDataValue pdv)
    {
        switch (_state)
        {
            case State.Idle:
                _state = State.InCommand;
                _contextId = pdv.PresentationContextId;
                _commandOffset = pdv.StreamOffset;
                _command.SetLength(0);
                break;
            case State.InCommand when pdv.PresentationContextId != _contextId:
                throw new DicomFormatException(
                    $"Command fragment on presentation context {pdv.PresentationContextId} while a command on context {_contextId} is incomplete", pdv.StreamOffset);
            case State.InCommand:
                break;
            default:
                throw new DicomFormatException("Command fragment while the previous message's dataset is incomplete (messages interleaved)", pdv.StreamOffset);
        }
        if (_command.Length + pdv.Data.Length > DimseCommand.MaxEncodedLength)
        {
            throw new DicomFormatException($"Command set exceeds {DimseCommand.MaxEncodedLength} bytes", pdv.StreamOffset);
        }
        _command.Write(pdv.Data.Span);
        if (!pdv.IsLastFragment)
        {
            return AssemblerEvent.Nothing;
        }
        var command = DimseCommand.Decode(_command.GetBuffer().AsMemory(0, (int)_command.Length), _commandOffset);
        _command.SetLength(0);
        DataBytesReceived = 0;
        _state = command.HasDataSet ? State.ExpectingData : State.Idle;
        return new AssemblerEvent(AssemblerEventKind.Command, _contextId, command, default, false);
    }

    private AssemblerEvent AcceptData(PresentationDataValue pdv)
    {
        switch (_state)
        {
            case State.Idle:
                throw new DicomFormatException("Dataset fragment without a preceding command", pdv.StreamOffset);
            case State.InCommand:
                throw new DicomFormatException("Dataset fragment before the command's last fragment", pdv.StreamOffset);
        }
        if (pdv.PresentationContextId != _contextId)
        {
            throw new DicomFormatException(
                $"Dataset fragment on presentation context {pdv.PresentationContextId}, but its command came on context {_contextId}", pdv.StreamOffset);
        }
        DataBytesReceived += pdv.Data.Length;
        _state = pdv.IsLastFragment ? State.Idle : State.InData;
        return new AssemblerEvent(AssemblerEventKind.Data, _contextId, null, pdv.Data, pdv.IsLastFragment);
    }
}
