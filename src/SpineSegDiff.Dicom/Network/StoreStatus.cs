namespace SpineSegDiff.Dicom.Network;

/// <summary>Maps failures of a store to the DIMSE status a C-STORE-RSP carries (ARCHITECTURE.md section 4).</summary>
public static class StoreStatus
{
    /// <summary>
    /// DicomFormatException: the dataset could not be understood (0xC000); IOException, such as a full disk: out of
    /// resources (0xA700); anything else: processing failure (0x0110). The comment is fixed text, never the exception
    /// message, which could quote received values.
    /// </summary>
    public static StoreOutcome FromException(Exception exception) => exception switch
    {
        DicomFormatException => new StoreOutcome(DimseStatus.CannotUnderstand, "The data set could not be decoded"),
        IOException => new StoreOutcome(DimseStatus.OutOfResources, "Storage is not available"),
        _ => new StoreOutcome(DimseStatus.ProcessingFailure, "The instance could not be stored"),
    };

    /// <summary>Success and warnings mean the instance was stored.</summary>
    public static bool IsStored(ushort status) => DimseStatus.IsSuccess(status) || DimseStatus.IsWarning(status);
}
