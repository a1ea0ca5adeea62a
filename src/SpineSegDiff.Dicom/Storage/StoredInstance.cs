using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Storage;

/// <summary>An instance now durable in the store.</summary>
/// <param name="Path">Its file (absolute).</param>
/// <param name="Header">The dataset up to the pixel data (what routing rules look at).</param>
/// <param name="Context">The C-STORE it came with (calling AE, association).</param>
/// <param name="Duplicate">The same SOP instance was already stored; the first copy was kept.</param>
public sealed record StoredInstance(
    string Path,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    DicomDataset Header,
    StoreRequestContext Context,
    bool Duplicate);

/// <summary>Hears of every instance the store made durable (series assembly listens here).</summary>
public interface IStoredInstanceObserver
{
    /// <summary>Called on the association's thread after the instance is durable; must return quickly and not throw.</summary>
    void OnStored(StoredInstance instance);
}
